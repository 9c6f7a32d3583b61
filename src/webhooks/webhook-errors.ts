import { DomainError } from '../common/errors';

/**
 * 400 naming `url`: a webhook URL that may not be called (not http(s), credentials in it, or a host
 * that resolves to a loopback, private, link-local or metadata address). The HTTP filter answers
 * 400 for any DomainError it has no other code for.
 */
export class InvalidWebhookTargetError extends DomainError {
  constructor(message: string) {
    super(message, 'url');
  }
}
