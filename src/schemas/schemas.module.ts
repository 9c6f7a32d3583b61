import { Module } from '@nestjs/common';
import { SchemasHttpController } from './schemas.http.controller';

const httpControllers = [SchemasHttpController];

/** `GET /schemas` and `GET /schemas/:type/:version`: the event catalogue's JSON Schemas over HTTP. */
@Module({ controllers: [...httpControllers] })
export class SchemasModule {}
