import { IsIn, IsOptional } from 'class-validator';
import { IsInstant } from '../../common/http/validators';
import { PageQuery } from '../../common/http/page';
import { DELIVERY_STATUSES, type DeliveryStatus } from '../deliveries/delivery';

/** `GET /webhooks/:id/deliveries?status=&limit=&after=` */
export class ListDeliveriesQuery extends PageQuery {
  @IsOptional() @IsIn(DELIVERY_STATUSES, { message: `status must be one of: ${DELIVERY_STATUSES.join(', ')}` })
  status?: DeliveryStatus;
}

/** `POST /webhooks/:id/recover`: re-queue every failed delivery created at or after `since`. */
export class RecoverDto {
  @IsInstant()
  since: string;
}
