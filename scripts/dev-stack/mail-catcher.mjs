// The dev stack's mail catcher: an SMTP server on loopback that accepts every message and keeps it
// on disk (<dir>/<id>.eml + one JSON line per message in <dir>/index.jsonl), and a small web inbox.
// Nothing is ever relayed. Local development only: smtp-server is a dev dependency.
import { createServer } from 'node:http';
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SMTPServer } from 'smtp-server';

/** Reads the stored messages' index (newest last). */
export function readInbox(dir) {
  const index = join(dir, 'index.jsonl');
  if (!existsSync(index)) return [];
  return readFileSync(index, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));
}

function header(raw, name) {
  const head = raw.split(/\r?\n\r?\n/)[0] ?? '';
  const unfolded = head.replace(/\r?\n[ \t]+/g, ' ');
  const m = new RegExp(`^${name}:[ \\t]*(.*)$`, 'im').exec(unfolded);
  return m ? decodeWords(m[1].trim()) : '';
}

// RFC 2047 encoded words (=?UTF-8?B?...?= / ?Q?), enough for subjects nodemailer writes.
function decodeWords(text) {
  return text.replace(/=\?([^?]+)\?([BbQq])\?([^?]*)\?=\s*/g, (_m, _cs, enc, data) =>
    enc.toUpperCase() === 'B'
      ? Buffer.from(data, 'base64').toString('utf8')
      : Buffer.from(
          data.replace(/_/g, ' ').replace(/=([0-9A-F]{2})/gi, (_x, h) => String.fromCharCode(parseInt(h, 16))),
          'latin1',
        ).toString('utf8'),
  );
}

const escapeHtml = (s) =>
  String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);

/**
 * Starts the catcher. Returns { smtpPort, httpPort, close() }.
 * @param {{ dir: string, smtpPort: number, httpPort: number, host?: string, log: (msg: string) => void }} options
 */
export async function startMailCatcher({ dir, smtpPort, httpPort, host = '127.0.0.1', log }) {
  mkdirSync(dir, { recursive: true });
  let counter = readInbox(dir).length;
  const smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    banner: 'idm dev mail catcher',
    logger: false,
    onAuth(_auth, _session, callback) {
      callback(null, { user: 'dev' });
    },
    onData(stream, session, callback) {
      const chunks = [];
      stream.on('data', (c) => chunks.push(c));
      stream.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        counter += 1;
        const id = `${Date.now()}-${String(counter).padStart(4, '0')}`;
        writeFileSync(join(dir, `${id}.eml`), raw);
        const entry = {
          id,
          receivedAt: new Date().toISOString(),
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          subject: header(raw, 'Subject'),
          messageId: header(raw, 'Message-ID'),
        };
        appendFileSync(join(dir, 'index.jsonl'), `${JSON.stringify(entry)}\n`);
        log(`mail to ${entry.to.join(', ')}: "${entry.subject}" — http://${host}:${actualHttpPort}/messages/${id}`);
        callback(null, `queued as ${id}`);
      });
    },
  });
  await new Promise((resolve, reject) => {
    smtp.once('error', reject);
    smtp.listen(smtpPort, host, resolve);
  });
  smtp.on('error', (err) => log(`smtp error: ${err.message}`));

  const http = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const messages = readInbox(dir);
    if (url.pathname === '/api/messages') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(messages));
      return;
    }
    const m = /^\/messages\/([\w-]+)(\.eml)?$/.exec(url.pathname);
    if (m) {
      const file = join(dir, `${m[1]}.eml`);
      if (!existsSync(file)) {
        res.writeHead(404).end('no such message');
        return;
      }
      const raw = readFileSync(file, 'utf8');
      if (m[2]) {
        res.writeHead(200, { 'content-type': 'message/rfc822' }).end(raw);
        return;
      }
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(
        `<!doctype html><meta charset="utf-8"><title>${escapeHtml(header(raw, 'Subject'))}</title><p><a href="/">← inbox</a> · <a href="/messages/${m[1]}.eml">raw</a></p><pre>${escapeHtml(raw)}</pre>`,
      );
      return;
    }
    if (url.pathname === '/') {
      const rows = messages
        .slice()
        .reverse()
        .map(
          (e) =>
            `<tr><td>${escapeHtml(e.receivedAt)}</td><td>${escapeHtml(e.to.join(', '))}</td><td><a href="/messages/${e.id}">${escapeHtml(e.subject || '(no subject)')}</a></td></tr>`,
        )
        .join('');
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(
        `<!doctype html><meta charset="utf-8"><meta http-equiv="refresh" content="5"><title>idm dev inbox</title><h1>idm dev inbox (${messages.length})</h1><table border="1" cellpadding="4"><tr><th>received</th><th>to</th><th>subject</th></tr>${rows}</table>`,
      );
      return;
    }
    res.writeHead(404).end('not found');
  });
  await new Promise((resolve, reject) => {
    http.once('error', reject);
    http.listen(httpPort, host, resolve);
  });
  const actualHttpPort = http.address().port;
  return {
    smtpPort: smtp.server.address().port,
    httpPort: actualHttpPort,
    async close() {
      await new Promise((resolve) => smtp.close(resolve));
      await new Promise((resolve) => http.close(() => resolve()));
    },
  };
}
