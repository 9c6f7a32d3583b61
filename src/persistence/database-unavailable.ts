const CONNECTION_ERRNO = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);
const UNAVAILABLE_MESSAGE =
  /connection terminated|connection timeout|connection error|timeout exceeded when trying to connect|database system is (shutting down|starting up|in recovery mode)|terminating connection due to administrator command|query runner (was )?already released/i;

/**
 * True for errors that say the database cannot be reached right now (SQLSTATE class 08, 57P0x,
 * 53300, socket errors), as opposed to errors about the request, the message or the code handling them.
 */
export function isDatabaseUnavailable(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e && depth < 3; depth += 1) {
    const { code, message, driverError } = e as { code?: string; message?: string; driverError?: unknown };
    if (typeof code === 'string' && (CONNECTION_ERRNO.has(code) || code.startsWith('08') || /^57P0[1-3]$/.test(code) || code === '53300')) return true;
    if (typeof message === 'string' && UNAVAILABLE_MESSAGE.test(message)) return true;
    e = driverError;
  }
  return false;
}
