import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { deriveEventId, type IdmEvent } from '@idm/contracts';
import { anEvent, givenWhenThen, FIXED_NOW, type Decider } from '@idm/testing';
import { DEFAULT_EMAIL_RULES, type EmailRules } from '../email-rules/email-rules.config.js';
import { decideEmailFlags, type EmailFlagDecision } from './email-flag.decider.js';
import { evolvePendingEmail, type DeliveryEvent } from './pending-email.evolve.js';
import type { PendingEmail } from './pending-email.js';
import { aPendingEmail } from './pending-email.fixture.js';

type History = IdmEvent;
type State = ReadonlyMap<string, PendingEmail>;

function flagDecider(rules: EmailRules): Decider<IdmEvent, State, History, EmailFlagDecision> {
  return {
    initialState: new Map(),
    decide: (event, state, now) => decideEmailFlags(event, { rules, pendingTypes: new Set(state.keys()), now, source: '/idm/notifier' }),
    // History: the notifier's own events. A queued email is replayed by deciding its cause again.
    evolve: (state, event) => {
      const next = new Map(state);
      if (event.type === 'idm.email.sent' || event.type === 'idm.email.failed' || event.type === 'idm.email.abandoned') {
        const change = evolvePendingEmail(state.get(event.data.emailType), event as DeliveryEvent);
        if (change.kind === 'delete') next.delete(event.data.emailType);
        if (change.kind === 'save') next.set(event.data.emailType, change.pending);
        return next;
      }
      const decision = decideEmailFlags(event, { rules, pendingTypes: new Set(state.keys()), now: FIXED_NOW, source: '/idm/notifier' });
      if (decision.kind === 'queue') for (const e of decision.emails) next.set(e.pending.emailType, e.pending);
      return next;
    },
    isNothing: (d) => d.kind === 'ignore',
  };
}

const spec = givenWhenThen(flagDecider(DEFAULT_EMAIL_RULES));

describe('email flags', () => {
  describe('given no pending email for the user', () => {
    it('when UserAdded, then NEW_USER is queued with an id derived from the cause', () => {
      const cause = anEvent.userAdded();
      spec
        .given()
        .when(cause)
        .thenAssert((d) => {
          assert.equal(d.kind, 'queue');
          if (d.kind !== 'queue') return;
          assert.equal(d.emails.length, 1);
          const { event, pending } = d.emails[0]!;
          assert.equal(event.type, 'idm.email.queued');
          assert.equal(event.subject, 'u-1001');
          assert.deepEqual(event.data, {
            userId: 'u-1001',
            emailType: 'NEW_USER',
            causationEvent: { id: cause.id, type: 'idm.user.added' },
          });
          assert.equal(event.id, deriveEventId(cause.id, 'idm.email.queued', 'u-1001', 'NEW_USER'));
          assert.equal(event.causationid, cause.id);
          assert.equal(event.time, FIXED_NOW.toISOString());
          assert.deepEqual(pending, aPendingEmail({ queuedEventId: event.id }));
        });
    });

    for (const [name, event, emailType] of [
      ['UserModified', anEvent.userModified(), 'PROFILE_CHANGED'],
      ['PasswordChanged', anEvent.passwordChanged(), 'PASSWORD_CHANGED'],
      ['PasswordSyncFailed', anEvent.passwordSyncFailed(), 'PASSWORD_SYNC_FAILED'],
    ] as const) {
      it(`when ${name}, then ${emailType} is queued`, () => {
        spec
          .given()
          .when(event)
          .thenAssert((d) => assert.deepEqual(d.kind === 'queue' ? d.emails.map((e) => e.event.data.emailType) : d, [emailType]));
      });
    }

    it('when PasswordSyncFailed, then the reason is kept for the template', () => {
      spec
        .given()
        .when(anEvent.passwordSyncFailed({ reason: 'policy-violation' }))
        .thenAssert((d) =>
          assert.deepEqual(d.kind === 'queue' ? d.emails[0]!.pending.context : d, { syncFailureReason: 'policy-violation' }),
        );
    });

    it('when an event has no rule, then nothing happens (no-rule)', () => {
      spec.given().when(anEvent.passwordSynced()).thenNothing();
      spec.given().when(anEvent.passwordSynced()).then({ kind: 'ignore', reason: 'no-rule' });
      spec.given().when(anEvent.bulkTaskTick()).then({ kind: 'ignore', reason: 'no-rule' });
    });

    it('when a rule raises two types, then both are queued with distinct ids', () => {
      const twoTypes = givenWhenThen(flagDecider({ 'idm.user.added': ['NEW_USER', 'WELCOME_PACK'] }));
      twoTypes
        .given()
        .when(anEvent.userAdded())
        .thenAssert((d) => {
          assert.equal(d.kind, 'queue');
          if (d.kind !== 'queue') return;
          assert.deepEqual(
            d.emails.map((e) => e.pending.emailType),
            ['NEW_USER', 'WELCOME_PACK'],
          );
          assert.notEqual(d.emails[0]!.event.id, d.emails[1]!.event.id);
        });
    });

    it('when the same cause is decided again (a retried handler), then the same EmailQueued id results', () => {
      const cause = anEvent.passwordChanged();
      const first = spec
        .given()
        .when(cause)
        .thenAssert(() => undefined);
      const second = spec
        .given()
        .when(cause, new Date('2025-01-02T00:00:00Z'))
        .thenAssert(() => undefined);
      assert.ok(first.kind === 'queue' && second.kind === 'queue');
      assert.equal(first.emails[0]!.event.id, second.emails[0]!.event.id);
    });
  });

  describe('given PROFILE_CHANGED already pending', () => {
    const pendingProfile = anEvent.userModified();

    it('when another UserModified arrives, then nothing happens (already-pending): one email', () => {
      spec
        .given(pendingProfile)
        .when(anEvent.userModified({ changes: { displayName: 'Ada K.' } }))
        .then({ kind: 'ignore', reason: 'already-pending' });
    });

    it('when PasswordChanged arrives, then PASSWORD_CHANGED is queued beside it', () => {
      spec
        .given(pendingProfile)
        .when(anEvent.passwordChanged())
        .thenAssert((d) => assert.deepEqual(d.kind === 'queue' ? d.emails.map((e) => e.pending.emailType) : d, ['PASSWORD_CHANGED']));
    });

    it('when it was sent (EmailSent applied) and UserModified arrives again, then it is queued again', () => {
      spec
        .given(pendingProfile, anEvent.emailSent({ emailType: 'PROFILE_CHANGED' }))
        .when(anEvent.userModified())
        .thenAssert((d) => assert.equal(d.kind, 'queue'));
    });

    it('when it only failed (EmailFailed applied) and UserModified arrives again, then it stays one email', () => {
      spec
        .given(pendingProfile, anEvent.emailFailed({ emailType: 'PROFILE_CHANGED' }))
        .when(anEvent.userModified())
        .then({ kind: 'ignore', reason: 'already-pending' });
    });

    it('when it was abandoned and UserModified arrives again, then it is queued again', () => {
      spec
        .given(pendingProfile, anEvent.emailAbandoned({ emailType: 'PROFILE_CHANGED' }))
        .when(anEvent.userModified())
        .thenAssert((d) => assert.equal(d.kind, 'queue'));
    });
  });

  describe('given two of a rule’s types, one pending', () => {
    it('when the event arrives, then only the other is queued and the pending one is reported', () => {
      const rules: EmailRules = { 'idm.user.added': ['NEW_USER', 'WELCOME_PACK'], 'idm.password.changed': ['NEW_USER'] };
      givenWhenThen(flagDecider(rules))
        .given(anEvent.passwordChanged())
        .when(anEvent.userAdded())
        .thenAssert((d) => {
          assert.ok(d.kind === 'queue');
          assert.deepEqual(
            d.emails.map((e) => e.pending.emailType),
            ['WELCOME_PACK'],
          );
          assert.deepEqual(d.alreadyPending, ['NEW_USER']);
        });
    });
  });
});
