import type { OutgoingEmail, SendResult } from './mail-transport.js';
import type { SmtpSettings } from './smtp-settings.js';

/** What a worker thread is started with: its own pool's settings (its share of the connections). */
export interface SmtpWorkerData {
  readonly settings: SmtpSettings;
}

/** One email handed to a worker; `id` pairs it with its reply. */
export interface SendRequest {
  readonly id: number;
  readonly email: OutgoingEmail;
}

/** The outcome of one {@link SendRequest}, classified in the worker exactly as in-thread. */
export interface SendReply {
  readonly id: number;
  readonly result: SendResult;
}

/**
 * Main thread → worker. Requests travel in batches (all sends of one event-loop turn in one
 * message), because each message costs a structured clone and a wake-up on both sides.
 * `close`: finish the sends in flight, reply, close the pool, then exit.
 */
export type ToSmtpWorker = { readonly kind: 'send'; readonly requests: readonly SendRequest[] } | { readonly kind: 'close' };

/**
 * Worker → main thread: `ready` once its script loaded and its pool exists (Node's `online` event
 * comes before the script ran, even for a missing file); then the replies of each event-loop turn.
 */
export type FromSmtpWorker = { readonly kind: 'ready' } | { readonly kind: 'replies'; readonly replies: readonly SendReply[] };

/**
 * Splits `total` pooled connections over `workers` threads as evenly as possible; never a thread
 * without a connection (fewer threads then).
 */
export function connectionShares(total: number, workers: number): number[] {
  const threads = Math.max(1, Math.min(workers, total));
  const base = Math.floor(total / threads);
  return Array.from({ length: threads }, (_, i) => base + (i < total % threads ? 1 : 0));
}
