/** What {@link OutboundBatch.ack} needs of a delivery: its ack (a `JsMsg` has it). */
export interface Ackable {
  ack(): void;
}

/** What {@link OutboundBatch.respond} needs of a request: its reply (a core-NATS `Msg` has it). */
export interface Respondable {
  respond(data: string): boolean;
}

/**
 * The acks and replies of one event-loop turn, sent together: those made during a turn (the
 * handlers of one group commit return together) are handed to the connection at the end of it,
 * in one synchronous run, so they leave in one socket write.
 *
 * Why: nats.js writes its outbound buffer at the next microtask checkpoint, and the acks or
 * replies of a group commit reached it at as many checkpoints as there were of them — one
 * `write(2)` each. On loopback that syscall also runs the receiving side of TCP and wakes
 * nats-server. Acks: strace of the notifier's ingest gave 21,500 writes for 20,000 events, 1,800
 * with this, about a fifth of the app's CPU per event. Replies: password-sync answered each
 * password change with a write of its own (about 0.1 ms of CPU each on a 2-core VM, profiled).
 * Each leaves at most one turn later, and still only after its handler returned, i.e. after its
 * effect was committed.
 */
export class OutboundBatch {
  private pending: Array<() => void> = [];
  private scheduled: NodeJS.Immediate | undefined;

  /**
   * @param onError told of each ack or reply that could not be sent (a closed connection); it is
   *   dropped all the same (see {@link flush}). The error names the connection's state, never a body.
   */
  constructor(private readonly onError: (error: unknown) => void = () => undefined) {}

  /** Acks `msg` at the end of this event-loop turn (or at the next {@link flush}). */
  ack(msg: Ackable): void {
    this.add(() => msg.ack());
  }

  /** Sends `body` as the reply to `msg` at the end of this event-loop turn (or at the next {@link flush}). */
  respond(msg: Respondable, body: string): void {
    this.add(() => void msg.respond(body));
  }

  /** Number of acks and replies waiting to be sent. */
  get size(): number {
    return this.pending.length;
  }

  /**
   * Sends everything waiting now, in the order given (call it before draining the connection).
   * What cannot be sent (the connection is closed) is dropped, as if lost on the wire: the server
   * redelivers an unacked message after its ack deadline (the inbox makes that a no-op), and a
   * requester with no reply times out and asks again.
   */
  flush(): void {
    if (this.scheduled) clearImmediate(this.scheduled);
    this.scheduled = undefined;
    const sends = this.pending;
    this.pending = [];
    for (const send of sends) {
      try {
        send();
      } catch (error) {
        // See above: redelivered, or asked again.
        try {
          this.onError(error);
        } catch {
          // A broken logger must not keep the rest of the batch from being sent.
        }
      }
    }
  }

  private add(send: () => void): void {
    this.pending.push(send);
    this.scheduled ??= setImmediate(() => this.flush());
  }
}
