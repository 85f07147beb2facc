// The dev stack's built-in password target: `PASSWORD_TARGET=nats:idm.dev.directory`. An in-memory
// directory that knows every user a UserAdded announced (kept in <file> across restarts) and
// answers password-sync's connector requests like a real directory would:
//   unknown user → user-not-found; password shorter than 8 characters → policy-violation;
//   otherwise → applied. Passwords are never logged or stored.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';

/** The subject password-sync calls in the dev stack. */
export const DEV_DIRECTORY_SUBJECT = 'idm.dev.directory';
const MIN_LENGTH = 8;

/**
 * @param {{ nc: import('@nats-io/nats-core').NatsConnection, file: string, log: (msg: string) => void }} options
 */
export function startDevDirectory({ nc, file, log }) {
  const users = new Set(existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : []);
  const save = () => writeFileSync(file, JSON.stringify([...users]));
  // Core subscriptions see every message published to the stream's subjects, as it is appended.
  const added = nc.subscribe('idm.user.added.>', {
    callback: (err, msg) => {
      if (err) return;
      try {
        const userId = msg.json().data?.userId;
        if (typeof userId === 'string' && !users.has(userId)) {
          users.add(userId);
          save();
          log(`directory: user ${userId} added`);
        }
      } catch {
        // not an event; password-sync's own decoding dead-letters it
      }
    },
  });
  const requests = nc.subscribe(DEV_DIRECTORY_SUBJECT, {
    callback: (err, msg) => {
      if (err) return;
      let reply;
      try {
        const { userId, password } = msg.json();
        if (!users.has(userId)) reply = { status: 'user-not-found', message: `no user ${userId} in the dev directory` };
        else if (typeof password !== 'string' || password.length < MIN_LENGTH)
          reply = { status: 'policy-violation', message: `password must be at least ${MIN_LENGTH} characters` };
        else reply = { status: 'applied' };
        log(`directory: password for ${userId}: ${reply.status}`);
      } catch {
        reply = { status: 'unavailable', message: 'bad request' };
      }
      msg.respond(JSON.stringify(reply));
    },
  });
  return {
    close() {
      added.unsubscribe();
      requests.unsubscribe();
    },
  };
}
