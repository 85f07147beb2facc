import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from '@idm/config';
import { ScheduleConfigError } from './schedules/schedule-config.js';
import { readSchedulerConfig } from './scheduler.config.js';

const noFiles = (path: string): string => {
  throw new Error(`ENOENT: ${path}`);
};

describe('readSchedulerConfig', () => {
  it('with nothing set: the single email-retry schedule and a 60 s grace', () => {
    const config = readSchedulerConfig({}, noFiles);
    assert.deepEqual(
      config.schedules.map((s) => s.name),
      ['email-retry'],
    );
    assert.equal(config.graceMs, 60_000);
  });

  it('reads the schedules file and the grace from the environment', () => {
    const file = 'schedules:\n  - { name: nightly, cron: "0 3 * * *", task: Nightly }\n';
    const config = readSchedulerConfig({ SCHEDULES_FILE: '/s.yaml', SCHEDULER_GRACE_SECONDS: '5' }, (p) =>
      p === '/s.yaml' ? file : noFiles(p),
    );
    assert.deepEqual(
      config.schedules.map((s) => [s.name, s.task]),
      [['nightly', 'Nightly']],
    );
    assert.equal(config.graceMs, 5_000);
  });

  it('a bad variable stops the start with a ConfigError naming it', () => {
    assert.throws(
      () => readSchedulerConfig({ SCHEDULER_GRACE_SECONDS: '-1' }, noFiles),
      (err: unknown) => err instanceof ConfigError && /SCHEDULER_GRACE_SECONDS/.test(err.message),
    );
  });

  it('a bad schedule stops the start with a ScheduleConfigError', () => {
    assert.throws(() => readSchedulerConfig({ EMAIL_RETRY_CRON: 'not cron' }, noFiles), ScheduleConfigError);
  });
});
