export { ConfigError, readEnv } from './env.js';
export type { EnvOf } from './env.js';
export { commonEnv } from './common-env.js';
export { appVersion } from './app-version.js';
export { Clock, SystemClock } from './clock.js';
export { errorMessage } from './error-message.js';
export { REDACTED, redactUrls, redactConnectionString, redactSecrets, redactFields } from './redact.js';
export { backoffDelay, DEFAULT_BACKOFF } from './backoff.js';
export type { BackoffPolicy } from './backoff.js';
