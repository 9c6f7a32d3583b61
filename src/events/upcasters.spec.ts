import { fillDefaults, readEventPayload, schemaVersionOf, upcast } from './upcasters';

describe('upcast', () => {
  it("reads the origin document's user_created version 1 as version 2: email null, version 1", () => {
    expect(upcast('user_created', { id: 11, name: 'King' }, 1)).toEqual({ id: 11, name: 'King', email: null, version: 1 });
  });

  it('keeps the values a version 1 event already had', () => {
    const v1 = { id: 11, name: 'King', email: 'king@example.com', version: 4, createdAt: '2026-11-25T10:00:00.000Z' };

    expect(upcast('user_created', v1, 1)).toEqual(v1);
  });

  it('keeps fields no schema knows (the schemas are open)', () => {
    expect(upcast('user_created', { id: 11, name: 'King', nickname: 'K' }, 1)).toMatchObject({ nickname: 'K' });
  });

  it('leaves a payload already at the current version untouched', () => {
    const v2 = { id: 11, name: 'King', email: null, version: 1 };

    expect(upcast('user_created', v2, 2)).toBe(v2);
  });

  it('does not change the payload it was given', () => {
    const v1 = { id: 11, name: 'King' };

    upcast('user_created', v1, 1);

    expect(v1).toEqual({ id: 11, name: 'King' });
  });
});

describe('fillDefaults', () => {
  it('fills only properties that are missing, not those set to null', () => {
    expect(fillDefaults('user_created', 2, { id: 11, name: 'King', email: null, version: 3 })).toEqual({
      id: 11,
      name: 'King',
      email: null,
      version: 3,
    });
  });
});

describe('readEventPayload', () => {
  it('validates a version 1 event against version 1 and returns it as the current version', () => {
    expect(readEventPayload('user_created', { id: 11, name: 'King' }, 1)).toEqual({
      ok: true,
      version: 2,
      payload: { id: 11, name: 'King', email: null, version: 1 },
    });
  });

  it('refuses a version 1 event that breaks version 1, naming the field and the version', () => {
    const result = readEventPayload('user_created', { id: 11 }, 1);

    expect(result).toEqual({ ok: false, reason: expect.stringMatching(/user_created schema: .*name.*\(urn:nestream:schema:user_created:1\)$/) });
  });

  it('refuses a version from the future', () => {
    expect(readEventPayload('user_created', { id: 11, name: 'King' }, 3)).toMatchObject({ ok: false, reason: expect.stringContaining('no schema version 3') });
  });

  it('passes a current-version event through unchanged', () => {
    const payload = { id: 11, product: 'sofa', amount: 100000 };

    expect(readEventPayload('order_placed', payload, 1)).toEqual({ ok: true, version: 1, payload });
  });
});

describe('schemaVersionOf', () => {
  it('reads an event without ce_dataschema (an outside producer) as version 1', () => {
    expect(schemaVersionOf('user_created', undefined)).toEqual({ ok: true, version: 1 });
  });

  it('reads a schema that is not one of ours as version 1', () => {
    expect(schemaVersionOf('user_created', 'https://partner.example/schemas/user.json')).toEqual({ ok: true, version: 1 });
  });

  it('reads the version our URN names', () => {
    expect(schemaVersionOf('user_created', 'urn:nestream:schema:user_created:2')).toEqual({ ok: true, version: 2 });
  });

  it('refuses our URN naming another event type', () => {
    expect(schemaVersionOf('user_created', 'urn:nestream:schema:order_placed:1')).toEqual({
      ok: false,
      reason: 'ce_dataschema names order_placed, but the event is a user_created',
    });
  });

  it('refuses a malformed URN of ours', () => {
    expect(schemaVersionOf('user_created', 'urn:nestream:schema:user_created:two')).toMatchObject({ ok: false });
  });
});
