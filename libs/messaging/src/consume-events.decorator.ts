import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import type { EventType } from '@idm/contracts';
import { EventContext } from './event-context.js';

/** Options of {@link ConsumeEvents}. */
export interface ConsumeEventsOptions {
  /**
   * Durable consumer name for this handler, when it needs its own (e.g. ticks apart from user
   * events). Defaults to the transport's consumer.
   */
  readonly consumer?: string;
}

/** Nest's metadata key for parameter decorators (`@Payload()`, `@Ctx()`). */
const ROUTE_ARGS_METADATA = '__routeArguments__';

/** Extras key under which the consumer name travels to the transport. */
export const CONSUMER_EXTRA = 'idmConsumer';

/**
 * Declares a handler for one or more event types on the {@link JetStreamTransport}.
 *
 * The method receives the decoded, validated event and an {@link EventContext} (as `@Payload()`
 * and `@Ctx()`, added for you when the method has no parameter decorators of its own). Returning
 * resolves the delivery (ack); throwing `PermanentError` dead-letters it; throwing anything else
 * retries it with backoff. The method is wrapped so the original error reaches the transport's
 * settlement even though Nest's exception layer replaces it with a generic RPC error.
 */
export function ConsumeEvents(types: EventType | readonly EventType[], options: ConsumeEventsOptions = {}): MethodDecorator {
  const list = typeof types === 'string' ? [types] : [...types];
  return (target, key, descriptor) => {
    const original = descriptor.value as unknown;
    if (typeof original !== 'function') throw new TypeError(`@ConsumeEvents must decorate a method (${String(key)})`);
    const wrapped = async function (this: unknown, ...args: unknown[]): Promise<unknown> {
      try {
        return await (original as (...a: unknown[]) => unknown).apply(this, args);
      } catch (error) {
        const ctx = args.find((a): a is EventContext => a instanceof EventContext);
        if (ctx) ctx.failure = error;
        throw error;
      }
    };
    Object.defineProperty(wrapped, 'name', { value: (original as { name: string }).name });
    (descriptor as TypedPropertyDescriptor<unknown>).value = wrapped;
    const extras = options.consumer ? { [CONSUMER_EXTRA]: options.consumer } : {};
    // Nest passes only the payload to an undecorated microservice handler; give the method the
    // (event, ctx) signature the transport promises unless it declared its own parameters.
    const routeArgs: unknown = Reflect.getMetadata(ROUTE_ARGS_METADATA, target.constructor, key);
    if (routeArgs === undefined) {
      Payload()(target, key, 0);
      Ctx()(target, key, 1);
    }
    // One EventPattern call with every type: Nest keeps only the last call's patterns.
    const eventPattern = EventPattern as unknown as (patterns: readonly string[], extras: Record<string, unknown>) => MethodDecorator;
    eventPattern(list, extras)(target, key, descriptor);
    return descriptor;
  };
}
