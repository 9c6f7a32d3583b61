import { BadRequestException } from '@nestjs/common';
import { PreconditionFailedError } from '../errors';
import { checkIfMatch, entityTag, parseIfMatch } from './entity-tag';

describe('parseIfMatch', () => {
  it.each([
    ['"3"', [3]],
    ['W/"3"', [3]],
    ['3', [3]],
    [' "3" ', [3]],
    ['"2", "3"', [2, 3]],
  ])('reads %j as versions %j', (header, versions) => {
    expect(parseIfMatch(header)).toEqual(versions);
  });

  it.each([undefined, '', '*', ' * '])('reads %j as any version', (header) => {
    expect(parseIfMatch(header)).toBeUndefined();
  });

  it.each(['"abc"', '"0"', '"3', 'W/3x', '"-1"', '"1.5"', '"3" "4"'])('answers 400 naming If-Match for %j', (header) => {
    let thrown: unknown;
    try {
      parseIfMatch(header);
    } catch (err) {
      thrown = err;
    }

    expect(thrown).toBeInstanceOf(BadRequestException);
    expect((thrown as BadRequestException).getResponse()).toMatchObject({ errors: [{ field: 'If-Match' }] });
  });

  it('reads back the ETag it writes', () => {
    expect(parseIfMatch(entityTag(42))).toEqual([42]);
  });
});

describe('checkIfMatch', () => {
  it('passes without If-Match and when the version is the current one', () => {
    expect(() => checkIfMatch('user', 1, 3, undefined)).not.toThrow();
    expect(() => checkIfMatch('user', 1, 3, [2, 3])).not.toThrow();
  });

  it('throws a 412 error that names both versions for a stale one', () => {
    expect(() => checkIfMatch('user', 1, 3, [2])).toThrow(
      new PreconditionFailedError('user 1 is at version 3, not 2 as If-Match says; read it again and retry', 'If-Match'),
    );
  });
});
