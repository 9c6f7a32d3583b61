import { INestApplication, Logger, Type, ValidationPipe } from '@nestjs/common';
import { ModulesContainer, NestFactory } from '@nestjs/core';
import { MicroserviceOptions } from '@nestjs/microservices';
import type { Consumer } from 'kafkajs';
import type { BatchingKafkaServer } from './messaging/kafka/batching-kafka-server';
import { consumerGroupTopicsOf } from './messaging/kafka/consumer-groups';
import { NestExpressApplication } from '@nestjs/platform-express';
import { Logger as PinoLogger } from 'nestjs-pino';
import { AppModule } from './app.module';
import { appConfig, AppConfig } from './config/app.config';
import helmet from 'helmet';
import type { NextFunction, Request, Response } from 'express';
import { admissionControl, isOperationalRoute } from './common/http/admission';
import { HttpExceptionFilter } from './common/http/http-exception.filter';
import { setupOpenApi } from './common/http/openapi';
import { validationException } from './common/http/field-errors';
import { traceMiddleware } from './common/tracing/trace.middleware';
import { requestShareMiddleware } from './persistence/request-share';
import { HttpMetrics } from './observability/http-metrics';
import { kafkaTransport } from './messaging/kafka/kafka-options';
import { ConsumerMembership } from './messaging/kafka/consumer-membership';
import { KafkaService } from './messaging/kafka/kafka.service';
import { requiredTopics } from './messaging/topics';

/**
 * The hybrid app, wired in one place: HTTP with its pipes and filters, plus the Kafka transports
 * that run every `@EventPattern` handler, one per consumer group. Used by `main.ts` and by the e2e tests; tests may add
 * modules of their own beside AppModule (the fault tests add a handler that always throws).
 */
export async function createApp(extraModules: Type[] = []): Promise<NestExpressApplication> {
  const root = extraModules.length > 0 ? { module: AppModule, imports: extraModules } : AppModule;
  const app = await NestFactory.create<NestExpressApplication>(root, {
    bodyParser: false,
    bufferLogs: true,
    // Inbound webhook signatures cover the exact bytes received (req.rawBody), not re-serialised JSON.
    rawBody: true,
  });
  const config = app.get<AppConfig>(appConfig.KEY);
  app.useLogger(app.get(PinoLogger));

  if (!config.role.servesApi) app.use(onlyOperationalRoutes(config.role.name));
  app.use(traceMiddleware);
  app.use(requestShareMiddleware);
  app.use(app.get(HttpMetrics).middleware);
  app.use(admissionControl(config.http.maxInFlight));

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
  setupOpenApi(app);

  if (config.role.consumes) {
    // One transport, and so one kafkajs consumer, per consumer group the handlers name (see consumer-groups.ts)
    // and KAFKA_CONSUMER_GROUPS leaves to this instance.
    const chosen = config.kafka.consumerGroups;
    const groups = [...consumerGroupTopicsOf(app.get(ModulesContainer)).keys()].filter((group) => !chosen || chosen.includes(group));
    const servers = groups.map((group) => {
      const transport = kafkaTransport(config.kafka, group, config.consumers.batchSize);
      app.connectMicroservice<MicroserviceOptions>(transport, { inheritAppConfig: true });
      return transport.strategy;
    });
    serversOf.set(app, servers);
  }
  return app;
}

/** Each app's consumer servers, in the order of app.getMicroservices(). */
const serversOf = new WeakMap<INestApplication, BatchingKafkaServer[]>();

/** Initialises modules (migrations when asked), creates topics, starts the consumers, then HTTP. */
export async function startApp(app: INestApplication, port?: number): Promise<void> {
  const config = app.get<AppConfig>(appConfig.KEY);
  await app.init();
  const created = await app.get(KafkaService).ensureTopics(requiredTopics(config.kafka.retention));
  if (created.length > 0) new Logger('Kafka').log(`created topics: ${created.join(', ')}`);
  if (config.role.consumes) {
    const servers = serversOf.get(app) ?? [];
    // Groups new to this version go on from the one shared group earlier versions consumed in. Not
    // fatal: another instance may be running the group already (Kafka then refuses to move it).
    const logger = new Logger('Kafka');
    await Promise.all(
      servers.map(async (server) => {
        try {
          const taken = await app.get(KafkaService).takeOverOffsets(config.kafka.groupId, server.group, server.topics);
          if (taken.length > 0) logger.warn(`${server.group} starts where ${config.kafka.groupId} got to on ${taken.join(', ')}`);
        } catch (err) {
          logger.warn(`${server.group} could not take over the offsets of ${config.kafka.groupId}: ${(err as Error).message}`);
        }
      }),
    );
    await app.startAllMicroservices();
    const membership = app.get(ConsumerMembership);
    for (const server of servers) {
      const [, consumer] = server.unwrap<[unknown, Consumer, unknown]>();
      membership.watch(server.groupName, consumer);
    }
  }
  await app.listen(port ?? config.http.port);
}

/**
 * SIGTERM/SIGINT: readiness turns false, HTTP stops taking requests and finishes those in flight,
 * consumers finish their current message and commit, the relay stops between batches, the producer
 * and the database pool close — then exit 0. Past the deadline, or on a second signal, exit 1 at once.
 */
export function exitGracefullyOnSignals(app: INestApplication): void {
  const { timeoutMs } = app.get<AppConfig>(appConfig.KEY).shutdown;
  const logger = new Logger('Shutdown');
  let closing = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (closing) {
      logger.warn(`${signal} again: exiting now`);
      process.exit(1);
    }
    closing = true;
    logger.log(`${signal}: shutting down (deadline ${timeoutMs} ms)`);
    const deadline = setTimeout(() => {
      logger.error(`shutdown did not finish within ${timeoutMs} ms: exiting`);
      process.exit(1);
    }, timeoutMs);
    deadline.unref();
    app.close().then(
      () => {
        logger.log('shut down cleanly');
        process.exit(0);
      },
      (err: unknown) => {
        logger.error(`shutdown failed: ${(err as Error).message}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}

/** A worker's HTTP port is for probes and scrapes: everything but /health and /metrics is a 404. */
function onlyOperationalRoutes(role: string) {
  return (req: Request, res: Response, next: NextFunction): void => {
    if (isOperationalRoute(req.url)) return next();
    res.status(404).json({ statusCode: 404, error: 'Not Found', message: `this process runs APP_ROLE=${role}: it serves /health and /metrics only` });
  };
}
