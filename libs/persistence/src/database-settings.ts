import { commonEnv, readEnv } from '@idm/config';

/** Where an app keeps its tables, as read from the environment. */
export interface DatabaseSettings {
  /** `DATABASE_URL` (`postgres://…`); undefined = embedded SQLite. */
  readonly databaseUrl: string | undefined;
  /** `DATA_DIR`: the SQLite file's folder. */
  readonly dataDir: string;
  /** `DATABASE_SCHEMA`: Postgres schema; undefined = the app's default schema. */
  readonly schema: string | undefined;
}

/** The database variables, for an app's own env shape (spread them in). */
export const databaseEnv = {
  DATABASE_URL: commonEnv.DATABASE_URL,
  DATA_DIR: commonEnv.DATA_DIR,
  DATABASE_SCHEMA: commonEnv.DATABASE_SCHEMA,
};

/**
 * Reads `DATABASE_URL`, `DATA_DIR` and `DATABASE_SCHEMA`. An app and its replay entry point both
 * call this, so a replay always opens the very tables the app uses (a replay that read fewer
 * settings rebuilt the default schema while the app used another, and reported success).
 * @throws ConfigError naming each invalid variable, with the URL's password redacted.
 */
export function readDatabaseSettings(env: NodeJS.ProcessEnv = process.env): DatabaseSettings {
  const e = readEnv(databaseEnv, env);
  return { databaseUrl: e.DATABASE_URL === '' ? undefined : e.DATABASE_URL, dataDir: e.DATA_DIR, schema: e.DATABASE_SCHEMA };
}
