/** Where the apps of a spec's stack find their servers (see {@link appProcessEnv}). */
export interface AppProcessEnvOptions {
  readonly natsUrl: string;
  readonly stream: string;
  /** Each app's SQLite file goes here. */
  readonly dataDir: string;
  readonly smtpUrl: string;
  readonly logLevel: string;
}

/**
 * The environment the app processes of a spec's stack share: the test's own, pointed at the
 * spec's nats-server, stream and SMTP server, with no colour and no health server. `DATABASE_URL`
 * is removed, so the apps use SQLite in `dataDir` whatever the machine's environment says.
 */
export function appProcessEnv(options: AppProcessEnvOptions): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    NATS_URL: options.natsUrl,
    IDM_STREAM: options.stream,
    DATA_DIR: options.dataDir,
    SMTP_URL: options.smtpUrl,
    NO_COLOR: '1',
    LOG_LEVEL: options.logLevel,
    HEALTH_PORT: 'off',
  };
  delete env.DATABASE_URL;
  return env;
}
