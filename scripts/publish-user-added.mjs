#!/usr/bin/env node
// Publishes one UserAdded event, as the source connector would — for trying the dev stack:
//   node scripts/publish-user-added.mjs --user ada --email ada@example.com [--name "Ada Lovelace"] [--nats nats://127.0.0.1:4222]
// Needs a build (uses @idm/contracts from dist). Prints the event id and stream sequence.
import { parseArgs } from 'node:util';
import { connect } from '@nats-io/transport-node';
import { jetstream } from '@nats-io/jetstream';
import { createEvent, encodeEvent, EventTypes, subjectFor } from '@idm/contracts';

const { values } = parseArgs({
  options: {
    user: { type: 'string' },
    email: { type: 'string' },
    name: { type: 'string' },
    nats: { type: 'string', default: process.env.NATS_URL ?? 'nats://127.0.0.1:4222' },
  },
});
if (!values.user || !values.email) {
  process.stderr.write('usage: publish-user-added.mjs --user <id> --email <address> [--name <display name>] [--nats <url>]\n');
  process.exit(2);
}
const event = createEvent(EventTypes.UserAdded, values.user, { userId: values.user, email: values.email, displayName: values.name ?? values.user }, { source: '/idm/dev/publish-user-added', time: new Date().toISOString() });
const nc = await connect({ servers: values.nats, name: 'idm-publish-user-added' });
try {
  const ack = await jetstream(nc).publish(subjectFor(event.type, event.subject), encodeEvent(event), { msgID: event.id });
  process.stdout.write(`published ${event.type} ${event.id} for ${values.user} (stream ${ack.stream}, seq ${ack.seq})\n`);
} finally {
  await nc.close();
}
