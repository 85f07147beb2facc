import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DatabaseUnavailableError, isTransientDatabaseError } from './database-errors.js';

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
