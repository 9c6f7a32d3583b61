import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Put, Query } from '@nestjs/common';
import { ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiErrors } from '../common/http/api-errors.decorator';
import { PageQuery } from '../common/http/page';
import { ParseIdPipe } from '../common/http/parse-id.pipe';
import { CreateUserDto, PatchUserDto, ReplaceUserDto } from './dto/user.request.dto';
import { UserPage, UserResponse } from './dto/user.response.dto';
import { UsersService } from './users.service';

@ApiTags('users')
@Controller('users')
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
  @ApiOperation({ summary: 'Read a user' })
  @ApiOkResponse({ type: UserResponse })
  @ApiErrors(400, 404)
  get(@Param('id', ParseIdPipe) id: number) {
    return this.users.get(id);
  }

  @Put(':id')
  @ApiOperation({ summary: 'Replace name and email (a missing email clears it); publishes user_updated' })
  @ApiOkResponse({ type: UserResponse })
  @ApiErrors(400, 404, 409, 413)
  replace(@Param('id', ParseIdPipe) id: number, @Body() dto: ReplaceUserDto) {
    return this.users.replace(id, dto);
  }

  @Patch(':id')
  @ApiOperation({ summary: 'Change the fields given; publishes user_updated' })
  @ApiOkResponse({ type: UserResponse })
  @ApiErrors(400, 404, 409, 413)
  patch(@Param('id', ParseIdPipe) id: number, @Body() dto: PatchUserDto) {
    return this.users.patch(id, dto);
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a user; publishes user_deleted with its last state' })
  @ApiNoContentResponse({ description: 'Deleted' })
  @ApiErrors(400, 404)
  async remove(@Param('id', ParseIdPipe) id: number): Promise<void> {
    await this.users.remove(id);
  }
}
