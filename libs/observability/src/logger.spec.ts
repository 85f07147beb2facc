import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { createLogger } from './logger.js';
import { PinoNestLogger } from './nest-logger.js';

function capture(): { stream: Writable; lines: () => Record<string, unknown>[]; text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      chunks.push(chunk.toString('utf8'));
      done();
    },
  });
  const text = () => chunks.join('');
  return {
    stream,
    text,
    lines: () =>
      text()
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

describe('createLogger redaction', () => {
  it('never writes a password field or the credentials of a URL', () => {
    const out = capture();
    const log = createLogger({ app: 'notifier', destination: out.stream });
    log.info({ userId: 'u-1', password: 'Sup3r-Secret!', eventId: 'e-1', correlationId: 'c-1' }, 'password change received');
    log.warn({ config: { SMTP_URL: 'smtp://mailer:hunter2@mail.example.com:587', bindPassword: 'ldap-pw-9' } }, 'config');
    log.error('cannot connect to smtp://mailer:hunter2@mail.example.com:587 (ECONNREFUSED)');
    log.error({ err: new Error('login failed for ldaps://cn=admin:ldap-pw-9@dir.example.com') }, 'bind failed');
    const text = out.text();
    for (const secret of ['Sup3r-Secret!', 'hunter2', 'ldap-pw-9']) assert.equal(text.includes(secret), false, `${secret} leaked: ${text}`);
    const [first, , third] = out.lines();
    assert.equal(first!.password, '[redacted]');
    assert.equal(first!.eventId, 'e-1');
    assert.equal(first!.correlationId, 'c-1');
    assert.equal(first!.app, 'notifier');
    assert.equal(first!.level, 'info');
    assert.match(String(third!.msg), /smtp:\/\/mailer:\*\*\*@mail\.example\.com:587/);
  });

  it('routes Nest logs through pino with the same redaction', () => {
    const out = capture();
    const nest = new PinoNestLogger(createLogger({ app: 'scheduler', destination: out.stream }));
    nest.log('ready: SMTP smtp://u:pw-in-nest@h:25', 'Notifier');
    nest.error('start failed', 'Error: x\n    at smtp://u:pw-in-stack@h', 'Notifier');
    const text = out.text();
    assert.equal(text.includes('pw-in-nest'), false);
    assert.equal(text.includes('pw-in-stack'), false);
    const [log, error] = out.lines();
    assert.equal(log!.context, 'Notifier');
    assert.equal(error!.level, 'error');
  });

  it("writes Nest's bootstrap lines at debug and the app's own lines at info", () => {
    const out = capture();
    const nest = new PinoNestLogger(createLogger({ app: 'notifier', level: 'debug', destination: out.stream }));
    nest.log('NotifierModule dependencies initialized', 'InstanceLoader');
    nest.log('Mapped {/health/live, GET} route', 'RouterExplorer');
    nest.log('notifier ready', 'Notifier');
    assert.deepEqual(
      out.lines().map((l) => [l.context, l.level]),
      [
        ['InstanceLoader', 'debug'],
        ['RouterExplorer', 'debug'],
        ['Notifier', 'info'],
      ],
    );
  });
});
