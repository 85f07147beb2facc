import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startNatsServer, type NatsServerHandle } from './nats-server.harness.js';
import { tempDir } from './temp-dir.js';

/** The two users of {@link startNatsServerWithLimitedUser}: one may do anything, the other not. */
export const LIMITED_NATS_USERS = {
  admin: { user: 'admin', password: 'admin-secret' },
  limited: { user: 'limited', password: 'limited-secret' },
} as const;

/**
 * A JetStream `nats-server` with one account and {@link LIMITED_NATS_USERS}: `admin` may do
 * anything, `limited` may publish only to the JetStream API and `publishAllow` (e.g.
 * `['idm.user.>']`) and subscribe only to `_INBOX.>` — a service identity missing a permission.
 * `dispose()` also removes the configuration file.
 */
export async function startNatsServerWithLimitedUser(publishAllow: readonly string[]): Promise<NatsServerHandle> {
  const dir = tempDir('idm-nats-limited');
  const config = join(dir, 'nats-server.conf');
  const { admin, limited } = LIMITED_NATS_USERS;
  const allow = ['$JS.API.>', ...publishAllow].map((subject) => JSON.stringify(subject)).join(', ');
  writeFileSync(
    config,
    `accounts {
  IDM {
    jetstream: enabled
    users: [
      { user: ${admin.user}, password: ${admin.password} }
      { user: ${limited.user}, password: ${limited.password}, permissions: { publish: { allow: [${allow}] }, subscribe: { allow: ["_INBOX.>"] } } }
    ]
  }
}
`,
  );
  let server: NatsServerHandle;
  try {
    server = await startNatsServer({ jetstream: true, configFile: config });
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    ...server,
    async dispose() {
      await server.dispose();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
