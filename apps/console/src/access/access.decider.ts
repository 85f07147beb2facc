import { createHmac, timingSafeEqual } from 'node:crypto';

/** Name of the session cookie the login form sets. */
export const SESSION_COOKIE = 'idm_console';

/** What a request presents and what it asks for. */
export interface AccessRequest {
  /** `Authorization` header, if any. */
  readonly authorization: string | undefined;
  /** Value of the {@link SESSION_COOKIE} cookie, if any. */
  readonly sessionCookie: string | undefined;
  /** Retry, drop, fire: changes something. */
  readonly action: boolean;
  /** Remote address, for the audit line. */
  readonly remote: string;
}

/** The console's access settings. */
export interface AccessPolicy {
  readonly token: string | undefined;
  readonly allowActions: boolean;
}

/** The decision: who it is (for the audit log), or the status and reason of the refusal. */
export type AccessDecision =
  { readonly allow: true; readonly who: string } | { readonly allow: false; readonly status: 401 | 403; readonly reason: string };

/**
 * The cookie value for a token: an HMAC of it, so the cookie is not the token itself and
 * changing `CONSOLE_TOKEN` ends every session.
 */
export function sessionValue(token: string): string {
  return createHmac('sha256', token).update('idm-console-session-v1').digest('base64url');
}

function same(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * Who may do what. Without a configured token (loopback only, enforced at start) everyone who can
 * reach the port is the local operator. With one, a request needs `Authorization: Bearer <token>`
 * or the login form's cookie. Actions additionally need `CONSOLE_ALLOW_ACTIONS=true`. Pure.
 */
export function decideAccess(request: AccessRequest, policy: AccessPolicy): AccessDecision {
  let who: string;
  if (policy.token === undefined) who = `local@${request.remote}`;
  else {
    const bearer = /^Bearer\s+(.+)$/i.exec(request.authorization ?? '')?.[1]?.trim();
    if (bearer !== undefined && same(bearer, policy.token)) who = `bearer@${request.remote}`;
    else if (request.sessionCookie !== undefined && same(request.sessionCookie, sessionValue(policy.token)))
      who = `session@${request.remote}`;
    else
      return {
        allow: false,
        status: 401,
        reason:
          bearer !== undefined || request.sessionCookie !== undefined
            ? 'invalid token'
            : 'a token is required (Authorization: Bearer, or log in)',
      };
  }
  if (request.action && !policy.allowActions)
    return { allow: false, status: 403, reason: 'actions are disabled (set CONSOLE_ALLOW_ACTIONS=true to enable them)' };
  return { allow: true, who };
}

/** The value of one cookie in a `Cookie` header. */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === name) return decodeURIComponent(v.join('='));
  }
  return undefined;
}
