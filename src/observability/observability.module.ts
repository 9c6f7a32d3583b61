import { Global, Module } from '@nestjs/common';
import { PrometheusModule } from '@willsoto/nestjs-prometheus';
import { HttpMetrics } from './http-metrics';
import { MetricsController } from './metrics.controller';
import { metricProviders, Metrics } from './metrics';

/** Prometheus metrics at `/metrics` (`@willsoto/nestjs-prometheus`), with Node process metrics. */
@Global()
@Module({
  imports: [PrometheusModule.register({ path: '/metrics', controller: MetricsController, defaultMetrics: { enabled: true } })],
  providers: [...metricProviders, Metrics, HttpMetrics],
  exports: [Metrics, HttpMetrics],
})
export class ObservabilityModule {}
