import { BadRequestException } from '@nestjs/common';
import { ParseIdPipe } from './parse-id.pipe';

describe('ParseIdPipe', () => {
  const pipe = new ParseIdPipe();

  it.each([
    ['1', 1],
    ['42', 42],
    ['9007199254740991', Number.MAX_SAFE_INTEGER],
  ])('turns %j into the number %d', (text, id) => {
    expect(pipe.transform(text)).toBe(id);
  });

  it.each(['0', '-1', 'abc', '1.5', '01', '1e3', ' 1', '9007199254740992', '99999999999999999', ''])(
    'rejects %j with a 400 naming the id field',
    (text) => {
      let thrown: unknown;
      try {
        pipe.transform(text);
      } catch (err) {
        thrown = err;
      }

      expect(thrown).toBeInstanceOf(BadRequestException);
      const response = (thrown as BadRequestException).getResponse() as { errors: { field: string }[] };
      expect(response.errors[0].field).toBe('id');
    },
  );
});
