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
 * Serves core-NATS request/reply on `subject` in a queue group (one replica answers each request).
 * Every request gets a JSON reply: `answer`'s value, or `{ ok: false, error }` when it throws or
 * its value cannot be encoded (see {@link replyBody}). Errors are logged by message only.
 * Unsubscribe the returned subscription on shutdown.
 */
export function serveRequests(
  nc: NatsConnection,
  subject: string,
  queue: string,
  answer: (msg: Msg) => Promise<unknown>,
  logger: ResponderLogger,
): Subscription {
  // Replies leave once per event-loop turn, not one socket write each.
  const replies = new OutboundBatch((e) => logger.error(`${subject}: cannot reply: ${errorMessage(e)}`));
  return nc.subscribe(subject, {
    queue,
    callback: (err, msg) => {
      if (err) {
        logger.error(`subscription ${subject} failed: ${err.message}`);
        return;
      }
      // replyBody never throws and respond() reports its own failures: nothing is left to catch.
      void answer(msg)
        .catch((e: unknown) => {
          logger.error(`${subject} failed: ${errorMessage(e)}`);
          return { ok: false, error: errorMessage(e) };
        })
        .then((reply) => replies.respond(msg, replyBody(reply, subject, logger)));
    },
  });
}

/**
 * The request/reply subjects one app answers, all in one queue group (one replica answers each
 * request) and all unsubscribed by {@link RequestResponders.close} on shutdown. Each subject is
 * served as {@link serveRequests} serves it: every request gets a JSON reply, errors included.
 */
export class RequestResponders {
  private readonly subscriptions: Subscription[] = [];

  constructor(
    private readonly nc: NatsConnection,
    private readonly queue: string,
    private readonly logger: ResponderLogger,
  ) {}

  /** Answers `subject` with `answer`'s value (a request body, if any, is `answer`'s to read). */
  serve(subject: string, answer: (msg: Msg) => Promise<unknown>): void {
    this.subscriptions.push(serveRequests(this.nc, subject, this.queue, answer, this.logger));
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

  /** Stops answering every subject served so far; requests already received still get their reply. */
  close(): void {
    for (const s of this.subscriptions.splice(0)) s.unsubscribe();
  }
}
