import { BaseRpcContext } from '@nestjs/microservices';

/** What a handler may know about the delivery it is handling. */
export interface DeliveryFacts {
  readonly consumer: string;
  readonly subject: string;
  readonly streamSequence: number;
  readonly deliveryCount: number;
}

/**
 * The second argument of every `@ConsumeEvents` handler. `working()` extends the ack deadline; the
 * transport already calls it on a timer while a handler runs, so handlers rarely need it.
 */
export class EventContext extends BaseRpcContext<[DeliveryFacts]> {
  /** Set by the `@ConsumeEvents` wrapper so the original error survives Nest's exception layer. */
  failure: unknown = undefined;

  constructor(
    private readonly facts: DeliveryFacts,
    private readonly signalWorking: () => void,
  ) {
    super([facts]);
  }

  get consumer(): string {
    return this.facts.consumer;
  }
  get subject(): string {
    return this.facts.subject;
  }
  /** The event's sequence in the stream: use it for projection checkpoints. */
  get streamSequence(): number {
    return this.facts.streamSequence;
  }
  /** 1 on the first delivery; more after naks, ack timeouts or crashes. */
  get deliveryCount(): number {
    return this.facts.deliveryCount;
  }
  /** Tells JetStream the message is still being worked on. */
  working(): void {
    this.signalWorking();
  }
}
