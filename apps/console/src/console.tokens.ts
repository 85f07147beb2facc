/** DI token of the {@link ConsoleConfig}. */
export const CONSOLE_CONFIG = Symbol('CONSOLE_CONFIG');
/** DI token of the shared {@link OperationsClient}. */
export const OPERATIONS = Symbol('OPERATIONS');
/** DI token of the console's clock: `() => Date` (time as data for the chart and countdowns). */
export const NOW = Symbol('NOW');
