import type { CpuUse } from '../lib/cpu';
import type { Percentiles } from '../lib/stats';
import type { BenchResult } from './result';

type Row = [metric: string, nestream: string, baseline: string, ratio: string];

const fmt = (v: number | null | undefined, digits = 1): string => {
  if (v === null || v === undefined || Number.isNaN(v)) return '-';
  return Number.isInteger(v) ? v.toLocaleString('en-US') : v.toLocaleString('en-US', { maximumFractionDigits: digits });
};
const x = (v: number | null | undefined) => (v === null || v === undefined || Number.isNaN(v) ? '-' : `${fmt(v, 2)}×`);
const cpuCell = (cpu: CpuUse, server: 'app' | 'baseline') => {
  const ms = cpu.msPerUnit;
  return `${fmt(ms[server], 2)} + ${fmt(ms.postgres, 2)} + ${fmt(ms.kafka ?? 0, 2)} (${fmt(ms.harness, 2)})`;
};
const busyCell = (cpu: CpuUse) => `${fmt(cpu.machineBusyPercent, 0)} % (${fmt(cpu.capacityMsPerUnit, 2)})`;
const pct = (p: Percentiles) => `${fmt(p.p50)} / ${fmt(p.p95)} / ${fmt(p.p99)}`;

/** Every figure beside its baseline, one row per metric. */
export function resultRows(r: BenchResult): { section: string; rows: Row[] }[] {
  const sections: { section: string; rows: Row[] }[] = [];
  if (r.writePath) {
    const rows: Row[] = [];
    for (const l of Object.values(r.writePath)) {
      const c = `c=${l.concurrency}`;
      rows.push([`${c} requests/s`, fmt(l.nestream.rps), fmt(l.baseline.rps), x(l.ratio.rps)]);
      rows.push([`${c} latency p50 / p95 / p99 (ms)`, pct(l.nestream.latency), pct(l.baseline.latency), `${x(l.ratio.p50)} / ${x(l.ratio.p95)} / ${x(l.ratio.p99)}`]);
      rows.push([`${c} errors`, fmt(l.nestream.errors), fmt(l.baseline.errors), '']);
      rows.push([`${c} peak RSS (MB)`, fmt(l.nestream.peakRssMb), fmt(l.baseline.peakRssMb), x(l.ratio.peakRssMb)]);
      rows.push([`${c} CPU ms per request: server + postgres + kafka (load generator)`, cpuCell(l.nestream.cpu, 'app'), cpuCell(l.baseline.cpu, 'baseline'), x(l.ratio.cpuMsPerRequest)]);
      rows.push([`${c} machine busy (% of all cores; capacity in CPU ms per request)`, busyCell(l.nestream.cpu), busyCell(l.baseline.cpu), '']);
      rows.push([`${c} backlog after the run (outbox + lag → caught up in ms)`, `${fmt(l.nestream.backlog.outboxAtEnd)} + ${fmt(l.nestream.backlog.lagAtEnd)} → ${fmt(l.nestream.backlog.drainMs)}`, '', '']);
    }
    sections.push({ section: 'Write path: POST /orders (autocannon, closed loop) vs raw http + pg, one statement', rows });
  }
  if (r.eventLatency) {
    const rows: Row[] = [];
    for (const l of Object.values(r.eventLatency.levels)) {
      const at = `${fmt(l.offeredRate)}/s`;
      rows.push([`${at} writes answered (records sent) during the window, per second`, fmt(l.nestream.achievedRate), fmt(l.baseline.achievedRate), '']);
      rows.push([`${at} HTTP answer p50 / p95 / p99 (ms, from its slot in the schedule)`, pct(l.nestream.writeLatency), '', '']);
      rows.push([`${at} commit → consumer p50 / p95 / p99 (ms)`, pct(l.nestream.consumer), pct(l.baseline.consumer), `${x(l.ratio.consumer.p50)} / ${x(l.ratio.consumer.p95)} / ${x(l.ratio.consumer.p99)}`]);
      rows.push([`${at}   commit → sent by the relay (record timestamp) p50 / p95 / p99 (ms)`, pct(l.nestream.relay), '', '']);
      if (l.nestream.webhook && l.baseline.webhook && l.ratio.webhook) {
        rows.push([`${at} commit → webhook p50 / p95 / p99 (ms)`, pct(l.nestream.webhook), pct(l.baseline.webhook), `${x(l.ratio.webhook.p50)} / ${x(l.ratio.webhook.p95)} / ${x(l.ratio.webhook.p99)}`]);
      } else {
        rows.push([`${at} commit → webhook`, `skipped: ${r.eventLatency.webhooks.reason ?? ''}`, '', '']);
      }
      const missing = l.nestream.consumer.missing + (l.nestream.webhook?.missing ?? 0);
      if (missing > 0 || l.baseline.consumer.missing > 0) {
        rows.push([`${at} events not handled / delivered after the wait (counted as lower bounds)`, `${fmt(l.nestream.consumer.missing)} / ${fmt(l.nestream.webhook?.missing)}`, `${fmt(l.baseline.consumer.missing)} / ${fmt(l.baseline.webhook?.missing)}`, '']);
      }
    }
    sections.push({ section: 'Event latency at a fixed offered rate vs raw kafkajs producer → consumer → signed POST', rows });
  }
  if (r.ingest) {
    const i = r.ingest;
    sections.push({
      section: `Ingest: ${fmt(i.events)} pre-written plain-JSON order_placed records vs raw kafkajs eachBatch consumer`,
      rows: [
        ['events stored per second', fmt(i.nestream.eventsPerSecond), fmt(i.baseline.eventsPerSecond), x(i.ratio.eventsPerSecond)],
        ['stored / complete', `${fmt(i.nestream.stored)} / ${i.nestream.complete ? 'yes' : 'NO'}`, `${fmt(i.baseline.stored)} / ${i.baseline.complete ? 'yes' : 'NO'}`, ''],
        ['seconds, process start → last stored', fmt(i.nestream.wallSeconds), fmt(i.baseline.wallSeconds), ''],
        ['seconds, process start → every consumer done', fmt(i.nestream.settledWallSeconds), fmt(i.baseline.settledWallSeconds), ''],
        ['peak RSS (MB)', fmt(i.nestream.peakRssMb), fmt(i.baseline.peakRssMb), ''],
        ['CPU ms per 1,000 events: consumer + postgres + kafka (harness)', cpuCell(i.nestream.cpu, 'app'), cpuCell(i.baseline.cpu, 'baseline'), x(i.ratio.cpuMsPerThousand)],
      ],
    });
  }
  if (r.webhookFanout) {
    const f = r.webhookFanout;
    const title = `Webhook fan-out: ${f.subscriptions} subscriptions × ${fmt(f.events)} events vs raw signed POSTs (concurrency ${f.baselineConcurrency ?? 50})`;
    if (f.status === 'skipped' || !f.nestream || !f.baseline || !f.ratio) {
      sections.push({ section: title, rows: [['deliveries per second', `skipped: ${f.reason}`, '', '']] });
    } else {
      sections.push({
        section: title,
        rows: [
          ['signed deliveries per second', fmt(f.nestream.deliveriesPerSecond), fmt(f.baseline.deliveriesPerSecond), x(f.ratio.deliveriesPerSecond)],
          ['  while the writes ran / after them', `${fmt(f.nestream.whileWritingPerSecond)} / ${fmt(f.nestream.afterWritesPerSecond)}`, '', ''],
          ['deliveries created by the fan-out consumer per second', fmt(f.nestream.fannedOutPerSecond), '', ''],
          ...(f.fromTopic
            ? [
                <Row>[
                  `the same events from an outside producer, no HTTP writes: deliveries per second (delivered)`,
                  `${fmt(f.fromTopic.deliveriesPerSecond)} (${fmt(f.fromTopic.deliveries)}${f.fromTopic.complete ? '' : ', INCOMPLETE'})`,
                  fmt(f.baseline.deliveriesPerSecond),
                  f.ratio.fromTopicPerSecond === undefined ? '' : x(f.ratio.fromTopicPerSecond),
                ],
              ]
            : []),
          ...(f.backlog
            ? [
                <Row>[
                  `a backlog of ${fmt(f.backlog.expected)} due at once: deliveries per second (delivered)`,
                  `${fmt(f.backlog.deliveriesPerSecond)} (${fmt(f.backlog.deliveries)}${f.backlog.complete ? '' : ', INCOMPLETE'})`,
                  fmt(f.baseline.deliveriesPerSecond),
                  f.ratio.backlogPerSecond === undefined ? '' : x(f.ratio.backlogPerSecond),
                ],
              ]
            : []),
          ['delivered / complete', `${fmt(f.nestream.deliveries)} of ${fmt(f.nestream.expected)} / ${f.nestream.complete ? 'yes' : 'NO'}`, `${fmt(f.baseline.deliveries)} / ${f.baseline.complete ? 'yes' : 'NO'}`, ''],
          ['signatures checked (valid)', `${f.nestream.signatures.checked} (${f.nestream.signatures.valid})`, '', ''],
          ['peak RSS (MB)', fmt(f.nestream.peakRssMb), fmt(f.baseline.peakRssMb), ''],
        ],
      });
    }
  }
  if (r.instructions) {
    const n = r.instructions;
    const byProcess = Object.entries(n.nestream.byProcess);
    sections.push({
      section: `Instructions: POST /orders at ${n.connections} connections under valgrind's callgrind vs the raw http + pg server`,
      rows: [
        ['millions of instructions per order (app: relay and consumers included)', fmt(n.nestream.millionsPerRequest, 2), fmt(n.baseline.millionsPerRequest, 2), x(n.ratio.perRequest)],
        ['  of which on the main thread (the event loop)', fmt(n.nestream.mainThreadMillionsPerRequest, 2), fmt(n.baseline.mainThreadMillionsPerRequest, 2), x(n.ratio.mainThreadPerRequest)],
        ...(byProcess.length > 1 ? byProcess.map(([role, m]): Row => [`  APP_ROLE=${role}`, fmt(m, 2), '', '']) : []),
        ['orders counted (errors)', `${fmt(n.nestream.requests)} (${fmt(n.nestream.errors)})`, `${fmt(n.baseline.requests)} (${fmt(n.baseline.errors)})`, ''],
      ],
    });
  } else {
    // Under valgrind the app's memory is valgrind's: nothing to report then.
    sections.push({
      section: 'Memory: app peak RSS',
      rows: [
        ['under write-path load (MB)', fmt(r.memory.nestream.writePathPeakRssMb), fmt(r.memory.baseline.rawHttpServerPeakRssMb), x(r.memory.ratio.writePath)],
        ...Object.entries(r.memory.nestream.perPhase).map(([phase, mb]): Row => [`${phase} (MB)`, fmt(mb), '', '']),
        ['whole run (MB)', fmt(r.memory.nestream.peakRssMb), '', ''],
      ],
    });
  }
  return sections;
}

function render(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

export function textReport(r: BenchResult): string {
  const out: string[] = [];
  for (const s of resultRows(r)) {
    out.push(`\n${s.section}\n`);
    out.push(render(['', 'Nestream', 'baseline', 'ratio'], s.rows));
  }
  out.push('\nTargets (2 cores; Kafka, Postgres and the app on one machine)\n');
  out.push(
    render(
      ['target', 'goal', 'measured', 'result'],
      r.targets.map((t) => [t.description, `${t.comparison} ${fmt(t.target, 2)} ${t.unit}`, t.measured === null ? '-' : `${fmt(t.measured, 2)} ${t.unit}`, t.gap]),
    ),
  );
  return out.join('\n');
}

export function markdownReport(r: BenchResult): string {
  const m = r.machine;
  const out = [
    `Run ${r.startedAt} (${r.mode}, ${r.durationSeconds} s): ${m.cpus} × ${m.cpuModel}, ${m.memoryGiB} GiB, ${m.os}, Node ${m.node}, ` +
      `Kafka ${m.kafka} (${m.kafkaBroker}), PostgreSQL ${m.postgres}; load average ${m.loadAverage.start} at the start, ${m.loadAverage.end} at the end. ` +
      `The app: ${String(r.settings.app ?? 'one process (APP_ROLE=all)')}.`,
  ];
  for (const s of resultRows(r)) {
    out.push('', `**${s.section}**`, '', '| | Nestream | baseline | ratio |', '| --- | ---: | ---: | ---: |');
    for (const row of s.rows) out.push(`| ${row.map((c) => c.replace(/\|/g, '\\|')).join(' | ')} |`);
  }
  out.push('', '**Targets**', '', '| target | goal | measured | result |', '| --- | --- | ---: | --- |');
  for (const t of r.targets) out.push(`| ${t.description} | ${t.comparison} ${fmt(t.target, 2)} ${t.unit} | ${t.measured === null ? '-' : `${fmt(t.measured, 2)} ${t.unit}`} | ${t.gap} |`);
  return out.join('\n') + '\n';
}
