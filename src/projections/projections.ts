import { analyticsProjection } from '../analytics/analytics.projection';
import { ordersProjection } from '../orders/orders.projection';
import { usersProjection } from '../users/users.projection';
import type { Projection } from './projection';

/** Every read model the event log can rebuild. Add a projection here to make it rebuildable. */
export const PROJECTIONS: readonly Projection[] = [usersProjection, ordersProjection, analyticsProjection];
