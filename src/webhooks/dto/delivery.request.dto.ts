import { IsIn, IsISO8601, IsOptional } from 'class-validator';
import { PageQuery } from '../../common/http/page';
import { DELIVERY_STATUSES, type DeliveryStatus } from '../deliveries/delivery';

/** `GET /webhooks/:id/deliveries?status=&limit=&after=` */
export class ListDeliveriesQuery extends PageQuery {
  @IsOptional() @IsIn(DELIVERY_STATUSES, { message: `status must be one of: ${DELIVERY_STATUSES.join(', ')}` })
  status?: DeliveryStatus;
}

/** `POST /webhooks/:id/recover`: re-queue every failed delivery created at or after `since`. */
export class RecoverDto {
  @IsISO8601({ strict: true }, { message: 'since must be an ISO 8601 date-time, such as 2026-11-25T10:00:00Z' })
  since: string;
}
