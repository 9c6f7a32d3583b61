import { Module } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { LoggerModule } from 'nestjs-pino';
import { appConfig, AppConfig } from '../../config/app.config';
import { currentTrace } from '../tracing/trace-context';

/** Paths never written to logs: credentials, signing secrets and personal data. */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["webhook-signature"]',
  'res.headers["set-cookie"]',
  '*.password',
  '*.secret',
  '*.secrets',
  '*.token',
  '*.email',
  '*.name',
];

/**
 * JSON logs through pino (`nestjs-pino`): one line per request with its id, and the W3C trace id on
 * every line written while serving a request or consuming an event.
 */
@Module({
  imports: [
    LoggerModule.forRootAsync({
      inject: [appConfig.KEY],
      useFactory: (config: AppConfig) => ({
        pinoHttp: {
          level: config.http.logLevel,
          genReqId: (req, res) => {
            const given = req.headers['x-request-id'];
            const id = typeof given === 'string' && /^[\w.-]{1,128}$/.test(given) ? given : randomUUID();
            res.setHeader('x-request-id', id);
            return id;
          },
          mixin: () => {
            const trace = currentTrace();
            return trace ? { trace_id: trace.traceId, span_id: trace.spanId } : {};
          },
          redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
          // Health probes every few seconds would drown the useful lines.
          autoLogging: { ignore: (req) => (req.url ?? '').startsWith('/health') },
          serializers: {
            req: (req: { id: string; method: string; url: string }) => ({ id: req.id, method: req.method, url: req.url }),
            res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
          },
        },
      }),
    }),
  ],
})
export class LoggingModule {}
