import { ArgumentsHost, Logger, NotFoundException } from '@nestjs/common';
import { ExpressAdapter } from '@nestjs/platform-express';
import { lastValueFrom, Observable } from 'rxjs';
import { ConflictError, EntityNotFoundError, PreconditionFailedError, UnprocessableError } from '../errors';
import { validationException } from './field-errors';
import { HttpExceptionFilter } from './http-exception.filter';

function fakeResponse() {
  const res = { statusCode: 0, body: undefined as unknown, headers: {} as Record<string, string>, status: jest.fn(), json: jest.fn(), setHeader: jest.fn() };
  res.setHeader.mockImplementation((name: string, value: string) => (res.headers[name] = value));
  res.status.mockImplementation((code: number) => {
    res.statusCode = code;
    return res;
  });
  res.json.mockImplementation((body: unknown) => {
    res.body = body;
    return res;
  });
  return res;
}

function httpHost(res: ReturnType<typeof fakeResponse>): ArgumentsHost {
  return {
    getType: () => 'http',
    switchToHttp: () => ({ getResponse: () => res, getRequest: () => ({}), getNext: () => undefined }),
  } as unknown as ArgumentsHost;
}

/** The shape body-parser's `http-errors` have: status, statusCode, expose and a `type` code. */
function bodyParserError(Kind: new (message: string) => Error, status: number, type: string, message: string): Error {
  return Object.assign(new Kind(message), { status, statusCode: status, expose: true, type });
}

const viaExpressAdapter = (err: Error): unknown => new ExpressAdapter().mapException(err);

function send(exception: unknown) {
  const res = fakeResponse();
  new HttpExceptionFilter().catch(exception, httpHost(res));
  return res;
}

describe('HttpExceptionFilter', () => {
  beforeEach(() => jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined));
  afterEach(() => jest.restoreAllMocks());

  it('answers EntityNotFoundError with 404 and its message', () => {
    const res = send(new EntityNotFoundError('user', 11));

    expect(res.statusCode).toBe(404);
    expect(res.body).toEqual({ statusCode: 404, error: 'Not Found', message: 'user 11 not found' });
  });

  it('answers ConflictError with 409 and a field error for its field', () => {
    const res = send(new ConflictError('email is already in use', 'email'));

    expect(res.statusCode).toBe(409);
    expect(res.body).toEqual({
      statusCode: 409,
      error: 'Conflict',
      message: 'email is already in use',
      errors: [{ field: 'email', messages: ['email is already in use'] }],
    });
  });

  it('answers PreconditionFailedError with 412 and a field error for If-Match', () => {
    const res = send(new PreconditionFailedError('user 11 is at version 3, not 2 as If-Match says', 'If-Match'));

    expect(res.statusCode).toBe(412);
    expect(res.body).toEqual({
      statusCode: 412,
      error: 'Precondition Failed',
      message: 'user 11 is at version 3, not 2 as If-Match says',
      errors: [{ field: 'If-Match', messages: ['user 11 is at version 3, not 2 as If-Match says'] }],
    });
  });

  it('answers UnprocessableError with 422', () => {
    const res = send(new UnprocessableError('user 5 does not exist', 'userId'));

    expect(res.statusCode).toBe(422);
    expect(res.body).toMatchObject({ error: 'Unprocessable Entity', errors: [{ field: 'userId' }] });
  });

  it('answers malformed JSON, as the Express adapter hands it over, with 400', () => {
    const res = send(viaExpressAdapter(bodyParserError(SyntaxError, 400, 'entity.parse.failed', 'Unexpected token } in JSON at position 9')));

    expect(res.statusCode).toBe(400);
    expect(res.body).toEqual({
      statusCode: 400,
      error: 'Bad Request',
      message: 'Malformed JSON in request body: Unexpected token } in JSON at position 9',
    });
  });

  it('answers a body over the size limit, as the Express adapter hands it over, with 413', () => {
    const res = send(viaExpressAdapter(bodyParserError(Error, 413, 'entity.too.large', 'request entity too large')));

    expect(res.statusCode).toBe(413);
    expect(res.body).toEqual({ statusCode: 413, error: 'Payload Too Large', message: 'request entity too large' });
  });

  it('keeps the errors array of a validation BadRequestException', () => {
    const res = send(
      validationException([{ property: 'name', constraints: { isNotEmpty: 'name should not be empty' }, children: [] }]),
    );

    expect(res.statusCode).toBe(400);
    expect(res.body).toEqual({
      statusCode: 400,
      error: 'Bad Request',
      message: 'Validation failed',
      errors: [{ field: 'name', messages: ['name should not be empty'] }],
    });
  });

  it('keeps the status and message of any other HttpException', () => {
    const res = send(new NotFoundException('Cannot GET /nowhere'));

    expect(res.body).toEqual({ statusCode: 404, error: 'Not Found', message: 'Cannot GET /nowhere' });
  });

  it('answers a database that cannot be reached with 503 and Retry-After, not 500', () => {
    jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    const res = send(Object.assign(new Error('Connection terminated unexpectedly'), { driverError: { code: '57P01' } }));

    expect(res.statusCode).toBe(503);
    expect(res.headers['Retry-After']).toBe('2');
    expect(res.body).toEqual({ statusCode: 503, error: 'Service Unavailable', message: 'The database is unavailable; retry shortly.' });
  });

  it('answers an unknown error with 500 without leaking its message', () => {
    const res = send(new Error('password authentication failed for user "postgres"'));

    expect(res.statusCode).toBe(500);
    expect(res.body).toEqual({ statusCode: 500, error: 'Internal Server Error', message: 'Internal server error' });
  });

  it('logs an unknown error with its stack', () => {
    const error = new Error('boom');

    send(error);

    expect(Logger.prototype.error).toHaveBeenCalledWith(error.stack);
  });

  it('rethrows outside HTTP instead of writing a response', async () => {
    const error = new Error('rpc failure');
    const host = { getType: () => 'rpc', switchToHttp: jest.fn() } as unknown as ArgumentsHost;

    const result = new HttpExceptionFilter().catch(error, host) as Observable<never>;

    await expect(lastValueFrom(result)).rejects.toBe(error);
    expect(host.switchToHttp).not.toHaveBeenCalled();
  });
});
