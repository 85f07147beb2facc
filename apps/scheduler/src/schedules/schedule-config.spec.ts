import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadSchedules, parseScheduleFile, ScheduleConfigError, type ScheduleConfigFault } from './schedule-config.js';

const files = (content: Record<string, string>) => (path: string) => {
  const text = content[path];
  if (text === undefined) throw new Error(`ENOENT: no such file, open '${path}'`);
  return text;
};

function assertFault(fn: () => unknown, fault: ScheduleConfigFault, schedule: string | undefined, messagePart: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof ScheduleConfigError);
    assert.equal(err.code, 'IDM_SCHEDULE_CONFIG_INVALID');
    assert.equal(err.fault, fault);
    assert.equal(err.schedule, schedule);
    assert.match(err.message, messagePart);
    return true;
  });
}

describe('loadSchedules', () => {
  describe('without SCHEDULES_FILE', () => {
    it('gives the single email-retry schedule, every 5 minutes in UTC', () => {
      assert.deepEqual(loadSchedules({}), [
        { name: 'email-retry', cron: '*/5 * * * *', timezone: 'UTC', task: 'RetryEmailNotifications', enabled: true },
      ]);
    });
    it('lets EMAIL_RETRY_CRON replace the expression', () => {
      assert.equal(loadSchedules({ EMAIL_RETRY_CRON: '*/2 * * * *' })[0]!.cron, '*/2 * * * *');
    });
    it('stops on an invalid EMAIL_RETRY_CRON, naming the schedule and the fault', () => {
      assertFault(
        () => loadSchedules({ EMAIL_RETRY_CRON: '*/0 * * * *' }),
        'cron-invalid',
        'email-retry',
        /"email-retry".*invalid cron expression "\*\/0 \* \* \* \*".*stepping/,
      );
    });
  });

  describe('with a YAML file', () => {
    const yaml = `
schedules:
  - name: email-retry
    cron: "*/5 * * * *"
    task: RetryEmailNotifications
  - name: nightly-report
    cron: "0 30 2 * * *"
    timezone: Europe/Berlin
    task: NightlyReport
    enabled: false
`;
    it('reads every schedule and fills the defaults', () => {
      assert.deepEqual(loadSchedules({ SCHEDULES_FILE: '/s.yaml' }, files({ '/s.yaml': yaml })), [
        { name: 'email-retry', cron: '*/5 * * * *', timezone: 'UTC', task: 'RetryEmailNotifications', enabled: true },
        { name: 'nightly-report', cron: '0 30 2 * * *', timezone: 'Europe/Berlin', task: 'NightlyReport', enabled: false },
      ]);
    });
    it('applies EMAIL_RETRY_CRON to the file’s email-retry schedule only', () => {
      const schedules = loadSchedules({ SCHEDULES_FILE: '/s.yaml', EMAIL_RETRY_CRON: '* * * * * *' }, files({ '/s.yaml': yaml }));
      assert.deepEqual(
        schedules.map((s) => s.cron),
        ['* * * * * *', '0 30 2 * * *'],
      );
    });
  });

  describe('with a JSON file', () => {
    it('accepts a bare list', () => {
      const json = JSON.stringify([{ name: 'a', cron: '0 * * * *', task: 'T' }]);
      assert.deepEqual(loadSchedules({ SCHEDULES_FILE: '/s.json' }, files({ '/s.json': json })), [
        { name: 'a', cron: '0 * * * *', timezone: 'UTC', task: 'T', enabled: true },
      ]);
    });
  });

  describe('faults', () => {
    const load =
      (text: string, env: { EMAIL_RETRY_CRON?: string } = {}) =>
      () =>
        loadSchedules({ SCHEDULES_FILE: '/s.yaml', ...env }, files({ '/s.yaml': text }));
    it('an unreadable file', () => {
      assertFault(
        () => loadSchedules({ SCHEDULES_FILE: '/missing.yaml' }, files({})),
        'file-unreadable',
        undefined,
        /\/missing\.yaml.*ENOENT/,
      );
    });
    it('text that is not YAML', () => {
      assertFault(load('schedules: [\n  {'), 'file-malformed', undefined, /not valid YAML/);
    });
    it('a document of the wrong shape', () => {
      assertFault(load('schedules: 3'), 'file-malformed', undefined, /list of schedules/);
    });
    it('an empty list', () => {
      assertFault(load('schedules: []'), 'no-schedules', undefined, /no schedules/);
    });
    it('a missing task', () => {
      assertFault(load('- { name: a, cron: "* * * * *" }'), 'field-invalid', 'a', /"a": task/);
    });
    it('an entry without a name is named by its position', () => {
      assertFault(load('- { name: a, cron: "* * * * *", task: T }\n- { cron: "* * * * *", task: T }'), 'field-invalid', '#2', /"#2": name/);
    });
    it('a cron expression with too many fields', () => {
      assertFault(
        load('- { name: a, cron: "* * * * * * *", task: T }'),
        'cron-invalid',
        'a',
        /expected 5 fields \(or 6 with seconds\), got 7/,
      );
    });
    it('a cron value out of range', () => {
      assertFault(load('- { name: a, cron: "61 * * * *", task: T }'), 'cron-invalid', 'a', /minute: 61/);
    });
    it('a date instead of a cron expression', () => {
      assertFault(load('- { name: a, cron: "0 10:00 1 1 *", task: T }'), 'cron-invalid', 'a', /unexpected ':'/);
    });
    it('an expression that never fires', () => {
      assertFault(load('- { name: a, cron: "0 0 30 2 *", task: T }'), 'cron-never-fires', 'a', /never fires/);
    });
    it('an unknown time zone', () => {
      assertFault(load('- { name: a, cron: "* * * * *", timezone: Mars/Olympus, task: T }'), 'timezone-invalid', 'a', /Mars\/Olympus/);
    });
    it('a duplicate name', () => {
      assertFault(
        load('- { name: a, cron: "* * * * *", task: T }\n- { name: a, cron: "0 * * * *", task: U }'),
        'duplicate-name',
        'a',
        /more than one/,
      );
    });
    it('EMAIL_RETRY_CRON with a file that has no email-retry schedule', () => {
      assertFault(
        load('- { name: a, cron: "* * * * *", task: T }', { EMAIL_RETRY_CRON: '* * * * *' }),
        'override-without-schedule',
        'email-retry',
        /EMAIL_RETRY_CRON/,
      );
    });
  });
});

describe('parseScheduleFile', () => {
  it('reads JSON text as YAML', () => {
    assert.equal(parseScheduleFile('{"schedules":[{"name":"a","cron":"* * * * *","task":"T","enabled":false}]}')[0]!.enabled, false);
  });
});
