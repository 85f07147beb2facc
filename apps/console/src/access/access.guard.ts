import {
  ForbiddenException,
  Inject,
  Injectable,
  SetMetadata,
  UnauthorizedException,
  UnsupportedMediaTypeException,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { IncomingMessage } from 'node:http';
import type { ConsoleConfig } from '../console.config.js';
import { CONSOLE_CONFIG } from '../console.tokens.js';
import { cookieValue, decideAccess, SESSION_COOKIE } from './access.decider.js';

const ACTION = 'idm-console:action';

/** Marks a route that changes something (retry, drop, fire): needs `CONSOLE_ALLOW_ACTIONS=true`. */
export const ConsoleAction = (): MethodDecorator => SetMetadata(ACTION, true);

/** The request after the guard: who made it, for the audit log. */
export type AuthenticatedRequest = IncomingMessage & { operator?: string };

/**
 * Applies {@link decideAccess} to every API route. Actions must also be JSON POSTs: a cross-site
 * form cannot send `application/json` without a CORS preflight, which the console never answers,
 * so the (SameSite=Strict) session cookie cannot be ridden by another site.
 */
@Injectable()
export class AccessGuard implements CanActivate {
  constructor(
    @Inject(Reflector) private readonly reflector: Reflector,
    @Inject(CONSOLE_CONFIG) private readonly config: ConsoleConfig,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const action = this.reflector.get<boolean | undefined>(ACTION, context.getHandler()) === true;
    const decision = decideAccess(
      {
        authorization: request.headers.authorization,
        sessionCookie: cookieValue(request.headers.cookie, SESSION_COOKIE),
        action,
        remote: request.socket.remoteAddress ?? 'unknown',
      },
      { token: this.config.token, allowActions: this.config.allowActions },
    );
    if (!decision.allow) {
      if (decision.status === 401) throw new UnauthorizedException(decision.reason);
      throw new ForbiddenException(decision.reason);
    }
    if (action && !(request.headers['content-type'] ?? '').startsWith('application/json'))
      throw new UnsupportedMediaTypeException('actions are JSON POSTs');
    request.operator = decision.who;
    return true;
  }
}
