import { Injectable } from '@nestjs/common';

/** The time source; tests swap it for a fixed or hand-moved clock. */
export abstract class Clock {
  abstract now(): Date;
}

/** Wall-clock time. */
@Injectable()
export class SystemClock extends Clock {
  now(): Date {
    return new Date();
  }
}
