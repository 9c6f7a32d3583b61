import { lookup as dnsLookup } from 'node:dns/promises';
import { BlockList, isIP, LookupFunction } from 'node:net';

/**
 * Where a webhook may not go: addresses inside our own network or the cloud host's, reachable from
 * the server but not from the internet (SSRF). Checked at registration and again at connect time,
 * on the very address the socket then connects to, so a DNS answer that changes in between
 * (rebinding) cannot slip through.
 */
const RANGES: { label: string; v4?: [string, number][]; v6?: [string, number][] }[] = [
  // Checked first so the message names the most specific reason.
  {
    label: 'a cloud metadata address',
    v4: [['169.254.169.254', 32], ['169.254.170.2', 32], ['100.100.100.200', 32], ['168.63.129.16', 32]],
    v6: [['fd00:ec2::254', 128]],
  },
  { label: 'a loopback address', v4: [['127.0.0.0', 8]], v6: [['::1', 128]] },
  { label: 'an unspecified address', v4: [['0.0.0.0', 8]], v6: [['::', 128]] },
  { label: 'a private address', v4: [['10.0.0.0', 8], ['172.16.0.0', 12], ['192.168.0.0', 16]] },
  { label: 'a shared (carrier-grade NAT) address', v4: [['100.64.0.0', 10]] },
  { label: 'a link-local address', v4: [['169.254.0.0', 16]], v6: [['fe80::', 10]] },
  { label: 'a unique-local address', v6: [['fc00::', 7], ['fec0::', 10]] },
  { label: 'a multicast address', v4: [['224.0.0.0', 4]], v6: [['ff00::', 8]] },
  {
    label: 'a reserved address',
    v4: [['240.0.0.0', 4], ['192.0.0.0', 24], ['192.0.2.0', 24], ['198.18.0.0', 15], ['198.51.100.0', 24], ['203.0.113.0', 24]],
    v6: [['100::', 64], ['2001:db8::', 32]],
  },
];

const LISTS = RANGES.map(({ label, v4 = [], v6 = [] }) => {
  const list = new BlockList();
  for (const [net, prefix] of v4) list.addSubnet(net, prefix, 'ipv4');
  for (const [net, prefix] of v6) list.addSubnet(net, prefix, 'ipv6');
  return { label, list };
});

/** Why an address may not be called (e.g. "a loopback address"), or undefined for a public one. */
export function blockedReason(address: string): string | undefined {
  const family = isIP(address);
  if (family === 0) return 'not an IP address';
  if (family === 6) {
    // IPv4 inside IPv6 (mapped, NAT64, 6to4) reaches the IPv4 host: judge that address.
    const embedded = embeddedIpv4(address);
    if (embedded) return blockedReason(embedded);
  }
  const type = family === 4 ? 'ipv4' : 'ipv6';
  return LISTS.find(({ list }) => list.check(address, type))?.label;
}

export type TargetCheck = { ok: true } | { ok: false; reason: string };

/**
 * The registration check: http(s) only, no credentials in the URL, and (unless private targets are
 * allowed) a host whose every address is public. A host that does not resolve is refused too.
 */
export async function checkTargetUrl(text: string, allowPrivate: boolean): Promise<TargetCheck> {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return { ok: false, reason: 'url must be an absolute http or https URL' };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return { ok: false, reason: 'url must use http or https' };
  if (url.username || url.password) return { ok: false, reason: 'url must not contain credentials' };
  if (allowPrivate) return { ok: true };

  const host = hostOf(url);
  if (isIP(host)) {
    const reason = blockedReason(host);
    return reason ? { ok: false, reason: `url points to ${host}, ${reason}` } : { ok: true };
  }
  let addresses: { address: string }[];
  try {
    addresses = await dnsLookup(host, { all: true, verbatim: true });
  } catch {
    return { ok: false, reason: `url host ${host} does not resolve` };
  }
  for (const { address } of addresses) {
    const reason = blockedReason(address);
    if (reason) return { ok: false, reason: `url host ${host} resolves to ${address}, ${reason}` };
  }
  return { ok: true };
}

/** The URL's host without the brackets of an IPv6 literal. */
export function hostOf(url: URL): string {
  return url.hostname.replace(/^\[(.*)\]$/, '$1');
}

/** Raised at connect time; the dispatcher records its message as the attempt's error. */
export class BlockedTargetError extends Error {
  readonly code = 'EBLOCKEDTARGET';
}

/**
 * A `lookup` for sockets (undici's `connect.lookup`): resolves the name, refuses the connection when
 * any address is not public, and hands the checked addresses to the socket, which connects to them
 * and nothing else.
 */
export function guardedLookup(allowPrivate: boolean): LookupFunction {
  return ((hostname: string, options: { all?: boolean; family?: number }, callback: (...args: unknown[]) => void) => {
    dnsLookup(hostname, { all: true, verbatim: true, family: options?.family ?? 0 })
      .then((addresses) => {
        if (!allowPrivate) {
          for (const { address } of addresses) {
            const reason = blockedReason(address);
            if (reason) throw new BlockedTargetError(`refused: ${hostname} resolves to ${address}, ${reason}`);
          }
        }
        if (addresses.length === 0) throw new Error(`${hostname} does not resolve`);
        if (options?.all) callback(null, addresses);
        else callback(null, addresses[0].address, addresses[0].family);
      })
      .catch((err: unknown) => callback(err));
  }) as LookupFunction;
}

/** The IPv4 address carried by an IPv4-mapped, NAT64 (64:ff9b::/96) or 6to4 (2002::/16) IPv6 address. */
function embeddedIpv4(address: string): string | undefined {
  const bytes = ipv6Bytes(address);
  if (!bytes) return undefined;
  const isZero = (from: number, to: number) => bytes.slice(from, to).every((b) => b === 0);
  const v4 = (at: number) => Array.from(bytes.slice(at, at + 4)).join('.');
  if (isZero(0, 10) && bytes[10] === 0xff && bytes[11] === 0xff) return v4(12);
  if (bytes[0] === 0x00 && bytes[1] === 0x64 && bytes[2] === 0xff && bytes[3] === 0x9b && isZero(4, 12)) return v4(12);
  if (bytes[0] === 0x20 && bytes[1] === 0x02) return v4(2);
  return undefined;
}

function ipv6Bytes(address: string): Uint8Array | undefined {
  let text = address.split('%')[0].toLowerCase();
  // A trailing dotted quad (::ffff:10.0.0.1) becomes two hex groups.
  const quad = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (quad) {
    const [a, b, c, d] = quad.slice(1).map(Number);
    text = text.slice(0, quad.index) + `${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.includes('::') ? text.split('::') : [text, undefined];
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const missing = 8 - left.length - right.length;
  if (tail === undefined ? left.length !== 8 : missing < 0) return undefined;
  const groups = [...left, ...Array<string>(tail === undefined ? 0 : missing).fill('0'), ...right].map((g) => parseInt(g, 16));
  if (groups.some((g) => Number.isNaN(g) || g < 0 || g > 0xffff)) return undefined;
  return Uint8Array.from(groups.flatMap((g) => [g >> 8, g & 0xff]));
}
