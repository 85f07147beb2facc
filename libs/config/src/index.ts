export { ConfigError, readEnv } from './env.js';
export type { EnvOf, EnvShape } from './env.js';
export { commonEnv } from './common-env.js';
export type { LogLevel } from './common-env.js';
export { appVersion } from './app-version.js';
export { Clock, SystemClock } from './clock.js';
