/**
 * Just enough MIME parsing for assertions on mail sent by nodemailer (no `mailparser` here):
 * headers, encoded-word subjects, single-part and multipart (nested) bodies in 7bit, 8bit,
 * quoted-printable or base64. Attachments are ignored.
 */
export interface ParsedMail {
  readonly headers: Record<string, string>;
  readonly subject?: string;
  readonly messageId?: string;
  readonly text?: string;
  readonly html?: string;
}

interface Part {
  readonly headers: Record<string, string>;
  readonly body: string;
}

function splitPart(raw: string): Part {
  const normalised = raw.replace(/\r\n/g, '\n');
  const end = normalised.indexOf('\n\n');
  const head = end === -1 ? normalised : normalised.slice(0, end);
  const body = end === -1 ? '' : normalised.slice(end + 2);
  const headers: Record<string, string> = {};
  for (const line of head.replace(/\n[ \t]+/g, ' ').split('\n')) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    if (!(name in headers)) headers[name] = line.slice(colon + 1).trim();
  }
  return { headers, body };
}

function param(header: string | undefined, name: string): string | undefined {
  const match = header?.match(new RegExp(`${name}="?([^";]+)"?`, 'i'));
  return match?.[1];
}

function decodeQuotedPrintable(text: string): Buffer {
  const soft = text.replace(/=\n/g, '');
  const bytes: number[] = [];
  for (let i = 0; i < soft.length; i++) {
    const ch = soft[i];
    const hex = soft.slice(i + 1, i + 3);
    if (ch === '=' && /^[0-9A-Fa-f]{2}$/.test(hex)) {
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else {
      bytes.push(...Buffer.from(ch, 'utf8'));
    }
  }
  return Buffer.from(bytes);
}

function decodeBody(part: Part): string {
  const encoding = (part.headers['content-transfer-encoding'] ?? '7bit').toLowerCase();
  const charset = (param(part.headers['content-type'], 'charset') ?? 'utf-8').toLowerCase();
  const buffer =
    encoding === 'base64'
      ? Buffer.from(part.body.replace(/\s+/g, ''), 'base64')
      : encoding === 'quoted-printable'
        ? decodeQuotedPrintable(part.body)
        : Buffer.from(part.body, 'utf8');
  return new TextDecoder(charset === 'us-ascii' ? 'utf-8' : charset).decode(buffer).replace(/\n$/, '');
}

/** Decodes RFC 2047 encoded words (`=?UTF-8?Q?...?=`, `=?UTF-8?B?...?=`). */
export function decodeEncodedWords(value: string): string {
  return value
    .replace(/\?=\s+=\?/g, '?==?')
    .replace(/=\?([^?]+)\?([QqBb])\?([^?]*)\?=/g, (_all, charset: string, kind: string, data: string) => {
      const bytes = kind.toUpperCase() === 'B' ? Buffer.from(data, 'base64') : decodeQuotedPrintable(data.replace(/_/g, ' '));
      return new TextDecoder(charset.toLowerCase()).decode(bytes);
    });
}

function collectBodies(part: Part, out: { text?: string; html?: string }): void {
  const type = (part.headers['content-type'] ?? 'text/plain').toLowerCase();
  if (type.startsWith('multipart/')) {
    const boundary = param(part.headers['content-type'], 'boundary');
    if (boundary === undefined) return;
    const sections = part.body.split(`--${boundary}`).slice(1);
    for (const section of sections) {
      if (section.startsWith('--')) break;
      collectBodies(splitPart(section.replace(/^\n/, '')), out);
    }
    return;
  }
  if ((part.headers['content-disposition'] ?? '').toLowerCase().startsWith('attachment')) return;
  if (type.startsWith('text/plain') && out.text === undefined) out.text = decodeBody(part);
  else if (type.startsWith('text/html') && out.html === undefined) out.html = decodeBody(part);
}

/** Parses a raw RFC 5322 message; never throws (unparseable parts are left out). */
export function parseMail(raw: string): ParsedMail {
  const top = splitPart(raw);
  const bodies: { text?: string; html?: string } = {};
  try {
    collectBodies(top, bodies);
  } catch {
    // A test server must keep the raw message even if this minimal parser cannot read it.
  }
  const subject = top.headers['subject'];
  return {
    headers: top.headers,
    ...(subject !== undefined ? { subject: decodeEncodedWords(subject) } : {}),
    ...(top.headers['message-id'] !== undefined ? { messageId: top.headers['message-id'] } : {}),
    ...bodies,
  };
}
