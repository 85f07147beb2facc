import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { simpleParser, type AddressObject } from 'mailparser';
import { OperationsError } from '@idm/operations';

/** One message in the dev mail catcher's index (`index.jsonl`, one JSON object a line). */
export interface InboxEntry {
  readonly id: string;
  readonly receivedAt: string;
  readonly from: string;
  readonly to: readonly string[];
  readonly subject: string;
}

/** A message parsed for display; the HTML part is served on its own, into a sandboxed frame. */
export interface ParsedMessage {
  readonly id: string;
  readonly subject: string | null;
  readonly from: string | null;
  readonly to: string | null;
  readonly cc: string | null;
  readonly date: string | null;
  readonly messageId: string | null;
  readonly headers: ReadonlyArray<{ readonly name: string; readonly value: string }>;
  readonly text: string | null;
  readonly hasHtml: boolean;
  readonly attachments: ReadonlyArray<{ readonly filename: string | null; readonly contentType: string; readonly size: number }>;
}

const ID = /^[\w-]+$/;

const addresses = (a: AddressObject | AddressObject[] | undefined): string | null =>
  a === undefined ? null : (Array.isArray(a) ? a : [a]).map((x) => x.text).join(', ');

/**
 * The dev stack's mail catcher folder (`CONSOLE_MAIL_DIR`), read-only: the index and each
 * message's `.eml`, parsed with mailparser. Only for the dev stack; production mail goes to a real
 * server and the console never sees it.
 */
export class DevInbox {
  constructor(private readonly dir: string) {}

  async list(): Promise<InboxEntry[]> {
    const index = join(this.dir, 'index.jsonl');
    if (!existsSync(index)) return [];
    return (await readFile(index, 'utf8'))
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as InboxEntry)
      .reverse();
  }

  private async raw(id: string): Promise<Buffer> {
    if (!ID.test(id)) throw new OperationsError(`not a message id: ${JSON.stringify(id)}`, 'IDM_OPS_USAGE');
    const file = join(this.dir, `${id}.eml`);
    if (!existsSync(file)) throw new OperationsError(`no message ${id}`, 'IDM_OPS_NOT_FOUND');
    return readFile(file);
  }

  async message(id: string): Promise<ParsedMessage> {
    const mail = await simpleParser(await this.raw(id));
    return {
      id,
      subject: mail.subject ?? null,
      from: addresses(mail.from),
      to: addresses(mail.to),
      cc: addresses(mail.cc),
      date: mail.date ? mail.date.toISOString() : null,
      messageId: mail.messageId ?? null,
      headers: mail.headerLines.map((h) => ({ name: h.key, value: h.line.slice(h.line.indexOf(':') + 1).trim() })),
      text: mail.text ?? null,
      hasHtml: typeof mail.html === 'string' && mail.html.length > 0,
      attachments: mail.attachments.map((a) => ({ filename: a.filename ?? null, contentType: a.contentType, size: a.size })),
    };
  }

  /** The HTML part (cid: images inlined as data: URLs), or null. */
  async html(id: string): Promise<string | null> {
    const mail = await simpleParser(await this.raw(id));
    return typeof mail.html === 'string' ? mail.html : null;
  }
}
