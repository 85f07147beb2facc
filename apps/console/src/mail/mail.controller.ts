import { Controller, Get, Header, Inject, NotFoundException, Param, Res, UseFilters, UseGuards } from '@nestjs/common';
import { AccessGuard } from '../access/access.guard.js';
import { SANDBOXED_HTML_CSP } from '../api/sandboxed-html.js';
import { OperationsErrorFilter } from '../api/operations-error.filter.js';
import { DEV_INBOX } from '../console.tokens.js';
import type { DevInbox, InboxEntry, ParsedMessage } from './dev-inbox.js';

/** The dev mail catcher's inbox, when `CONSOLE_MAIL_DIR` is set (the dev stack sets it). */
@Controller('api/mail')
@UseGuards(AccessGuard)
@UseFilters(OperationsErrorFilter)
export class MailController {
  constructor(@Inject(DEV_INBOX) private readonly inbox: DevInbox | null) {}

  private get on(): DevInbox {
    if (!this.inbox) throw new NotFoundException('no mail catcher here (CONSOLE_MAIL_DIR is not set; the dev stack sets it)');
    return this.inbox;
  }

  @Get()
  async list(): Promise<{ enabled: boolean; messages: InboxEntry[] }> {
    return this.inbox ? { enabled: true, messages: await this.inbox.list() } : { enabled: false, messages: [] };
  }

  @Get(':id')
  message(@Param('id') id: string): Promise<ParsedMessage> {
    return this.on.message(id);
  }

  /**
   * The HTML part for a sandboxed frame: its own CSP (`sandbox`, no script, no network but
   * inline styles and data: images), so a message can neither run code nor call home.
   */
  @Get(':id/html')
  @Header('Content-Type', 'text/html; charset=utf-8')
  async html(@Param('id') id: string, @Res({ passthrough: true }) res: { setHeader(name: string, value: string): void }): Promise<string> {
    const html = await this.on.html(id);
    if (html === null) throw new NotFoundException('this message has no HTML part');
    res.setHeader('Content-Security-Policy', SANDBOXED_HTML_CSP);
    return html;
  }
}
