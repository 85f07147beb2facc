import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DatabaseUnavailableError, isTransientDatabaseError, redactConnectionString } from './index.js';

function coded(code: string, message = 'boom'): Error {
  return Object.assign(new Error(message), { code });
}

describe('isTransientDatabaseError', () => {
  for (const code of [
    'ECONNREFUSED',
    'ECONNRESET',
    '40001',
    '40P01',
    '57P01',
    '08006',
    '08001',
    '53300',
    'SQLITE_BUSY',
    'SQLITE_BUSY_SNAPSHOT',
    'SQLITE_LOCKED',
  ]) {
    test(`is true for ${code}`, () => {
      assert.equal(isTransientDatabaseError(coded(code)), true);
    });
  }

  for (const code of ['23505', '42P01', '22001', 'SQLITE_CONSTRAINT_PRIMARYKEY', 'ENOENT']) {
    test(`is false for ${code}`, () => {
      assert.equal(isTransientDatabaseError(coded(code)), false);
    });
  }

  test('looks through TypeORM driverError and cause chains', () => {
    const queryFailed = Object.assign(new Error('query failed'), { driverError: coded('40P01') });
    assert.equal(isTransientDatabaseError(queryFailed), true);
    assert.equal(isTransientDatabaseError(new Error('wrapped', { cause: coded('ECONNRESET') })), true);
  });

  test('is true for DatabaseUnavailableError and pg socket messages, false for non-errors', () => {
    assert.equal(isTransientDatabaseError(new DatabaseUnavailableError('down')), true);
    assert.equal(isTransientDatabaseError(new Error('Connection terminated unexpectedly')), true);
    assert.equal(isTransientDatabaseError(undefined), false);
    assert.equal(isTransientDatabaseError('ECONNREFUSED'), false);
  });
});

describe('redactConnectionString', () => {
  test('hides the password and keeps the rest', () => {
    assert.equal(redactConnectionString('postgres://idm:s3cr%40t@db:5432/idm'), 'postgres://idm:***@db:5432/idm');
    assert.equal(redactConnectionString('postgres://idm@db/idm'), 'postgres://idm@db/idm');
    assert.equal(redactConnectionString('postgres://db/idm?password=x&sslmode=require'), 'postgres://db/idm?password=***&sslmode=require');
  });

  test('reduces an unparseable string to its scheme', () => {
    assert.equal(redactConnectionString('postgres://us er:pw@@'), 'postgres://<unparseable, redacted>');
  });
});
