import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { IdmEvent } from '@idm/contracts';
import { anEvent, FIXED_NOW } from '@idm/testing';
import {
  causeContextOf,
  EMPTY_USER_STATE,
  evolveNotifierUser,
  notifierUserOf,
  type NotifierUserState,
} from './notifier-projection.evolve.js';

function replay(events: readonly IdmEvent[]): NotifierUserState {
  const contexts = new Map<string, Record<string, string>>();
  let state = EMPTY_USER_STATE;
  events.forEach((event, i) => {
    const context = causeContextOf(event);
    if (context) contexts.set(event.id, context);
    state = evolveNotifierUser(state, event, i + 1, contexts);
  });
  return state;
}

describe('replaying the notifier projection of one user', () => {
  describe('given nothing about the user', () => {
    it('when UserAdded and its EmailQueued are replayed, then the recipient and the flag exist, unclaimed', () => {
      const added = anEvent.userAdded();
      const state = replay([added, anEvent.emailQueued({ causationEvent: { id: added.id, type: added.type } }, { id: 'q-1' })]);
      assert.deepEqual(state.recipient, { userId: 'u-1001', email: 'ada@example.com', displayName: 'Ada Lovelace', updatedSeq: 1 });
      assert.equal(state.pending.get('NEW_USER')?.queuedEventId, 'q-1');
      assert.equal(state.pending.get('NEW_USER')?.claimedTick, null);
    });

    it('when UserAdded without an address is replayed, then the recipient exists with a null address', () => {
      assert.deepEqual(replay([anEvent.userAdded({ email: undefined })]).recipient, {
        userId: 'u-1001',
        email: null,
        displayName: 'Ada Lovelace',
        updatedSeq: 1,
      });
    });

    it('when a PasswordSyncFailed causes an email, then the flag keeps the failure reason for the template', () => {
      const failed = anEvent.passwordSyncFailed({ reason: 'policy-violation' });
      const queued = anEvent.emailQueued({ emailType: 'PASSWORD_SYNC_FAILED', causationEvent: { id: failed.id, type: failed.type } });
      assert.deepEqual(replay([failed, queued]).pending.get('PASSWORD_SYNC_FAILED')?.context, { syncFailureReason: 'policy-violation' });
    });

    it('when a tick or a password event without an email is replayed, then nothing happens', () => {
      assert.equal(evolveNotifierUser(EMPTY_USER_STATE, anEvent.bulkTaskTick(), 1, new Map()), EMPTY_USER_STATE);
      assert.equal(evolveNotifierUser(EMPTY_USER_STATE, anEvent.passwordSynced(), 1, new Map()), EMPTY_USER_STATE);
      assert.equal(notifierUserOf(anEvent.bulkTaskTick()), undefined);
    });
  });

  describe('given a pending flag', () => {
    const queued = anEvent.emailQueued({}, { id: 'q-1' });

    it('when EmailFailed then EmailSent are replayed, then the attempts count and the flag is cleared at the end (EmailSent clears flags)', () => {
      const failed = replay([queued, anEvent.emailFailed({ attempt: 1, error: '451 later' })]);
      assert.equal(failed.pending.get('NEW_USER')?.attempts, 1);
      assert.equal(failed.pending.get('NEW_USER')?.lastError, '451 later');
      assert.equal(replay([queued, anEvent.emailFailed({ attempt: 1 }), anEvent.emailSent({ attempt: 2 })]).pending.size, 0);
    });

    it('when EmailAbandoned is replayed, then the flag is cleared', () => {
      assert.equal(replay([queued, anEvent.emailAbandoned()]).pending.size, 0);
    });

    it('when UserRemoved and its EmailAbandoned are replayed, then the recipient is forgotten and the flag cleared', () => {
      const removed = anEvent.userRemoved();
      const state = replay([
        anEvent.userAdded(),
        queued,
        removed,
        anEvent.emailAbandoned({ lastError: 'user removed from the source directory (deleted)' }),
      ]);
      assert.equal(state.recipient, undefined);
      assert.equal(state.pending.size, 0);
      assert.equal(notifierUserOf(removed), 'u-1001');
    });

    it('when a second EmailQueued of the same type is replayed, then the first flag stays', () => {
      const state = replay([queued, anEvent.emailQueued({}, { id: 'q-2', time: new Date(FIXED_NOW.getTime() + 1000) })]);
      assert.equal(state.pending.get('NEW_USER')?.queuedEventId, 'q-1');
    });
  });
});
