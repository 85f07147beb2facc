/** What {@link AckBatch} needs of a delivery: its ack (a `JsMsg` has it). */
export interface Ackable {
  ack(): void;
}

/**
 * The acks of one event-loop turn, sent together: deliveries acked during a turn (the handlers of
 * one group commit return together) are acked at the end of it, in one socket write.
 *
 * Why: nats.js writes its outbound buffer at the next microtask checkpoint, and the acks of a
 * group commit reached it at as many checkpoints as there were deliveries — one `write(2)` per
 * ack (strace of the notifier's ingest: 21,500 writes for 20,000 events; with this, 1,800), about
 * a fifth of the app's CPU per event. An ack leaves at most one turn later; it is still sent only
 * after the handler returned, i.e. after its effect was committed.
 */
export class AckBatch {
  private pending: Ackable[] = [];
  private scheduled: NodeJS.Immediate | undefined;

  /** Acks `msg` at the end of this event-loop turn (or at the next {@link flush}). */
  ack(msg: Ackable): void {
    this.pending.push(msg);
    this.scheduled ??= setImmediate(() => this.flush());
  }

  /** Number of acks waiting to be sent. */
  get size(): number {
    return this.pending.length;
  }

  /**
   * Sends every waiting ack now (the transport calls it before draining the connection). An ack
   * that cannot be sent (the connection is closed) is dropped: as with an ack lost on the wire,
   * the server redelivers the message after its ack deadline and the inbox makes that a no-op.
   */
  flush(): void {
    if (this.scheduled) clearImmediate(this.scheduled);
    this.scheduled = undefined;
    const acks = this.pending;
    this.pending = [];
    for (const msg of acks) {
      try {
        msg.ack();
      } catch {
        // See above: redelivered after the ack deadline.
      }
    }
  }
}
