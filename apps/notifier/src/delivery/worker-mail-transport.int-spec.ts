import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startSmtpServer, tempDir, type SmtpServerHandle } from '@idm/testing';
import type { OutgoingEmail } from './mail-transport.js';
import { parseSmtpUrl, type SmtpSettings } from './smtp-settings.js';
import { WorkerMailTransport } from './worker-mail-transport.js';

// The results and their classification are checked for both transports in
// nodemailer-mail-transport.int-spec.ts; this file covers what only the threads have.

const emailTo = (i: number): OutgoingEmail => ({
  to: `user-${i}@example.com`,
  subject: `Message ${i}`,
  html: `<p>Message ${i}</p>`,
  text: `Message ${i}`,
  messageId: `<worker-${i}@idm.example>`,
});

/**
 * A stand-in thread script: answers every send with a 250 and dies on an email whose subject is
 * `crash`. With `marker`, that death leaves the file behind and a thread started while it exists
 * fails at load (a replacement that cannot start).
 */
const crashingScript = (marker?: string): URL =>
  new URL(
    `data:text/javascript,${encodeURIComponent(`
import { existsSync, writeFileSync } from 'node:fs';
import { parentPort } from 'node:worker_threads';
const marker = ${JSON.stringify(marker ?? null)};
if (marker && existsSync(marker)) throw new Error('stand-in refuses to start');
parentPort.on('message', (m) => {
  if (m.kind === 'close') return parentPort.close();
  if (m.requests.some((r) => r.email.subject === 'crash')) {
    if (marker) writeFileSync(marker, '');
    process.exit(7);
  }
  const replies = m.requests.map((r) => ({ id: r.id, result: { ok: true, messageId: r.email.messageId, response: '250 stand-in' } }));
  parentPort.postMessage({ kind: 'replies', replies });
});
parentPort.postMessage({ kind: 'ready' });
`)}`,
  );

describe('WorkerMailTransport threads', () => {
  let smtp: SmtpServerHandle;
  let settings: SmtpSettings;
  before(async () => {
    smtp = await startSmtpServer({ mode: 'accept' });
    settings = {
      ...parseSmtpUrl(smtp.url),
      from: 'IDM <noreply@idm.example>',
      rejectUnauthorized: true,
      maxConnections: 4,
      connectionTimeoutMs: 3000,
      greetingTimeoutMs: 3000,
      socketTimeoutMs: 5000,
    };
  });
  after(async () => {
    await smtp.dispose();
  });

  it('close lets the sends in flight finish, every one answered, and later sends fail transiently', async () => {
    await smtp.clear();
    const transport = await WorkerMailTransport.start(settings, 2);
    const sends = Array.from({ length: 40 }, (_, i) => transport.send(emailTo(i)));
    await transport.close();
    const results = await Promise.all(sends);
    assert.deepEqual(
      results.map((r) => r.ok && r.messageId),
      results.map((_, i) => `<worker-${i}@idm.example>`),
    );
    const received = await smtp.waitForMessages(40);
    assert.deepEqual(new Set(received.map((m) => m.messageId)), new Set(results.map((_, i) => `<worker-${i}@idm.example>`)));

    const late = await transport.send(emailTo(99));
    assert.equal(late.ok, false);
    assert.equal(!late.ok && late.failure.permanent, false);
  });

  it('starts no more threads than there are connections', async () => {
    const transport = await WorkerMailTransport.start({ ...settings, maxConnections: 2 }, 4);
    try {
      assert.equal(transport.threadCount, 2);
      const result = await transport.send(emailTo(1));
      assert.equal(result.ok, true, JSON.stringify(result));
    } finally {
      await transport.close();
    }
  });

  it('a thread that cannot reach the server answers each send (transient), and close still returns', async () => {
    await smtp.stop();
    const transport = await WorkerMailTransport.start(settings, 2);
    try {
      const results = await Promise.all(Array.from({ length: 6 }, (_, i) => transport.send(emailTo(i))));
      for (const r of results) {
        assert.equal(r.ok, false);
        assert.equal(!r.ok && r.failure.permanent, false);
        assert.equal(!r.ok && r.failure.kind, 'connection');
      }
    } finally {
      await transport.close();
      await smtp.restart();
    }
  });

  it('a thread whose script is missing fails the start (the notifier does not come up half-working)', async () => {
    await assert.rejects(
      WorkerMailTransport.start(settings, 2, new URL('./no-such-smtp-worker.js', import.meta.url)),
      /the SMTP worker thread did not start: .*no-such-smtp-worker/,
    );
  });

  it('a thread that dies answers its sends as transient failures and is replaced', async () => {
    const transport = await WorkerMailTransport.start(settings, 1, crashingScript());
    try {
      const lost = await transport.send({ ...emailTo(1), subject: 'crash' });
      assert.equal(lost.ok, false);
      assert.equal(!lost.ok && lost.failure.permanent, false);
      assert.match(!lost.ok ? lost.failure.message : '', /worker thread stopped \(exit code 7\).*may or may not have been accepted/);
      const next = await transport.send(emailTo(2));
      assert.deepEqual(next, { ok: true, messageId: '<worker-2@idm.example>', response: '250 stand-in' });
    } finally {
      await transport.close();
    }
  });

  it('a replacement that cannot start answers every later send at once, transiently, instead of leaving it hanging', async () => {
    const dir = tempDir('smtp-worker-marker');
    const transport = await WorkerMailTransport.start(settings, 1, crashingScript(join(dir, 'crashed')));
    try {
      const lost = await transport.send({ ...emailTo(1), subject: 'crash' });
      assert.equal(!lost.ok && lost.failure.permanent, false);
      // Sent while the replacement was starting: answered when it failed to.
      const during = await transport.send(emailTo(2));
      assert.equal(!during.ok && during.failure.permanent, false);
      const later = await transport.send(emailTo(3));
      assert.equal(later.ok, false);
      assert.equal(!later.ok && later.failure.permanent, false);
      assert.match(!later.ok ? later.failure.message : '', /could not be restarted \(stand-in refuses to start\)/);
    } finally {
      await transport.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
