/** The time source of the shell; deciders receive its value as data. Swapped in specs. */
export abstract class Clock {
  abstract now(): Date;
}

/** Wall-clock time. */
export class SystemClock extends Clock {
  now(): Date {
    return new Date();
  }
}
