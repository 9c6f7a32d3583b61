import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AdminOnly } from '../common/auth/admin-token.guard';
import { EVENT_CATALOGUE, EVENT_TYPES, exampleOf, schemaOf } from '../events';
import { TEST_EVENT_TYPE } from './deliveries/delivery';
import { EventTypeList } from './dto/webhook.response.dto';

const TEST_EVENT = {
  type: TEST_EVENT_TYPE,
  description: 'Sent by POST /webhooks/:id/test to that subscription only; never needs subscribing to.',
  example: { subscriptionId: 7, message: 'A test event from Nestream: if you can read this, your endpoint receives webhooks.' },
  schema: null,
};

/** What a subscription can ask for: each event type with its meaning, an example `data` and its JSON Schema. */
@ApiTags('webhooks')
@AdminOnly()
@Controller('event-types')
export class EventTypesHttpController {
  @Get()
  @ApiOperation({ summary: 'Event types a webhook can subscribe to, with descriptions and example payloads' })
  @ApiOkResponse({ type: EventTypeList })
  list(): EventTypeList {
    const items = EVENT_TYPES.map((type) => ({
      type,
      description: EVENT_CATALOGUE[type].description,
      example: exampleOf(type),
      schema: schemaOf(type) ?? null,
    }));
    return { items: [...items, TEST_EVENT] };
  }
}
