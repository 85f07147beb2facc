import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { errors } from '@nats-io/nats-core';
import { isPermissionViolation, permissionViolationOf } from './errors.js';

describe('permissionViolationOf', () => {
  it('reads a refused publish from the nats.js error', () => {
    const err = new errors.PermissionViolationError(
      'Permissions Violation for Publish to "idm.email.sent.u1"',
      'publish',
      'idm.email.sent.u1',
    );
    assert.deepEqual(permissionViolationOf(err), { operation: 'publish', subject: 'idm.email.sent.u1' });
  });

  it('finds a refused reply subscription behind a RequestError', () => {
    const cause = new errors.PermissionViolationError(
      'Permissions Violation for Subscription to "_INBOX.abc.*"',
      'subscription',
      '_INBOX.abc.*',
    );
    const wrapped = new errors.RequestError(cause.message, { cause });
    assert.deepEqual(permissionViolationOf(wrapped), { operation: 'subscription', subject: '_INBOX.abc.*' });
  });

  it('is undefined for anything else', () => {
    assert.equal(permissionViolationOf(new Error('timeout')), undefined);
    assert.equal(isPermissionViolation('Permissions Violation'), false);
  });
});
