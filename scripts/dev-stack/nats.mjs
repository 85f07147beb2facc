// Starts the local nats-server with JetStream for the dev stack, from PATH or /usr/sbin.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { connect } from 'node:net';
import { onChildLines } from './child-lines.mjs';

/** Where nats-server is, or undefined. */
export function findNatsServer() {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/usr/local/sbin'];
  for (const d of dirs) {
    const p = join(d, 'nats-server');
    if (d && existsSync(p)) return p;
  }
  return undefined;
}

/** The message shown when it is missing. */
export const NATS_MISSING = [
  'nats-server was not found on PATH or in /usr/sbin.',
  'Install it (Debian/Ubuntu: `sudo apt-get install nats-server`, or a release from the NATS project),',
  'or point the stack at a running server with JetStream: `NATS_URL=nats://host:4222 npm start`.',
].join('\n');

/**
 * Starts nats-server on 127.0.0.1:<port> with JetStream storing under <storeDir> (and the
 * permissions of <configFile>, when given), waits until it accepts connections. Returns the child.
 */
export async function startNats({ bin, port, storeDir, configFile, onLine }) {
  mkdirSync(storeDir, { recursive: true });
  const args = [...(configFile ? ['-c', configFile] : []), '-js', '-a', '127.0.0.1', '-p', String(port), '-sd', storeDir, '-n', 'idm-dev'];
  const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  onChildLines(child, onLine);
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const deadline = Date.now() + 15_000;
  for (;;) {
    const result = await Promise.race([exited.then((e) => ({ exited: e })), canConnect(port).then((ok) => ({ ok }))]);
    if ('exited' in result)
      throw new Error(`nats-server exited at start (code ${result.exited.code}); is port ${port} in use? Set DEV_NATS_PORT.`);
    if (result.ok) return child;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`nats-server did not accept connections on port ${port} within 15 s`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

function canConnect(port) {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}
