import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { ROOT } from '../settings';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** The .cpuprofile files written into a folder since `sinceMs`, oldest first. */
export function profilesSince(dir: string, sinceMs: number): string[] {
  try {
    return readdirSync(dir)
      .filter((f) => f.endsWith('.cpuprofile'))
      .map((f) => join(dir, f))
      .filter((f) => statSync(f).mtimeMs >= sinceMs)
      .sort((a, b) => statSync(a).mtimeMs - statSync(b).mtimeMs);
  } catch {
    return [];
  }
}

/**
 * Self time per function and per package of a V8 CPU profile (`node --cpu-prof`), largest first:
 * enough to see where the app's CPU goes without opening DevTools.
 */
export function summarizeProfile(file: string, top = 25): string {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  profile.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  const total = [...selfUs.values()].reduce((a, b) => a + b, 0);
  const perFunction = new Map<string, number>();
  const perPackage = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
    const where = url ? relative(ROOT, url.replace(/^file:\/\//, '')) : '';
    const key = `${functionName || '(anonymous)'} ${where ? `${where}:${lineNumber + 1}` : ''}`.trim();
    perFunction.set(key, (perFunction.get(key) ?? 0) + us);
    perPackage.set(packageOf(where, functionName), (perPackage.get(packageOf(where, functionName)) ?? 0) + us);
  }
  const list = (m: Map<string, number>, n: number) =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([k, us]) => `${((us / total) * 100).toFixed(1).padStart(5)}%  ${(us / 1000).toFixed(0).padStart(7)} ms  ${k}`)
      .join('\n');
  return [
    `CPU profile ${relative(ROOT, file)}: ${(total / 1e6).toFixed(1)} s sampled`,
    '',
    'self time by package:',
    list(perPackage, 15),
    '',
    'self time by function:',
    list(perFunction, top),
    '',
  ].join('\n');
}

function packageOf(where: string, functionName: string): string {
  if (!where) return functionName.startsWith('(') ? functionName : '(native/V8)';
  const m = /node_modules\/((@[^/]+\/)?[^/]+)/.exec(where);
  if (m) return m[1];
  if (where.startsWith('node:')) return 'node core';
  if (where.includes('.app/') || where.startsWith('dist/') || where.startsWith('src/')) return 'nestream (app code)';
  return where;
}
