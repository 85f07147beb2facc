/** DI token of the {@link ConsoleConfig}. */
export const CONSOLE_CONFIG = Symbol('CONSOLE_CONFIG');
/** DI token of the shared {@link OperationsClient}. */
export const OPERATIONS = Symbol('OPERATIONS');
/** DI token of the {@link OperationsClient} actions use (the admin identity when permissions are on). */
export const ACTIONS = Symbol('ACTIONS');
/** DI token of the dev mail catcher's inbox ({@link DevInbox}), or null when there is none. */
export const DEV_INBOX = Symbol('DEV_INBOX');
