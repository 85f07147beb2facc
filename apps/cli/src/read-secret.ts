import { usage } from './cli-error.js';

const notUtf8 = () => usage('the password is not valid UTF-8: check the terminal or the input encoding');

/**
 * Reads one secret line: from a terminal in raw mode without echo (Ctrl-C aborts), or the first
 * line of stdin when it is a pipe. The prompt goes to stderr so stdout stays clean for `--json`.
 * Bytes are decoded as strict UTF-8: a lenient decode would turn a Latin-1 password into
 * U+FFFD characters, and a password nobody typed would be set.
 * @throws CliError (usage) for input that is not UTF-8.
 */
export async function readSecret(prompt: string): Promise<string> {
  const stdin = process.stdin;
  if (!stdin.isTTY) {
    const chunks: Buffer[] = [];
    for await (const chunk of stdin) chunks.push(chunk as Buffer);
    const bytes = Buffer.concat(chunks);
    try {
      return new TextDecoder('utf-8', { fatal: true }).decode(bytes).split(/\r?\n/)[0] ?? '';
    } catch {
      throw notUtf8();
    } finally {
      bytes.fill(0);
      for (const c of chunks) c.fill(0);
    }
  }
  // Streaming: a character split across two chunks is joined, not replaced.
  const decoder = new TextDecoder('utf-8', { fatal: true });
  process.stderr.write(prompt);
  stdin.setRawMode(true);
  stdin.resume();
  return new Promise((resolve, reject) => {
    let value = '';
    const onData = (chunk: Buffer): void => {
      let text: string;
      try {
        text = decoder.decode(chunk, { stream: true });
      } catch {
        done();
        reject(notUtf8());
        return;
      }
      for (const ch of text) {
        if (ch === '\r' || ch === '\n') {
          done();
          resolve(value);
          return;
        }
        if (ch === '\u0003') {
          done();
          reject(new Error('aborted'));
          return;
        }
        if (ch === '\u007f' || ch === '\b') value = value.slice(0, -1);
        else value += ch;
      }
    };
    const done = (): void => {
      stdin.off('data', onData);
      stdin.setRawMode(false);
      stdin.pause();
      process.stderr.write('\n');
    };
    stdin.on('data', onData);
  });
}
