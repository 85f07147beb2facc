import { Module, type DynamicModule } from '@nestjs/common';
import { Clock, SystemClock } from '@idm/config';
import type { OperationsClient } from '@idm/operations';
import { AccessGuard } from './access/access.guard.js';
import { SessionController } from './access/session.controller.js';
import { ApiController } from './api/api.controller.js';
import type { ConsoleConfig } from './console.config.js';
import { ACTIONS, CONSOLE_CONFIG, DEV_INBOX, OPERATIONS } from './console.tokens.js';
import { DevInbox } from './mail/dev-inbox.js';
import { MailController } from './mail/mail.controller.js';
import { ReplayWatcher } from './replay/replay-watcher.js';
import { HealthController } from './health/health.controller.js';

/** The console: pages (static files, served by main), the JSON API, login and probes. */
@Module({})
export class ConsoleModule {
  static forRoot(options: { config: ConsoleConfig; ops: OperationsClient; actions?: OperationsClient; clock?: Clock }): DynamicModule {
    return {
      module: ConsoleModule,
      controllers: [SessionController, ApiController, MailController, HealthController],
      providers: [
        AccessGuard,
        ReplayWatcher,
        { provide: CONSOLE_CONFIG, useValue: options.config },
        { provide: OPERATIONS, useValue: options.ops },
        { provide: ACTIONS, useValue: options.actions ?? options.ops },
        { provide: DEV_INBOX, useValue: options.config.mailDir ? new DevInbox(options.config.mailDir) : null },
        { provide: Clock, useValue: options.clock ?? new SystemClock() },
      ],
    };
  }
}
