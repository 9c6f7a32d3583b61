import { BadRequestException, Controller, Get, Header, Param, PipeTransform } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiErrors } from '../common/http/api-errors.decorator';
import { EntityNotFoundError } from '../common/errors';
import { currentSchemaVersion, deadLetterTopicOf, EVENT_CATALOGUE, EVENT_TYPES, isEventType, schemaOf, schemaUrn, schemaVersions, topicOf } from '../events';

class SchemaVersionPipe implements PipeTransform<string, number> {
  transform(value: string): number {
    if (!/^[1-9]\d{0,5}$/.test(value)) {
      throw new BadRequestException({ message: 'Validation failed', errors: [{ field: 'version', messages: ['version must be a positive integer'] }] });
    }
    return Number(value);
  }
}

/** The event catalogue over HTTP, as a schema registry would serve it: the JSON Schema files as they are. */
@ApiTags('schemas')
@Controller('schemas')
export class SchemasHttpController {
  @Get()
  @ApiOperation({ summary: 'Every event type: its topic, current schema version and all versions' })
  @ApiOkResponse({ description: 'One entry per event type' })
  list() {
    return EVENT_TYPES.map((type) => ({
      type,
      entity: EVENT_CATALOGUE[type].entity,
      description: EVENT_CATALOGUE[type].description,
      topic: topicOf(type),
      deadLetterTopic: deadLetterTopicOf(topicOf(type)),
      currentVersion: currentSchemaVersion(type),
      versions: schemaVersions(type).map((version) => ({ version, id: schemaUrn(type, version), href: `/schemas/${type}/${version}` })),
    }));
  }

  @Get(':type/:version')
  @Header('content-type', 'application/schema+json')
  @ApiOperation({ summary: 'One version of an event type’s JSON Schema, exactly as in src/events/schemas/<type>/v<version>.json' })
  @ApiOkResponse({ description: 'A JSON Schema (draft-07) document' })
  @ApiErrors(400, 404)
  get(@Param('type') type: string, @Param('version', SchemaVersionPipe) version: number) {
    const schema = isEventType(type) ? schemaOf(type, version) : undefined;
    if (!schema) throw new EntityNotFoundError('schema', `${type} v${version}`, `no schema ${type} version ${version}`);
    return schema;
  }
}
