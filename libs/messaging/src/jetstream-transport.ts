import { CustomTransportStrategy, Server, type MessageHandler } from '@nestjs/microservices';
import { jetstream, jetstreamManager, type ConsumerMessages, type JetStreamClient, type JsMsg } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { lastValueFrom } from 'rxjs';
import { DecodeError, decodeEvent, subjectFor, type IdmEvent } from '@idm/contracts';
import { OutboundBatch } from './outbound-batch.js';
import { ensureConsumer } from './consumer-provisioning.js';
import { deadLetterRecord, writeDeadLetter } from './dead-letter.js';
import { backoffDelay, DEFAULT_BACKOFF, errorMessage, type BackoffPolicy } from '@idm/config';
import { EventContext } from './event-context.js';
import { KeyLanes } from './key-lanes.js';
import { connectNats, type NatsConnectionConfig } from './nats-connection.js';
import { CONSUMER_EXTRA } from './consume-events.decorator.js';
import { serverFeatures } from './server-features.js';
import { decideSettlement, isPastDeliveryLimit, type HandlingOutcome, type Settlement, type SettlementPolicy } from './settlement.js';
import { ensureDeadLetterStream, ensureEventStream, type EventStreamSettings } from './stream-provisioning.js';

/** One settled delivery, for metrics and tests. */
export interface SettledDelivery {
  readonly consumer: string;
  readonly subject: string;
  readonly streamSequence: number;
  readonly deliveryCount: number;
  readonly type: string | undefined;
  /** The event's id and correlation id, when it could be decoded (for log lines). */
  readonly eventId?: string | undefined;
  readonly correlationId?: string | undefined;
  readonly settlement: Settlement;
  readonly durationMs: number;
}

/** Options of {@link JetStreamTransport}. */
export interface JetStreamTransportOptions {
  readonly connection: NatsConnectionConfig;
  /** The event stream and, optionally, its creation settings. */
  readonly stream: EventStreamSettings;
  /** Default durable consumer name for handlers that do not name their own. */
  readonly consumer: string;
  /** Deliveries before a failing message is dead-lettered. Default 10. */
  readonly maxDeliver?: number;
  /** Ack deadline; the transport extends it with `working()` while a handler runs. Default 30 s. */
  readonly ackWaitMs?: number;
  /** Deliveries handled at once per consumer (different keys only). Default 32. */
  readonly concurrency?: number;
  /** Settings of single consumers, by durable name, over the transport-wide ones. */
  readonly consumers?: Readonly<Record<string, ConsumerSettings>>;
  readonly backoff?: BackoffPolicy;
  /** Where a newly created consumer starts. Default `all`. */
  readonly deliverPolicy?: 'all' | 'new';
  /** How long `close()` waits for in-flight handlers before draining anyway. Default 25 s. */
  readonly drainTimeoutMs?: number;
  /** Called after each settlement (metrics). Must not throw. */
  readonly onSettled?: (delivery: SettledDelivery) => void;
}

/** Settings of one durable consumer (see {@link JetStreamTransportOptions.consumers}). */
export interface ConsumerSettings {
  /**
   * Deliveries pulled and handled at once by this consumer (different keys only), instead of the
   * transport's `concurrency`. A wide window suits a consumer whose handler group-commits
   * (`Outbox.batched`): the deliveries in flight together are what one transaction can take.
   * Each is still acked on its own, after its handler returned.
   */
  readonly concurrency?: number;
}

interface RunningConsumer {
  readonly name: string;
  readonly messages: ConsumerMessages;
  readonly lanes: KeyLanes;
  readonly loop: Promise<void>;
}

/**
 * A NestJS transport over JetStream durable pull consumers.
 *
 * - Handlers are declared with `@ConsumeEvents(type)`; each names (or defaults) its durable consumer.
 * - Every delivery is decoded with `@idm/contracts`; an undecodable one never reaches a handler.
 * - Two events with the same key (user id, schedule) are never handled at the same time by one
 *   process; different keys run in parallel up to `concurrency`. Across replicas, handlers rely on
 *   the inbox for exactly-once state changes.
 * - Settlement follows {@link decideSettlement}: ack only after the handler returned (its effect
 *   is durable by then; the acks of one event-loop turn leave together, see {@link OutboundBatch}), nak with backoff on transient errors, dead-letter + term on poison or at
 *   `maxDeliver`. While a handler runs the ack deadline is extended with `working()`.
 * - `close()` (SIGTERM via Nest shutdown hooks) stops pulling, lets in-flight handlers finish and
 *   settle, then drains the connection. Messages pulled but not started are left unacked and are
 *   redelivered after `ackWaitMs`: nothing is lost.
 *
 * Works on nats-server 2.9+; on 2.10+ a consumer with several types uses `filter_subjects`.
 */
export class JetStreamTransport extends Server implements CustomTransportStrategy {
  private nc: NatsConnection | undefined;
  private js: JetStreamClient | undefined;
  private readonly running: RunningConsumer[] = [];
  private closing = false;
  private readonly policy: SettlementPolicy;
  private readonly ackWaitMs: number;
  private readonly concurrency: number;
  /** Acks leave once per event-loop turn, not one socket write each (see {@link OutboundBatch}). */
  private readonly acks = new OutboundBatch();
  /** Largest dead-letter record the DLQ stream and the server accept; set at start. */
  private deadLetterMaxBytes = 1024 * 1024;

  constructor(private readonly options: JetStreamTransportOptions) {
    super();
    this.policy = { maxDeliver: options.maxDeliver ?? 10, backoff: options.backoff ?? DEFAULT_BACKOFF };
    this.ackWaitMs = options.ackWaitMs ?? 30_000;
    this.concurrency = options.concurrency ?? 32;
  }

  /** Connects, provisions the stream, the dead-letter stream and the consumers, then starts pulling. */
  async listen(callback: (err?: unknown) => void): Promise<void> {
    try {
      await this.start();
      callback();
    } catch (err) {
      callback(err);
    }
  }

  private async start(): Promise<void> {
    const nc = await connectNats(this.options.connection);
    this.nc = nc;
    const jsm = await jetstreamManager(nc);
    this.js = jetstream(nc);
    await ensureEventStream(jsm, this.options.stream);
    const dlq = await ensureDeadLetterStream(jsm, this.options.stream);
    // A record must fit both the DLQ stream's max_msg_size (-1 = unlimited) and the server's max_payload.
    const streamLimit = dlq.info.config.max_msg_size > 0 ? dlq.info.config.max_msg_size : Number.POSITIVE_INFINITY;
    const serverLimit = nc.info?.max_payload ?? 1024 * 1024;
    this.deadLetterMaxBytes = Math.min(streamLimit, serverLimit);
    const features = serverFeatures(nc);
    for (const [name, handlers] of this.handlersByConsumer()) {
      const concurrency = this.options.consumers?.[name]?.concurrency ?? this.concurrency;
      await ensureConsumer(
        jsm,
        {
          stream: this.options.stream.name,
          name,
          types: [...handlers.keys()],
          ackWaitMs: this.ackWaitMs,
          maxAckPending: Math.max(1_000, concurrency * 4),
          deliverPolicy: this.options.deliverPolicy ?? 'all',
        },
        features,
      );
      const consumer = await this.js.consumers.get(this.options.stream.name, name);
      // A small pull buffer: pulled-but-waiting messages age towards their ack deadline.
      const messages = await consumer.consume({ max_messages: concurrency, expires: 10_000 });
      const lanes = new KeyLanes(concurrency);
      const loop = this.pull(name, messages, lanes, handlers);
      this.running.push({ name, messages, lanes, loop });
    }
  }

  private handlersByConsumer(): Map<string, Map<string, MessageHandler>> {
    const out = new Map<string, Map<string, MessageHandler>>();
    for (const [pattern, handler] of this.messageHandlers) {
      const extra: unknown = handler.extras?.[CONSUMER_EXTRA];
      const name = typeof extra === 'string' ? extra : this.options.consumer;
      const group = out.get(name) ?? new Map<string, MessageHandler>();
      if (group.has(pattern)) throw new Error(`two handlers for ${pattern} on consumer ${name}`);
      group.set(pattern, handler);
      out.set(name, group);
    }
    return out;
  }

  private async pull(consumer: string, messages: ConsumerMessages, lanes: KeyLanes, handlers: Map<string, MessageHandler>): Promise<void> {
    const types = [...handlers.keys()];
    try {
      for await (const msg of messages) {
        if (this.closing) {
          msg.nak();
          continue;
        }
        if (!types.some((type) => msg.subject.startsWith(`${type}.`))) {
          this.skip(consumer, msg);
          continue;
        }
        await lanes.acquire();
        // Working() starts at receipt: a message queued behind others of its key is also ageing.
        const heartbeat = setInterval(() => msg.working(), Math.max(1_000, Math.floor(this.ackWaitMs / 3)));
        void lanes.run(keyOf(msg.subject), async () => {
          try {
            await this.process(consumer, msg, handlers);
          } finally {
            clearInterval(heartbeat);
          }
        });
      }
    } catch (err) {
      if (!this.closing) this.logger.error(`consumer ${consumer} stopped pulling: ${errorMessage(err)}`);
    }
  }

  /**
   * Acks a delivery of a type this consumer has no handler for, from its subject alone: not
   * decoded, not queued behind the keys in flight. nats-server 2.9 cannot filter a consumer on
   * several types (see `consumerFilter`), so it delivers the whole stream, the app's own events
   * included; 2.10+ never delivers these. After a burst of 20,000 `UserAdded` the notifier still
   * had 12,600 of its own `EmailQueued` to read when the next `UserAdded` arrived, and that event
   * waited behind them. The ack goes through the batch like every other: the loop takes one
   * delivery per microtask and nats.js writes at each microtask checkpoint, so acked here each
   * skipped delivery cost a socket write of its own (20,000 of them in that burst, strace).
   */
  private skip(consumer: string, msg: JsMsg): void {
    this.acks.ack(msg);
    this.options.onSettled?.({
      consumer,
      subject: msg.subject,
      streamSequence: msg.info.streamSequence,
      deliveryCount: msg.info.deliveryCount,
      type: msg.subject.split('.', 3).join('.'),
      settlement: { action: 'ack' },
      durationMs: 0,
    });
  }

  private async process(consumer: string, msg: JsMsg, handlers: Map<string, MessageHandler>): Promise<void> {
    const started = performance.now();
    const deliveryCount = msg.info.deliveryCount;
    let type: string | undefined;
    let eventId: string | undefined;
    let correlationId: string | undefined;
    let outcome: HandlingOutcome;
    if (isPastDeliveryLimit(deliveryCount, this.policy)) {
      outcome = {
        kind: 'failed',
        error: new Error(`delivery ${deliveryCount} is past the limit of ${this.policy.maxDeliver}; the handler was not run again`),
      };
    } else {
      try {
        const event = decodeDelivery(msg);
        type = event.type;
        eventId = event.id;
        correlationId = event.correlationid;
        const handler = handlers.get(event.type);
        if (!handler) outcome = { kind: 'no-handler' };
        else outcome = await this.invoke(handler, event, consumer, msg);
      } catch (error) {
        outcome = { kind: 'failed', error };
      }
    }
    const settlement = await this.settle(consumer, msg, decideSettlement(outcome, deliveryCount, this.policy));
    this.options.onSettled?.({
      consumer,
      subject: msg.subject,
      streamSequence: msg.info.streamSequence,
      deliveryCount,
      type,
      eventId,
      correlationId,
      settlement,
      durationMs: performance.now() - started,
    });
  }

  private async invoke(handler: MessageHandler, event: IdmEvent, consumer: string, msg: JsMsg): Promise<HandlingOutcome> {
    const ctx = new EventContext(
      { consumer, subject: msg.subject, streamSequence: msg.info.streamSequence, deliveryCount: msg.info.deliveryCount },
      () => msg.working(),
    );
    try {
      const result: unknown = await handler(event, ctx);
      await lastValueFrom(this.transformToObservable(result), { defaultValue: undefined });
      return { kind: 'handled' };
    } catch (error) {
      // Nest's exception layer replaces the error; @ConsumeEvents kept the original on the context.
      return { kind: 'failed', error: ctx.failure ?? error };
    }
  }

  /** Settles the delivery; returns what was actually done (a dead letter that could not be stored is a nak). */
  private async settle(consumer: string, msg: JsMsg, settlement: Settlement): Promise<Settlement> {
    switch (settlement.action) {
      case 'ack':
        this.acks.ack(msg);
        return settlement;
      case 'nak':
        this.logger.warn(
          `${consumer}: ${msg.subject} #${msg.info.streamSequence} failed (delivery ${msg.info.deliveryCount}); retrying in ${settlement.delayMs} ms`,
        );
        msg.nak(settlement.delayMs);
        return settlement;
      case 'dead-letter': {
        const record = deadLetterRecord(
          msg,
          consumer,
          settlement.reason,
          settlement.code,
          settlement.message,
          new Date(),
          this.deadLetterMaxBytes,
        );
        try {
          await writeDeadLetter(this.js!, record);
        } catch (err) {
          // Without the record, terminating would lose the evidence: the message stays, and the
          // next delivery (past the limit, so the handler is not run again) tries the record again.
          const delayMs = backoffDelay(this.policy.backoff, msg.info.deliveryCount);
          this.logger.error(
            `${consumer}: could not store the dead letter of ${msg.subject} #${msg.info.streamSequence} (${settlement.reason}); not terminated, retrying in ${delayMs} ms: ${errorMessage(err)}`,
          );
          msg.nak(delayMs);
          return { action: 'nak', delayMs };
        }
        this.logger.error(
          `${consumer}: dead-lettered ${msg.subject} #${msg.info.streamSequence} (${settlement.reason}, ${settlement.code})${record.payloadTruncated ? ` [payload of ${record.payloadSize} bytes truncated in the record; the original is ${record.stream} #${record.streamSequence}]` : ''}: ${settlement.message}`,
        );
        // No reason string: `+TERM <reason>` needs nats-server 2.10.4+, and 2.9 ignores the whole
        // term — the message would come back. The dead-letter record carries the reason instead.
        msg.term();
        return settlement;
      }
    }
  }

  /** Stops pulling, waits for in-flight handlers (bounded), then drains the connection. */
  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    for (const r of this.running) r.messages.stop();
    const timeout = this.options.drainTimeoutMs ?? 25_000;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all(this.running.map((r) => r.lanes.idle())),
      new Promise<void>((resolve) => {
        timer = setTimeout(() => {
          this.logger.warn(`in-flight handlers did not finish within ${timeout} ms; their messages will be redelivered`);
          resolve();
        }, timeout);
      }),
    ]);
    clearTimeout(timer);
    await Promise.all(this.running.map((r) => r.loop));
    this.acks.flush();
    if (this.nc && !this.nc.isClosed()) await this.nc.drain();
  }

  /** Status events are not surfaced yet; health checks read {@link isReady}. */
  on(): void {}

  /** The underlying NATS connection (after `listen`). */
  unwrap<T>(): T {
    if (!this.nc) throw new Error('JetStreamTransport is not listening yet');
    return this.nc as T;
  }

  /** True while connected and pulling: for readiness probes. */
  isReady(): boolean {
    return !!this.nc && !this.nc.isClosed() && !this.closing && this.running.length > 0;
  }
}

/** The ordering key of a delivery: the escaped CloudEvents subject (4th token). */
function keyOf(subject: string): string {
  return subject.split('.').slice(3).join('.') || subject;
}

/** Decodes a delivery and checks the NATS subject matches the envelope, so filters cannot be fooled. */
function decodeDelivery(msg: JsMsg): IdmEvent {
  const event = decodeEvent(msg.data);
  const expected = subjectFor(event.type, event.subject);
  if (expected !== msg.subject)
    throw new DecodeError('envelope-invalid', `published on ${msg.subject} but its type and subject say ${expected}`, 'subject');
  return event;
}
