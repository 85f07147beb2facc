/**
 * The time source of every app shell. Deciders never read the time: the shell asks the clock and
 * hands the value in as data. An abstract class so it doubles as the Nest DI token; specs provide
 * `ManualClock` from `@idm/testing` instead of {@link SystemClock}.
 */
export abstract class Clock {
  /** The current time; each call may return a new value. */
  abstract now(): Date;
}

/** Wall-clock time (`new Date()`), the clock of every app outside tests. */
export class SystemClock extends Clock {
  override now(): Date {
    return new Date();
  }
}
