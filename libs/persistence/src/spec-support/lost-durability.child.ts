// Run by sqlite-wal-sync.int-spec as a process of its own: opens a SQLite database whose WAL flush
// fails with EIO, with openDatabase's default reaction, and commits once. The default must end
// this process with exit code 1 before the commit's caller hears anything; reaching the end of
// this script (exit code 0) means the process stayed up.
import { openDatabase, persistenceEntities, persistenceMigrations, runInTransaction } from '../index.js';
import { increment, SpecCounter, SpecCounter1732300000001 } from './counter.fixture.js';

const dataSource = await openDatabase({
  app: 'lost-durability',
  dataDir: process.argv[2]!,
  entities: [...persistenceEntities, SpecCounter],
  migrations: [...persistenceMigrations, SpecCounter1732300000001],
  syncWalFile: () => Promise.reject(Object.assign(new Error('EIO: i/o error, fsync'), { code: 'EIO' })),
});
const outcome = await runInTransaction(dataSource, (m) => increment(m, 'a')).then(
  () => 'resolved',
  (error: unknown) => `rejected with ${(error as Error).name}`,
);
process.stdout.write(`the commit's caller was answered (${outcome}) and the process is still running\n`);
