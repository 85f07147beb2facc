/**
 * One configured cron schedule. `cron` has 5 fields (minute precision) or 6 (leading seconds);
 * `timezone` is an IANA name the expression is read in. The name doubles as the tick's
 * CloudEvents `subject`, so it is also the key of the schedule's state in the stream.
 */
export interface Schedule {
  readonly name: string;
  readonly cron: string;
  readonly timezone: string;
  readonly task: string;
  readonly enabled: boolean;
}

/** The built-in schedule used when no `SCHEDULES_FILE` is given. */
export const DEFAULT_SCHEDULE: Schedule = {
  name: 'email-retry',
  cron: '*/5 * * * *',
  timezone: 'UTC',
  task: 'RetryEmailNotifications',
  enabled: true,
};
