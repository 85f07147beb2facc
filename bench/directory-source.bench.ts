import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { Attribute, Change, Client } from 'ldapts';
import { startNatsServer, startSlapd, tempDir, waitFor } from '@idm/testing';
import { BenchReport, goals, startBenchApp } from './bench-support.js';

/**
 * The directory source against a real slapd holding BENCH_USERS (default 100,000) inetOrgPerson
 * entries:
 *  1. the baseline scan (first start, SOURCE_INITIAL_SYNC=baseline: paged read of every user, hash,
 *     snapshot written to SQLite) beside a raw paged ldapts search of the same entries and
 *     attributes, same page size, same account, in the same run — goal ≥ 50 % of raw;
 *  2. one poll after BENCH_CHANGES (default 100) entries changed — goal < 2 s, and the number of
 *     LDAP requests, which must not grow with the directory.
 * The app runs as its own process (`dist/apps/directory-source/main.js`) on SQLite; its figures are
 * the poll durations it logs. slapd runs with `dbnosync` so loading the entries takes seconds, not
 * an fsync per entry. A measurement, never a test: nothing here fails on time.
 */
const N = Number(process.env.BENCH_USERS ?? 100_000);
const CHANGES = Number(process.env.BENCH_CHANGES ?? 100);
const PAGE = 500;
const ATTRIBUTES = [
  'uid',
  'sAMAccountName',
  'mail',
  'displayName',
  'givenName',
  'sn',
  'title',
  'telephoneNumber',
  'entryUUID',
  'entryCSN',
  'modifyTimestamp',
  'pwdAccountLockedTime',
];
const uid = (i: number) => `user-${String(i).padStart(6, '0')}`;

interface PollFigures {
  readonly entries: number;
  readonly events: number;
  readonly requests: number;
  readonly seconds: number;
  readonly phases: string;
}

/** The poll lines the app logged (`<kind>: N entries read, …, R LDAP request(s) in S s (read …)`), oldest first. */
function pollLines(log: string, kind: RegExp): PollFigures[] {
  const re = new RegExp(
    `${kind.source}: (\\d+) entries read, (?:(\\d+) event\\(s\\)|[^,]*, nothing announced), (\\d+) LDAP request\\(s\\) in ([\\d.]+) s \\(([^)]*)\\)`,
    'g',
  );
  return [...log.matchAll(re)].map((m) => ({
    entries: Number(m[1]),
    events: Number(m[2] ?? 0),
    requests: Number(m[3]),
    seconds: Number(m[4]),
    phases: m[5]!,
  }));
}

async function main(): Promise<void> {
  const nats = await startNatsServer({ jetstream: true });
  const slapd = await startSlapd({ noSync: true, maxSizeBytes: 4 * 1024 ** 3 });
  const workDir = tempDir('bench-directory-source');
  try {
    let t = performance.now();
    const chunks = 8;
    const per = Math.ceil(N / chunks);
    await Promise.all(
      Array.from({ length: chunks }, (_, c) =>
        slapd.addUsers(
          Array.from({ length: Math.max(0, Math.min(per, N - c * per)) }, (_, k) => {
            const i = c * per + k;
            return { uid: uid(i), mail: `${uid(i)}@example.com`, displayName: `User ${i}` };
          }),
        ),
      ),
    );
    console.log(`loaded ${N} entries into slapd in ${((performance.now() - t) / 1000).toFixed(1)} s`);

    // Raw: the same paged search the source sends, counted and timed.
    const raw = new Client({ url: slapd.url, timeout: 120_000 });
    await raw.bind(slapd.serviceBindDn, slapd.serviceBindPassword);
    t = performance.now();
    let rawEntries = 0;
    let rawPages = 0;
    for await (const page of raw.searchPaginated(slapd.baseDn, {
      scope: 'sub',
      filter: '(objectClass=inetOrgPerson)',
      attributes: ATTRIBUTES,
      paged: { pageSize: PAGE },
    })) {
      rawEntries += page.searchEntries.length;
      rawPages += 1;
    }
    const rawSeconds = (performance.now() - t) / 1000;
    await raw.unbind();

    const app = await startBenchApp(
      'directory-source',
      {
        NATS_URL: nats.url,
        IDM_STREAM: 'BENCH_DIRSRC',
        HEALTH_PORT: 'off',
        DATA_DIR: join(workDir, 'data'),
        SOURCE_URL: slapd.url,
        SOURCE_BIND_DN: slapd.serviceBindDn,
        SOURCE_BIND_PASSWORD: slapd.serviceBindPassword,
        SOURCE_BASE_DN: slapd.baseDn,
        SOURCE_DIALECT: 'openldap',
        SOURCE_PAGE_SIZE: String(PAGE),
        // Long enough that the changes below (a fraction of a second) land in one poll.
        SOURCE_POLLING_INTERVAL_SECONDS: '5',
        SOURCE_CHANGE_OVERLAP_SECONDS: '2',
      },
      workDir,
    );
    try {
      const baseline = await waitFor(() => pollLines(app.log(), /full scan \(first-start\)/)[0], {
        timeoutMs: 600_000,
        intervalMs: 200,
        message: 'the baseline scan',
      });

      const admin = new Client({ url: slapd.url });
      await admin.bind(slapd.bindDn, slapd.bindPassword);
      const modify = (i: number, title: string) =>
        admin.modify(slapd.userDn(uid(i)), [
          new Change({ operation: 'replace', modification: new Attribute({ type: 'title', values: [title] }) }),
        ]);
      // Warm-up: the first change query after a bulk load re-reads the load's last overlap window
      // (deduplicated by entryCSN, no events); one small change moves the checkpoint past it.
      await modify(N - 1, 'warm-up');
      const warmUp = await waitFor(() => pollLines(app.log(), /change query/)[0], {
        timeoutMs: 120_000,
        intervalMs: 100,
        message: 'the warm-up poll',
      });
      const step = Math.max(1, Math.floor(N / CHANGES));
      for (let k = 0; k < CHANGES; k++) await modify((k * step) % N, `changed ${k}`);
      await admin.unbind();
      const changed = await waitFor(() => pollLines(app.log(), /change query/).find((p) => p.events >= CHANGES), {
        timeoutMs: 120_000,
        intervalMs: 100,
        message: 'the poll of the changes',
      });
      console.log(
        `warm-up poll (1 change right after the load): ${warmUp.entries} entries read, ${warmUp.requests} LDAP requests, ${warmUp.seconds} s (${warmUp.phases})`,
      );
      console.log(`baseline phases: ${baseline.phases}; change poll phases: ${changed.phases}`);

      const scan = new BenchReport('directory-source-scan', 'entries');
      const rawRow = scan.add({ name: `raw paged ldapts search (${rawPages} pages of ${PAGE})`, items: rawEntries, seconds: rawSeconds });
      scan.add(
        {
          name: 'directory-source baseline scan (read, hash, snapshot)',
          items: baseline.entries,
          seconds: baseline.seconds,
          note: `${baseline.requests} LDAP requests`,
          figures: { ldapRequests: baseline.requests },
        },
        { vs: rawRow, goals: [goals.ratioAtLeast(0.5)] },
      );
      scan.print(`directory-source baseline scan, ${N} entries (slapd, SQLite snapshot)`);
      const poll = new BenchReport('directory-source-poll', 'entries');
      poll.add(
        {
          name: `change query with ${CHANGES} changed among ${N} → UserModified stored → commit`,
          items: changed.entries,
          seconds: changed.seconds,
          note: `${changed.events} events, ${changed.requests} LDAP requests`,
          figures: { ldapRequests: changed.requests },
        },
        { goals: [goals.secondsUnder(2)] },
      );
      poll.print(`directory-source poll with ${CHANGES} changed entries among ${N}`);
    } finally {
      await app.stop();
    }
  } finally {
    await slapd.dispose();
    await nats.dispose();
    rmSync(workDir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
