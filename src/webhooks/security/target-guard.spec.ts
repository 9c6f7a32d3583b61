import { blockedReason, checkTargetUrl, guardedLookup } from './target-guard';

describe('blockedReason', () => {
  it.each([
    ['127.0.0.1', 'a loopback address'],
    ['127.255.0.9', 'a loopback address'],
    ['::1', 'a loopback address'],
    ['10.1.2.3', 'a private address'],
    ['172.16.0.1', 'a private address'],
    ['172.31.255.255', 'a private address'],
    ['192.168.1.1', 'a private address'],
    ['169.254.169.254', 'a cloud metadata address'],
    ['fd00:ec2::254', 'a cloud metadata address'],
    ['100.100.100.200', 'a cloud metadata address'],
    ['169.254.10.10', 'a link-local address'],
    ['fe80::1', 'a link-local address'],
    ['fc00::1', 'a unique-local address'],
    ['fd12:3456::1', 'a unique-local address'],
    ['0.0.0.0', 'an unspecified address'],
    ['::', 'an unspecified address'],
    ['100.64.0.1', 'a shared (carrier-grade NAT) address'],
    ['224.0.0.1', 'a multicast address'],
    ['255.255.255.255', 'a reserved address'],
  ])('refuses %s as %s', (address, reason) => {
    expect(blockedReason(address)).toBe(reason);
  });

  it.each([
    ['::ffff:127.0.0.1', 'a loopback address'],
    ['::ffff:7f00:1', 'a loopback address'],
    ['::ffff:a9fe:a9fe', 'a cloud metadata address'],
    ['64:ff9b::10.0.0.1', 'a private address'],
    ['2002:c0a8:0101::1', 'a private address'],
  ])('judges the IPv4 address inside %s', (address, reason) => {
    expect(blockedReason(address)).toBe(reason);
  });

  it.each(['93.184.215.14', '8.8.8.8', '172.32.0.1', '2606:4700:4700::1111', '::ffff:8.8.8.8', '64:ff9b::8.8.8.8'])(
    'accepts the public address %s',
    (address) => {
      expect(blockedReason(address)).toBeUndefined();
    },
  );
});

describe('checkTargetUrl', () => {
  it.each([
    ['ftp://example.com/hook', 'url must use http or https'],
    ['file:///etc/passwd', 'url must use http or https'],
    ['not a url', 'url must be an absolute http or https URL'],
    ['https://user:pass@example.com/hook', 'url must not contain credentials'],
  ])('refuses %s even when private targets are allowed', async (url, reason) => {
    expect(await checkTargetUrl(url, true)).toEqual({ ok: false, reason });
  });

  it.each([
    ['http://127.0.0.1:8080/hook', 'url points to 127.0.0.1, a loopback address'],
    ['http://[::1]/hook', 'url points to ::1, a loopback address'],
    ['http://169.254.169.254/latest/meta-data', 'url points to 169.254.169.254, a cloud metadata address'],
    ['http://10.0.0.5/hook', 'url points to 10.0.0.5, a private address'],
    ['http://[fd00::1]/hook', 'url points to fd00::1, a unique-local address'],
  ])('refuses %s with the guard on', async (url, reason) => {
    expect(await checkTargetUrl(url, false)).toEqual({ ok: false, reason });
  });

  it('refuses a name that resolves to loopback', async () => {
    const check = await checkTargetUrl('http://localhost:3000/hook', false);
    expect(check).toEqual({ ok: false, reason: expect.stringMatching(/^url host localhost resolves to .*, a loopback address$/) });
  });

  it('accepts a public address with the guard on', async () => {
    expect(await checkTargetUrl('https://93.184.215.14/hook', false)).toEqual({ ok: true });
  });

  it('accepts a loopback address when private targets are allowed', async () => {
    expect(await checkTargetUrl('http://127.0.0.1:8080/hook', true)).toEqual({ ok: true });
  });
});

describe('guardedLookup', () => {
  const lookup = (allowPrivate: boolean, hostname: string, all: boolean) =>
    new Promise<{ err: Error | null; result: unknown[] }>((resolve) => {
      (guardedLookup(allowPrivate) as unknown as (h: string, o: object, cb: (...a: unknown[]) => void) => void)(hostname, { all }, (err, ...result) =>
        resolve({ err: err as Error | null, result }),
      );
    });

  it('fails the connection when the name resolves to a private address', async () => {
    const { err } = await lookup(false, 'localhost', true);
    expect(err?.message).toMatch(/^refused: localhost resolves to .*, a loopback address$/);
  });

  it('hands the checked addresses to the socket when allowed', async () => {
    const { err, result } = await lookup(true, 'localhost', true);
    expect(err).toBeNull();
    expect(result[0]).toEqual(expect.arrayContaining([expect.objectContaining({ address: expect.any(String) })]));
  });

  it('answers a single address when the socket does not ask for all', async () => {
    const { err, result } = await lookup(true, 'localhost', false);
    expect(err).toBeNull();
    expect(typeof result[0]).toBe('string');
    expect([4, 6]).toContain(result[1]);
  });
});
