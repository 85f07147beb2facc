import { EventTypes, type EventType } from './event-types.js';
import type { EventDataMap } from './event-data.schemas.js';

// Spec-only fixture (not exported from index.ts): one valid payload per type, with the
// CloudEvents subject it must travel with.
export const sampleData: { [T in EventType]: { subject: string; data: EventDataMap[T] } } = {
  [EventTypes.UserAdded]: {
    subject: 'u1001',
    data: {
      userId: 'u1001',
      email: 'jane.doe@example.com',
      displayName: 'Jane Doe',
      attributes: { department: 'IT', groups: ['a', 'b'], manager: null },
    },
  },
  [EventTypes.UserModified]: { subject: 'u1001', data: { userId: 'u1001', email: 'jane@example.com', changes: { title: 'CTO' } } },
  [EventTypes.UserRemoved]: { subject: 'u1001', data: { userId: 'u1001', reason: 'deleted' } },
  [EventTypes.PasswordChanged]: { subject: 'u1001', data: { userId: 'u1001', origin: 'source', changedAt: '2024-05-01T10:00:00.000Z' } },
  [EventTypes.PasswordSynced]: { subject: 'u1001', data: { userId: 'u1001', target: 'ldap://vault', attempt: 2 } },
  [EventTypes.PasswordSyncFailed]: {
    subject: 'jane.doe@example.com',
    data: { userId: 'jane.doe@example.com', reason: 'user-not-found', message: 'no such user', attempt: 1, expiresAt: null },
  },
  [EventTypes.PasswordExpired]: { subject: 'u1001', data: { userId: 'u1001', cachedAt: '2024-05-01T10:00:00+02:00' } },
  [EventTypes.BulkTaskTick]: {
    subject: 'nightly-email',
    data: {
      schedule: 'nightly-email',
      task: 'send-pending-emails',
      scheduledFor: '2024-05-01T02:00:00.000Z',
      firedAt: '2024-05-01T02:00:01.000Z',
      catchUp: false,
    },
  },
  [EventTypes.EmailQueued]: {
    subject: 'u1001',
    data: { userId: 'u1001', emailType: 'NEW_USER', causationEvent: { id: 'e-1', type: 'idm.user.added' } },
  },
  [EventTypes.EmailSent]: {
    subject: 'u1001',
    data: { userId: 'u1001', emailType: 'NEW_USER', messageId: '<m1@example.com>', attempt: 1, tick: 't-1' },
  },
  [EventTypes.EmailFailed]: {
    subject: 'u1001',
    data: { userId: 'u1001', emailType: 'NEW_USER', error: '451 try later', permanent: false, attempt: 1, tick: 't-1' },
  },
  [EventTypes.EmailAbandoned]: {
    subject: 'u1001',
    data: { userId: 'u1001', emailType: 'NEW_USER', attempts: 5, lastError: '550 no mailbox' },
  },
};

export const sampleOptions = { source: '/idm/spec', time: '2024-05-01T10:00:00.000Z' } as const;
