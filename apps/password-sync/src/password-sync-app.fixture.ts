import type { INestMicroservice } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { JetStreamTransport, type MessagingConfig } from '@idm/messaging';
import { PasswordSyncModule, type PasswordSyncModuleOptions } from './password-sync.module.js';
import { PASSWORD_SYNC_CONSUMER } from './password-sync.tokens.js';

/**
 * password-sync running in the spec's process, consuming its durable consumer and answering its
 * command subjects as `main.ts` wires it, with Nest's own logs off. The caller closes it.
 */
export async function startPasswordSyncInProcess(
  options: PasswordSyncModuleOptions & { messaging: MessagingConfig },
): Promise<INestMicroservice> {
  const { messaging } = options;
  const app = await NestFactory.createMicroservice(PasswordSyncModule.forRoot(options), {
    strategy: new JetStreamTransport({
      connection: messaging.connection,
      stream: messaging.stream,
      consumer: PASSWORD_SYNC_CONSUMER,
      ackWaitMs: messaging.ackWaitMs,
    }),
    logger: false,
  });
  await app.listen();
  return app;
}
