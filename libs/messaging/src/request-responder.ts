import type { Msg, NatsConnection, Subscription } from '@nats-io/nats-core';
import type { ZodType } from 'zod';
import { errorMessage } from '@idm/config';
import { OutboundBatch } from './outbound-batch.js';
import { replyBody, type ResponderLogger } from './reply-body.js';

/** The body of a JSON request, validated, or the reply to send when it is not valid. */
export type ParsedRequest<T> =
  { readonly ok: true; readonly value: T } | { readonly ok: false; readonly reply: { ok: false; error: string } };

/**
 * Parses a request body as JSON and validates it. The reply on failure says what was expected
 * and never echoes the request (it may hold a password).
 */
export function parseRequest<T>(msg: Msg, schema: ZodType<T>, expected: string): ParsedRequest<T> {
  let body: unknown;
  try {
    body = msg.json();
  } catch {
    return { ok: false, reply: { ok: false, error: 'the request is not JSON' } };
  }
  const parsed = schema.safeParse(body);
  return parsed.success ? { ok: true, value: parsed.data } : { ok: false, reply: { ok: false, error: `expected ${expected}` } };
}

/**
 * The request/reply subjects one app answers, all in one queue group (one replica answers each
 * request): the one way the apps serve core-NATS requests (operator commands, status queries, the
 * password change command).
 *
 * - Every request gets a JSON reply: the answer's value, or `{ ok: false, error }` when the answer
 *   throws (its message; answers that must not show theirs catch their own errors) or its value
 *   cannot be encoded (see {@link replyBody}). Errors are logged by message only.
 * - A logger that throws costs a log line, never the reply, and never an unhandled rejection.
 * - Replies of one subject leave once per event-loop turn (see {@link OutboundBatch}).
 * - {@link close} stops taking requests, waits for the answers in flight and sends their replies:
 *   call it before the connection drains, so a command received before shutdown is answered.
 */
export class RequestResponders {
  private readonly subscriptions: Subscription[] = [];
  private readonly batches: OutboundBatch[] = [];
  private readonly inFlight = new Set<Promise<void>>();
  private readonly logger: ResponderLogger;

  constructor(
    private readonly nc: NatsConnection,
    private readonly queue: string,
    logger: ResponderLogger,
  ) {
    this.logger = {
      error: (message) => {
        try {
          logger.error(message);
        } catch {
          // The requester is owed its reply whatever became of the log line.
        }
      },
    };
  }

  /** Answers `subject` with `answer`'s value (a request body, if any, is `answer`'s to read). */
  serve(subject: string, answer: (msg: Msg) => unknown): void {
    const replies = new OutboundBatch((e) => this.logger.error(`${subject}: cannot reply: ${errorMessage(e)}`));
    this.batches.push(replies);
    const subscription = this.nc.subscribe(subject, {
      queue: this.queue,
      callback: (err, msg) => {
        if (err) {
          this.logger.error(`subscription ${subject} failed: ${err.message}`);
          return;
        }
        // A Promise around the call: an answer that throws before its first await is caught too.
        const work = new Promise<unknown>((resolve) => resolve(answer(msg)))
          .catch((e: unknown) => {
            this.logger.error(`${subject} failed: ${errorMessage(e)}`);
            return { ok: false, error: errorMessage(e) };
          })
          // replyBody never throws and the batch reports its own failures: nothing is left to catch.
          .then((reply) => replies.respond(msg, replyBody(reply, subject, this.logger)))
          .finally(() => this.inFlight.delete(work));
        this.inFlight.add(work);
      },
    });
    this.subscriptions.push(subscription);
  }

  /**
   * Answers `subject` with `answer`'s value for the request body validated by `schema`; a body
   * that is not JSON or not valid gets `{ ok: false, error }` naming the `expected` shape, and
   * `answer` is not called (see {@link parseRequest}: the request is never echoed).
   */
  serveParsed<T>(subject: string, schema: ZodType<T>, expected: string, answer: (request: T) => Promise<unknown>): void {
    this.serve(subject, async (msg) => {
      const request = parseRequest(msg, schema, expected);
      return request.ok ? answer(request.value) : request.reply;
    });
  }

  /** Answers still running (status pages, tests). */
  get answering(): number {
    return this.inFlight.size;
  }

  /**
   * Stops answering every subject served so far, waits for the answers in flight and sends their
   * replies. A request that arrives meanwhile goes to another replica of the queue group, or gets
   * "no responders" at once.
   */
  async close(): Promise<void> {
    for (const s of this.subscriptions.splice(0)) s.unsubscribe();
    await Promise.allSettled([...this.inFlight]);
    for (const replies of this.batches) replies.flush();
  }
}
