// The idm-events console: plain ES module, no build step, nothing loaded from elsewhere.
// Every value from the server is put into the page as text (textContent / attributes), never as
// HTML: a display name like <b>x</b> shows as those characters.

const main = document.getElementById('main');
const notice = document.getElementById('notice');
let session = null;
let stopView = () => {};

/** Builds an element: h('td', { class: 'num' }, 'text', child…). Strings become text nodes. */
function h(tag, props, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(props ?? {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    // Through the CSSOM: the Content-Security-Policy forbids style attributes.
    else if (k === 'style') Object.assign(el.style, v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) if (c !== undefined && c !== null && c !== false) el.append(c instanceof Node ? c : String(c));
  return el;
}

function say(message, kind = 'info') {
  notice.replaceChildren(h('p', { class: kind === 'error' ? 'error' : '' }, message));
}

class HttpError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

async function api(path, options = {}) {
  const res = await fetch(path, {
    credentials: 'same-origin',
    headers: { accept: 'application/json', ...(options.body ? { 'content-type': 'application/json' } : {}) },
    ...options,
  });
  if (res.status === 204) return null;
  const body = await res.json().catch(() => ({}));
  if (!res.ok) throw new HttpError(res.status, Array.isArray(body.message) ? body.message.join('; ') : (body.message ?? res.statusText));
  return body;
}

const fmt = {
  num: (n) => (typeof n === 'number' ? n.toLocaleString('en') : '–'),
  bytes: (n) => (n < 1024 ? `${n} B` : n < 1048576 ? `${(n / 1024).toFixed(1)} KiB` : `${(n / 1048576).toFixed(1)} MiB`),
  time: (iso) => (iso ? new Date(iso).toLocaleString() : '–'),
  text: (v) => (v === null || v === undefined || v === '' ? '–' : String(v)),
  json: (v) => JSON.stringify(v, null, 2),
};

function countdown(iso) {
  if (!iso) return '–';
  const ms = new Date(iso).getTime() - Date.now();
  const past = ms < 0;
  let s = Math.floor(Math.abs(ms) / 1000);
  const d = Math.floor(s / 86400);
  s -= d * 86400;
  const hh = Math.floor(s / 3600);
  s -= hh * 3600;
  const mm = Math.floor(s / 60);
  s -= mm * 60;
  const text = `${d ? `${d}d ` : ''}${String(hh).padStart(2, '0')}:${String(mm).padStart(2, '0')}:${String(s).padStart(2, '0')}`;
  return past ? `${text} ago` : `in ${text}`;
}

/** A table with a caption; columns: [header, (row) → cell content, 'num'?]. */
function table(caption, columns, rows, empty = 'Nothing here.') {
  if (rows.length === 0) return h('p', { class: 'muted' }, `${caption}: ${empty}`);
  return h(
    'div',
    { class: 'scroll' },
    h(
      'table',
      {},
      h('caption', {}, caption),
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          columns.map(([label, , cls]) => h('th', { scope: 'col', class: cls }, label)),
        ),
      ),
      h(
        'tbody',
        {},
        rows.map((r) =>
          h(
            'tr',
            {},
            columns.map(([, cell, cls]) => h('td', { class: cls }, cell(r))),
          ),
        ),
      ),
    ),
  );
}

function confirmDialog(question, confirmLabel) {
  return new Promise((resolve) => {
    const dialog = h(
      'dialog',
      { 'aria-labelledby': 'confirm-title' },
      h('h2', { id: 'confirm-title' }, question),
      h(
        'form',
        { method: 'dialog', class: 'inline' },
        h('button', { value: 'cancel', autofocus: true }, 'Cancel'),
        h('button', { value: 'confirm', class: 'danger' }, confirmLabel),
      ),
    );
    dialog.addEventListener('close', () => {
      resolve(dialog.returnValue === 'confirm');
      dialog.remove();
    });
    document.body.append(dialog);
    dialog.showModal();
  });
}

function page(title, ...content) {
  document.title = `${title} · idm-events console`;
  const heading = h('h1', { tabindex: '-1' }, title);
  main.replaceChildren(heading, ...content);
  heading.focus();
}

// ---- overview ---------------------------------------------------------------------------------

const PALETTE = [
  '#0a58ca',
  '#1a7f37',
  '#cf222e',
  '#9a6700',
  '#8250df',
  '#bf3989',
  '#0e7490',
  '#57606a',
  '#d4a72c',
  '#4f46e5',
  '#65a30d',
  '#be123c',
];

function chart(data) {
  const types = Object.keys(data.byType).sort();
  const n = data.minutes.length;
  const totals = data.minutes.map((_, i) => types.reduce((a, t) => a + data.byType[t][i], 0));
  const max = Math.max(1, ...totals);
  const svgNs = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(svgNs, 'svg');
  svg.setAttribute('viewBox', `0 0 ${n * 10} 100`);
  svg.setAttribute('preserveAspectRatio', 'none');
  svg.setAttribute('role', 'img');
  svg.setAttribute(
    'aria-label',
    `Events per minute over the last ${n} minutes, ${totals.reduce((a, b) => a + b, 0)} in all; the table below has the numbers.`,
  );
  data.minutes.forEach((_, i) => {
    let y = 100;
    types.forEach((t, k) => {
      const v = data.byType[t][i];
      if (!v) return;
      const height = (v / max) * 96;
      y -= height;
      const rect = document.createElementNS(svgNs, 'rect');
      rect.setAttribute('x', String(i * 10 + 1));
      rect.setAttribute('width', '8');
      rect.setAttribute('y', String(y));
      rect.setAttribute('height', String(height));
      rect.setAttribute('fill', PALETTE[k % PALETTE.length]);
      const title = document.createElementNS(svgNs, 'title');
      title.textContent = `${new Date(data.minutes[i]).toLocaleTimeString()}: ${v} × ${t}`;
      rect.append(title);
      svg.append(rect);
    });
  });
  return h(
    'figure',
    { class: 'chart' },
    h(
      'figcaption',
      {},
      `Events per minute, last ${n} minutes (max ${max}/min)${data.partial ? ' — busier than the console reads: only the newest 50,000 events are counted' : ''}`,
    ),
    svg,
    h(
      'ul',
      { class: 'legend' },
      types.map((t, k) =>
        h(
          'li',
          {},
          h('span', { class: 'swatch', style: { background: PALETTE[k % PALETTE.length] } }),
          `${t}: ${data.byType[t].reduce((a, b) => a + b, 0)}`,
        ),
      ),
    ),
  );
}

async function overview() {
  const o = await api('/api/overview');
  const s = o.stream;
  const schedules = o.schedules ?? [];
  page(
    'Overview',
    h(
      'div',
      { class: 'cards' },
      h(
        'section',
        { class: 'card', 'aria-labelledby': 'c-stream' },
        h('h2', { id: 'c-stream' }, `Stream ${s.name}`),
        h('div', { class: 'big' }, `${fmt.num(s.messages)} events`),
        h('div', { class: 'muted' }, `${fmt.bytes(s.bytes)}, seq ${s.firstSeq}–${s.lastSeq}`),
        h('div', { class: 'muted' }, `first ${fmt.time(s.firstTime)}`),
        h('div', { class: 'muted' }, `last ${fmt.time(s.lastTime)}`),
      ),
      h(
        'section',
        { class: 'card', 'aria-labelledby': 'c-dlq' },
        h('h2', { id: 'c-dlq' }, 'Dead letters'),
        h('div', { class: `big ${o.deadLetters ? 'bad' : 'ok'}` }, String(o.deadLetters)),
        h('a', { href: '#/dead-letters' }, 'Inspect dead letters'),
      ),
      h(
        'section',
        { class: 'card', 'aria-labelledby': 'c-apps' },
        h('h2', { id: 'c-apps' }, 'Apps'),
        h(
          'ul',
          { class: 'events' },
          o.apps.map((a) =>
            h(
              'li',
              {},
              h('span', { class: a.up ? 'ok' : 'bad' }, a.up ? '● up' : '○ no answer'),
              ` ${a.name}`,
              a.version ? h('span', { class: 'muted' }, ` v${a.version}`) : '',
            ),
          ),
        ),
      ),
      o.notifier
        ? h(
            'section',
            { class: 'card', 'aria-labelledby': 'c-mail' },
            h('h2', { id: 'c-mail' }, 'Pending emails'),
            h('div', { class: 'big' }, fmt.num(o.notifier.pending)),
            h('div', { class: 'muted' }, `${fmt.num(o.notifier.recipients)} recipients, oldest ${fmt.time(o.notifier.oldestPending)}`),
          )
        : '',
      o.passwordSync
        ? h(
            'section',
            { class: 'card', 'aria-labelledby': 'c-pw' },
            h('h2', { id: 'c-pw' }, 'Cached passwords'),
            h('div', { class: 'big' }, fmt.num(o.passwordSync.cached)),
            h('div', { class: 'muted' }, `next retry ${fmt.time(o.passwordSync.nextRetry)}`),
            h('div', { class: 'muted' }, `nearest expiry ${fmt.time(o.passwordSync.nearestExpiry)}`),
          )
        : '',
    ),
    chart(o.chart),
    table(
      'Consumers',
      [
        ['Name', (c) => c.name],
        ['Lag', (c) => fmt.num(c.lag), 'num'],
        ['Unacked', (c) => fmt.num(c.unacked), 'num'],
        ['Redelivered', (c) => fmt.num(c.redelivered), 'num'],
        ['Delivered up to', (c) => fmt.num(c.delivered), 'num'],
      ],
      o.consumers,
    ),
    o.scheduler
      ? table(
          'Schedules',
          [
            ['Name', (x) => x.name],
            ['Cron', (x) => h('code', {}, x.cron)],
            ['Time zone', (x) => x.timezone],
            ['Task', (x) => x.task],
            ['Enabled', (x) => (x.enabled ? 'yes' : 'no')],
            ['Next run', (x) => (x.nextRun ? `${fmt.time(x.nextRun)} (${countdown(x.nextRun)})` : '–')],
            ['', (x) => (session?.actionsAllowed ? h('button', { onclick: () => fire(x.name) }, `Fire ${x.name} now`) : '')],
          ],
          schedules,
        )
      : h('p', { class: 'warn' }, 'The scheduler did not answer.'),
  );
}

async function fire(name) {
  if (!(await confirmDialog(`Fire schedule ${name} now?`, 'Fire'))) return;
  try {
    const r = await api(`/api/schedules/${encodeURIComponent(name)}/fire`, { method: 'POST', body: '{}' });
    say(`Fired ${name}: tick ${r.eventId}`);
  } catch (err) {
    say(`Could not fire ${name}: ${err.message}`, 'error');
  }
}

// ---- users ------------------------------------------------------------------------------------

async function users(query) {
  const q = query.get('q') ?? '';
  const input = h('input', { type: 'search', name: 'q', id: 'user-q', value: q, autocomplete: 'off' });
  const form = h(
    'form',
    {
      class: 'inline',
      role: 'search',
      onsubmit: (e) => {
        e.preventDefault();
        const v = input.value.trim();
        location.hash = v ? `#/users?q=${encodeURIComponent(v)}` : '#/users';
      },
    },
    h('label', { for: 'user-q' }, 'User id or email', input),
    h('button', { class: 'primary' }, 'Search'),
  );
  const content = [form];
  if (q) {
    const r = await api(`/api/users?q=${encodeURIComponent(q)}`);
    content.push(
      table(
        'Matching users',
        [
          ['User', (u) => h('a', { href: `#/users/${encodeURIComponent(u.userId)}` }, u.userId)],
          ['Email', (u) => fmt.text(u.email)],
          ['Display name', (u) => fmt.text(u.displayName)],
        ],
        r.matches,
        'no user added with that id or email.',
      ),
      h('p', {}, h('a', { href: `#/users/${encodeURIComponent(q)}` }, `Open user “${q}” directly`)),
    );
  }
  page('Users', ...content);
}

function passwordCard(p, answered) {
  if (!answered) return h('p', { class: 'warn' }, 'password-sync did not answer.');
  if (!p) return h('p', { class: 'muted' }, 'No password cached for this user.');
  const state = h('span', { class: p.state === 'synced' ? 'ok' : p.state === 'cached' ? 'warn' : 'bad' }, p.state);
  const expires = h(
    'span',
    { 'data-countdown': p.expiresAt ?? '' },
    p.expiresAt ? `${fmt.time(p.expiresAt)} (${countdown(p.expiresAt)})` : '–',
  );
  return h(
    'dl',
    { class: 'facts', id: 'password' },
    h('dt', {}, 'State'),
    h('dd', { 'data-testid': 'password-state' }, state),
    h('dt', {}, 'Reason'),
    h('dd', {}, fmt.text(p.reason)),
    p.message ? [h('dt', {}, 'Message'), h('dd', {}, p.message)] : '',
    h('dt', {}, 'Attempts'),
    h('dd', {}, fmt.text(p.attempts)),
    h('dt', {}, 'Changed at'),
    h('dd', {}, fmt.time(p.changedAt)),
    h('dt', {}, 'Expires'),
    h('dd', {}, expires),
    h('dt', {}, 'Next retry'),
    h('dd', {}, p.nextRetryAt ? `${fmt.time(p.nextRetryAt)} (${countdown(p.nextRetryAt)})` : '–'),
    p.settledAt ? [h('dt', {}, 'Settled at'), h('dd', {}, fmt.time(p.settledAt))] : '',
  );
}

async function user(id) {
  const u = await api(`/api/users/${encodeURIComponent(id)}`);
  const profile = u.profile ?? {};
  const nextTick = u.nextTick ? `${fmt.time(u.nextTick)} (${countdown(u.nextTick)})` : '–';
  page(
    `User ${id}`,
    h(
      'dl',
      { class: 'facts' },
      h('dt', {}, 'Email'),
      h('dd', {}, fmt.text(profile.email ?? profile.changes?.email)),
      h('dt', {}, 'Display name'),
      h('dd', { 'data-testid': 'display-name' }, fmt.text(profile.displayName ?? profile.changes?.displayName)),
    ),
    h('h2', {}, 'Password'),
    passwordCard(u.password, u.passwordSyncAnswered),
    h('h2', {}, 'Pending emails'),
    u.emails
      ? table(
          'Pending emails',
          [
            ['Type', (p) => p.emailType],
            ['Attempts', (p) => String(p.attempts), 'num'],
            ['Last error', (p) => fmt.text(p.lastError)],
            ['Error class', (p) => fmt.text(p.errorClass)],
            ['Queued at', (p) => fmt.time(p.firstQueuedAt)],
            ['Next tick', () => nextTick],
            ['Claimed', (p) => (p.claimed ? 'sending' : 'waiting')],
          ],
          u.emails.pending,
          'none pending.',
        )
      : h('p', { class: 'warn' }, 'The notifier did not answer.'),
    h('h2', {}, 'Timeline'),
    h('p', { class: 'muted' }, 'Every event about this user, newest first, grouped by correlation id (a cause and its effects).'),
    u.timeline.length === 0
      ? h('p', { class: 'muted' }, 'No events.')
      : h(
          'div',
          { id: 'timeline' },
          u.timeline.map((g) =>
            h(
              'section',
              { class: 'group', 'aria-label': `correlation ${g.correlationId}` },
              h('h3', {}, `correlation ${g.correlationId}`),
              h(
                'ol',
                { class: 'events', reversed: true },
                g.events.map((e) =>
                  h(
                    'li',
                    {},
                    h('span', { class: 'muted' }, `#${e.seq} ${fmt.time(e.event.time)} `),
                    h('span', { class: 'type' }, e.event.type),
                    h('pre', {}, fmt.json(e.event.data)),
                  ),
                ),
              ),
            ),
          ),
        ),
  );
  const timer = setInterval(() => {
    for (const el of main.querySelectorAll('[data-countdown]')) {
      const iso = el.getAttribute('data-countdown');
      if (iso) el.textContent = `${fmt.time(iso)} (${countdown(iso)})`;
    }
  }, 1000);
  stopView = () => clearInterval(timer);
}

// ---- emails -----------------------------------------------------------------------------------

async function emails(query) {
  const e = await api('/api/emails');
  const previewUser = query.get('preview') ?? '';
  const userInput = h('input', { type: 'text', id: 'preview-user', name: 'preview', value: previewUser, autocomplete: 'off' });
  const previewForm = h(
    'form',
    {
      class: 'inline',
      onsubmit: (ev) => {
        ev.preventDefault();
        const v = userInput.value.trim();
        location.hash = v ? `#/emails?preview=${encodeURIComponent(v)}` : '#/emails';
      },
    },
    h('label', { for: 'preview-user' }, 'Preview every template for user', userInput),
    h('button', { class: 'primary' }, 'Preview'),
  );
  let previews = [];
  if (previewUser) {
    const p = await api(`/api/emails/preview?userId=${encodeURIComponent(previewUser)}`);
    previews = [
      p.known ? '' : h('p', { class: 'warn' }, `The notifier has no address for ${previewUser}: sample values are used.`),
      ...p.previews.map((x) =>
        h(
          'section',
          { class: 'group', 'aria-label': `template ${x.emailType}`, 'data-email-type': x.emailType },
          h('h3', {}, x.emailType),
          h('p', {}, h('strong', {}, 'Subject: '), x.subject),
          h('iframe', {
            class: 'mail',
            title: `${x.emailType}, HTML part (sandboxed)`,
            sandbox: '',
            src: `/api/emails/preview/html?userId=${encodeURIComponent(previewUser)}&emailType=${encodeURIComponent(x.emailType)}`,
          }),
          h('details', {}, h('summary', {}, 'Text part'), h('pre', {}, x.text)),
        ),
      ),
    ];
  }
  const types = Object.keys(e.byType).sort();
  const pending = Object.entries(e.pendingByType ?? {}).map(([type, n]) => ({ type, n }));
  page(
    'Emails',
    e.pendingByType
      ? table(
          'Pending now, by type',
          [
            ['Type', (r) => r.type],
            ['Pending', (r) => fmt.num(r.n), 'num'],
          ],
          pending,
          'nothing pending.',
        )
      : h('p', { class: 'warn' }, 'The notifier did not answer.'),
    table(
      'Last 24 hours, by type',
      [
        ['Type', (t) => t],
        ['Queued', (t) => fmt.num(e.byType[t].queued), 'num'],
        ['Sent', (t) => fmt.num(e.byType[t].sent), 'num'],
        ['Failed attempts', (t) => fmt.num(e.byType[t].failed), 'num'],
        ['Abandoned', (t) => fmt.num(e.byType[t].abandoned), 'num'],
      ],
      types,
      'no email events.',
    ),
    table(
      'Per hour',
      [
        ['Hour', (i) => fmt.time(e.hours[i])],
        ['Queued', (i) => e.perHour.queued[i], 'num'],
        ['Sent', (i) => e.perHour.sent[i], 'num'],
        ['Failed', (i) => e.perHour.failed[i], 'num'],
        ['Abandoned', (i) => e.perHour.abandoned[i], 'num'],
      ],
      e.hours
        .map((_, i) => i)
        .filter((i) => e.perHour.queued[i] + e.perHour.sent[i] + e.perHour.failed[i] + e.perHour.abandoned[i] > 0)
        .reverse(),
      'no email events.',
    ),
    h('h2', {}, 'Template preview'),
    previewForm,
    ...previews,
  );
}

// ---- dead letters -----------------------------------------------------------------------------

async function deadLetters() {
  const { letters } = await api('/api/dead-letters');
  const act = async (d, action) => {
    const ok = await confirmDialog(
      action === 'retry'
        ? `Retry dead letter ${d.seq}? Its message is appended again on ${d.subject}.`
        : `Drop dead letter ${d.seq}? It is removed for good.`,
      action === 'retry' ? 'Retry' : 'Drop',
    );
    if (!ok) return;
    try {
      const r = await api(`/api/dead-letters/${d.seq}/${action}`, { method: 'POST', body: '{}' });
      say(action === 'retry' ? `Dead letter ${d.seq} retried as event ${r.newSeq}.` : `Dead letter ${d.seq} dropped.`);
      await deadLetters();
    } catch (err) {
      say(`Could not ${action} dead letter ${d.seq}: ${err.message}`, 'error');
    }
  };
  page(
    'Dead letters',
    letters.length === 0
      ? h('p', { class: 'ok', id: 'no-dead-letters' }, 'No dead letters.')
      : h(
          'div',
          { id: 'dead-letters' },
          letters.map((d) =>
            h(
              'section',
              { class: 'group', 'data-seq': d.seq, 'aria-label': `dead letter ${d.seq}` },
              h('h2', {}, `#${d.seq} · ${d.reason} · ${d.subject}`),
              h(
                'dl',
                { class: 'facts' },
                h('dt', {}, 'Consumer'),
                h('dd', {}, d.consumer),
                h('dt', {}, 'Original sequence'),
                h('dd', {}, String(d.streamSequence)),
                h('dt', {}, 'Deliveries'),
                h('dd', {}, String(d.deliveryCount)),
                h('dt', {}, 'Error'),
                h('dd', {}, `${d.code}: ${d.error}`),
                h('dt', {}, 'At'),
                h('dd', {}, fmt.time(d.deadLetteredAt)),
              ),
              h('details', {}, h('summary', {}, 'Payload (secrets redacted)'), h('pre', {}, d.payload)),
              session?.actionsAllowed
                ? h(
                    'p',
                    {},
                    h('button', { class: 'primary', onclick: () => act(d, 'retry') }, `Retry ${d.seq}`),
                    ' ',
                    h('button', { onclick: () => act(d, 'drop') }, `Drop ${d.seq}`),
                  )
                : h('p', { class: 'muted' }, 'Actions are off (CONSOLE_ALLOW_ACTIONS).'),
            ),
          ),
        ),
  );
}

// ---- replay -----------------------------------------------------------------------------------

function replayState(p) {
  if (!p) return h('span', { class: 'muted' }, 'none seen since the console started');
  const l = p.line;
  if (l.kind === 'start') return `started ${fmt.time(p.at)}${l.dryRun ? ' (dry run)' : ''}`;
  if (l.kind === 'progress') {
    const total = l.read + l.pending;
    return h(
      'span',
      {},
      h('progress', { max: String(total || 1), value: String(l.read), 'aria-label': `${p.app} replay progress` }),
      ` ${fmt.num(l.read)} / ${fmt.num(total)} read, ${fmt.num(l.eventsPerSecond)}/s, at seq ${l.seq}`,
    );
  }
  if (l.kind === 'summary')
    return h(
      'span',
      { class: 'ok' },
      `done ${fmt.time(p.at)}${l.dryRun ? ' (dry run)' : ''}: ${fmt.num(l.read)} read, ${fmt.num(l.applied)} applied, ${fmt.num(l.undecodable)} undecodable, up to seq ${l.lastSeq}, ${fmt.num(l.eventsPerSecond)}/s`,
    );
  return h('span', { class: 'bad' }, `failed ${fmt.time(p.at)}: ${l.message}`);
}

function replayTable(r) {
  return h(
    'div',
    { id: 'replay-apps' },
    table(
      'Replayable apps',
      [
        ['App', (a) => a.app],
        ['Events to read', (a) => fmt.num(a.plan.count), 'num'],
        ['First sequence', (a) => fmt.text(a.plan.firstSeq), 'num'],
        ['Last sequence', (a) => fmt.text(a.plan.lastSeq), 'num'],
        ['Consumer at', (a) => (a.consumer ? fmt.num(a.consumer.delivered) : 'no consumer'), 'num'],
        ['Lag', (a) => (a.consumer ? fmt.num(a.consumer.lag) : '–'), 'num'],
        ['Last replay', (a) => replayState(a.progress)],
      ],
      r.apps,
    ),
  );
}

async function replay() {
  const r = await api('/api/replay');
  page(
    'Replay',
    h(
      'p',
      {},
      'What replaying an app would read: its projections are rebuilt from the whole stream. Run it with ',
      h('code', {}, 'idm replay <app> [--dry-run]'),
      ' (the app stopped); a running replay shows here as it goes.',
    ),
    replayTable(r),
  );
  // Follows a running replay in place (no re-render of the page, no focus move).
  const timer = setInterval(async () => {
    try {
      const next = await api('/api/replay');
      document.getElementById('replay-apps')?.replaceWith(replayTable(next));
    } catch {
      // the next tick tries again
    }
  }, 1500);
  stopView = () => clearInterval(timer);
}

// ---- live tail --------------------------------------------------------------------------------

function tail(query) {
  const filterInput = h('input', {
    type: 'text',
    id: 'tail-filter',
    name: 'filter',
    value: query.get('filter') ?? '',
    placeholder: 'user-added, user:<id>, idm.email.>',
  });
  const list = h('ol', { class: 'events', id: 'tail-events', 'aria-live': 'polite', reversed: true });
  const state = h('p', { class: 'muted', id: 'tail-state' }, 'Connecting…');
  let source;
  const start = () => {
    source?.close();
    list.replaceChildren();
    const f = filterInput.value.trim();
    source = new EventSource(`/api/tail${f ? `?filter=${encodeURIComponent(f)}` : ''}`);
    source.addEventListener('ready', () => {
      state.textContent = `Listening${f ? ` to ${f}` : ''}: new events appear at the top.`;
      state.setAttribute('data-ready', 'true');
    });
    source.onmessage = (m) => {
      const item = JSON.parse(m.data);
      const li = item.event
        ? h(
            'li',
            {},
            h('span', { class: 'muted' }, `#${item.seq} ${fmt.time(item.event.time)} `),
            h('span', { class: 'type' }, item.event.type),
            ` ${item.event.subject} `,
            h('code', {}, JSON.stringify(item.event.data)),
          )
        : h('li', {}, h('span', { class: 'bad' }, `#${item.seq} ${item.subject}: undecodable (${item.error})`));
      list.prepend(li);
      while (list.childElementCount > 500) list.lastElementChild.remove();
    };
    source.onerror = () => {
      state.textContent = 'Disconnected; reconnecting…';
      state.removeAttribute('data-ready');
    };
  };
  page(
    'Live tail',
    h(
      'form',
      {
        class: 'inline',
        onsubmit: (e) => {
          e.preventDefault();
          start();
        },
      },
      h('label', { for: 'tail-filter' }, 'Filter (as idm tail)', filterInput),
      h('button', { class: 'primary' }, 'Apply'),
      h(
        'button',
        {
          type: 'button',
          onclick: () => {
            source?.close();
            state.textContent = 'Stopped.';
            state.removeAttribute('data-ready');
          },
        },
        'Stop',
      ),
    ),
    state,
    list,
  );
  start();
  stopView = () => source?.close();
}

// ---- dev mail catcher ---------------------------------------------------------------------------

async function mailList() {
  const r = await api('/api/mail');
  if (!r.enabled) return page('Dev inbox', h('p', {}, 'No mail catcher here: the dev stack (npm start) sets CONSOLE_MAIL_DIR.'));
  page(
    'Dev inbox',
    h('p', { class: 'muted' }, "Messages the dev stack's mail catcher received (nothing is relayed), newest first."),
    table(
      'Messages',
      [
        ['Received', (m) => fmt.time(m.receivedAt)],
        ['To', (m) => m.to.join(', ')],
        ['Subject', (m) => h('a', { href: `#/mail/${encodeURIComponent(m.id)}` }, m.subject || '(no subject)')],
      ],
      r.messages,
      'no mail yet.',
    ),
  );
}

async function mailMessage(id) {
  const m = await api(`/api/mail/${encodeURIComponent(id)}`);
  page(
    m.subject || '(no subject)',
    h(
      'p',
      {},
      h('a', { href: '#/mail' }, '← Dev inbox'),
      ' · ',
      h('a', { href: `/api/mail/${encodeURIComponent(id)}/html`, target: '_blank', rel: 'noopener' }, 'HTML on its own'),
    ),
    h(
      'dl',
      { class: 'facts' },
      h('dt', {}, 'From'),
      h('dd', {}, fmt.text(m.from)),
      h('dt', {}, 'To'),
      h('dd', {}, fmt.text(m.to)),
      m.cc ? [h('dt', {}, 'Cc'), h('dd', {}, m.cc)] : '',
      h('dt', {}, 'Date'),
      h('dd', {}, fmt.time(m.date)),
      h('dt', {}, 'Message-ID'),
      h('dd', {}, fmt.text(m.messageId)),
    ),
    h('h2', {}, 'HTML'),
    m.hasHtml
      ? h('iframe', {
          class: 'mail',
          title: 'HTML part (sandboxed: no scripts, no network)',
          sandbox: '',
          src: `/api/mail/${encodeURIComponent(id)}/html`,
        })
      : h('p', { class: 'muted' }, 'No HTML part.'),
    h('h2', {}, 'Text'),
    m.text ? h('pre', { id: 'mail-text' }, m.text) : h('p', { class: 'muted' }, 'No text part.'),
    h('h2', {}, 'Attachments'),
    table(
      'Attachments',
      [
        ['File', (a) => fmt.text(a.filename)],
        ['Type', (a) => a.contentType],
        ['Size', (a) => fmt.bytes(a.size), 'num'],
      ],
      m.attachments,
      'none.',
    ),
    h(
      'details',
      {},
      h('summary', {}, 'All headers'),
      table(
        'Headers',
        [
          ['Name', (x) => x.name],
          ['Value', (x) => x.value],
        ],
        m.headers,
      ),
    ),
  );
}

// ---- login and routing ------------------------------------------------------------------------

function login() {
  const input = h('input', { type: 'password', id: 'token', name: 'token', autocomplete: 'current-password', required: true });
  page(
    'Log in',
    h('p', {}, 'This console needs its access token (CONSOLE_TOKEN).'),
    h(
      'form',
      {
        class: 'inline',
        onsubmit: async (e) => {
          e.preventDefault();
          try {
            await api('/login', { method: 'POST', body: JSON.stringify({ token: input.value }) });
            await route();
          } catch (err) {
            say(err.status === 401 ? 'That token is not valid.' : `Login failed: ${err.message}`, 'error');
          }
        },
      },
      h('label', { for: 'token' }, 'Token', input),
      h('button', { class: 'primary' }, 'Log in'),
    ),
  );
}

const ROUTES = [
  [/^\/?$/, () => overview()],
  [/^\/users\/(.+)$/, (m) => user(decodeURIComponent(m[1]))],
  [/^\/users$/, (_m, q) => users(q)],
  [/^\/emails$/, (_m, q) => emails(q)],
  [/^\/dead-letters$/, () => deadLetters()],
  [/^\/replay$/, () => replay()],
  [/^\/tail$/, (_m, q) => tail(q)],
  [/^\/mail\/(.+)$/, (m) => mailMessage(decodeURIComponent(m[1]))],
  [/^\/mail$/, () => mailList()],
];

async function route() {
  stopView();
  stopView = () => {};
  notice.replaceChildren();
  const [path, search] = location.hash.replace(/^#/, '').split('?');
  const query = new URLSearchParams(search ?? '');
  for (const a of document.querySelectorAll('.top nav a')) {
    const target = a.getAttribute('href').slice(1);
    if (target === '/' ? path === '/' || path === '' : path.startsWith(target)) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  try {
    session = await api('/api/session');
    document.getElementById('nav-mail').hidden = !session.mailInbox;
    document.getElementById('logout').hidden = !session.tokenRequired;
    document.getElementById('who').textContent = `${session.operator}${session.actionsAllowed ? ' · actions on' : ' · read-only'}`;
    for (const [re, render] of ROUTES) {
      const m = re.exec(path || '/');
      if (m) return await render(m, query);
    }
    page('Not found', h('p', {}, 'No such page. '), h('a', { href: '#/' }, 'Back to the overview'));
  } catch (err) {
    if (err.status === 401) return login();
    page('Error', h('p', { class: 'bad' }, err.message));
  }
}

document.getElementById('logout').addEventListener('click', async () => {
  await api('/logout', { method: 'POST', body: '{}' }).catch(() => undefined);
  session = null;
  document.getElementById('logout').hidden = true;
  document.getElementById('who').textContent = '';
  login();
});

window.addEventListener('hashchange', () => void route());
void route();
