import { validateSync } from 'class-validator';
import { HasNoNul, IsInstant } from './validators';

class Probe {
  @HasNoNul()
  text?: unknown;

  @IsInstant()
  at?: unknown = '2026-11-25T10:00:00Z';
}

const errorsOf = (values: Partial<Probe>) => validateSync(Object.assign(new Probe(), values)).map((e) => Object.values(e.constraints ?? {})[0]);

describe('HasNoNul', () => {
  it('refuses a string holding U+0000 and names the field', () => {
    expect(errorsOf({ text: 'a\u0000b' })).toEqual(['text must not contain the NUL character (\\u0000)']);
  });

  it('takes other strings, and leaves other types to their own rules', () => {
    expect(errorsOf({ text: 'Robert\'); DROP TABLE users;-- \u0001 ✓' })).toEqual([]);
    expect(errorsOf({ text: 42 })).toEqual([]);
  });
});

describe('IsInstant', () => {
  it.each(['2026-11-25T10:00:00Z', '2026-11-25T10:00:00.123+01:00', '2026-11-25T10:00:00-0500', '2026-11-25'])('takes %s', (at) => {
    expect(errorsOf({ at })).toEqual([]);
  });

  it.each(['2026-W01', '2026-W01-1', '2026-123', '20090519', 'yesterday', '2026-13-01T00:00:00Z', '2026-11-25T10:00:00', '2026-11-25T10:00', 20260519])('refuses %s', (at) => {
    expect(errorsOf({ at })).toEqual(['at must be an ISO 8601 date-time with its time zone, such as 2026-11-25T10:00:00Z']);
  });
});
