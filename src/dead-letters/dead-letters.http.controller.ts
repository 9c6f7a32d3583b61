import { Controller, Delete, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AdminOnly } from '../common/auth/admin-token.guard';
import { ApiErrors } from '../common/http/api-errors.decorator';
import { ParseIdPipe } from '../common/http/parse-id.pipe';
import { DeadLetterPage, DeadLetterResponse, ListDeadLettersQuery } from './dto/dead-letter.dto';
import { DeadLettersService } from './dead-letters.service';

@ApiTags('dead letters (admin)')
@AdminOnly()
@Controller('dead-letters')
export class DeadLettersHttpController {
  constructor(private readonly deadLetters: DeadLettersService) {}

  @Get()
  @ApiOperation({ summary: 'Messages set aside by consumers, filterable by original topic' })
  @ApiOkResponse({ type: DeadLetterPage })
  @ApiErrors(400)
  list(@Query() query: ListDeadLettersQuery) {
    return this.deadLetters.list(query.limit, query.after, query.topic);
  }

  @Get(':id')
  @ApiOperation({ summary: 'One dead letter with its original value, headers and reason' })
  @ApiOkResponse({ type: DeadLetterResponse })
  @ApiErrors(400, 404)
  get(@Param('id', ParseIdPipe) id: number) {
    return this.deadLetters.get(id);
  }

  @Post(':id/replay')
  @HttpCode(200)
  @ApiOperation({ summary: 'Send the original record back to its original topic, once' })
  @ApiOkResponse({ type: DeadLetterResponse })
  @ApiErrors(400, 404, [409, 'Already replayed'])
  replay(@Param('id', ParseIdPipe) id: number) {
    return this.deadLetters.replay(id);
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Discard a dead letter' })
  @ApiNoContentResponse({ description: 'Discarded' })
  @ApiErrors(400, 404)
  async remove(@Param('id', ParseIdPipe) id: number): Promise<void> {
    await this.deadLetters.remove(id);
  }
}
