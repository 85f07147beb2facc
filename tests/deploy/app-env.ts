import { join } from 'node:path';
import { commonEnv } from '@idm/config';
import { messagingEnv } from '@idm/messaging';
import { REPO_ROOT } from './repo-root.js';

/** The variables read outside the zod shapes (main.ts, Node itself). */
const EXTRA = ['HEALTH_PORT', 'LOG_LEVEL', 'NODE_ENV'];

async function keysOf(compiled: string, exportName: string): Promise<string[]> {
  // Apps are not packages: read their compiled env shapes by path (specs run after the build).
  const mod = (await import(join(REPO_ROOT, 'dist/apps', compiled))) as Record<string, object>;
  const shape = mod[exportName];
  if (!shape) throw new Error(`${compiled} has no export ${exportName}`);
  return Object.keys(shape);
}

/** Every environment variable each app reads, from the apps' own validated shapes. */
export async function envNamesByApp(): Promise<Record<'scheduler' | 'notifier' | 'password-sync' | 'console', Set<string>>> {
  const shared = [...Object.keys(messagingEnv), ...EXTRA];
  return {
    scheduler: new Set([...(await keysOf('scheduler/scheduler-env.js', 'schedulerEnv')), ...shared]),
    notifier: new Set([...(await keysOf('notifier/notifier.config.js', 'notifierEnv')), ...Object.keys(commonEnv), ...shared]),
    'password-sync': new Set([...(await keysOf('password-sync/shell/password-sync.config.js', 'passwordSyncEnv')), ...shared]),
    console: new Set([...(await keysOf('console/console.config.js', 'consoleEnv')), ...shared]),
  };
}

/** Maps an image command (`dist/apps/<app>/main.js`) to the app name. */
export function appOfCommand(args: readonly string[] | undefined): 'scheduler' | 'notifier' | 'password-sync' | 'console' | undefined {
  const m = /^dist\/apps\/(scheduler|notifier|password-sync|console)\/main\.js$/.exec(args?.[0] ?? '');
  return m?.[1] as 'scheduler' | 'notifier' | 'password-sync' | 'console' | undefined;
}
