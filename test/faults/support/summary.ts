import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

export const SUMMARY_FILE = join(__dirname, '../../../test-artifacts/faults-summary.txt');

/**
 * Prints a scenario's one summary line — `fault N name: accepted=… stored=… published=… consumed=…
 * webhooks=… lost=… duplicated=…`, then scenario-specific counts — and appends it to
 * test-artifacts/faults-summary.txt, which the runner prints again at the end.
 */
export function report(scenario: string, counts: Record<string, number | string>): string {
  const main = ['accepted', 'stored', 'published', 'consumed', 'webhooks', 'lost', 'duplicated'];
  const field = (k: string) => `${k}=${counts[k] ?? '-'}`;
  const extra = Object.keys(counts).filter((k) => !main.includes(k));
  return printLine(`fault ${scenario}: ${main.map(field).join(' ')}${extra.length ? ` | ${extra.map(field).join(' ')}` : ''}`);
}

/** Prints a line on stdout and keeps it for the runner's closing summary. */
export function printLine(line: string): string {
  process.stdout.write(`\n${line}\n`);
  mkdirSync(join(SUMMARY_FILE, '..'), { recursive: true });
  appendFileSync(SUMMARY_FILE, `${line}\n`);
  return line;
}

/** Progress notes on stderr (`[fault 1 +12.3 s] broker stopped`): where the time went, never asserted. */
export function progress(scenario: string): (what: string) => void {
  const started = Date.now();
  return (what) =>
    process.stderr.write(`  [fault ${scenario} +${((Date.now() - started) / 1000).toFixed(1)} s, ${new Date().toISOString().slice(11, 23)}] ${what}\n`);
}
