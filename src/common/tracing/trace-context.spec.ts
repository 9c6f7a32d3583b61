import { childOf, formatTraceparent, parseTraceparent } from './trace-context';

describe('childOf', () => {
  it('starts a new trace with valid random ids when there is no parent', () => {
    const spans = Array.from({ length: 1000 }, () => childOf(undefined));
    for (const s of spans) {
      expect(s.traceId).toMatch(/^[0-9a-f]{32}$/);
      expect(s.spanId).toMatch(/^[0-9a-f]{16}$/);
      expect(parseTraceparent(formatTraceparent(s))).toEqual(s);
    }
    // Drawn from a pool refilled as it runs out: still all different.
    expect(new Set(spans.map((s) => s.traceId)).size).toBe(spans.length);
    expect(new Set(spans.map((s) => s.spanId)).size).toBe(spans.length);
  });

  it("keeps the parent's trace id and sampling, with a span id of its own", () => {
    const parent = parseTraceparent('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00')!;
    const child = childOf(parent);
    expect(child).toMatchObject({ traceId: parent.traceId, sampled: false });
    expect(child.spanId).not.toBe(parent.spanId);
  });
});
