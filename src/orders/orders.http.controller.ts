import { Body, Controller, Delete, Get, Param, Patch, Post, Query, UseInterceptors } from '@nestjs/common';
import { ApiOkResponse, ApiCreatedResponse, ApiHeader, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiErrors } from '../common/http/api-errors.decorator';
import { EntityTagInterceptor, IfMatch } from '../common/http/entity-tag';
import { AtQuery, HistoryPage } from '../common/http/history';
import { PageQuery } from '../common/http/page';
import { ParseIdPipe } from '../common/http/parse-id.pipe';
import { CreateOrderDto, ListOrdersQuery, UpdateOrderStatusDto } from './dto/order.request.dto';
import { OrderPage, OrderResponse } from './dto/order.response.dto';
import { OrdersService } from './orders.service';

const IF_MATCH_DOC = ApiHeader({ name: 'If-Match', required: false, description: 'The ETag of GET (the version, e.g. "3"); 412 if the order has changed since' });

@ApiTags('orders')
@Controller()
// Every answer carrying an order has its version as ETag (the customer read model does not change it).
@UseInterceptors(EntityTagInterceptor)
export class OrdersHttpController {
  constructor(private readonly orders: OrdersService) {}

  @Post('orders')
  @ApiOperation({ summary: 'Place an order; publishes order_placed' })
  @ApiCreatedResponse({ type: OrderResponse })
  @ApiErrors(400, 413, 422)
  place(@Body() dto: CreateOrderDto) {
    return this.orders.place(dto);
  }

  @Get('orders')
  @ApiOperation({ summary: 'List orders, filtered by user and status' })
  @ApiOkResponse({ type: OrderPage })
  @ApiErrors(400)
  list(@Query() query: ListOrdersQuery) {
    return this.orders.list(query);
  }

  @Get('orders/:id')
  @ApiOperation({ summary: 'Read an order with its customer; with ?at=, as it was at that instant (time travel)' })
  @ApiOkResponse({ type: OrderResponse })
  @ApiErrors(400, [404, 'No such order, or none yet at that instant'])
  get(@Param('id', ParseIdPipe) id: number, @Query() query: AtQuery) {
    return query.at ? this.orders.getAt(id, new Date(query.at)) : this.orders.get(id);
  }

  @Get('orders/:id/history')
  @ApiOperation({ summary: "The order's events in order, paginated by log position" })
  @ApiOkResponse({ type: HistoryPage })
  @ApiErrors(400, 404)
  history(@Param('id', ParseIdPipe) id: number, @Query() page: PageQuery) {
    return this.orders.history(id, page.after, page.limit);
  }

  @Patch('orders/:id')
  @ApiOperation({ summary: 'Change status: placed → paid → shipped, or cancelled before shipped' })
  @ApiOkResponse({ type: OrderResponse })
  @IF_MATCH_DOC
  @ApiErrors(400, 404, [409, 'Illegal status transition'], 412)
  changeStatus(@Param('id', ParseIdPipe) id: number, @Body() dto: UpdateOrderStatusDto, @IfMatch() ifMatch?: number[]) {
    return this.orders.changeStatus(id, dto.status, ifMatch);
  }

  @Delete('orders/:id')
  @ApiOperation({ summary: 'Cancel an order (again: no change); publishes order_cancelled' })
  @ApiOkResponse({ type: OrderResponse })
  @IF_MATCH_DOC
  @ApiErrors(400, 404, [409, 'The order has shipped'], 412)
  cancel(@Param('id', ParseIdPipe) id: number, @IfMatch() ifMatch?: number[]) {
    return this.orders.cancel(id, ifMatch);
  }

  @Get('users/:id/orders')
  @ApiOperation({ summary: "A user's orders" })
  @ApiOkResponse({ type: OrderPage })
  @ApiErrors(400, 404)
  listForUser(@Param('id', ParseIdPipe) id: number, @Query() query: ListOrdersQuery) {
    return this.orders.listForUser(id, query);
  }
}
