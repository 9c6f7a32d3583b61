import { BadRequestException, CallHandler, createParamDecorator, ExecutionContext, Injectable, NestInterceptor } from '@nestjs/common';
import type { Request, Response } from 'express';
import { map, Observable } from 'rxjs';
import { PreconditionFailedError } from '../errors';

/**
 * Optimistic concurrency over HTTP. An entity's ETag is its version, `"3"`; a write may send it back in
 * `If-Match` and gets 412 when the entity has moved on. Versions are exact, so a weak tag (`W/"3"`, as
 * some proxies rewrite them) is read as the same version, and a bare `3` is accepted too.
 */
export function entityTag(version: number): string {
  return `"${version}"`;
}

/** The versions an `If-Match` accepts; undefined means any (without it, the row lock still serialises writers). */
export type IfMatchVersions = readonly number[] | undefined;

/** The versions an `If-Match` header accepts; undefined when there is none or it is `*` (any version). */
export function parseIfMatch(header: string | undefined): number[] | undefined {
  if (header === undefined || header.trim() === '' || header.trim() === '*') return undefined;
  const versions = header.split(',').map((part) => {
    const m = /^\s*(?:W\/)?(?:"([1-9]\d{0,9})"|([1-9]\d{0,9}))\s*$/.exec(part);
    if (!m) {
      throw new BadRequestException({
        message: 'Validation failed',
        errors: [{ field: 'If-Match', messages: ['If-Match must be the ETag of the entity, a version such as "3"'] }],
      });
    }
    return Number(m[1] ?? m[2]);
  });
  return versions;
}

/** `@IfMatch()`: the versions the request's `If-Match` accepts, or undefined for "any". */
export const IfMatch = createParamDecorator((_: unknown, ctx: ExecutionContext) =>
  parseIfMatch(ctx.switchToHttp().getRequest<Request>().header('if-match')),
);

/** Throws 412 unless the entity's current version is one `If-Match` accepts. */
export function checkIfMatch(entity: string, id: number, current: number, expected: IfMatchVersions): void {
  if (expected && !expected.includes(current)) {
    throw new PreconditionFailedError(
      `${entity} ${id} is at version ${current}, not ${expected.join(' or ')} as If-Match says; read it again and retry`,
      'If-Match',
    );
  }
}

/** Sets `ETag` from the `version` of the entity a route answers with. */
@Injectable()
export class EntityTagInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const res = context.switchToHttp().getResponse<Response>();
    return next.handle().pipe(
      map((body: unknown) => {
        const version = (body as { version?: unknown } | undefined)?.version;
        if (typeof version === 'number') res.setHeader('ETag', entityTag(version));
        return body;
      }),
    );
  }
}
