import { Inject, Injectable, Module, type DynamicModule, type OnModuleInit } from '@nestjs/common';
import { EventPublisher, MessagingModule, type MessagingConfig } from '@idm/messaging';
import { Clock, SystemClock } from '@idm/config';
import { SchedulerCommandsHandler } from './commands/scheduler-commands.handler.js';
import type { Schedule } from './schedules/schedule.js';
import { JetStreamTickLog } from './ticks/jetstream-tick-log.js';
import { SchedulerService, type SchedulerOptions } from './ticks/scheduler.service.js';
import { TickLog } from './ticks/tick-log.port.js';
import { SCHEDULER_OPTIONS, SCHEDULES } from './scheduler.tokens.js';

/** What the scheduler app is built from; `main.ts` reads it from the environment, tests pass it. */
export interface SchedulerModuleOptions {
  readonly schedules: readonly Schedule[];
  readonly options: SchedulerOptions;
  /** Explicit messaging settings (tests); default: `NATS_*` / `IDM_STREAM` from the environment. */
  readonly messaging?: MessagingConfig;
  /** Told of every appended tick (metrics); registered before the start-up catch-up check runs. */
  readonly onAppended?: AppendedListener;
}

type AppendedListener = Parameters<EventPublisher['onAppended']>[0];
const ON_APPENDED = Symbol('ON_APPENDED');

/**
 * Registers the app's appended-event listener in `onModuleInit`, which Nest runs before any
 * `onApplicationBootstrap`: so the catch-up tick appended at start-up is counted too.
 */
@Injectable()
class AppendedListenerRegistration implements OnModuleInit {
  constructor(
    private readonly publisher: EventPublisher,
    @Inject(ON_APPENDED) private readonly listener: AppendedListener | null,
  ) {}
  onModuleInit(): void {
    if (this.listener) this.publisher.onAppended(this.listener);
  }
}

/** The scheduler app: timers + start-up catch-up + operator commands, over the event stream. */
@Module({})
export class SchedulerModule {
  static forRoot(config: SchedulerModuleOptions): DynamicModule {
    return {
      module: SchedulerModule,
      imports: [MessagingModule.forRoot({ serviceName: 'scheduler', ...(config.messaging ? { config: config.messaging } : {}) })],
      providers: [
        { provide: SCHEDULES, useValue: config.schedules },
        { provide: SCHEDULER_OPTIONS, useValue: config.options },
        { provide: Clock, useValue: new SystemClock() },
        { provide: TickLog, useClass: JetStreamTickLog },
        { provide: ON_APPENDED, useValue: config.onAppended ?? null },
        AppendedListenerRegistration,
        SchedulerService,
        SchedulerCommandsHandler,
      ],
    };
  }
}
