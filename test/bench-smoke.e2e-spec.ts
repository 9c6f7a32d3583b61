import { spawn } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

// `npm run bench -- --smoke` end to end, so the benchmark harness cannot rot. It checks the shape of the
// result (every section, with numbers beside their baselines and ratios), never how fast anything was.
const root = join(__dirname, '..');
const outDir = join(root, 'bench-results', `smoke-test-${process.pid}`);
const instructionsOutDir = join(root, 'bench-results', `smoke-test-instructions-${process.pid}`);

interface SmokeRun {
  code: number | null;
  output: string;
}

function runSmokeBench(outDir: string, ...args: string[]): Promise<SmokeRun> {
  const child = spawn(
    join(root, 'node_modules/.bin/ts-node'),
    // Its own Kafka broker (the default): other tests' records on the shared one are not its business.
    ['--transpile-only', 'bench/run.ts', '--smoke', '--out', outDir, ...args],
    { cwd: root, env: process.env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout.on('data', (c) => (output += c));
  child.stderr.on('data', (c) => (output += c));
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, output })));
}

/** A figure the report prints: a finite number (NaN and missing values become null in JSON). */
function expectFigure(value: unknown, what: string): void {
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new Error(`${what} should be a number, got ${JSON.stringify(value)}`);
}

/** CPU per unit of work by process, from /proc (smoke runs are short: a part may not use a whole clock tick, so 0 is a figure too). */
function expectCpu(cpu: any, server: 'app' | 'baseline', what: string): void {
  for (const part of [server, 'postgres', 'harness']) expectFigure(cpu.msPerUnit[part], `${what}.cpu.msPerUnit.${part}`);
  expectFigure(cpu.machineBusyPercent, `${what}.cpu.machineBusyPercent`);
  expectFigure(cpu.capacityMsPerUnit, `${what}.cpu.capacityMsPerUnit`);
}

function expectPercentiles(p: Record<string, unknown>, what: string): void {
  for (const k of ['p50', 'p95', 'p99']) expectFigure(p[k], `${what}.${k}`);
}

describe('npm run bench -- --smoke', () => {
  let run: SmokeRun;
  // The parsed JSON of bench-results/latest-smoke.json; its shape is what these tests check.
  let result: any;

  beforeAll(async () => {
    run = await runSmokeBench(outDir);
    if (run.code === 0) result = JSON.parse(readFileSync(join(outDir, 'latest-smoke.json'), 'utf8'));
  }, 240_000);

  afterAll(() => rmSync(outDir, { recursive: true, force: true }));

  it('finishes, prints the table and writes the JSON and the chart', () => {
    if (run.code !== 0) throw new Error(`the smoke bench exited with ${run.code}:\n${run.output.slice(-4000)}`);
    expect(run.output).toContain('Targets (2 cores');
    expect(readFileSync(join(outDir, 'latest-smoke.svg'), 'utf8')).toMatch(/^<svg [^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    expect(result.machine).toMatchObject({ cpus: expect.any(Number), node: process.versions.node, kafka: expect.any(String), postgres: expect.any(String) });
  });

  it('warms the broker up with traffic of its own before the first phase, every record produced consumed', () => {
    expect(result.brokerWarmup.produced).toBeGreaterThan(0);
    expect(result.brokerWarmup.consumed).toBe(result.brokerWarmup.produced);
  });

  it('reports the write path at each concurrency beside the raw http + pg server, with ratios and CPU per request', () => {
    expect(Object.keys(result.writePath)).toEqual(['c1', 'c16', 'c64']);
    for (const [key, level] of Object.entries<any>(result.writePath)) {
      for (const side of ['nestream', 'baseline']) {
        expectFigure(level[side].rps, `${key}.${side}.rps`);
        expect(level[side].requests).toBeGreaterThan(0);
        expectPercentiles(level[side].latency, `${key}.${side}.latency`);
        expectFigure(level[side].errors, `${key}.${side}.errors`);
        expectFigure(level[side].peakRssMb, `${key}.${side}.peakRssMb`);
        expectCpu(level[side].cpu, side === 'nestream' ? 'app' : 'baseline', `${key}.${side}`);
      }
      for (const k of ['rps', 'p50', 'p95', 'p99', 'peakRssMb', 'cpuMsPerRequest']) expectFigure(level.ratio[k], `${key}.ratio.${k}`);
    }
  });

  it('reports commit → consumer (with the relay\'s share) and commit → webhook latency at each rate beside the raw Kafka round trip', () => {
    expect(result.eventLatency.webhooks.status).toBe('measured');
    expect(result.eventLatency.webhooks.signatures.valid).toBe(result.eventLatency.webhooks.signatures.checked);
    for (const [key, level] of Object.entries<any>(result.eventLatency.levels)) {
      for (const side of ['nestream', 'baseline']) {
        expectPercentiles(level[side].consumer, `${key}.${side}.consumer`);
        expectPercentiles(level[side].webhook, `${key}.${side}.webhook`);
      }
      // Every write's record was seen on the topic, so the relay's share is measured, not guessed.
      expectPercentiles(level.nestream.relay, `${key}.nestream.relay`);
      expect(level.nestream.relay.missing).toBe(0);
      expectPercentiles(level.ratio.consumer, `${key}.ratio.consumer`);
      expectPercentiles(level.ratio.webhook, `${key}.ratio.webhook`);
    }
  });

  it('reports ingest of pre-written outside events beside the raw eachBatch consumer', () => {
    const { ingest } = result;
    for (const side of ['nestream', 'baseline']) {
      expect(ingest[side]).toMatchObject({ stored: ingest.events, complete: true });
      expectFigure(ingest[side].eventsPerSecond, `ingest.${side}.eventsPerSecond`);
      expectCpu(ingest[side].cpu, side === 'nestream' ? 'app' : 'baseline', `ingest.${side}`);
    }
    expectFigure(ingest.ratio.eventsPerSecond, 'ingest.ratio.eventsPerSecond');
    expectFigure(ingest.ratio.cpuMsPerThousand, 'ingest.ratio.cpuMsPerThousand');
  });

  it('reports webhook fan-out of signed deliveries beside raw signed POSTs', () => {
    const fanout = result.webhookFanout;
    expect(fanout).toMatchObject({ status: 'measured', subscriptions: 10 });
    expect(fanout.nestream).toMatchObject({ deliveries: fanout.nestream.expected, complete: true });
    expect(fanout.nestream.signatures.valid).toBe(fanout.nestream.signatures.checked);
    expect(fanout.nestream.signatures.checked).toBeGreaterThan(0);
    expectFigure(fanout.nestream.deliveriesPerSecond, 'fanout.nestream.deliveriesPerSecond');
    expectFigure(fanout.baseline.deliveriesPerSecond, 'fanout.baseline.deliveriesPerSecond');
    expectFigure(fanout.ratio.deliveriesPerSecond, 'fanout.ratio.deliveriesPerSecond');
    expect(fanout.fromTopic).toMatchObject({ deliveries: fanout.fromTopic.expected, complete: true });
    expectFigure(fanout.fromTopic.deliveriesPerSecond, 'fanout.fromTopic.deliveriesPerSecond');
    expectFigure(fanout.ratio.fromTopicPerSecond, 'fanout.ratio.fromTopicPerSecond');
    expect(fanout.backlog).toMatchObject({ deliveries: fanout.backlog.expected, complete: true });
    expectFigure(fanout.backlog.deliveriesPerSecond, 'fanout.backlog.deliveriesPerSecond');
    expectFigure(fanout.ratio.backlogPerSecond, 'fanout.ratio.backlogPerSecond');
  });

  it('reports the app peak RSS and checks every target of the issue, saying met or by how much it missed', () => {
    expectFigure(result.memory.nestream.writePathPeakRssMb, 'memory.nestream.writePathPeakRssMb');
    expectFigure(result.memory.ratio.writePath, 'memory.ratio.writePath');
    expect(result.targets.map((t: { id: string }) => t.id)).toEqual([
      'write.c64.throughput',
      'write.c64.p99',
      'latency.1000.consumer.p99',
      'latency.1000.webhook.p99',
      'ingest.rate',
      'ingest.ratio',
      'fanout.rate',
      'fanout.fromTopic.rate',
      'memory.write',
    ]);
    // Smoke rates stop below 1,000/s, so those two are "not measured"; the rest say met or the gap.
    for (const t of result.targets) expect(t.gap).toMatch(t.measured === null ? /^not measured$/ : /^(met, \d+% (above|under)|missed: .+ (short|over) \(\d+% (below|above)\))$/);
  });
});

describe('npm run bench -- --smoke --phases instructions', () => {
  let run: SmokeRun;
  let result: any;

  beforeAll(async () => {
    run = await runSmokeBench(instructionsOutDir, '--phases', 'instructions');
    if (run.code === 0) result = JSON.parse(readFileSync(join(instructionsOutDir, 'latest-smoke.json'), 'utf8'));
  }, 300_000);

  afterAll(() => rmSync(instructionsOutDir, { recursive: true, force: true }));

  it('counts the instructions per order of the app and of the raw server under callgrind, with their ratio', () => {
    if (run.code !== 0) throw new Error(`the instructions smoke bench exited with ${run.code}:\n${run.output.slice(-4000)}`);
    expect(run.output).toContain('millions of instructions per order');
    expect(result.settings.phases).toEqual(['instructions']);
    for (const side of ['nestream', 'baseline']) {
      const counted = result.instructions[side];
      expect(counted).toMatchObject({ errors: 0 });
      expect(counted.requests).toBeGreaterThanOrEqual(16);
      // Node alone runs millions of instructions per request; a count of 0 means the window was not counted.
      expect(counted.instructions).toBeGreaterThan(counted.requests * 100_000);
      expectFigure(counted.millionsPerRequest, `instructions.${side}.millionsPerRequest`);
      // The event loop's share is counted apart from the compiler's and the collector's threads.
      expect(counted.mainThreadMillionsPerRequest).toBeGreaterThan(0);
      expect(counted.mainThreadMillionsPerRequest).toBeLessThanOrEqual(counted.millionsPerRequest);
    }
    expectFigure(result.instructions.ratio.perRequest, 'instructions.ratio.perRequest');
    expectFigure(result.instructions.ratio.mainThreadPerRequest, 'instructions.ratio.mainThreadPerRequest');
    // No other phase ran beside it: their timings would be valgrind's.
    expect(result.writePath).toBeUndefined();
    expect(result.ingest).toBeUndefined();
  });

  it('refuses to run the instructions phase beside another phase', async () => {
    const refused = await runSmokeBench(instructionsOutDir, '--phases', 'write,instructions');
    expect(refused.code).not.toBe(0);
    expect(refused.output).toContain('instructions runs on its own');
  });
});
