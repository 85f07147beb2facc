import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { anEvent } from '@idm/testing';
import { evolveRecipient, hasAddress, type Recipient } from './recipient.decider.js';

const ada: Recipient = { userId: 'u-1001', email: 'ada@example.com', displayName: 'Ada Lovelace', updatedSeq: 10 };

describe('recipient directory', () => {
  describe('given no recipient for the user', () => {
    it('when UserAdded, then the address and display name are kept', () => {
      const decision = evolveRecipient(undefined, anEvent.userAdded({ displayName: 'Ada Lovelace' }), 5);
      assert.deepEqual(decision, {
        kind: 'save',
        recipient: { userId: 'u-1001', email: 'ada@example.com', displayName: 'Ada Lovelace', updatedSeq: 5 },
      });
    });

    it('when UserAdded without a display name, then the name is null', () => {
      const decision = evolveRecipient(undefined, anEvent.userAdded({ displayName: undefined }), 5);
      assert.deepEqual(decision, {
        kind: 'save',
        recipient: { userId: 'u-1001', email: 'ada@example.com', displayName: null, updatedSeq: 5 },
      });
    });

    it('when UserAdded has no address yet, then the recipient is kept without one (its name greets later)', () => {
      const decision = evolveRecipient(undefined, anEvent.userAdded({ email: undefined, displayName: 'Grace Hopper' }), 5);
      assert.deepEqual(decision, {
        kind: 'save',
        recipient: { userId: 'u-1001', email: null, displayName: 'Grace Hopper', updatedSeq: 5 },
      });
      assert.equal(hasAddress(decision.kind === 'save' ? decision.recipient : undefined), false);
    });

    it('when UserModified carries an address, then the recipient is created from it', () => {
      const decision = evolveRecipient(
        undefined,
        anEvent.userModified({ email: 'ada@new.example', changes: { displayName: 'Ada King' } }),
        7,
      );
      assert.deepEqual(decision, {
        kind: 'save',
        recipient: { userId: 'u-1001', email: 'ada@new.example', displayName: 'Ada King', updatedSeq: 7 },
      });
    });

    it('when UserModified has no address, then nothing happens (no-address)', () => {
      assert.deepEqual(evolveRecipient(undefined, anEvent.userModified({ changes: { title: 'Countess' } }), 7), {
        kind: 'ignore',
        reason: 'no-address',
      });
    });
  });

  describe('given a recipient without an address yet', () => {
    const grace: Recipient = { userId: 'u-1001', email: null, displayName: 'Grace Hopper', updatedSeq: 10 };

    it('when UserModified brings the address, then it is kept with the name from UserAdded', () => {
      const decision = evolveRecipient(
        grace,
        anEvent.userModified({ email: 'grace@example.com', changes: { mail: 'grace@example.com' } }),
        11,
      );
      assert.deepEqual(decision, { kind: 'save', recipient: { ...grace, email: 'grace@example.com', updatedSeq: 11 } });
      assert.equal(hasAddress(decision.kind === 'save' ? decision.recipient : undefined), true);
    });

    it('when UserModified changes the name only, then the name changes and the address stays unknown', () => {
      const decision = evolveRecipient(grace, anEvent.userModified({ changes: { displayName: 'Rear Admiral Hopper' } }), 11);
      assert.deepEqual(decision, { kind: 'save', recipient: { ...grace, displayName: 'Rear Admiral Hopper', updatedSeq: 11 } });
    });
  });

  describe('given a known recipient', () => {
    it('when UserModified changes the address, then the new address is kept with the old name', () => {
      const decision = evolveRecipient(ada, anEvent.userModified({ email: 'ada@new.example', changes: { mail: 'ada@new.example' } }), 11);
      assert.deepEqual(decision, { kind: 'save', recipient: { ...ada, email: 'ada@new.example', updatedSeq: 11 } });
    });

    it('when UserModified changes the display name (multi-valued), then the first value is kept', () => {
      const decision = evolveRecipient(ada, anEvent.userModified({ changes: { displayName: ['Ada King', 'A. King'] } }), 11);
      assert.deepEqual(decision, { kind: 'save', recipient: { ...ada, displayName: 'Ada King', updatedSeq: 11 } });
    });

    it('when UserModified clears the display name, then it becomes null', () => {
      const decision = evolveRecipient(ada, anEvent.userModified({ changes: { displayName: null } }), 11);
      assert.deepEqual(decision, { kind: 'save', recipient: { ...ada, displayName: null, updatedSeq: 11 } });
    });

    it('when UserModified changes nothing we keep, then nothing happens (unchanged)', () => {
      assert.deepEqual(evolveRecipient(ada, anEvent.userModified({ changes: { title: 'Countess' } }), 11), {
        kind: 'ignore',
        reason: 'unchanged',
      });
    });

    it('when an older event is redelivered, then nothing happens (stale-event)', () => {
      assert.deepEqual(evolveRecipient(ada, anEvent.userAdded({ email: 'old@example.com' }), 9), { kind: 'ignore', reason: 'stale-event' });
      assert.deepEqual(evolveRecipient(ada, anEvent.userAdded({ email: 'old@example.com' }), 10), {
        kind: 'ignore',
        reason: 'stale-event',
      });
    });
  });
});
