import { CanActivate, ExecutionContext, Inject, Injectable, UnauthorizedException } from '@nestjs/common';
import type { Request } from 'express';
import { Webhook, WebhookVerificationError } from 'standardwebhooks';
import { appConfig, AppConfig } from '../../config/app.config';

/**
 * With INBOUND_WEBHOOK_SECRET set, an inbound webhook must carry Standard Webhooks headers whose
 * signature matches the raw request bytes and whose timestamp is within 5 minutes: 401 otherwise.
 * Without the secret, the endpoints are open (local development, trusted networks).
 */
@Injectable()
export class InboundSignatureGuard implements CanActivate {
  private readonly verifier?: Webhook;

  constructor(@Inject(appConfig.KEY) config: AppConfig) {
    if (config.webhooks.inboundSecret) this.verifier = new Webhook(config.webhooks.inboundSecret);
  }

  canActivate(context: ExecutionContext): boolean {
    if (!this.verifier) return true;
    const req = context.switchToHttp().getRequest<Request & { rawBody?: Buffer }>();
    const headers = {
      'webhook-id': req.header('webhook-id') ?? '',
      'webhook-timestamp': req.header('webhook-timestamp') ?? '',
      'webhook-signature': req.header('webhook-signature') ?? '',
    };
    try {
      // The raw bytes, not the parsed JSON: re-serialising would change what was signed.
      this.verifier.verify(req.rawBody ?? Buffer.alloc(0), headers, { jsonParse: false });
      return true;
    } catch (err) {
      if (err instanceof WebhookVerificationError) throw new UnauthorizedException(`Invalid webhook signature: ${reasonOf(err)}`);
      throw err;
    }
  }
}

function reasonOf(err: WebhookVerificationError): string {
  if (/timestamp too old|timestamp too new/i.test(err.message)) return 'the webhook-timestamp is more than 5 minutes away from now';
  if (/missing required headers/i.test(err.message)) return 'webhook-id, webhook-timestamp and webhook-signature are required';
  if (/invalid signature headers/i.test(err.message)) return 'webhook-timestamp must be a Unix time in seconds';
  return 'no signature matches';
}
