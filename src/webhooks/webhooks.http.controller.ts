import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiAcceptedResponse, ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AdminOnly } from '../common/auth/admin-token.guard';
import { ApiErrors } from '../common/http/api-errors.decorator';
import { PageQuery } from '../common/http/page';
import { ParseIdPipe } from '../common/http/parse-id.pipe';
import { CreateSubscriptionDto, PatchSubscriptionDto, RotateSecretDto } from './dto/subscription.request.dto';
import { SubscriptionPage, SubscriptionResponse, SubscriptionWithSecretResponse, TestQueuedResponse } from './dto/webhook.response.dto';
import { SubscriptionsService } from './subscriptions/subscriptions.service';

/** Webhook subscriptions (admin only). A secret is returned by creation and rotation, never by reads. */
@ApiTags('webhooks')
@AdminOnly()
@Controller('webhooks')
export class WebhooksHttpController {
  constructor(private readonly subscriptions: SubscriptionsService) {}

  @Post()
  @ApiOperation({ summary: 'Subscribe a URL to event types (or ["*"]); answers with the signing secret, shown only here' })
  @ApiCreatedResponse({ type: SubscriptionWithSecretResponse })
  @ApiErrors([400, 'Invalid input, or a URL that is not http(s) or points to a private address'], 413)
  create(@Body() dto: CreateSubscriptionDto) {
    return this.subscriptions.create(dto);
  }

  @Get()
  @ApiOperation({ summary: 'List subscriptions in id order (keyset pagination), without secrets' })
  @ApiOkResponse({ type: SubscriptionPage })
  @ApiErrors(400)
  list(@Query() page: PageQuery) {
    return this.subscriptions.list(page.limit, page.after);
  }

  @Get(':id')
  @ApiOperation({ summary: 'Read a subscription, without its secret' })
  @ApiOkResponse({ type: SubscriptionResponse })
  @ApiErrors(400, 404)
  get(@Param('id', ParseIdPipe) id: number) {
    return this.subscriptions.get(id);
  }

  @Patch(':id')
  @ApiOperation({ summary: 'Change url, events, description or enabled; enabling clears the disabled reason' })
  @ApiOkResponse({ type: SubscriptionResponse })
  @ApiErrors(400, 404, 413)
  update(@Param('id', ParseIdPipe) id: number, @Body() dto: PatchSubscriptionDto) {
    return this.subscriptions.update(id, dto);
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a subscription and its delivery log' })
  @ApiNoContentResponse({ description: 'Deleted' })
  @ApiErrors(400, 404)
  async remove(@Param('id', ParseIdPipe) id: number): Promise<void> {
    await this.subscriptions.remove(id);
  }

  @Post(':id/rotate-secret')
  @HttpCode(200)
  @ApiOperation({ summary: 'Replace the signing secret; the old one keeps signing for WEBHOOK_SECRET_GRACE_HOURS' })
  @ApiOkResponse({ type: SubscriptionWithSecretResponse })
  @ApiErrors(400, 404)
  rotateSecret(@Param('id', ParseIdPipe) id: number, @Body() dto: RotateSecretDto) {
    return this.subscriptions.rotateSecret(id, dto?.secret);
  }

  @Post(':id/test')
  @HttpCode(202)
  @ApiOperation({ summary: 'Send a webhook.test event to this subscription only' })
  @ApiAcceptedResponse({ type: TestQueuedResponse })
  @ApiErrors(400, 404, [409, 'The subscription is disabled'])
  test(@Param('id', ParseIdPipe) id: number) {
    return this.subscriptions.sendTest(id);
  }
}
