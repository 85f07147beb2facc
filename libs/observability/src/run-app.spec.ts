import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { runApp, type AppLogging } from './run-app.js';

// LOG_LEVEL=fatal keeps the spec's output clean; what is logged is pino's own business (logger.spec.ts).
const quiet = { LOG_LEVEL: 'fatal' };

describe('runApp', () => {
  afterEach(() => {
    process.exitCode = undefined;
  });

  it('configures, then starts with the configuration and the loggers', async () => {
    const seen: Array<[string, unknown]> = [];
    await runApp(
      {
        app: 'spec',
        context: 'Spec',
        configure: () => {
          seen.push(['configure', undefined]);
          return { answer: 42 };
        },
        start: (config, logging: AppLogging) => {
          seen.push(['start', config]);
          assert.equal(typeof logging.pino.info, 'function');
          assert.equal(typeof logging.logger.log, 'function');
          return Promise.resolve();
        },
      },
      { env: quiet, exit: () => assert.fail('must not exit') },
    );
    assert.deepEqual(seen, [
      ['configure', undefined],
      ['start', { answer: 42 }],
    ]);
    assert.equal(process.exitCode, undefined);
  });

  it('invalid configuration: exit code 1, nothing started, no exit call', async () => {
    let started = false;
    await runApp(
      {
        app: 'spec',
        context: 'Spec',
        configure: () => {
          throw new Error('SMTP_URL: required');
        },
        start: () => {
          started = true;
          return Promise.resolve();
        },
      },
      { env: quiet, exit: () => assert.fail('must not exit') },
    );
    assert.equal(started, false);
    assert.equal(process.exitCode, 1);
  });

  it('a failure while starting exits with 1', async () => {
    const exits: number[] = [];
    await runApp(
      { app: 'spec', context: 'Spec', configure: () => ({}), start: () => Promise.reject(new Error('nats down')) },
      { env: quiet, exit: (code) => exits.push(code) },
    );
    assert.deepEqual(exits, [1]);
  });

  it('an invalid LOG_LEVEL is a failed start too', async () => {
    const exits: number[] = [];
    await runApp(
      { app: 'spec', context: 'Spec', configure: () => assert.fail('must not configure'), start: () => Promise.resolve() },
      { env: { LOG_LEVEL: 'loud' }, exit: (code) => exits.push(code) },
    );
    assert.deepEqual(exits, [1]);
  });
});
