/**
 * The broker's answer behind a kafkajs error: kafkajs wraps it in errors of its own (gave up, out of
 * retries), each holding the one before as `cause`, and the wrappers' `retriable` says nothing of it.
 */
export function brokerAnswer(err: unknown): { type?: string; retriable?: boolean } {
  let e = (err ?? {}) as { cause?: unknown; type?: string; retriable?: boolean };
  while (e.cause) e = e.cause as typeof e;
  return e;
}
