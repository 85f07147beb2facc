import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { Client } from 'ldapts';
import { startSlapd, type SlapdHandle } from '@idm/testing';
import { BenchReport, passwordModify, PASSWORD_MODIFY_OID, workerPool, type BenchRow } from './bench-support.js';

/**
 * How much a busy neighbour slows slapd on this machine: raw LDAP Password Modify (the
 * password-sync bench's baseline) alone, then beside one process that spins on a core — at the
 * normal priority, at nice 19, under SCHED_IDLE (`chrt --idle`) — then alone again. Each busy row is
 * compared with the two alone rows together (slapd's fsync-bound rate drifts within a run).
 *
 * Why it matters: the password-sync bench compares the pipeline (password-sync, nats-server and
 * the bench client beside slapd on 2 cores) with raw operations whose only neighbour is the bench
 * client. What the neighbours cost slapd is then counted against the pipeline; this bench measures
 * that cost on its own, with nothing of ours in it. Measured 2026-12-01 (two runs): 86 / 83 % of
 * the alone rate at normal priority, 82 / 85 % at nice 19, 96 / 97 % under SCHED_IDLE — nice
 * does not help, because slapd's threads wake for each operation and the scheduler lets a
 * niced spinner keep the core for its slice.
 *
 *   BENCH_COLOCATION_OPS (default 12000), BENCH_CONCURRENCY (default 32)
 *
 * Linux only (`nice`, `chrt`). A measurement, never a test: nothing here fails on time.
 */

const N = Number(process.env.BENCH_COLOCATION_OPS ?? 12_000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 32);
const uid = (i: number) => `coloc-${String(i).padStart(6, '0')}`;

/** A node process spinning on one core until stopped, started through `wrapper` (e.g. `nice -n 19`). */
async function spinner(wrapper: readonly string[]): Promise<ChildProcess> {
  const command = [...wrapper, process.execPath, '-e', 'for (;;) {}'];
  const child = spawn(command[0]!, command.slice(1), { stdio: 'ignore' });
  await once(child, 'spawn');
  return child;
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGKILL');
  await exited;
}

/** N Password Modify operations with CONCURRENCY connections bound as the service account. */
async function passwordModifies(slapd: SlapdHandle, label: string): Promise<number> {
  const clients = await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      const client = new Client({ url: slapd.url, timeout: 30_000, connectTimeout: 10_000 });
      await client.bind(slapd.serviceBindDn, slapd.serviceBindPassword);
      return client;
    }),
  );
  try {
    return await workerPool(N, clients, async (client, i) => {
      await client.exop(PASSWORD_MODIFY_OID, passwordModify(slapd.userDn(uid(i)), `${label}-${i}-Passw0rd`));
    });
  } finally {
    await Promise.all(clients.map((c) => c.unbind()));
  }
}

async function main(): Promise<void> {
  const slapd = await startSlapd({ ppolicyMinLength: 8 });
  try {
    await slapd.addUsers(Array.from({ length: N }, (_, i) => ({ uid: uid(i) })));
    const alone = async (name: string): Promise<BenchRow> => ({
      name,
      items: N,
      seconds: await passwordModifies(slapd, name.replace(/\W/g, '')),
    });
    const beside = async (name: string, wrapper: readonly string[]): Promise<BenchRow> => {
      const busy = await spinner(wrapper);
      try {
        return { name, items: N, seconds: await passwordModifies(slapd, name.replace(/\W/g, '')) };
      } finally {
        await stop(busy);
      }
    };

    const before = await alone('raw Password Modify, slapd alone (before)');
    const busyRows = [
      await beside('beside a spinning process, normal priority', []),
      await beside('beside a spinning process, nice 19', ['nice', '-n', '19']),
      await beside('beside a spinning process, SCHED_IDLE', ['chrt', '--idle', '0']),
    ];
    const after = await alone('raw Password Modify, slapd alone (after)');

    const report = new BenchReport('slapd co-location', 'operations');
    report.add(before);
    report.add(after);
    const bothAlone = report.add({
      name: 'slapd alone, before + after',
      items: before.items + after.items,
      seconds: before.seconds + after.seconds,
    });
    for (const row of busyRows) report.add(row, { vs: bothAlone });
    report.print(`slapd co-location bench: ${N} Password Modify operations per row, ${CONCURRENCY} connections, slapd ${slapd.url}`);
  } finally {
    await slapd.dispose();
  }
}

await main();
