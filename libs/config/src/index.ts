export { ConfigError, readEnv } from './env.js';
export type { EnvOf, EnvShape } from './env.js';
export { commonEnv } from './common-env.js';
export type { LogLevel } from './common-env.js';
export { appVersion } from './app-version.js';
export { errorMessage } from './error-message.js';
export {
  MASK,
  REDACTED,
  redactUrls,
  redactConnectionString,
  redactSecrets,
  redactFields,
  isSecretField,
  isSecretVariable,
} from './redact.js';
