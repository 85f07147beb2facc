import { errorMessage } from '@idm/config';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { findBinary } from './find-binary.js';
import { freePort } from './free-port.js';
import { ManagedProcess } from './managed-process.js';
import { onProcessExit } from './process-cleanup.js';
import { tempDir } from './temp-dir.js';
import { waitFor } from './wait-for.js';

/** Options of {@link startNatsServer}. */
export interface NatsServerOptions {
  /** Enable JetStream with a file store in a temp dir (default true). */
  readonly jetstream?: boolean;
  /** Extra `nats-server` arguments, appended after the harness's own. */
  readonly args?: readonly string[];
  /**
   * A configuration file (`-c`), e.g. the `idm-auth.conf` include of `idm nats-config` wrapped in
   * a main file. The harness's own flags (address, ports, JetStream store) still win over it.
   */
  readonly configFile?: string;
  /**
   * Serve TLS with this certificate; with `verifyClientsWith`, mutual TLS: clients must present a
   * certificate signed by that CA. The URL becomes `tls://127.0.0.1:<port>`.
   */
  readonly tls?: { readonly certFile: string; readonly keyFile: string; readonly verifyClientsWith?: string };
  /** How long to wait for the server to become ready (default 15 000 ms). */
  readonly startTimeoutMs?: number;
}

/** A running (or stopped, restartable) `nats-server`. */
export interface NatsServerHandle {
  /** `nats://127.0.0.1:<port>`, or `tls://…` when started with {@link NatsServerOptions.tls}. */
  readonly url: string;
  /** Client port on 127.0.0.1; kept across {@link NatsServerHandle.restart}. */
  readonly port: number;
  /** Monitoring port (`/varz`, `/jsz`, `/healthz`) on 127.0.0.1. */
  readonly monitorPort: number;
  /** JetStream store directory (`-sd`); kept across restarts, removed by `dispose()`. */
  readonly storeDir: string;
  /** The server's stdout + stderr, appended across restarts. */
  readonly logFile: string;
  /** Server version from `/varz`, e.g. `2.9.10`. */
  readonly version: string;
  /** SIGTERM (graceful: JetStream flushes) and wait for exit. No-op when already stopped. */
  stop(): Promise<void>;
  /** SIGKILL — a crash with no chance to flush — and wait for exit. No-op when already stopped. */
  kill(): Promise<void>;
  /**
   * SIGSTOP, resolving once every thread of the server has stopped: from then on it keeps its
   * connections but reads and answers nothing until {@link resume} (a hung server, or one whose
   * answers are lost). Await it: right after the signal some threads may still answer for a few
   * ms. No-op when stopped.
   */
  pause(): Promise<void>;
  /** SIGCONT after {@link pause}. */
  resume(): void;
  /** Stops the server if running, then starts it again on the same port and store; resolves when ready. */
  restart(): Promise<void>;
  /** Stops the server and removes its temp dir (store and log). */
  dispose(): Promise<void>;
}

/**
 * Starts the real `nats-server` binary (tested with 2.9.10 from Debian) on a free loopback port:
 * `-a 127.0.0.1 -p <port> -m <monitor port> [-js -sd <tmp store>]`, and resolves once the
 * monitoring endpoint `/healthz` reports ok — with JetStream, that includes JetStream being ready.
 *
 * The process is SIGKILLed and its temp dir removed if the test process exits without `dispose()`.
 * @throws HarnessError `IDM_HARNESS_MISSING_BINARY` (install with `apt-get install nats-server`),
 *   or `IDM_HARNESS_START_FAILED` / `IDM_HARNESS_TIMEOUT` quoting the server log.
 */
export async function startNatsServer(options: NatsServerOptions = {}): Promise<NatsServerHandle> {
  // A free port can be taken by a parallel test file between our probe and the server's bind:
  // start again on new ports when that happens.
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(options);
    } catch (err) {
      if (attempt >= 5 || !errorMessage(err).includes('address already in use')) throw err;
    }
  }
}

async function startOnce(options: NatsServerOptions): Promise<NatsServerHandle> {
  const binary = findBinary('nats-server', 'apt-get install nats-server');
  const jetstream = options.jetstream ?? true;
  const dir = tempDir('idm-nats');
  const storeDir = join(dir, 'store');
  const logFile = join(dir, 'nats-server.log');
  const unregisterDir = onProcessExit(() => rmSync(dir, { recursive: true, force: true }));
  const port = await freePort();
  const monitorPort = await freePort();
  const tls = options.tls
    ? [
        '--tls',
        '--tlscert',
        options.tls.certFile,
        '--tlskey',
        options.tls.keyFile,
        ...(options.tls.verifyClientsWith ? ['--tlsverify', '--tlscacert', options.tls.verifyClientsWith] : []),
      ]
    : [];
  const args = [
    ...(options.configFile ? ['-c', options.configFile] : []),
    '-a',
    '127.0.0.1',
    '-p',
    String(port),
    '-m',
    String(monitorPort),
    ...(jetstream ? ['-js', '-sd', storeDir] : []),
    ...tls,
    ...(options.args ?? []),
  ];
  const timeoutMs = options.startTimeoutMs ?? 15_000;

  let current: ManagedProcess | undefined;
  async function launch(): Promise<string> {
    const proc = await ManagedProcess.start(binary, args, logFile);
    current = proc;
    try {
      return await proc.untilReady(waitUntilReady(monitorPort, jetstream, timeoutMs), 'nats-server');
    } catch (err) {
      await proc.signal('SIGKILL');
      throw err;
    }
  }

  let version: string;
  try {
    version = await launch();
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    unregisterDir();
    throw err;
  }

  const stopWith = async (signal: NodeJS.Signals): Promise<void> => {
    if (current) await current.signal(signal);
  };
  return {
    url: `${options.tls ? 'tls' : 'nats'}://127.0.0.1:${port}`,
    port,
    monitorPort,
    storeDir,
    logFile,
    version,
    stop: () => stopWith('SIGTERM'),
    kill: () => stopWith('SIGKILL'),
    pause: async () => current?.pause(),
    resume: () => current?.notify('SIGCONT'),
    async restart() {
      await stopWith('SIGTERM');
      await launch();
    },
    async dispose() {
      await stopWith('SIGTERM');
      rmSync(dir, { recursive: true, force: true });
      unregisterDir();
    },
  };
}

async function waitUntilReady(monitorPort: number, jetstream: boolean, timeoutMs: number): Promise<string> {
  const base = `http://127.0.0.1:${monitorPort}`;
  await waitFor(
    async () => {
      const res = await fetch(`${base}/healthz`);
      await res.body?.cancel();
      return res.ok;
    },
    { timeoutMs, message: 'nats-server /healthz' },
  );
  if (jetstream) {
    await waitFor(
      async () => {
        const res = await fetch(`${base}/jsz`);
        const body = (await res.json()) as { config?: { store_dir?: string }; disabled?: boolean };
        return res.ok && body.disabled !== true && body.config?.store_dir !== undefined;
      },
      { timeoutMs, message: 'nats-server JetStream (/jsz)' },
    );
  }
  const varz = (await (await fetch(`${base}/varz`)).json()) as { version?: string };
  return varz.version ?? 'unknown';
}
