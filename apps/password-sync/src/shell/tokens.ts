/** DI token of the validated {@link PasswordSyncSettings}. */
export const PASSWORD_SYNC_SETTINGS = Symbol('PASSWORD_SYNC_SETTINGS');
