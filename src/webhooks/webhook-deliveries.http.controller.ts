import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiAcceptedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AdminOnly } from '../common/auth/admin-token.guard';
import { ApiErrors } from '../common/http/api-errors.decorator';
import { ParseIdPipe } from '../common/http/parse-id.pipe';
import { DeliveriesService } from './deliveries/deliveries.service';
import { ListDeliveriesQuery, RecoverDto } from './dto/delivery.request.dto';
import { DeliveryDetailResponse, DeliveryPage, DeliverySummaryResponse, RecoverResponse } from './dto/webhook.response.dto';

/** A subscription's delivery log, and re-sending from it (admin only). */
@ApiTags('webhooks')
@AdminOnly()
@Controller('webhooks/:id')
export class WebhookDeliveriesHttpController {
  constructor(private readonly deliveries: DeliveriesService) {}

  @Get('deliveries')
  @ApiOperation({ summary: 'Deliveries of a subscription, newest first, optionally by status' })
  @ApiOkResponse({ type: DeliveryPage })
  @ApiErrors(400, 404)
  list(@Param('id', ParseIdPipe) id: number, @Query() query: ListDeliveriesQuery) {
    return this.deliveries.list(id, query);
  }

  @Get('deliveries/:deliveryId')
  @ApiOperation({ summary: 'A delivery with its payload and every attempt' })
  @ApiOkResponse({ type: DeliveryDetailResponse })
  @ApiErrors(400, 404)
  get(@Param('id', ParseIdPipe) id: number, @Param('deliveryId', ParseIdPipe) deliveryId: number) {
    return this.deliveries.get(id, deliveryId);
  }

  @Post('deliveries/:deliveryId/retry')
  @HttpCode(202)
  @ApiOperation({ summary: 'Send a delivery again now, with a fresh retry schedule (same webhook-id)' })
  @ApiAcceptedResponse({ type: DeliverySummaryResponse })
  @ApiErrors(400, 404, [409, 'Subscription disabled, delivery in flight, or payload purged'])
  retry(@Param('id', ParseIdPipe) id: number, @Param('deliveryId', ParseIdPipe) deliveryId: number) {
    return this.deliveries.retry(id, deliveryId);
  }

  @Post('recover')
  @HttpCode(202)
  @ApiOperation({ summary: 'Re-queue every failed delivery created since a time' })
  @ApiAcceptedResponse({ type: RecoverResponse })
  @ApiErrors(400, 404, [409, 'The subscription is disabled'])
  recover(@Param('id', ParseIdPipe) id: number, @Body() dto: RecoverDto) {
    return this.deliveries.recover(id, new Date(dto.since));
  }
}
