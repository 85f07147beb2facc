/**
 * Where any of `secrets` appears in `haystack`, in every encoding a careless write could use:
 * UTF-8, UTF-16LE, base64 (unpadded) and hex. Returns `"<secret> as <encoding>"` for each find,
 * empty when clean. For canary checks of logs, files, events and replies.
 */
export function secretLeaks(haystack: Buffer | string, secrets: readonly string[]): string[] {
  const bytes = typeof haystack === 'string' ? Buffer.from(haystack, 'utf8') : haystack;
  const found: string[] = [];
  for (const secret of secrets) {
    const needles = {
      utf8: Buffer.from(secret, 'utf8'),
      utf16le: Buffer.from(secret, 'utf16le'),
      base64: Buffer.from(Buffer.from(secret).toString('base64').replace(/=+$/, '')),
      hex: Buffer.from(Buffer.from(secret).toString('hex')),
    };
    for (const [name, needle] of Object.entries(needles)) if (bytes.includes(needle)) found.push(`${secret} as ${name}`);
  }
  return found;
}
