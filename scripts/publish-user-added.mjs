#!/usr/bin/env node
// Publishes one UserAdded event, as the source connector would — for trying the dev stack:
//   node scripts/publish-user-added.mjs --user ada --email ada@example.com [--name "Ada Lovelace"] [--nats nats://127.0.0.1:4222]
//     [--env-file .data/nats-auth/directory-source.env]
// Credentials and TLS come from the NATS_* environment (NATS_NKEY_SEED_FILE, NATS_INBOX_PREFIX,
// NATS_TLS_*), or from --env-file (a `<role>.env` written by `idm nats-config`).
// Needs a build (uses @idm/contracts and @idm/messaging from dist). Prints the event id and stream sequence.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { jetstream } from '@nats-io/jetstream';
import { createEvent, encodeEvent, EventTypes, subjectFor } from '@idm/contracts';
import { connectNats, messagingConfigFromEnv } from '@idm/messaging';

const { values } = parseArgs({
  options: {
    user: { type: 'string' },
    email: { type: 'string' },
    name: { type: 'string' },
    nats: { type: 'string', default: process.env.NATS_URL ?? 'nats://127.0.0.1:4222' },
    'env-file': { type: 'string' },
  },
});
const fileEnv = {};
if (values['env-file']) {
  for (const line of readFileSync(values['env-file'], 'utf8').split('\n')) {
    const m = /^([A-Z_]+)=(.*)$/.exec(line);
    if (m) fileEnv[m[1]] = m[2];
  }
}
if (!values.user || !values.email) {
  process.stderr.write(
    'usage: publish-user-added.mjs --user <id> --email <address> [--name <display name>] [--nats <url>] [--env-file <role>.env]\n',
  );
  process.exit(2);
}
const event = createEvent(
  EventTypes.UserAdded,
  values.user,
  { userId: values.user, email: values.email, displayName: values.name ?? values.user },
  { source: '/idm/dev/publish-user-added', time: new Date().toISOString() },
);
const { connection } = messagingConfigFromEnv('publish-user-added', { ...process.env, ...fileEnv, NATS_URL: values.nats });
const nc = await connectNats(connection);
try {
  const ack = await jetstream(nc).publish(subjectFor(event.type, event.subject), encodeEvent(event), { msgID: event.id });
  process.stdout.write(`published ${event.type} ${event.id} for ${values.user} (stream ${ack.stream}, seq ${ack.seq})\n`);
} finally {
  await nc.close();
}
