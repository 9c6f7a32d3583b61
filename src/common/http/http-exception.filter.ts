import { ArgumentsHost, Catch, ExceptionFilter, HttpException, HttpStatus, Logger } from '@nestjs/common';
import type { Response } from 'express';
import { Observable, throwError } from 'rxjs';
import { isDatabaseUnavailable } from '../../persistence/database-unavailable';
import { ConflictError, DomainError, EntityNotFoundError, PreconditionFailedError, UnprocessableError } from '../errors';

const STATUS_OF_DOMAIN_ERROR = new Map<Function, number>([
  [EntityNotFoundError, HttpStatus.NOT_FOUND],
  [ConflictError, HttpStatus.CONFLICT],
  [PreconditionFailedError, HttpStatus.PRECONDITION_FAILED],
  [UnprocessableError, HttpStatus.UNPROCESSABLE_ENTITY],
]);

const DATABASE_RETRY_AFTER_SECONDS = 2;

/**
 * Every HTTP error leaves through here with one body shape:
 * `{ statusCode, error, message, errors?: [{ field, messages }] }`. A database that cannot be reached
 * is a 503 with `Retry-After`, not the client's fault and not a bug. Anything unexpected is a
 * 500, logged with its stack and answered without internals.
 */
@Catch()
export class HttpExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger(HttpExceptionFilter.name);

  catch(exception: unknown, host: ArgumentsHost): void | Observable<never> {
    // Not HTTP (a Kafka handler whose record failed): passed through unchanged, for the transport to redeliver.
    if (host.getType() !== 'http') return throwError(() => exception);
    const res = host.switchToHttp().getResponse<Response>();
    if (isDatabaseUnavailable(exception)) {
      this.logger.warn(`database unavailable: ${exception instanceof Error ? exception.message : String(exception)}`);
      res.setHeader('Retry-After', String(DATABASE_RETRY_AFTER_SECONDS));
      res.status(HttpStatus.SERVICE_UNAVAILABLE).json({
        statusCode: HttpStatus.SERVICE_UNAVAILABLE,
        error: reasonPhrase(HttpStatus.SERVICE_UNAVAILABLE),
        message: 'The database is unavailable; retry shortly.',
      });
      return;
    }
    const { status, body } = this.describe(exception);
    // A deliberate 5xx (readiness answering 503) is not a fault; anything unexpected is logged with its stack.
    if (status >= 500 && !(exception instanceof HttpException)) this.logger.error(exception instanceof Error ? exception.stack : String(exception));
    res.status(status).json({ statusCode: status, error: reasonPhrase(status), ...body });
  }

  private describe(exception: unknown): { status: number; body: Record<string, unknown> } {
    if (exception instanceof DomainError) {
      const status = STATUS_OF_DOMAIN_ERROR.get(exception.constructor) ?? HttpStatus.BAD_REQUEST;
      const errors = exception.field ? [{ field: exception.field, messages: [exception.message] }] : undefined;
      return { status, body: { message: exception.message, ...(errors && { errors }) } };
    }
    if (exception instanceof HttpException) {
      // Nest's Express adapter turns body-parser failures (bad JSON, 413) into HttpExceptions.
      if (exception.cause instanceof SyntaxError) {
        return { status: exception.getStatus(), body: { message: `Malformed JSON in request body: ${exception.cause.message}` } };
      }
      const response = exception.getResponse();
      const body = typeof response === 'string' ? { message: response } : { ...(response as object) };
      delete (body as Record<string, unknown>).statusCode;
      // Nest puts the status phrase in `error`; terminus puts the failed checks there, which stay.
      if (typeof (body as Record<string, unknown>).error === 'string') delete (body as Record<string, unknown>).error;
      return { status: exception.getStatus(), body };
    }
    return { status: HttpStatus.INTERNAL_SERVER_ERROR, body: { message: 'Internal server error' } };
  }
}

function reasonPhrase(status: number): string {
  const name = HttpStatus[status] as string | undefined;
  return name ? name.toLowerCase().split('_').map((w) => w[0].toUpperCase() + w.slice(1)).join(' ') : 'Error';
}
