import { BadRequestException, Controller, Get, HttpCode, Param, PipeTransform, Post } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AdminOnly } from '../common/auth/admin-token.guard';
import { ApiErrors } from '../common/http/api-errors.decorator';
import { ProjectionRebuilder } from './projection-rebuilder.service';
import { ProjectionRegistry } from './projection-registry';

/** A projection name from the URL: it only selects an entry of the registry, never reaches SQL. */
class ProjectionNamePipe implements PipeTransform<string, string> {
  transform(value: string): string {
    if (!/^[a-z][a-z0-9-]{0,62}$/.test(value)) {
      throw new BadRequestException({
        message: 'Validation failed',
        errors: [{ field: 'name', messages: ['name must be a projection name such as users or orders'] }],
      });
    }
    return value;
  }
}

@ApiTags('admin')
@Controller('admin/projections')
@AdminOnly()
export class ProjectionsAdminHttpController {
  constructor(
    private readonly registry: ProjectionRegistry,
    private readonly rebuilder: ProjectionRebuilder,
  ) {}

  @Get()
  @ApiOperation({ summary: 'The read models the event log can rebuild' })
  list() {
    return this.registry.list().map((p) => ({ name: p.name, description: p.description, tables: p.tables.map((t) => t.name), entityTypes: p.entityTypes }));
  }

  @Post(':name/rebuild')
  @HttpCode(200)
  @ApiOperation({ summary: 'Rebuild a read model from the event log into fresh tables and swap them in atomically; reports how the old tables differed' })
  @ApiOkResponse({ description: 'The rebuild report: events folded, rows, and the differences found with the live tables' })
  @ApiErrors(400, 404, [409, 'A rebuild of this projection is already running'])
  rebuild(@Param('name', ProjectionNamePipe) name: string) {
    return this.rebuilder.rebuild(name, { swap: true });
  }

  @Post(':name/check')
  @HttpCode(200)
  @ApiOperation({ summary: 'Rebuild a read model into fresh tables and compare them with the live ones, without swapping' })
  @ApiOkResponse({ description: 'The comparison report; identical is true when nothing differs' })
  @ApiErrors(400, 404, [409, 'A rebuild of this projection is already running'])
  check(@Param('name', ProjectionNamePipe) name: string) {
    return this.rebuilder.rebuild(name, { swap: false });
  }
}
