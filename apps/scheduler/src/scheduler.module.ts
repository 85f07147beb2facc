import { Module, type DynamicModule } from '@nestjs/common';
import { MessagingModule, type MessagingConfig } from '@idm/messaging';
import { Clock, SystemClock } from './clock/clock.js';
import { SchedulerCommandsHandler } from './commands/scheduler-commands.handler.js';
import type { Schedule } from './schedules/schedule.js';
import { JetStreamTickLog } from './ticks/jetstream-tick-log.js';
import { SchedulerService } from './ticks/scheduler.service.js';
import { TickLog } from './ticks/tick-log.port.js';
import { SCHEDULER_OPTIONS, SCHEDULES, type SchedulerOptions } from './ticks/scheduler.tokens.js';

/** What the scheduler app is built from; `main.ts` reads it from the environment, tests pass it. */
export interface SchedulerModuleOptions {
  readonly schedules: readonly Schedule[];
  readonly options: SchedulerOptions;
  /** Explicit messaging settings (tests); default: `NATS_*` / `IDM_STREAM` from the environment. */
  readonly messaging?: MessagingConfig;
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
        { provide: Clock, useClass: SystemClock },
        { provide: TickLog, useClass: JetStreamTickLog },
        SchedulerService,
        SchedulerCommandsHandler,
      ],
    };
  }
}
