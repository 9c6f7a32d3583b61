import type { Percentiles } from '../lib/stats';
import type { BenchResult } from './result';

interface Group {
  label: string;
  nestream: Percentiles;
  baseline: Percentiles;
}

const COLORS = {
  nestream: ['#9ecae1', '#4292c6', '#08519c'],
  baseline: ['#fdd0a2', '#fd8d3c', '#d94801'],
};
const KEYS = ['p50', 'p95', 'p99'] as const;
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** One panel: groups of six bars (Nestream p50/p95/p99, baseline p50/p95/p99) on a log scale. */
function panel(title: string, groups: Group[], x0: number, y0: number, width: number, height: number): string {
  const values = groups.flatMap((g) => KEYS.flatMap((k) => [g.nestream[k], g.baseline[k]])).filter((v) => Number.isFinite(v) && v > 0);
  const lo = 10 ** Math.floor(Math.log10(Math.min(...values, 1)));
  const hi = 10 ** Math.ceil(Math.log10(Math.max(...values, 10)));
  const top = y0 + 30;
  const bottom = y0 + height - 40;
  const left = x0 + 75;
  const right = x0 + width - 10;
  const y = (v: number) => bottom - ((Math.log10(Math.max(v, lo)) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo))) * (bottom - top);
  const parts = [`<text x="${x0 + width / 2}" y="${y0 + 16}" text-anchor="middle" font-weight="bold">${esc(title)}</text>`];
  for (let d = lo; d <= hi; d *= 10) {
    parts.push(`<line x1="${left}" x2="${right}" y1="${y(d)}" y2="${y(d)}" stroke="#ddd"/>`);
    parts.push(`<text x="${left - 6}" y="${y(d) + 4}" text-anchor="end" font-size="11">${d >= 1 ? d : d.toFixed(1)} ms</text>`);
  }
  const groupWidth = (right - left) / Math.max(groups.length, 1);
  const bar = Math.min(18, (groupWidth - 16) / 6);
  groups.forEach((g, gi) => {
    const gx = left + gi * groupWidth + (groupWidth - bar * 6 - 4) / 2;
    (['nestream', 'baseline'] as const).forEach((side, si) => {
      KEYS.forEach((k, ki) => {
        const v = g[side][k];
        if (!Number.isFinite(v)) return;
        const bx = gx + si * (bar * 3 + 4) + ki * bar;
        const by = y(v);
        parts.push(`<rect x="${bx.toFixed(1)}" y="${by.toFixed(1)}" width="${(bar - 1).toFixed(1)}" height="${(bottom - by).toFixed(1)}" fill="${COLORS[side][ki]}"><title>${esc(`${g.label} ${side} ${k}: ${v} ms`)}</title></rect>`);
      });
      const p99 = g[side].p99;
      if (Number.isFinite(p99)) {
        parts.push(`<text x="${(gx + si * (bar * 3 + 4) + bar * 2.5).toFixed(1)}" y="${(y(p99) - 3).toFixed(1)}" text-anchor="middle" font-size="9">${p99 >= 100 ? Math.round(p99) : p99}</text>`);
      }
    });
    parts.push(`<text x="${(left + gi * groupWidth + groupWidth / 2).toFixed(1)}" y="${bottom + 16}" text-anchor="middle" font-size="11">${esc(g.label)}</text>`);
  });
  parts.push(`<line x1="${left}" x2="${right}" y1="${bottom}" y2="${bottom}" stroke="#333"/>`);
  return parts.join('\n');
}

/** A hand-drawn SVG of the latency percentiles: write path per concurrency, event latency per rate. */
export function latencyChart(r: BenchResult): string {
  const write: Group[] = Object.values(r.writePath ?? {}).map((l) => ({ label: `c=${l.concurrency}`, nestream: l.nestream.latency, baseline: l.baseline.latency }));
  const events: Group[] = [];
  for (const l of Object.values(r.eventLatency?.levels ?? {})) {
    events.push({ label: `${l.offeredRate}/s → consumer`, nestream: l.nestream.consumer, baseline: l.baseline.consumer });
    if (l.nestream.webhook && l.baseline.webhook) events.push({ label: `${l.offeredRate}/s → webhook`, nestream: l.nestream.webhook, baseline: l.baseline.webhook });
  }
  const width = 960;
  const panelHeight = 300;
  const panels = [
    write.length ? panel('Write path: POST /orders latency (ms, log scale)', write, 0, 40, width, panelHeight) : '',
    events.length ? panel('Event latency: commit → consumer / webhook (ms, log scale)', events, 0, 40 + panelHeight, width, panelHeight) : '',
  ];
  const legend = (['nestream', 'baseline'] as const)
    .flatMap((side, si) =>
      KEYS.map((k, ki) => {
        const lx = 75 + si * 420 + ki * 135;
        return `<rect x="${lx}" y="14" width="12" height="12" fill="${COLORS[side][ki]}"/><text x="${lx + 16}" y="24" font-size="12">${side === 'nestream' ? 'Nestream' : 'raw baseline'} ${k}</text>`;
      }),
    )
    .join('\n');
  const height = 40 + panelHeight * 2 + 30;
  const caption = `${r.mode} run ${r.startedAt}: ${r.machine.cpus} cores, Node ${r.machine.node}, Kafka ${r.machine.kafka}, PostgreSQL ${r.machine.postgres}`;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    legend,
    ...panels,
    `<text x="${width / 2}" y="${height - 10}" text-anchor="middle" font-size="11" fill="#555">${esc(caption)}</text>`,
    '</svg>',
    '',
  ].join('\n');
}
