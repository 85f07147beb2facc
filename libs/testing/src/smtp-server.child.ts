// The test SMTP server, run as a child process by startSmtpServer (see smtp-server.harness.ts).
// argv: <port> <initial mode setting as JSON>. Controlled over the fork IPC channel.
import { SMTPServer, type SMTPServerSession } from 'smtp-server';
import { parseMail } from './mail-parse.js';
import type { ReceivedMail, SmtpModeSetting, SmtpStage } from './received-mail.js';
import type { SmtpChildMessage, SmtpRequest } from './smtp-ipc.js';

const port = Number(process.argv[2]);
let setting = JSON.parse(process.argv[3] ?? '{"mode":"accept"}') as SmtpModeSetting;
const received: ReceivedMail[] = [];

function send(message: SmtpChildMessage): void {
  process.send?.(message);
}

function smtpError(responseCode: number, message: string): Error {
  return Object.assign(new Error(message), { responseCode });
}

function drop(session: SMTPServerSession): void {
  for (const connection of server.connections) if (connection.id === session.id) connection._socket.destroy();
}

/** What the current mode does at `stage`: an SMTP error to answer, 'dropped', or nothing (go on). */
function interfere(stage: SmtpStage, session: SMTPServerSession): Error | 'dropped' | undefined {
  if (setting.mode === 'tempfail' && (setting.stage ?? 'mail') === stage) {
    return stage === 'connect'
      ? smtpError(421, 'Service not available, try again later (test tempfail)')
      : smtpError(451, 'Requested action aborted: local error (test tempfail)');
  }
  if (setting.mode === 'drop' && (setting.stage ?? 'data') === stage) {
    drop(session);
    return 'dropped';
  }
  return undefined;
}

function rejects(address: string): boolean {
  if (setting.mode !== 'reject') return false;
  const list = setting.rejectRecipients ?? [];
  return list.length === 0 || list.some((r) => r.toLowerCase() === address.toLowerCase());
}

const server = new SMTPServer({
  authOptional: true,
  disabledCommands: ['STARTTLS', 'AUTH'],
  hideSTARTTLS: true,
  logger: false,
  onConnect(session, callback) {
    const outcome = interfere('connect', session);
    if (outcome === 'dropped') return;
    callback(outcome);
  },
  onMailFrom(_address, session, callback) {
    const outcome = interfere('mail', session);
    if (outcome === 'dropped') return;
    callback(outcome);
  },
  onRcptTo(address, session, callback) {
    const outcome = interfere('rcpt', session);
    if (outcome === 'dropped') return;
    if (outcome) return callback(outcome);
    if (rejects(address.address)) return callback(smtpError(550, `Mailbox unavailable: ${address.address} (test reject)`));
    callback();
  },
  onData(stream, session, callback) {
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('end', () => {
      const outcome = interfere('data', session);
      if (outcome === 'dropped') return;
      if (outcome) return callback(outcome);
      const raw = Buffer.concat(chunks).toString('utf8');
      const mailFrom = session.envelope.mailFrom;
      received.push({
        from: mailFrom === false ? '' : mailFrom.address,
        to: session.envelope.rcptTo.map((r) => r.address),
        raw,
        ...parseMail(raw),
        receivedAt: new Date().toISOString(),
      });
      callback(null, 'OK: queued (test server)');
    });
  },
});

server.on('error', (err) => {
  // Connection-level errors (e.g. a dropped socket) are expected in 'drop' mode.
  if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') {
    process.stderr.write(`smtp test server: ${err.message}\n`);
    process.exit(2);
  }
});

process.on('message', (request: SmtpRequest) => {
  switch (request.op) {
    case 'setMode':
      setting = request.setting;
      send({ type: 'reply', id: request.id });
      return;
    case 'messages':
      send({ type: 'reply', id: request.id, messages: received });
      return;
    case 'clear':
      received.length = 0;
      send({ type: 'reply', id: request.id });
      return;
  }
});

// Never outlive the test process that started us.
process.on('disconnect', () => process.exit(0));
process.on('SIGTERM', () => process.exit(0));

server.listen(port, '127.0.0.1', () => send({ type: 'ready', port }));
