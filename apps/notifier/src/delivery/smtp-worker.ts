// Entry point of one SMTP worker thread (started by WorkerMailTransport): its own nodemailer pool,
// fed batches of emails by the main thread. It never logs: an error could carry the AUTH exchange.
import { parentPort, workerData } from 'node:worker_threads';
import type { OutgoingEmail, SendResult } from './mail-transport.js';
import { NodemailerMailTransport } from './nodemailer-mail-transport.js';
import { classifySmtpFailure } from './smtp-failure.js';
import type { FromSmtpWorker, SendReply, SmtpWorkerData, ToSmtpWorker } from './smtp-worker-protocol.js';

const port = parentPort;
if (!port) throw new Error('smtp-worker.js runs as a worker thread of the notifier, not on its own');

const { settings } = workerData as SmtpWorkerData;
const secrets = settings.auth ? [settings.auth.pass, settings.auth.user] : [];
const transport = new NodemailerMailTransport(settings);
const inFlight = new Set<Promise<void>>();
let replies: SendReply[] = [];

function flush(): void {
  const batch = replies;
  replies = [];
  port!.postMessage({ kind: 'replies', replies: batch } satisfies FromSmtpWorker);
}

function reply(id: number, result: SendResult): void {
  // Replies of one event-loop turn go back in one message.
  if (replies.length === 0) setImmediate(flush);
  replies.push({ id, result });
}

function send(id: number, email: OutgoingEmail): void {
  // `send` resolves with classified failures; a rejection would be a bug, still reported as a failure.
  const done = transport
    .send(email)
    .catch((error: unknown): SendResult => ({ ok: false, failure: classifySmtpFailure(error, secrets) }))
    .then((result) => reply(id, result))
    .finally(() => inFlight.delete(done));
  inFlight.add(done);
}

async function close(): Promise<void> {
  await Promise.all(inFlight);
  await transport.close();
  // The last replies' flush is already queued for this turn's check phase: let it run first.
  await new Promise((resolve) => setImmediate(resolve));
  port!.close();
}

port.on('message', (message: ToSmtpWorker) => {
  if (message.kind === 'send') for (const request of message.requests) send(request.id, request.email);
  else void close();
});
port.postMessage({ kind: 'ready' } satisfies FromSmtpWorker);
