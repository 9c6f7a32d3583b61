import { applyDecorators } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiConflictResponse,
  ApiNotFoundResponse,
  ApiPayloadTooLargeResponse,
  ApiPreconditionFailedResponse,
  ApiServiceUnavailableResponse,
  ApiTooManyRequestsResponse,
  ApiUnprocessableEntityResponse,
} from '@nestjs/swagger';
import { ErrorResponse } from './error.response';

type ErrorStatus = 400 | 404 | 409 | 412 | 413 | 422 | 429 | 503;

const DOCS: Record<ErrorStatus, (description: string) => MethodDecorator & ClassDecorator> = {
  400: (d) => ApiBadRequestResponse({ type: ErrorResponse, description: d }),
  404: (d) => ApiNotFoundResponse({ type: ErrorResponse, description: d }),
  409: (d) => ApiConflictResponse({ type: ErrorResponse, description: d }),
  412: (d) => ApiPreconditionFailedResponse({ type: ErrorResponse, description: d }),
  413: (d) => ApiPayloadTooLargeResponse({ type: ErrorResponse, description: d }),
  422: (d) => ApiUnprocessableEntityResponse({ type: ErrorResponse, description: d }),
  429: (d) => ApiTooManyRequestsResponse({ type: ErrorResponse, description: d }),
  503: (d) => ApiServiceUnavailableResponse({ type: ErrorResponse, description: d }),
};

const DEFAULT_DESCRIPTION: Record<ErrorStatus, string> = {
  400: 'Invalid input: the errors list names each field',
  404: 'No entity with that id',
  409: 'Conflicts with the current state',
  412: 'If-Match names a version that is no longer current',
  413: 'Request body over the size limit',
  422: 'Well-formed, but refers to something that does not exist',
  429: 'Rate limit exceeded',
  503: 'The database is unavailable; retry after the Retry-After header',
};

/** Documents the error answers of a route in OpenAPI, all with the shared error body; 429 and 503 apply to every route. */
export function ApiErrors(...statuses: (ErrorStatus | [ErrorStatus, string])[]) {
  return applyDecorators(
    ...statuses.map((s) => (Array.isArray(s) ? DOCS[s[0]](s[1]) : DOCS[s](DEFAULT_DESCRIPTION[s]))),
    DOCS[429](DEFAULT_DESCRIPTION[429]),
    DOCS[503](DEFAULT_DESCRIPTION[503]),
  );
}
