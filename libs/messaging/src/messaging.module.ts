import { Inject, Injectable, Module, type DynamicModule, type OnApplicationShutdown } from '@nestjs/common';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { EventPublisher } from './event-publisher.js';
import { EventReader } from './event-reader.js';
import { JetStreamAppender } from './jetstream-appender.js';
import { messagingConfigFromEnv, type MessagingConfig } from './messaging-config.js';
import { connectNats } from './nats-connection.js';
import { ensureDeadLetterStream, ensureEventStream } from './stream-provisioning.js';

/** DI token of the service's `NatsConnection` (for core-NATS request/reply and health checks). */
export const NATS_CONNECTION = Symbol('NATS_CONNECTION');
/** DI token of the `JetStreamClient`. */
export const JETSTREAM_CLIENT = Symbol('JETSTREAM_CLIENT');
/** DI token of the resolved {@link MessagingConfig}. */
export const MESSAGING_CONFIG = Symbol('MESSAGING_CONFIG');

/** Options of {@link MessagingModule.forRoot}. */
export interface MessagingModuleOptions {
  /** Short service name, used in the connection name (`idm-<name>`). */
  readonly serviceName: string;
  /** Explicit settings (tests); default: read from the environment. */
  readonly config?: MessagingConfig;
}

@Injectable()
class ConnectionCloser implements OnApplicationShutdown {
  constructor(@Inject(NATS_CONNECTION) private readonly nc: NatsConnection) {}
  /** Drains after the transports have stopped: pending publishes and acks are flushed first. */
  async onApplicationShutdown(): Promise<void> {
    if (!this.nc.isClosed()) await this.nc.drain();
  }
}

/**
 * Global module giving a service its publishing side: one NATS connection, the event stream
 * provisioned (idempotently), an {@link EventPublisher} and an {@link EventReader}. The
 * connection is drained on shutdown. Consuming is the {@link JetStreamTransport}'s job.
 */
@Module({})
export class MessagingModule {
  static forRoot(options: MessagingModuleOptions): DynamicModule {
    return {
      module: MessagingModule,
      global: true,
      providers: [
        { provide: MESSAGING_CONFIG, useFactory: () => options.config ?? messagingConfigFromEnv(options.serviceName) },
        {
          provide: NATS_CONNECTION,
          useFactory: async (config: MessagingConfig) => {
            const nc = await connectNats({ ...config.connection, name: `${config.connection.name}-publisher` });
            try {
              const jsm = await jetstreamManager(nc);
              await ensureEventStream(jsm, config.stream);
              await ensureDeadLetterStream(jsm, config.stream);
              return nc;
            } catch (err) {
              // A connection left open here would keep the process alive after a failed start.
              await nc.close();
              throw err;
            }
          },
          inject: [MESSAGING_CONFIG],
        },
        { provide: JETSTREAM_CLIENT, useFactory: (nc: NatsConnection) => jetstream(nc), inject: [NATS_CONNECTION] },
        {
          provide: EventPublisher,
          useFactory: (nc: NatsConnection, config: MessagingConfig) =>
            new EventPublisher(new JetStreamAppender(nc, { inboxPrefix: config.connection.inboxPrefix })),
          inject: [NATS_CONNECTION, MESSAGING_CONFIG],
        },
        {
          provide: EventReader,
          useFactory: async (nc: NatsConnection, config: MessagingConfig) =>
            new EventReader(await jetstreamManager(nc), config.stream.name),
          inject: [NATS_CONNECTION, MESSAGING_CONFIG],
        },
        ConnectionCloser,
      ],
      exports: [MESSAGING_CONFIG, NATS_CONNECTION, JETSTREAM_CLIENT, EventPublisher, EventReader],
    };
  }
}
