import { Body, Controller, Delete, Get, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { ParseIdPipe } from '../common/http/parse-id.pipe';
import { CreateOrderDto, ListOrdersQuery, UpdateOrderStatusDto } from './dto/order.request.dto';
import { OrdersService } from './orders.service';

@ApiTags('orders')
@Controller()
export class OrdersHttpController {
  constructor(private readonly orders: OrdersService) {}

  @Post('orders')
  place(@Body() dto: CreateOrderDto) {
    return this.orders.place(dto);
  }

  @Get('orders')
  list(@Query() query: ListOrdersQuery) {
    return this.orders.list(query);
  }

  @Get('orders/:id')
  get(@Param('id', ParseIdPipe) id: number) {
    return this.orders.get(id);
  }

  @Patch('orders/:id')
  changeStatus(@Param('id', ParseIdPipe) id: number, @Body() dto: UpdateOrderStatusDto) {
    return this.orders.changeStatus(id, dto.status);
  }

  @Delete('orders/:id')
  cancel(@Param('id', ParseIdPipe) id: number) {
    return this.orders.cancel(id);
  }

  @Get('users/:id/orders')
  listForUser(@Param('id', ParseIdPipe) id: number, @Query() query: ListOrdersQuery) {
    return this.orders.listForUser(id, query);
  }
}
