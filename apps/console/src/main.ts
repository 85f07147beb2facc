import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { redactUrls } from '@idm/config';
import { connectNats, messagingConfigFromEnv } from '@idm/messaging';
import { runApp } from '@idm/observability';
import { OperationsClient } from '@idm/operations';
import { readConsoleConfig } from './console.config.js';
import { ConsoleModule } from './console.module.js';

/** The admin role's inbox prefix (`idm nats-config`): its replies arrive only there. */
const ADMIN_INBOX_PREFIX = '_INBOX.admin';

/**
 * The operator console: one process serving the pages, a small JSON API and Server-Sent Events.
 * It talks to the apps only the way the `idm` CLI does (request/reply on their status subjects,
 * JetStream reads) and never opens an app's database. SIGTERM/SIGINT close the HTTP server, then
 * drain the NATS connection.
 */
await runApp({
  app: 'console',
  context: 'Console',
  configure: () => ({ config: readConsoleConfig(), messaging: messagingConfigFromEnv('console') }),
  start: async ({ config, messaging }, { nestLogger, logger }) => {
    const nc = await connectNats(messaging.connection);
    const ops = await OperationsClient.on(nc, messaging.stream.name);
    // With NATS permissions on, the console's own role only reads; actions connect as the admin.
    const adminNc = config.actionsSeedFile
      ? await connectNats({
          ...messaging.connection,
          user: undefined,
          password: undefined,
          creds: undefined,
          nkeySeedFile: config.actionsSeedFile,
          inboxPrefix: ADMIN_INBOX_PREFIX,
          name: 'idm-console-actions',
        })
      : undefined;
    const actions = adminNc ? await OperationsClient.on(adminNc, messaging.stream.name) : undefined;
    const app = await NestFactory.create<NestExpressApplication>(ConsoleModule.forRoot({ config, ops, ...(actions ? { actions } : {}) }), {
      logger: nestLogger,
    });
    app.disable('x-powered-by');
    app.use((_req: unknown, res: { setHeader(name: string, value: string): void }, next: () => void) => {
      // No inline script, no remote anything: the pages load only their own files.
      res.setHeader(
        'Content-Security-Policy',
        "default-src 'self'; frame-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
      );
      res.setHeader('X-Content-Type-Options', 'nosniff');
      res.setHeader('Referrer-Policy', 'no-referrer');
      next();
    });
    app.useStaticAssets(config.publicDir, { index: 'index.html', maxAge: 0 });
    app.enableShutdownHooks(['SIGTERM', 'SIGINT']);
    const server = await app.listen(config.port, config.host);
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : config.port;
    const url = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}/`;
    logger.log(
      `console on ${url} (NATS ${redactUrls(messaging.connection.url)}, stream ${messaging.stream.name}, token ${config.token ? 'required' : 'not required on loopback'}, actions ${config.allowActions ? 'on' : 'off'})`,
    );
    // One machine-readable line for the dev stack and the specs: where the console listens.
    process.stdout.write(JSON.stringify({ console: url }) + '\n');
    const close = async (): Promise<void> => {
      await nc.drain().catch(() => undefined);
      await adminNc?.drain().catch(() => undefined);
    };
    process.once('SIGTERM', () => void close());
    process.once('SIGINT', () => void close());
  },
});
