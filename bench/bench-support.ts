import { spawn } from 'node:child_process';
import { closeSync, openSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BerWriter } from 'ldapts';
import { waitFor } from '@idm/testing';

export { BenchReport, goals, machineFacts, verdict, type BenchGoal, type BenchRow, type ReportedRow } from './bench-report.js';

/** A built app (`dist/apps/<app>/main.js`) started as its own process. */
export interface BenchApp {
  /** The app's process id. */
  readonly pid: number | undefined;
  log(): string;
  /** The process's peak resident set size so far in MB (Linux `VmHWM`); NaN where /proc is missing or once it exited. */
  peakRssMb(): number;
  /** CPU time (user + system) the process used so far, in seconds (Linux `/proc`); NaN elsewhere. */
  cpuSeconds(): number;
  /** CPU time of the process's main thread alone (its worker threads excluded), in seconds; NaN elsewhere. */
  mainThreadCpuSeconds(): number;
  stop(): Promise<void>;
}

/**
 * The `NODE_OPTIONS` an app is deployed with (deploy/k8s/base/<app>.yaml, docker-compose.yml): the
 * benches run each app as it runs there. Keep them equal.
 */
const DEPLOYED_NODE_OPTIONS: Readonly<Record<string, string>> = { notifier: '--max-semi-space-size=32' };

/** Starts an app with exactly `env` (plus PATH/HOME and its deployed `NODE_OPTIONS`) and resolves once it logged its `ready:` line. */
export async function startBenchApp(app: string, env: Record<string, string>, logDir: string): Promise<BenchApp> {
  const logFile = join(logDir, `${app}.log`);
  const fd = openSync(logFile, 'a');
  const main = fileURLToPath(new URL(`../apps/${app}/main.js`, import.meta.url));
  // BENCH_CPU_PROF=<dir>: write a V8 CPU profile of the app (open it in Chrome DevTools) to find the bottleneck.
  const profile = process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : [];
  // BENCH_APP_NODE_ARGS: more node flags for the app, e.g. `--import ./probe.mjs` to watch its event loop.
  const nodeArgs = process.env.BENCH_APP_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
  const child = spawn(process.execPath, [...profile, ...nodeArgs, main], {
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      ...(DEPLOYED_NODE_OPTIONS[app] !== undefined ? { NODE_OPTIONS: DEPLOYED_NODE_OPTIONS[app] } : {}),
      ...env,
    },
    stdio: ['ignore', fd, fd],
  });
  closeSync(fd);
  let exited = false;
  const exit = new Promise<void>((resolve) => child.once('exit', () => ((exited = true), resolve())));
  const log = () => readFileSync(logFile, 'utf8');
  await waitFor(
    () => {
      if (exited) throw new Error(`${app} exited during start-up:\n${log().slice(-2000)}`);
      return log().includes('ready:');
    },
    { timeoutMs: 60_000, message: `${app} ready` },
  );
  return {
    pid: child.pid,
    log,
    peakRssMb: () => peakRssMbOf(child.pid),
    cpuSeconds: () => cpuSecondsOf(child.pid),
    // The main thread's task id is the process id.
    mainThreadCpuSeconds: () => cpuSecondsOf(child.pid, `task/${String(child.pid)}/`),
    async stop() {
      if (exited) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exit;
      clearTimeout(timer);
    },
  };
}

function peakRssMbOf(pid: number | undefined): number {
  try {
    const kb = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${String(pid)}/status`, 'utf8'))?.[1];
    return kb === undefined ? Number.NaN : Math.round(Number(kb) / 1024);
  } catch {
    return Number.NaN;
  }
}

/**
 * CPU time (utime + stime) of a live process in seconds (Linux; 100 clock ticks per second); NaN elsewhere.
 * `task` = `task/<tid>/` reads one thread instead.
 */
export function cpuSecondsOf(pid: number | undefined, task = ''): number {
  try {
    return cpuSecondsOfStat(statFields(readFileSync(`/proc/${String(pid)}/${task}stat`, 'utf8')));
  } catch {
    return Number.NaN;
  }
}

/**
 * Seconds a thread of a live process spent runnable but waiting for a CPU so far (Linux
 * schedstat's second field; needs `CONFIG_SCHEDSTATS`); NaN elsewhere. Beside the thread's CPU
 * time it says whether the thread was the bound (on a CPU or waiting for one nearly all the time)
 * or waited on something else.
 */
export function cpuWaitSecondsOf(pid: number | undefined, tid = pid): number {
  try {
    const fields = readFileSync(`/proc/${String(pid)}/task/${String(tid)}/schedstat`, 'utf8')
      .trim()
      .split(' ');
    return Number(fields[1]) / 1e9;
  } catch {
    return Number.NaN;
  }
}

/** RFC 3062 LDAP Password Modify extended operation. */
export const PASSWORD_MODIFY_OID = '1.3.6.1.4.1.4203.1.11.1';

/**
 * The BER value of a Password Modify request (RFC 3062: userIdentity [0], newPasswd [2]) for the
 * raw rows. The app has its own encoder; benches cannot import apps.
 */
export function passwordModify(dn: string, password: string): Buffer {
  const writer = new BerWriter();
  writer.startSequence(0x30);
  writer.writeString(dn, 0x80);
  writer.writeString(password, 0x82);
  writer.endSequence();
  return writer.buffer;
}

/** The fields of a `/proc/<pid>/stat` line after the command name (which may hold spaces and parentheses). */
function statFields(stat: string): string[] {
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/** utime + stime of {@link statFields}, from clock ticks (100 per second on Linux) to seconds. */
function cpuSecondsOfStat(fields: string[]): number {
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** Names of the processes {@link peerCpuSeconds} accounts for, each with its CPU seconds so far. */
export type PeerCpu = Readonly<Record<string, number>>;

/** Every process id under /proc, with its stat line split after the command name, and its command. */
function procStats(): Array<{ pid: number; comm: string; fields: string[] }> {
  const out: Array<{ pid: number; comm: string; fields: string[] }> = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      out.push({ pid: Number(entry), comm: stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')), fields: statFields(stat) });
    } catch {
      // exited meanwhile
    }
  }
  return out;
}

/** Local TCP ports of `pid`'s sockets connected to remote port `remotePort` (Linux /proc/net/tcp*). */
function localPortsTo(pid: number, remotePort: number): Set<number> {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${String(pid)}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${String(pid)}/fd/${fd}`));
      if (m) inodes.add(m[1]!);
    } catch {
      // closed meanwhile
    }
  }
  const ports = new Set<number>();
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of readFileSync(file, 'utf8').split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols.length < 10 || !inodes.has(cols[9]!)) continue;
      const local = parseInt(cols[1]!.split(':')[1]!, 16);
      const remote = parseInt(cols[2]!.split(':')[1]!, 16);
      if (remote === remotePort) ports.add(local);
    }
  }
  return ports;
}

/**
 * CPU seconds so far (Linux) of the processes beside an app that its work costs: the Postgres
 * backends serving `appPid`'s connections (matched by client port, keyed `pg:<pid>`), Postgres'
 * own background processes (`pg-bg:<pid>`: WAL writer, checkpointer…, shared with anything else
 * on the server), and this process's other children (`<command>:<pid>`: nats-server, the SMTP
 * sink). Diff two snapshots with {@link peerCpuDelta}. Empty where /proc is missing.
 */
export function peerCpuSeconds(appPid: number | undefined): PeerCpu {
  const out: Record<string, number> = {};
  try {
    const ports = appPid === undefined ? new Set<number>() : localPortsTo(appPid, 5432);
    for (const { pid, comm, fields } of procStats()) {
      if (comm === 'postgres') {
        const cmdline = readFileSync(`/proc/${String(pid)}/cmdline`, 'utf8');
        const port = /\((\d+)\)/.exec(cmdline)?.[1];
        if (port !== undefined && ports.has(Number(port))) out[`pg:${String(pid)}`] = cpuSecondsOfStat(fields);
        else if (port === undefined && /: (walwriter|checkpointer|background writer)/.test(cmdline))
          out[`pg-bg:${String(pid)}`] = cpuSecondsOfStat(fields);
      } else if (Number(fields[1]) === process.pid && pid !== appPid) out[`${comm}:${String(pid)}`] = cpuSecondsOfStat(fields);
    }
  } catch {
    // not Linux
  }
  return out;
}

/** CPU seconds used between two {@link peerCpuSeconds} snapshots, summed by kind (`pg`, `pg-bg`, or the command). */
export function peerCpuDelta(before: PeerCpu, after: PeerCpu): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [key, seconds] of Object.entries(after)) {
    const kind = key.slice(0, key.lastIndexOf(':'));
    out[kind] = (out[kind] ?? 0) + seconds - (before[key] ?? 0);
  }
  return out;
}

/**
 * Runs `work(resource, i)` for every i in [0, n), one worker per resource (each takes the next i
 * when its last one is done), and returns the wall time in seconds. Set-up and tear-down of the
 * resources (LDAP connections, …) stay outside the timing: they are the caller's.
 */
export async function workerPool<R>(n: number, resources: readonly R[], work: (resource: R, i: number) => Promise<void>): Promise<number> {
  let next = 0;
  const started = performance.now();
  await Promise.all(
    resources.map(async (r) => {
      for (let i = next++; i < n; i = next++) await work(r, i);
    }),
  );
  return (performance.now() - started) / 1000;
}

/**
 * The least, the median and the greatest of a row's per-pair ratios (its part ÷ the raw part
 * beside it), rounded to 0.01, as figures `<prefix>Min`, `<prefix>Median`, `<prefix>Max`: the
 * spread that the row's summed ratio hides.
 */
export function ratioSpread(ratios: readonly number[], prefix: string): Record<string, number> {
  const sorted = [...ratios].sort((a, b) => a - b);
  const mid = sorted.length / 2;
  const median = sorted.length % 2 ? sorted[Math.floor(mid)]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  const round = (r: number) => Number(r.toFixed(2));
  return { [`${prefix}Min`]: round(sorted[0]!), [`${prefix}Median`]: round(median), [`${prefix}Max`]: round(sorted[sorted.length - 1]!) };
}

/**
 * The mean of each named figure over rows or blocks of equal size (figures per item or shares of
 * the time), rounded to `digits` decimals; a figure missing from one of them makes its mean NaN.
 */
export function meanOfFigures(figures: ReadonlyArray<Readonly<Record<string, number>> | undefined>, digits = 3): Record<string, number> {
  const names = new Set(figures.flatMap((f) => Object.keys(f ?? {})));
  return Object.fromEntries(
    [...names].map((name) => [name, Number((figures.reduce((a, f) => a + (f?.[name] ?? NaN), 0) / figures.length).toFixed(digits))]),
  );
}
