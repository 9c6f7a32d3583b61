import { isISO8601, ValidateBy, ValidationArguments, ValidationOptions } from 'class-validator';

/**
 * PostgreSQL's text and jsonb cannot hold U+0000, so a string carrying it would fail at the insert
 * (a 500); it is the client's mistake and is answered as one.
 */
export function HasNoNul(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'hasNoNul',
      validator: {
        validate: (value) => typeof value !== 'string' || !value.includes('\u0000'),
        defaultMessage: (args?: ValidationArguments) => `${args?.property} must not contain the NUL character (\\u0000)`,
      },
    },
    options,
  );
}

/**
 * An ISO 8601 date-time that names an instant. `IsISO8601` alone also takes week dates (2026-W01),
 * ordinal dates (2026-123) and the basic format (20260519), which `new Date()` cannot read: they
 * reached the database as an invalid date, a 500. A time of day needs its zone (`Z` or an offset):
 * without one it would be read in the server's zone. A date alone is midnight UTC.
 */
const ZONE = /(Z|[+-]\d{2}(:?\d{2})?)$/i;

export function IsInstant(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isInstant',
      validator: {
        validate: (value) =>
          typeof value === 'string' && isISO8601(value, { strict: true }) && !Number.isNaN(Date.parse(value)) && (!/[T ]\d/.test(value) || ZONE.test(value)),
        defaultMessage: (args?: ValidationArguments) => `${args?.property} must be an ISO 8601 date-time with its time zone, such as 2026-11-25T10:00:00Z`,
      },
    },
    options,
  );
}
