import { Webhook } from 'standardwebhooks';
import { generateSecret, isValidSecret, signatureHeader } from './signing';

describe('webhook secrets and signatures', () => {
  const body = JSON.stringify({ type: 'order_placed', timestamp: '2026-11-25T10:00:00.000Z', data: { id: 11 } });
  const now = () => new Date(Math.floor(Date.now() / 1000) * 1000);
  const headers = (signature: string, at: Date) => ({
    'webhook-id': 'msg_1',
    'webhook-timestamp': String(at.getTime() / 1000),
    'webhook-signature': signature,
  });

  it('generates whsec_ secrets of 32 random bytes that it accepts itself', () => {
    const a = generateSecret();
    expect(a).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(isValidSecret(a)).toBe(true);
    expect(generateSecret()).not.toBe(a);
  });

  it.each(['whsec_', 'whsec_c2hvcnQ=', 'sk_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', `whsec_${Buffer.alloc(65).toString('base64')}`, 'whsec_not base64!'])(
    'refuses the malformed secret %s',
    (secret) => {
      expect(isValidSecret(secret)).toBe(false);
    },
  );

  it('signs so that standardwebhooks verifies the request', () => {
    const secret = generateSecret();
    const at = now();
    expect(new Webhook(secret).verify(body, headers(signatureHeader([secret], 'msg_1', at, body), at))).toEqual(JSON.parse(body));
  });

  it('carries one signature per secret during a rotation, each verifiable on its own', () => {
    const [current, previous] = [generateSecret(), generateSecret()];
    const at = now();
    const signature = signatureHeader([current, previous], 'msg_1', at, body);
    expect(signature.split(' ')).toHaveLength(2);
    expect(() => new Webhook(current).verify(body, headers(signature, at))).not.toThrow();
    expect(() => new Webhook(previous).verify(body, headers(signature, at))).not.toThrow();
    expect(() => new Webhook(generateSecret()).verify(body, headers(signature, at))).toThrow(/No matching signature/);
  });
});
