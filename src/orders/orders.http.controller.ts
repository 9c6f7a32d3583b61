import { Body, Controller, Delete, Get, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiOkResponse, ApiCreatedResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiErrors } from '../common/http/api-errors.decorator';
import { ParseIdPipe } from '../common/http/parse-id.pipe';
import { CreateOrderDto, ListOrdersQuery, UpdateOrderStatusDto } from './dto/order.request.dto';
import { OrderPage, OrderResponse } from './dto/order.response.dto';
import { OrdersService } from './orders.service';

@ApiTags('orders')
@Controller()
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
  @ApiOperation({ summary: 'Read an order with its customer' })
  @ApiOkResponse({ type: OrderResponse })
  @ApiErrors(400, 404)
  get(@Param('id', ParseIdPipe) id: number) {
    return this.orders.get(id);
  }

  @Patch('orders/:id')
  @ApiOperation({ summary: 'Change status: placed → paid → shipped, or cancelled before shipped' })
  @ApiOkResponse({ type: OrderResponse })
  @ApiErrors(400, 404, [409, 'Illegal status transition'])
  changeStatus(@Param('id', ParseIdPipe) id: number, @Body() dto: UpdateOrderStatusDto) {
    return this.orders.changeStatus(id, dto.status);
  }

  @Delete('orders/:id')
  @ApiOperation({ summary: 'Cancel an order (again: no change); publishes order_cancelled' })
  @ApiOkResponse({ type: OrderResponse })
  @ApiErrors(400, 404, [409, 'The order has shipped'])
  cancel(@Param('id', ParseIdPipe) id: number) {
    return this.orders.cancel(id);
  }

  @Get('users/:id/orders')
  @ApiOperation({ summary: "A user's orders" })
  @ApiOkResponse({ type: OrderPage })
  @ApiErrors(400, 404)
  listForUser(@Param('id', ParseIdPipe) id: number, @Query() query: ListOrdersQuery) {
    return this.orders.listForUser(id, query);
  }
}
