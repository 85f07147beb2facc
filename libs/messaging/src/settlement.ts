import { DecodeError } from '@idm/contracts';
import { backoffDelay, errorMessage, type BackoffPolicy } from '@idm/config';
import { PermanentError, errorCode } from './errors.js';

/** What happened when a delivered message was offered to its handler. */
export type HandlingOutcome =
  { readonly kind: 'handled' } | { readonly kind: 'no-handler' } | { readonly kind: 'failed'; readonly error: unknown };

/** Why a message was dead-lettered. Stable: part of the dead-letter record. */
export type DeadLetterReason = 'undecodable' | 'permanent-failure' | 'max-deliveries';

/** How to settle one JetStream delivery. */
export type Settlement =
  | { readonly action: 'ack' }
  | { readonly action: 'nak'; readonly delayMs: number }
  | { readonly action: 'dead-letter'; readonly reason: DeadLetterReason; readonly code: string; readonly message: string };

/** The limits a settlement decision needs. */
export interface SettlementPolicy {
  /** Deliveries allowed before a still-failing message is dead-lettered. */
  readonly maxDeliver: number;
  readonly backoff: BackoffPolicy;
}

/**
 * The whole settlement table, in one pure function:
 *
 * | outcome | settlement |
 * |---|---|
 * | handled, deliberately ignored (handler returned), duplicate, no handler for the type | ack |
 * | undecodable / unknown type or version ({@link DecodeError}) | dead-letter, then term |
 * | {@link PermanentError} | dead-letter, then term |
 * | any other error, deliveries left | nak with backoff by delivery count |
 * | any other error on the last allowed delivery | dead-letter, then term |
 *
 * A delivery count already past the limit (the process died while handling, repeatedly) is
 * dead-lettered without running the handler again, so a poison message cannot crash-loop a service.
 */
export function decideSettlement(
  outcome: HandlingOutcome,
  deliveryCount: number,
  policy: SettlementPolicy,
  random?: () => number,
): Settlement {
  switch (outcome.kind) {
    case 'handled':
    case 'no-handler':
      return { action: 'ack' };
    case 'failed': {
      const { error } = outcome;
      if (error instanceof DecodeError)
        return { action: 'dead-letter', reason: 'undecodable', code: `${error.code}:${error.failure}`, message: error.message };
      if (error instanceof PermanentError)
        return { action: 'dead-letter', reason: 'permanent-failure', code: error.code, message: error.message };
      if (deliveryCount >= policy.maxDeliver) {
        return {
          action: 'dead-letter',
          reason: 'max-deliveries',
          code: errorCode(error),
          message: `failed ${deliveryCount} deliveries; last error: ${errorMessage(error)}`,
        };
      }
      return { action: 'nak', delayMs: backoffDelay(policy.backoff, deliveryCount, random) };
    }
  }
}

/** True when a delivery should be dead-lettered before it is even handled (see {@link decideSettlement}). */
export function isPastDeliveryLimit(deliveryCount: number, policy: SettlementPolicy): boolean {
  return deliveryCount > policy.maxDeliver;
}
