import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Put, Query, UseInterceptors } from '@nestjs/common';
import { ApiCreatedResponse, ApiHeader, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiErrors } from '../common/http/api-errors.decorator';
import { EntityTagInterceptor, IfMatch } from '../common/http/entity-tag';
import { AtQuery, HistoryPage } from '../common/http/history';
import { PageQuery } from '../common/http/page';
import { ParseIdPipe } from '../common/http/parse-id.pipe';
import { CreateUserDto, PatchUserDto, ReplaceUserDto } from './dto/user.request.dto';
import { UserPage, UserResponse } from './dto/user.response.dto';
import { UsersService } from './users.service';

const IF_MATCH_DOC = ApiHeader({ name: 'If-Match', required: false, description: 'The ETag of GET (the version, e.g. "3"); 412 if the user has changed since' });

@ApiTags('users')
@Controller('users')
// Every answer carrying a user has its version as ETag, to send back in If-Match.
@UseInterceptors(EntityTagInterceptor)
export class UsersHttpController {
  constructor(private readonly users: UsersService) {}

  @Post()
  @ApiOperation({ summary: 'Create a user; publishes user_created' })
  @ApiCreatedResponse({ type: UserResponse })
  @ApiErrors(400, 409, 413)
  create(@Body() dto: CreateUserDto) {
    return this.users.create(dto);
  }

  @Get()
  @ApiOperation({ summary: 'List users in id order (keyset pagination)' })
  @ApiOkResponse({ type: UserPage })
  @ApiErrors(400)
  list(@Query() page: PageQuery) {
    return this.users.list(page.limit, page.after);
  }

  @Get(':id')
  @ApiOperation({ summary: 'Read a user; with ?at=, as it was at that instant (time travel)' })
  @ApiOkResponse({ type: UserResponse })
  @ApiErrors(400, [404, 'No such user, or none at that instant (not yet created, or deleted)'])
  get(@Param('id', ParseIdPipe) id: number, @Query() query: AtQuery) {
    return query.at ? this.users.getAt(id, new Date(query.at)) : this.users.get(id);
  }

  @Get(':id/history')
  @ApiOperation({ summary: "The user's events in order, paginated by log position; deleted users too" })
  @ApiOkResponse({ type: HistoryPage })
  @ApiErrors(400, 404)
  history(@Param('id', ParseIdPipe) id: number, @Query() page: PageQuery) {
    return this.users.history(id, page.after, page.limit);
  }

  @Put(':id')
  @ApiOperation({ summary: 'Replace name and email (a missing email clears it); publishes user_updated' })
  @ApiOkResponse({ type: UserResponse })
  @IF_MATCH_DOC
  @ApiErrors(400, 404, 409, 412, 413)
  replace(@Param('id', ParseIdPipe) id: number, @Body() dto: ReplaceUserDto, @IfMatch() ifMatch?: number[]) {
    return this.users.replace(id, dto, ifMatch);
  }

  @Patch(':id')
  @ApiOperation({ summary: 'Change the fields given; publishes user_updated' })
  @ApiOkResponse({ type: UserResponse })
  @IF_MATCH_DOC
  @ApiErrors(400, 404, 409, 412, 413)
  patch(@Param('id', ParseIdPipe) id: number, @Body() dto: PatchUserDto, @IfMatch() ifMatch?: number[]) {
    return this.users.patch(id, dto, ifMatch);
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a user; publishes user_deleted with its last state' })
  @ApiNoContentResponse({ description: 'Deleted' })
  @IF_MATCH_DOC
  @ApiErrors(400, 404, 412)
  async remove(@Param('id', ParseIdPipe) id: number, @IfMatch() ifMatch?: number[]): Promise<void> {
    await this.users.remove(id, ifMatch);
  }
}
