/** The time source, injected so deciders get time as data and specs can fix it. */
export abstract class Clock {
  abstract now(): Date;
}

/** The wall clock. */
export class SystemClock extends Clock {
  override now(): Date {
    return new Date();
  }
}
