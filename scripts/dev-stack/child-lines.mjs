// Reads a child process's stdout and stderr line by line, for the dev stack's log output.

/**
 * Calls `onLine` with each non-blank line the child writes on stdout or stderr; a line split
 * across chunks is held until its end arrives.
 */
export function onChildLines(child, onLine) {
  for (const s of [child.stdout, child.stderr]) {
    let buf = '';
    s.setEncoding('utf8');
    s.on('data', (d) => {
      buf += d;
      const lines = buf.split('\n');
      buf = lines.pop();
      for (const l of lines) if (l.trim()) onLine(l);
    });
  }
}
