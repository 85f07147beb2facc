// Turns the apps' JSON log lines (pino) into one readable line each, prefixed by the app:
//   12:00:01.234 INFO  [notifier] Notifier: ready: SMTP smtp://127.0.0.1:1025/ …  key=value …
const LEVEL_COLOURS = { trace: 90, debug: 90, info: 32, warn: 33, error: 31, fatal: 35 };
const SKIP = new Set(['level', 'time', 'app', 'msg', 'context', 'pid', 'hostname']);

/** Formats one line of a child's output; non-JSON lines pass through as they are. */
export function prettyLine(app, line, colour) {
  const tag = colour ? `\x1b[36m[${app}]\x1b[0m` : `[${app}]`;
  let rec;
  try {
    rec = JSON.parse(line);
  } catch {
    return `${time(new Date())} ${tag} ${line}`;
  }
  if (!rec || typeof rec !== 'object' || !('msg' in rec || 'level' in rec)) return `${time(new Date())} ${tag} ${line}`;
  const level = String(rec.level ?? 'info');
  const lvl = level.toUpperCase().padEnd(5);
  const lvlText = colour ? `\x1b[${LEVEL_COLOURS[level] ?? 0}m${lvl}\x1b[0m` : lvl;
  const fields = Object.entries(rec)
    .filter(([k, v]) => !SKIP.has(k) && v !== undefined && v !== null)
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(' ');
  const ctx = rec.context ? `${rec.context}: ` : '';
  return `${time(rec.time ? new Date(rec.time) : new Date())} ${lvlText} ${tag} ${ctx}${rec.msg ?? ''}${fields ? `  ${fields}` : ''}`;
}

function time(d) {
  return d.toISOString().slice(11, 23);
}
