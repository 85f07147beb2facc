import { Body, Controller, Get, HttpCode, Inject, Post, Req, Res, UnauthorizedException, UseGuards } from '@nestjs/common';
import { timingSafeEqual } from 'node:crypto';
import type { ConsoleConfig } from '../console.config.js';
import { CONSOLE_CONFIG } from '../console.tokens.js';
import { SESSION_COOKIE, sessionValue } from './access.decider.js';
import { AccessGuard, type AuthenticatedRequest } from './access.guard.js';

/** The part of Express's response the session routes use. */
interface CookieResponse {
  cookie(
    name: string,
    value: string,
    options: { httpOnly: boolean; sameSite: 'strict'; path: string; secure: boolean; maxAge: number },
  ): void;
  clearCookie(name: string, options: { path: string }): void;
}

/** Log in with the token (form or JSON), log out, and what the current session may do. */
@Controller()
export class SessionController {
  constructor(@Inject(CONSOLE_CONFIG) private readonly config: ConsoleConfig) {}

  /** Sets an HttpOnly, SameSite=Strict session cookie when the token matches. */
  @Post('login')
  @HttpCode(204)
  login(
    @Body() body: { token?: unknown } | undefined,
    @Req() req: AuthenticatedRequest,
    @Res({ passthrough: true }) res: CookieResponse,
  ): void {
    const token = this.config.token;
    const given = typeof body?.token === 'string' ? Buffer.from(body.token) : Buffer.alloc(0);
    if (token === undefined) return;
    const expected = Buffer.from(token);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw new UnauthorizedException('invalid token');
    // Secure when the browser reached us over HTTPS (directly or through a TLS-terminating proxy):
    // the flag only restricts where the cookie is sent, so trusting the header cannot weaken it.
    const https = (req.socket as { encrypted?: boolean }).encrypted === true || req.headers['x-forwarded-proto'] === 'https';
    res.cookie(SESSION_COOKIE, sessionValue(token), {
      httpOnly: true,
      sameSite: 'strict',
      path: '/',
      secure: https,
      maxAge: 12 * 3600 * 1000,
    });
  }

  @Post('logout')
  @HttpCode(204)
  logout(@Res({ passthrough: true }) res: CookieResponse): void {
    res.clearCookie(SESSION_COOKIE, { path: '/' });
  }

  /** 401 when not logged in (the page then shows the login form). */
  @Get('api/session')
  @UseGuards(AccessGuard)
  session(@Req() req: AuthenticatedRequest): { operator: string; actionsAllowed: boolean; tokenRequired: boolean; mailInbox: boolean } {
    return {
      operator: req.operator ?? 'unknown',
      actionsAllowed: this.config.allowActions,
      tokenRequired: this.config.token !== undefined,
      mailInbox: this.config.mailDir !== undefined,
    };
  }
}
