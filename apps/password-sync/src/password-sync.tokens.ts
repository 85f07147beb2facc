/** DI token of the validated {@link PasswordSyncConfig}. */
export const PASSWORD_SYNC_CONFIG = Symbol('PASSWORD_SYNC_CONFIG');
/** Durable consumer and inbox name of the user-event handler. */
export const PASSWORD_SYNC_CONSUMER = 'password-sync';
