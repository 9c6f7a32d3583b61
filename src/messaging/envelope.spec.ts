import { CE, envelopeHeaders, EventEnvelope, readEnvelope } from './envelope';

const envelope = (overrides: Partial<EventEnvelope> = {}): EventEnvelope => ({
  id: '6f1c2a4e-0d7b-4d8e-9a57-3b0f5c1e2d90',
  type: 'user_created',
  source: '/nestream/users',
  time: new Date('2026-11-25T10:00:00.000Z'),
  subject: '11',
  entityVersion: 1,
  ...overrides,
});

describe('envelope', () => {
  it('reads back what envelopeHeaders wrote', () => {
    const e = envelope({ entityVersion: 7 });

    expect(readEnvelope(envelopeHeaders(e))).toEqual({
      id: e.id,
      type: e.type,
      source: e.source,
      time: '2026-11-25T10:00:00.000Z',
      subject: '11',
      entityVersion: 7,
      dataschema: 'urn:nestream:schema:user_created:2',
    });
  });

  it("names the schema of the event type's current version in ce_dataschema unless told otherwise", () => {
    expect(envelopeHeaders(envelope()).ce_dataschema).toBe('urn:nestream:schema:user_created:2');
    expect(envelopeHeaders(envelope({ dataschema: 'urn:nestream:schema:user_created:1' })).ce_dataschema).toBe(
      'urn:nestream:schema:user_created:1',
    );
  });

  it('writes CloudEvents 1.0 binary-mode headers with a JSON content type', () => {
    expect(envelopeHeaders(envelope())).toMatchObject({ ce_specversion: '1.0', 'content-type': 'application/json' });
  });

  it('reads a record without headers as all undefined', () => {
    expect(readEnvelope({})).toEqual({
      id: undefined,
      type: undefined,
      source: undefined,
      time: undefined,
      subject: undefined,
      entityVersion: undefined,
      dataschema: undefined,
    });
  });

  it.each(['abc', '1.5', '0', '-2', ''])('ignores a ce_entityversion of %j', (text) => {
    expect(readEnvelope({ [CE.entityversion]: text }).entityVersion).toBeUndefined();
  });

  it('decodes Buffer header values as UTF-8', () => {
    const metadata = readEnvelope({
      [CE.id]: Buffer.from('evt-1'),
      [CE.source]: Buffer.from('/partner/crm'),
      [CE.entityversion]: Buffer.from('3'),
    });

    expect(metadata).toMatchObject({ id: 'evt-1', source: '/partner/crm', entityVersion: 3 });
  });
});
