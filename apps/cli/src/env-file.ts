import { readFileSync } from 'node:fs';
import { usage } from './cli-error.js';

/**
 * The `KEY=VALUE` lines of an env file, such as the `<role>.env` files `idm nats-config` writes
 * (`NATS_NKEY_SEED_FILE`, `NATS_INBOX_PREFIX`, `IDM_STREAM`). `#` comments, blank lines and an
 * `export ` prefix are allowed; one pair of surrounding quotes is removed. No expansion.
 * @throws CliError (usage) naming the file when it cannot be read or a line is not `KEY=VALUE`.
 */
export function readEnvFile(path: string): Record<string, string> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw usage(`--env-file: cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  const env: Record<string, string> = {};
  text.split(/\r?\n/).forEach((line, i) => {
    if (/^\s*(#|$)/.test(line)) return;
    const m = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (!m) throw usage(`--env-file: ${path} line ${i + 1}: expected KEY=VALUE`);
    const value = m[2]!.trim();
    env[m[1]!] = /^(['"]).*\1$/.test(value) ? value.slice(1, -1) : value;
  });
  return env;
}
