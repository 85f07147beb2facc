import { redactUrls } from '@idm/config';
import {
  Controller,
  Get,
  Header,
  HttpCode,
  Inject,
  Logger,
  Param,
  ParseIntPipe,
  Post,
  Query,
  Req,
  Res,
  Sse,
  UseFilters,
  UseGuards,
  type MessageEvent,
} from '@nestjs/common';
import { Observable } from 'rxjs';
import { Clock } from '@idm/config';
import { CommandSubjects, EventTypes } from '@idm/contracts';
import {
  OPERATED_APPS,
  OperationsError,
  redactPayload,
  tailFilters,
  type OperationsClient,
  type StoredDeadLetter,
  type Tail,
} from '@idm/operations';
import { AccessGuard, ConsoleAction, type AuthenticatedRequest } from '../access/access.guard.js';
import { ACTIONS, OPERATIONS } from '../console.tokens.js';
import { ReplayWatcher } from '../replay/replay-watcher.js';
import { emailSummary, type EmailSummary } from './email-summary.js';
import { OperationsErrorFilter } from './operations-error.filter.js';
import { SANDBOXED_HTML_CSP } from './sandboxed-html.js';

/** A dead letter as the page shows it: secrets redacted, URL credentials scrubbed. */
export interface DeadLetterView {
  readonly seq: number;
  readonly consumer: string;
  readonly reason: string;
  readonly code: string;
  readonly error: string;
  readonly subject: string;
  readonly streamSequence: number;
  readonly deliveryCount: number;
  readonly deadLetteredAt: string;
  readonly payload: string;
}

/** The earliest next run of the enabled schedules: when pending work is next looked at. */
function nextRun(schedules: ReadonlyArray<{ enabled?: boolean; nextRun?: string | null }>): string | null {
  const runs = schedules.filter((s) => s.enabled !== false && typeof s.nextRun === 'string').map((s) => s.nextRun as string);
  return runs.length === 0 ? null : runs.reduce((a, b) => (new Date(a) <= new Date(b) ? a : b));
}

function view(d: StoredDeadLetter): DeadLetterView {
  const r = d.record;
  return {
    seq: d.seq,
    consumer: r.consumer,
    reason: r.reason,
    code: r.code,
    error: redactUrls(r.error),
    subject: r.subject,
    streamSequence: r.streamSequence,
    deliveryCount: r.deliveryCount,
    deadLetteredAt: r.deadLetteredAt,
    payload: r.payloadEncoding === 'base64' ? `(binary, ${Buffer.from(r.payload, 'base64').length} bytes)` : redactPayload(r.payload),
  };
}

/**
 * The console's JSON API: the same queries and actions as the `idm` CLI (through
 * `@idm/operations`), behind {@link AccessGuard}. Every action is logged with who and what.
 */
@Controller('api')
@UseGuards(AccessGuard)
@UseFilters(OperationsErrorFilter)
export class ApiController {
  private readonly audit = new Logger('ConsoleAudit');

  constructor(
    @Inject(OPERATIONS) private readonly ops: OperationsClient,
    @Inject(Clock) private readonly clock: Clock,
    @Inject(ACTIONS) private readonly actions: OperationsClient,
    @Inject(ReplayWatcher) private readonly replays: ReplayWatcher,
  ) {}

  @Get('overview')
  async overview(): Promise<Record<string, unknown>> {
    const [status, chart] = await Promise.all([this.ops.status(), this.ops.eventsPerMinute(this.clock.now(), 60)]);
    return { ...status, schedules: (status.scheduler?.schedules ?? null) as unknown, chart, now: this.clock.now().toISOString() };
  }

  @Get('users')
  async users(@Query('q') q: string | undefined): Promise<{ matches: unknown[] }> {
    return { matches: q && q.trim() ? await this.ops.findUsers(q, 50) : [] };
  }

  @Get('users/:id')
  async user(@Param('id') id: string): Promise<Record<string, unknown>> {
    const [timeline, report, scheduler] = await Promise.all([
      this.ops.timeline(id),
      this.ops.user(id).catch((err: unknown) => (err instanceof OperationsError ? err : Promise.reject(err))),
      this.ops.ask(CommandSubjects.SchedulerList, {}),
    ]);
    const reportOk = !(report instanceof OperationsError);
    if ((!reportOk || !report.known) && timeline.length === 0)
      throw new OperationsError(`unknown user ${JSON.stringify(id)}: no event, no pending email, no cached password`, 'IDM_OPS_NOT_FOUND');
    const added = timeline
      .flatMap((g) => g.events)
      .find((e) => e.event.type === EventTypes.UserAdded || e.event.type === EventTypes.UserModified);
    // The class of each pending email's last error, from its last EmailFailed in the log.
    const failures = timeline.flatMap((g) => g.events).filter((e) => e.event.type === EventTypes.EmailFailed);
    const errorClass = (emailType: string): 'permanent' | 'transient' | null => {
      const last = failures.filter((f) => (f.event.data as { emailType: string }).emailType === emailType).sort((a, b) => b.seq - a.seq)[0];
      return last ? ((last.event.data as { permanent: boolean }).permanent ? 'permanent' : 'transient') : null;
    };
    return {
      userId: id,
      profile: added ? added.event.data : null,
      emails:
        reportOk && report.emails
          ? { ...report.emails, pending: report.emails.pending.map((p) => ({ ...p, errorClass: errorClass(p.emailType) })) }
          : null,
      password: reportOk ? report.password : null,
      passwordSyncAnswered: reportOk ? report.passwordSyncAnswered : false,
      // Event data never holds a plaintext password; redacted anyway, like dead-letter payloads.
      timeline: timeline.map((g) => ({
        ...g,
        events: g.events.map((e) => ({
          seq: e.seq,
          event: { ...e.event, data: JSON.parse(redactPayload(JSON.stringify(e.event.data))) as unknown },
        })),
      })),
      nextTick: nextRun((scheduler?.schedules ?? []) as Array<{ enabled?: boolean; nextRun?: string | null }>),
      now: this.clock.now().toISOString(),
    };
  }

  @Get('emails')
  async emails(): Promise<EmailSummary & { pendingByType: Record<string, number> | null }> {
    const now = this.clock.now();
    const since = new Date(now.getTime() - 24 * 3600_000);
    const [events, status] = await Promise.all([
      this.ops.readEvents(['idm.email.>'], { since }),
      this.ops.ask(CommandSubjects.NotifierStatus, {}),
    ]);
    return {
      ...emailSummary(
        events.map((e) => e.event),
        now,
        24,
      ),
      pendingByType: (status?.pendingByType ?? null) as Record<string, number> | null,
    };
  }

  /** The templates rendered for a user (text parts and subjects; the HTML comes from `preview/html`). */
  @Get('emails/preview')
  async previews(
    @Query('userId') userId: string | undefined,
  ): Promise<{ known: boolean; previews: Array<{ emailType: string; subject: string; text: string }> }> {
    if (!userId?.trim()) throw new OperationsError('give a userId', 'IDM_OPS_USAGE');
    const r = await this.ops.emailPreviews(userId.trim());
    return { known: r.known, previews: r.previews.map((p) => ({ emailType: p.emailType, subject: p.subject, text: p.text })) };
  }

  /** One template's HTML for a sandboxed frame, with its own CSP (no script, no network). */
  @Get('emails/preview/html')
  @Header('Content-Type', 'text/html; charset=utf-8')
  async previewHtml(
    @Query('userId') userId: string | undefined,
    @Query('emailType') emailType: string | undefined,
    @Res({ passthrough: true }) res: { setHeader(name: string, value: string): void },
  ): Promise<string> {
    if (!userId?.trim() || !emailType?.trim()) throw new OperationsError('give a userId and an emailType', 'IDM_OPS_USAGE');
    const r = await this.ops.emailPreviews(userId.trim(), emailType.trim());
    res.setHeader('Content-Security-Policy', SANDBOXED_HTML_CSP);
    return r.previews[0]?.html ?? '';
  }

  @Get('dead-letters')
  async deadLetters(): Promise<{ letters: DeadLetterView[] }> {
    return { letters: (await this.ops.deadLetters(500)).map(view) };
  }

  @Post('dead-letters/:seq/retry')
  @ConsoleAction()
  @HttpCode(200)
  async retry(@Param('seq', ParseIntPipe) seq: number, @Req() req: AuthenticatedRequest): Promise<{ seq: number; newSeq: number }> {
    const letter = await this.actions.deadLetter(seq);
    const newSeq = await this.actions.retryDeadLetter(letter);
    this.audit.log(
      `${req.operator ?? 'unknown'} retried dead letter ${seq} (${letter.record.subject}, consumer ${letter.record.consumer}) as event ${newSeq}`,
    );
    return { seq, newSeq };
  }

  @Post('dead-letters/:seq/drop')
  @ConsoleAction()
  @HttpCode(200)
  async drop(@Param('seq', ParseIntPipe) seq: number, @Req() req: AuthenticatedRequest): Promise<{ seq: number }> {
    const letter = await this.actions.deadLetter(seq);
    await this.actions.dropDeadLetter(letter);
    this.audit.log(
      `${req.operator ?? 'unknown'} dropped dead letter ${seq} (${letter.record.subject}, consumer ${letter.record.consumer})`,
    );
    return { seq };
  }

  @Post('schedules/:name/fire')
  @ConsoleAction()
  @HttpCode(200)
  async fire(@Param('name') name: string, @Req() req: AuthenticatedRequest): Promise<Record<string, unknown>> {
    const reply = await this.actions.fireSchedule(name);
    this.audit.log(`${req.operator ?? 'unknown'} fired schedule ${name}: tick ${String(reply.eventId)}`);
    return reply;
  }

  @Get('replay')
  async replay(): Promise<{ apps: unknown[] }> {
    const [plan, consumers] = await Promise.all([this.ops.replayPlan(), this.ops.consumers()]);
    const progress = this.replays.progress();
    return {
      apps: OPERATED_APPS.filter((a) => a.replayable).map((a) => ({
        app: a.name,
        plan,
        consumer: consumers.find((c) => c.name === a.name) ?? null,
        progress: progress.find((p) => p.app === a.name) ?? null,
      })),
    };
  }

  /**
   * New events as Server-Sent Events, with `idm tail`'s filters (`filter`: a type, `user:<id>`,
   * a subject; `since`: ISO time). The first event (`ready`) says the consumer is in place.
   */
  @Sse('tail')
  tail(@Query('filter') filter: string | undefined, @Query('since') since: string | undefined): Observable<MessageEvent> {
    const subjects = tailFilters(filter?.trim() || undefined);
    const from = since ? new Date(since) : undefined;
    if (from && Number.isNaN(from.getTime()))
      throw new OperationsError(`since must be an ISO time, got ${JSON.stringify(since)}`, 'IDM_OPS_USAGE');
    return new Observable<MessageEvent>((subscriber) => {
      let tail: Tail | undefined;
      let closed = false;
      void (async () => {
        tail = await this.ops.tail(subjects, from ? { since: from } : {});
        if (closed) return tail.stop();
        subscriber.next({ type: 'ready', data: { filters: subjects } });
        for await (const item of tail) subscriber.next({ data: item });
        subscriber.complete();
      })().catch((err: unknown) => subscriber.error(err));
      return () => {
        closed = true;
        void tail?.stop();
      };
    });
  }
}
