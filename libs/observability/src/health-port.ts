/** `HEALTH_PORT` is not a port number. */
export class HealthPortError extends Error {
  override readonly name = 'HealthPortError';
  readonly code = 'IDM_HEALTH_PORT_INVALID';
}

/**
 * The health/metrics port of an app: `HEALTH_PORT`, else the app's default (each app has its own,
 * so the three run side by side on one machine). `HEALTH_PORT=off` disables the server.
 * @throws HealthPortError when the value is neither a port nor `off`.
 */
export function healthPortFrom(env: NodeJS.ProcessEnv, fallback: number): number | null {
  const raw = env.HEALTH_PORT?.trim();
  if (!raw) return fallback;
  if (raw === 'off') return null;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new HealthPortError(`HEALTH_PORT must be a port number (0-65535) or "off", got ${JSON.stringify(raw)}`);
  return port;
}
