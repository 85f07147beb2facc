import { join } from 'node:path';
import { commonEnv } from '@idm/config';
import { messagingEnv } from '@idm/messaging';
import { REPO_ROOT } from './repo-root.js';

/** The variables read outside the zod shapes (main.ts, Node itself). */
const EXTRA = ['HEALTH_PORT', 'LOG_LEVEL', 'NODE_ENV', 'NODE_OPTIONS'];

async function keysOf(compiled: string, exportName: string): Promise<string[]> {
  // Apps are not packages: read their compiled env shapes by path (specs run after the build).
  const mod = (await import(join(REPO_ROOT, 'dist/apps', compiled))) as Record<string, object>;
  const shape = mod[exportName];
  if (!shape) throw new Error(`${compiled} has no export ${exportName}`);
  return Object.keys(shape);
}

/** The apps that run as services. */
export type AppName = 'scheduler' | 'notifier' | 'password-sync' | 'directory-source' | 'console';

/** Every environment variable each app reads, from the apps' own validated shapes. */
export async function envNamesByApp(): Promise<Record<AppName, Set<string>>> {
  const shared = [...Object.keys(messagingEnv), ...EXTRA];
  return {
    scheduler: new Set([...(await keysOf('scheduler/scheduler.config.js', 'schedulerEnv')), ...shared]),
    notifier: new Set([...(await keysOf('notifier/notifier.config.js', 'notifierEnv')), ...Object.keys(commonEnv), ...shared]),
    'password-sync': new Set([...(await keysOf('password-sync/password-sync.config.js', 'passwordSyncEnv')), ...shared]),
    'directory-source': new Set([...(await keysOf('directory-source/directory-source.config.js', 'directorySourceEnv')), ...shared]),
    console: new Set([...(await keysOf('console/console.config.js', 'consoleEnv')), ...shared]),
  };
}

/** Maps an image command (`dist/apps/<app>/main.js`) to the app name. */
export function appOfCommand(args: readonly string[] | undefined): AppName | undefined {
  const m = /^dist\/apps\/(scheduler|notifier|password-sync|directory-source|console)\/main\.js$/.exec(args?.[0] ?? '');
  return m?.[1] as AppName | undefined;
}
