import { Injectable } from '@nestjs/common';
import { EventTypes, subjectFor } from '@idm/contracts';
import { EventPublisher, EventReader, WrongLastSequenceError } from '@idm/messaging';
import { TickLog, type StoredTick, type TickEvent } from './tick-log.port.js';

/** A tick read back from the stream under a schedule's tick subject is not a tick. */
export class UnexpectedTickEventError extends Error {
  override readonly name = 'UnexpectedTickEventError';
  readonly code = 'IDM_SCHEDULER_UNEXPECTED_EVENT';
}

/**
 * {@link TickLog} on the event stream. The last tick is a direct `last_by_subj` read of
 * `idm.bulk-task.tick.<schedule>`; an append carries `Nats-Msg-Id` = the tick id AND the expected
 * last sequence of that subject (0 = no tick yet). Either guard firing means someone else ticked.
 */
@Injectable()
export class JetStreamTickLog extends TickLog {
  constructor(
    private readonly reader: EventReader,
    private readonly publisher: EventPublisher,
  ) {
    super();
  }

  async lastTick(schedule: string): Promise<StoredTick | undefined> {
    const stored = await this.reader.lastOn(subjectFor(EventTypes.BulkTaskTick, schedule));
    if (!stored) return undefined;
    if (stored.event.type !== EventTypes.BulkTaskTick) {
      throw new UnexpectedTickEventError(`seq ${stored.seq} on the tick subject of ${schedule} is a ${stored.event.type}`);
    }
    return { event: stored.event, seq: stored.seq };
  }

  async append(event: TickEvent, expectedLastSeq: number | undefined): Promise<'appended' | 'already-fired'> {
    try {
      const receipt = await this.publisher.publish(event, { expectedLastSubjectSequence: expectedLastSeq ?? 0 });
      return receipt.duplicate ? 'already-fired' : 'appended';
    } catch (err) {
      if (err instanceof WrongLastSequenceError) return 'already-fired';
      throw err;
    }
  }
}
