/** DI token of the validated `NotifierConfig`. */
export const NOTIFIER_CONFIG = Symbol('NOTIFIER_CONFIG');
/** DI token of the start-up-checked `TemplateSet`. */
export const NOTIFIER_TEMPLATES = Symbol('NOTIFIER_TEMPLATES');
/** CloudEvents `source` of every event the notifier appends. */
export const NOTIFIER_SOURCE = '/idm/notifier';
/** Durable consumer (and inbox name) of user and password events. */
export const NOTIFIER_CONSUMER = 'notifier';
/**
 * Durable consumer of ticks, apart from the others: a tick runs as long as its sends take, and
 * must not hold up the user events (nor their ack deadlines) meanwhile.
 */
export const NOTIFIER_TICK_CONSUMER = 'notifier-ticks';
/** DI token of the outbox the tick's outcomes are stored through (see `createOutcomeOutbox`). */
export const NOTIFIER_OUTCOME_OUTBOX = Symbol('NOTIFIER_OUTCOME_OUTBOX');
/** DI token of this process's `InstanceLease` (instance id + incarnation). */
export const NOTIFIER_INSTANCE_LEASE = Symbol('NOTIFIER_INSTANCE_LEASE');
