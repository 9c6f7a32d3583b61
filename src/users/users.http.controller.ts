import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Put, Query } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { PageQuery } from '../common/http/page';
import { ParseIdPipe } from '../common/http/parse-id.pipe';
import { CreateUserDto, PatchUserDto, ReplaceUserDto } from './dto/user.request.dto';
import { UsersService } from './users.service';

@ApiTags('users')
@Controller('users')
export class UsersHttpController {
  constructor(private readonly users: UsersService) {}

  @Post()
  create(@Body() dto: CreateUserDto) {
    return this.users.create(dto);
  }

  @Get()
  list(@Query() page: PageQuery) {
    return this.users.list(page.limit, page.after);
  }

  @Get(':id')
  get(@Param('id', ParseIdPipe) id: number) {
    return this.users.get(id);
  }

  @Put(':id')
  replace(@Param('id', ParseIdPipe) id: number, @Body() dto: ReplaceUserDto) {
    return this.users.replace(id, dto);
  }

  @Patch(':id')
  patch(@Param('id', ParseIdPipe) id: number, @Body() dto: PatchUserDto) {
    return this.users.patch(id, dto);
  }

  @Delete(':id')
  @HttpCode(204)
  async remove(@Param('id', ParseIdPipe) id: number): Promise<void> {
    await this.users.remove(id);
  }
}
