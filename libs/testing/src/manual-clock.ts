import { Clock } from '@idm/config';
import { FIXED_NOW } from './given-when-then.js';

/**
 * A clock that moves only when a test moves it: it starts at `start` (default `FIXED_NOW`) and
 * stays there until {@link ManualClock.set} or {@link ManualClock.advance}. `now()` returns a new
 * `Date` each call, so code that mutates the value it got cannot move the clock.
 */
export class ManualClock extends Clock {
  private ms: number;

  constructor(start: Date | string = FIXED_NOW) {
    super();
    this.ms = new Date(start).getTime();
  }

  override now(): Date {
    return new Date(this.ms);
  }

  /** Jumps to `at` (forward or back). */
  set(at: Date | string): void {
    this.ms = new Date(at).getTime();
  }

  /** Moves forward by `ms` milliseconds. */
  advance(ms: number): void {
    this.ms += ms;
  }
}
