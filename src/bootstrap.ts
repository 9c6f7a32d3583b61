import { INestApplication, Logger, ValidationPipe } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { MicroserviceOptions } from '@nestjs/microservices';
import type { Consumer } from 'kafkajs';
import { NestExpressApplication } from '@nestjs/platform-express';
import { Logger as PinoLogger } from 'nestjs-pino';
import { AppModule } from './app.module';
import { appConfig, AppConfig } from './config/app.config';
import helmet from 'helmet';
import { HttpExceptionFilter } from './common/http/http-exception.filter';
import { setupOpenApi } from './common/http/openapi';
import { validationException } from './common/http/field-errors';
import { traceMiddleware } from './common/tracing/trace.middleware';
import { HttpMetrics } from './observability/http-metrics';
import { kafkaTransportOptions } from './messaging/kafka/kafka-options';
import { ConsumerMembership } from './messaging/kafka/consumer-membership';
import { KafkaService } from './messaging/kafka/kafka.service';
import { requiredTopics } from './messaging/topics';

/**
 * The hybrid app, wired in one place: HTTP with its pipes and filters, plus the Kafka transport
 * that runs every `@EventPattern` handler. Used by `main.ts` and by the e2e tests.
 */
export async function createApp(): Promise<NestExpressApplication> {
  const app = await NestFactory.create<NestExpressApplication>(AppModule, { bodyParser: false, bufferLogs: true });
  const config = app.get<AppConfig>(appConfig.KEY);
  app.useLogger(app.get(PinoLogger));

  app.use(traceMiddleware);
  app.use(app.get(HttpMetrics).middleware);

  app.use(helmet());
  if (config.http.corsOrigins.length > 0) app.enableCors({ origin: config.http.corsOrigins });
  app.useBodyParser('json', { limit: config.http.bodyLimitBytes });
  app.useGlobalPipes(
    new ValidationPipe({
      whitelist: true,
      forbidNonWhitelisted: true,
      transform: true,
      exceptionFactory: validationException,
    }),
  );
  app.useGlobalFilters(new HttpExceptionFilter());
  app.enableShutdownHooks();
  setupOpenApi(app);

  app.connectMicroservice<MicroserviceOptions>(kafkaTransportOptions(config.kafka), { inheritAppConfig: true });
  return app;
}

/** Initialises modules (migrations when asked), creates topics, starts the consumers, then HTTP. */
export async function startApp(app: INestApplication, port?: number): Promise<void> {
  const config = app.get<AppConfig>(appConfig.KEY);
  await app.init();
  const created = await app.get(KafkaService).ensureTopics(requiredTopics());
  if (created.length > 0) new Logger('Kafka').log(`created topics: ${created.join(', ')}`);
  await app.startAllMicroservices();
  const [, consumer] = app.getMicroservices()[0].unwrap<[unknown, Consumer, unknown]>();
  app.get(ConsumerMembership).watch(consumer);
  await app.listen(port ?? config.http.port);
}
