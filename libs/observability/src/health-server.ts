import 'reflect-metadata';
import { Controller, Get, Header, Inject, Module, type INestApplication, type LoggerService } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { HealthCheck, HealthCheckService, HealthIndicatorService, TerminusModule, type HealthIndicatorResult } from '@nestjs/terminus';
import type { Registry } from 'prom-client';

/** One readiness condition: resolves when fine, throws (with a reason) when not. */
export interface ReadinessCheck {
  /** Key in the `/health/ready` answer, e.g. `nats`, `consumers`, `database`. */
  readonly name: string;
  readonly check: () => Promise<void> | void;
}

/** Options of {@link startHealthServer}. */
export interface HealthServerOptions {
  /** TCP port (`HEALTH_PORT`); 0 picks a free one. */
  readonly port: number;
  /** Default `0.0.0.0`: probes come from the kubelet, not from loopback. */
  readonly host?: string;
  readonly checks: readonly ReadinessCheck[];
  readonly registry: Registry;
  /** Nest's logger for this small app (the app's pino adapter); default Nest's own. */
  readonly logger?: LoggerService;
  /** Per-check time limit, ms. Default 2000. */
  readonly checkTimeoutMs?: number;
}

/** A running health/metrics server. */
export interface HealthServer {
  readonly port: number;
  close(): Promise<void>;
}

const OPTIONS = Symbol('HEALTH_SERVER_OPTIONS');

@Controller()
class HealthController {
  constructor(
    @Inject(HealthCheckService) private readonly health: HealthCheckService,
    @Inject(HealthIndicatorService) private readonly indicators: HealthIndicatorService,
    @Inject(OPTIONS) private readonly options: HealthServerOptions,
  ) {}

  /** Liveness: the event loop answers. Dependencies are readiness matters, never a restart reason. */
  @Get('health/live')
  @HealthCheck()
  live() {
    return this.health.check([() => this.indicators.check('process').up()]);
  }

  /** Readiness: every check passes within its time limit; 503 with the failing checks otherwise. */
  @Get('health/ready')
  @HealthCheck()
  ready() {
    const timeout = this.options.checkTimeoutMs ?? 2_000;
    return this.health.check(
      this.options.checks.map(
        (c) => (): PromiseLike<HealthIndicatorResult> =>
          this.indicators
            .check(c.name)
            .attempt(async () => {
              await c.check();
            })
            .withTimeout(timeout),
      ),
    );
  }

  @Get('metrics')
  @Header('Content-Type', 'text/plain; version=0.0.4; charset=utf-8')
  metrics(): Promise<string> {
    return this.options.registry.metrics();
  }
}

/**
 * Starts a small HTTP server (Nest + Terminus on Express) beside an app's microservice, in the
 * same process: `GET /health/live`, `GET /health/ready` (200, or 503 naming the failing checks)
 * and `GET /metrics` (Prometheus text format). Close it when the app shuts down, before the
 * microservice drains, so the pod leaves the load balancer's list first.
 */
export async function startHealthServer(options: HealthServerOptions): Promise<HealthServer> {
  @Module({
    imports: [TerminusModule.forRoot({ logger: false, gracefulShutdownTimeoutMs: 0 })],
    controllers: [HealthController],
    providers: [{ provide: OPTIONS, useValue: options }],
  })
  class HealthServerModule {}

  const app: INestApplication = await NestFactory.create(HealthServerModule, {
    logger: options.logger ?? ['error', 'warn'],
    abortOnError: false,
  });
  await app.listen(options.port, options.host ?? '0.0.0.0');
  const address = app.getHttpServer().address() as { port: number } | string | null;
  const port = typeof address === 'object' && address ? address.port : options.port;
  return { port, close: () => app.close() };
}
