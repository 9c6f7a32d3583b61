import { BadRequestException, Body, Controller, Headers, HttpCode, Post, UseGuards } from '@nestjs/common';
import { ApiHeader, ApiOkResponse, ApiOperation, ApiTags, ApiUnauthorizedResponse } from '@nestjs/swagger';
import { ApiErrors } from '../../common/http/api-errors.decorator';
import { ErrorResponse } from '../../common/http/error.response';
import { InboundOrderDto, InboundUserDto } from '../dto/inbound.request.dto';
import { InboundAckResponse } from '../dto/webhook.response.dto';
import { InboundSignatureGuard } from './inbound-signature.guard';
import { InboundAck, InboundWebhooksService } from './inbound-webhooks.service';

const MAX_WEBHOOK_ID = 255;

/**
 * `POST /webhook/<topic>`: events reported by other systems, published to Kafka like an outside
 * producer's. Answers 200 as soon as the record is in the outbox.
 */
@ApiTags('inbound webhooks')
@ApiHeader({ name: 'webhook-id', required: false, description: 'Standard Webhooks message id; a repeat is acknowledged without a second event' })
@ApiHeader({ name: 'webhook-timestamp', required: false, description: 'Unix seconds; required (within 5 minutes) when INBOUND_WEBHOOK_SECRET is set' })
@ApiHeader({ name: 'webhook-signature', required: false, description: 'v1,<base64 HMAC-SHA256>; required when INBOUND_WEBHOOK_SECRET is set' })
@ApiUnauthorizedResponse({ type: ErrorResponse, description: 'Missing, forged or stale signature (when INBOUND_WEBHOOK_SECRET is set)' })
@UseGuards(InboundSignatureGuard)
@Controller('webhook')
export class InboundWebhooksHttpController {
  constructor(private readonly inbound: InboundWebhooksService) {}

  @Post('user_created')
  @HttpCode(200)
  @ApiOperation({ summary: 'Report a created user ({"id": 11, "name": "King"}); published to user_created' })
  @ApiOkResponse({ type: InboundAckResponse })
  @ApiErrors(400, 413)
  userCreated(@Body() dto: InboundUserDto, @Headers('webhook-id') webhookId?: string): Promise<InboundAck> {
    return this.inbound.accept('user_created', { ...dto }, checkedId(webhookId));
  }

  @Post('order_placed')
  @HttpCode(200)
  @ApiOperation({ summary: 'Report a placed order ({"id": 11, "product": "sofa", "amount": 100000}); published to order_placed' })
  @ApiOkResponse({ type: InboundAckResponse })
  @ApiErrors(400, 413)
  orderPlaced(@Body() dto: InboundOrderDto, @Headers('webhook-id') webhookId?: string): Promise<InboundAck> {
    return this.inbound.accept('order_placed', { ...dto }, checkedId(webhookId));
  }
}

function checkedId(id: string | undefined): string | undefined {
  if (id === undefined || id === '') return undefined;
  if (id.length > MAX_WEBHOOK_ID) {
    throw new BadRequestException({
      message: 'Validation failed',
      errors: [{ field: 'webhook-id', messages: [`webhook-id must be at most ${MAX_WEBHOOK_ID} characters`] }],
    });
  }
  return id;
}
