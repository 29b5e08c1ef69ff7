// messages.js -- a server's message log: search with filters and keyset pages, one
// message (headers, plain text, the HTML in a sandboxed frame, attachments, raw download,
// deliveries, opens and clicks), held messages released or cancelled one by one or in
// bulk, a finished message deleted for good, and the Postfix queue (installation
// administrators).
//
// Contract: doc/api.md "Messages of a server" and "The Postfix queue". Filters and the
// page cursor live in the address (?to=&status=&before=&trail=), so a page can be
// bookmarked and Back works; `trail` keeps the cursors of the pages before, for
// "Newer". The HTML body is never put into this document: the frame loads it from
// …/messages/{id}/html, which postgate-admin answers with its own policy (no script,
// nothing remote, a unique origin), and the frame has `sandbox` without allow-scripts or
// allow-same-origin, so the message can neither run script nor reach the admin's origin.
//
// Must never: render message content (subject, names, bodies, headers) as HTML here, or
// release, cancel or delete without confirmation.

import { h, clear } from '../lib/dom.js';
import { t, formatDate } from '../lib/i18n.js';
import { get, post, del } from '../lib/api.js';
import {
    pageHeader, table, emptyState, link, badge, button, confirmAction, flash, errorText, notice,
} from '../lib/ui.js';
import { loadServer, serverTabs, serverCrumbs, serverUrl, serverApi, canWrite } from './common.js';

const STATUSES = ['Pending', 'Sent', 'SoftFail', 'HardFail', 'Held', 'Bounced', 'Processed', 'HoldCancelled', 'Error'];
const FILTERS = ['to', 'from', 'subject', 'tag', 'status', 'scope', 'since', 'until'];
const PAGE = 25;

export function statusBadge(status) {
    const kind = { Sent: 'ok', Processed: 'ok', Held: 'warning', SoftFail: 'warning', HardFail: 'danger', Bounced: 'danger', Error: 'danger' }[status] || 'neutral';
    return badge(t(`msgstatus.${status}`), kind);
}

function sizeText(n) {
    if (n === null || n === undefined) return '—';
    if (n < 1024) return t('messages.bytes', { n });
    if (n < 1024 * 1024) return t('messages.kib', { n: (n / 1024).toFixed(1) });
    return t('messages.mib', { n: (n / 1048576).toFixed(1) });
}

// Base64 to a download the browser saves (never opens): octet-stream whatever the type.
function saveBase64(b64, filename) {
    const bin = atob(b64);
    const bytes = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
    const url = URL.createObjectURL(new Blob([bytes], { type: 'application/octet-stream' }));
    const a = h('a', { href: url, download: filename || 'download', class: 'offscreen' });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
}

// A date input (local day) as the API's UTC time: since = start of the day, until = the next day.
function dayToUtc(value, next) {
    const d = new Date(`${value}T00:00:00`);
    if (Number.isNaN(d.getTime())) return null;
    if (next) d.setDate(d.getDate() + 1);
    return Math.floor(d.getTime() / 1000);
}

function queryOf(q, extra = {}) {
    const u = new URLSearchParams();
    for (const [k, v] of Object.entries({ ...q, ...extra })) if (v !== undefined && v !== null && v !== '') u.set(k, v);
    const s = u.toString();
    return s ? `?${s}` : '';
}

// The list of messages with the filter form; held = the held page (fixed status, bulk actions).
async function listPage(ctx, box, held) {
    const { org, server } = await loadServer(ctx.params.org, ctx.params.server);
    const base = serverApi(org.permalink, server.permalink);
    const here = serverUrl(org, server, held ? '/held' : '/messages');
    const q = {};
    for (const k of FILTERS) if (ctx.query[k]) q[k] = ctx.query[k];
    if (held) { delete q.status; }
    const api = { ...q, limit: PAGE, before: ctx.query.before };
    if (held) api.status = 'Held';
    if (api.since) api.since = dayToUtc(api.since, false) ?? api.since;
    if (api.until) api.until = dayToUtc(api.until, true) ?? api.until;
    const write = canWrite(org);
    box.append(pageHeader(server.name, { crumbs: serverCrumbs(org, server, [(held ? t('nav.held') : t('nav.messages')), null]) }),
        serverTabs(org, server, held ? 'held' : 'messages'),
        h('p', { class: 'lead' }, (held ? t('held.lead') : t('messages.lead'))));
    if (held && ctx.session.user.admin) box.append(h('p', null, link('/postfix/queue', t('held.queue_link'))));

    // The filter form: a GET to the same page (the router takes it over).
    const field = (name, label, input) => h('div', { class: 'field' }, h('label', { for: `flt-${name}` }, label), input);
    const text = (name, type = 'text') => h('input', { id: `flt-${name}`, name, type, value: q[name] || '', spellcheck: 'false' });
    const select = (name, options) => {
        const el = h('select', { id: `flt-${name}`, name }, h('option', { value: '' }, t('messages.any')),
            options.map(([v, l]) => h('option', { value: v }, l)));
        el.value = q[name] || '';
        return el;
    };
    const filterForm = h('form', { class: 'filters', role: 'search', 'aria-label': t('messages.filters') },
        field('to', t('messages.to'), text('to')),
        field('from', t('messages.from'), text('from')),
        field('subject', t('messages.subject'), text('subject')),
        field('tag', t('messages.tag'), text('tag')),
        held ? null : field('status', t('messages.status'), select('status', STATUSES.map((s) => [s, t(`msgstatus.${s}`)]))),
        field('scope', t('messages.scope'), select('scope', [['outgoing', t('messages.scope_outgoing')], ['incoming', t('messages.scope_incoming')]])),
        field('since', t('messages.since'), text('since', 'date')),
        field('until', t('messages.until'), text('until', 'date')),
        h('div', { class: 'form-actions' },
            h('button', { type: 'submit', class: ['btn', 'btn-primary'] }, t('messages.search')),
            Object.keys(q).length ? link(here, t('messages.clear'), { class: 'btn btn-secondary' }) : null));
    filterForm.addEventListener('submit', (e) => {
        e.preventDefault();
        const v = {};
        for (const el of filterForm.elements) if (el.name && el.value.trim()) v[el.name] = el.value.trim();
        ctx.navigate(here + queryOf(v));
    });
    box.append(h('details', { class: 'card filter-card', open: Object.keys(q).length > 0 || !held },
        h('summary', null, t('messages.filters')), filterForm));

    let data;
    try {
        data = await get(`${base}/messages${queryOf(api)}`);
    } catch (err) {
        if (err.status !== 400) throw err;
        box.append(notice(`${errorText(err)} ${Object.entries(err.fields).map(([k, v]) => `${k}: ${[].concat(v).join(' ')}`).join('; ')}`, 'error'));
        return;
    }
    const { messages } = data;
    if (messages.length === 0) {
        const filtered = Object.keys(q).length > 0;
        box.append(held
            ? emptyState(t('held.empty_title'), t('held.empty_text'))
            : emptyState(filtered ? t('messages.none_title') : t('messages.empty_title'),
                filtered ? t('messages.none_text') : t('messages.empty_text'),
                filtered ? link(here, t('messages.clear'), { class: 'btn btn-secondary' })
                    : link(serverUrl(org, server, '/credentials'), t('overview.go_credentials'), { class: 'btn btn-secondary' })));
    }

    const selected = new Set();
    const bulkBar = h('div', { class: 'bulk-bar', role: 'group', 'aria-label': t('held.bulk') });
    const count = h('span', { class: 'bulk-count', 'aria-live': 'polite' });
    const bulk = async (action) => {
        const ids = [...selected];
        if (ids.length === 0) return;
        const yes = await confirmAction({
            title: t(action === 'release' ? 'held.release_title' : 'held.cancel_title'),
            message: action === 'release' ? t('held.release_many', { n: ids.length }) : t('held.cancel_many', { n: ids.length }),
            confirmLabel: t(action === 'release' ? 'held.release' : 'held.cancel_hold'),
            danger: action !== 'release',
        });
        if (!yes) return;
        try {
            const { results } = await post(`${base}/messages/held/${action}`, { ids });
            const done = results.filter((r) => r.result === 'released' || r.result === 'cancelled').length;
            const failed = results.filter((r) => r.result !== 'released' && r.result !== 'cancelled');
            flash((action === 'release' ? t('held.released_n', { n: done }) : t('held.cancelled_n', { n: done }))
                + (failed.length ? ` ${t('held.failed_n', { n: failed.length })} ${failed.map((r) => `#${r.id}: ${r.message || r.result}`).join('; ')}` : ''),
            failed.length ? 'error' : 'success');
            ctx.reload();
        } catch (err) { flash(errorText(err), 'error'); }
    };
    const releaseBtn = button(t('held.release_selected'), () => bulk('release'), { kind: 'primary', id: 'bulk-release', disabled: true });
    const cancelBtn = button(t('held.cancel_selected'), () => bulk('cancel'), { kind: 'danger', id: 'bulk-cancel', disabled: true });
    const syncBulk = () => {
        clear(count).append(t('held.selected', { n: selected.size }));
        releaseBtn.disabled = cancelBtn.disabled = selected.size === 0;
    };
    const boxes = [];
    const pick = (m) => {
        const cb = h('input', { type: 'checkbox', 'aria-label': t('held.select_one', { id: m.id, to: m.rcpt_to }), value: String(m.id) });
        cb.addEventListener('change', () => { if (cb.checked) selected.add(m.id); else selected.delete(m.id); syncBulk(); });
        boxes.push(cb);
        return cb;
    };
    const columns = [
        held && write ? { label: t('held.select'), cell: pick, class: 'col-pick' } : null,
        { label: t('messages.time'), cell: (m) => formatDate(m.created_at) },
        { label: t('messages.from'), cell: (m) => h('span', { class: 'break' }, m.mail_from || '—') },
        { label: t('messages.to'), cell: (m) => h('span', { class: 'break' }, m.rcpt_to) },
        { label: t('messages.subject'), cell: (m) => link(serverUrl(org, server, `/messages/${m.id}`), m.subject || t('messages.no_subject'), { class: 'strong break msg-link' }) },
        { label: t('messages.status'), cell: (m) => statusBadge(m.status) },
        held ? { label: t('held.expires'), cell: (m) => formatDate(m.hold_expires_at) }
            : { label: t('messages.scope'), cell: (m) => t(m.scope === 'incoming' ? 'messages.scope_incoming' : 'messages.scope_outgoing') },
    ].filter(Boolean);
    if (messages.length) {
        if (held && write) {
            const all = h('input', { type: 'checkbox', id: 'select-all' });
            all.addEventListener('change', () => {
                for (const cb of boxes) { cb.checked = all.checked; cb.dispatchEvent(new Event('change')); }
            });
            bulkBar.append(h('span', { class: 'switch' }, all, h('label', { for: 'select-all' }, t('held.select_all'))), count, releaseBtn, cancelBtn);
            syncBulk();
            box.append(bulkBar);
        }
        box.append(table(columns, messages, { caption: (held ? t('nav.held') : t('nav.messages')) }));
    }

    // Keyset pages: "Older" follows next_before; "Newer" pops the trail.
    const trail = (ctx.query.trail || '').split(',').filter(Boolean);
    const newer = ctx.query.before !== undefined;
    const older = data.next_before !== null && data.next_before !== undefined;
    if (newer || older) {
        const prevTrail = trail.slice(0, -1);
        const prevBefore = trail.length ? trail[trail.length - 1] : null;
        box.append(h('nav', { class: 'pager', 'aria-label': t('pager.label') },
            newer ? link(here + queryOf(q, { before: prevBefore === '0' ? null : prevBefore, trail: prevTrail.join(',') }), t('messages.newer'), { class: 'btn btn-secondary', id: 'page-newer' })
                : h('span'),
            h('span', { class: 'pager-status' }, t('messages.page', { n: trail.length + 1 })),
            older ? link(here + queryOf(q, { before: data.next_before, trail: [...trail, ...(newer ? [ctx.query.before] : ['0'])].join(',') }), t('messages.older'), { class: 'btn btn-secondary', id: 'page-older' })
                : h('span')));
    }
}

// ------------------------------------------------------------------ one message

function kv(rows) {
    return h('dl', { class: 'facts' }, rows.filter(Boolean).map(([k, v]) => [h('dt', null, k), h('dd', null, v ?? '—')]));
}

async function messagePage(ctx, box) {
    const { org, server } = await loadServer(ctx.params.org, ctx.params.server);
    const base = `${serverApi(org.permalink, server.permalink)}/messages/${encodeURIComponent(ctx.params.id)}`;
    const { message: m } = await get(base);
    const title = m.subject || t('messages.no_subject');
    box.append(pageHeader(title, {
        crumbs: serverCrumbs(org, server, [t('nav.messages'), serverUrl(org, server, '/messages')], [`#${m.id}`, null]),
    }), serverTabs(org, server, 'messages'));

    const actions = h('div', { class: 'actions msg-actions' });
    if (m.held && canWrite(org)) {
        actions.append(
            button(t('held.release'), async () => {
                if (!await confirmAction({ title: t('held.release_title'), message: t('held.release_one', { to: m.rcpt_to }), confirmLabel: t('held.release'), danger: false })) return;
                try { await post(`${base}/release`); flash(t('held.released_one')); ctx.reload(); } catch (err) { flash(errorText(err), 'error'); }
            }, { kind: 'primary', id: 'release-message' }),
            button(t('held.cancel_hold'), async () => {
                if (!await confirmAction({ title: t('held.cancel_title'), message: t('held.cancel_one', { to: m.rcpt_to }), confirmLabel: t('held.cancel_hold') })) return;
                try { await post(`${base}/cancel`); flash(t('held.cancelled_one')); ctx.reload(); } catch (err) { flash(errorText(err), 'error'); }
            }, { kind: 'danger', id: 'cancel-message' }));
    }
    // A retry takes what failed for good (and HoldCancelled); Held has its own release.
    const retryable = (m.scope === 'outgoing' && ['HardFail', 'Bounced', 'HoldCancelled'].includes(m.status))
        || (m.scope === 'incoming' && m.status === 'HardFail');
    if (retryable && canWrite(org)) {
        actions.append(button(t('message.retry'), async () => {
            if (!await confirmAction({ title: t('message.retry_title'), message: t('message.retry_text', { to: m.rcpt_to }), confirmLabel: t('message.retry'), danger: false })) return;
            try { await post(`${base}/retry`); flash(t('message.retried')); ctx.reload(); } catch (err) { flash(errorText(err), 'error'); }
        }, { kind: 'primary', id: 'retry-message' }));
    }
    // Deleting is for finished messages only (the API refuses the others with 409).
    const inFlight = m.held || m.status === 'Pending' || m.status === 'SoftFail';
    if (canWrite(org) && !inFlight) {
        actions.append(button(t('message.delete'), async () => {
            if (!await confirmAction({ title: t('message.delete_title'), message: t('message.delete_text', { to: m.rcpt_to }), confirmLabel: t('message.delete') })) return;
            try {
                await del(base);
                flash(t('message.deleted'));
                ctx.navigate(serverUrl(org, server, '/messages'));
            } catch (err) { flash(errorText(err), 'error'); }
        }, { kind: 'danger', id: 'delete-message' }));
    }
    if (m.raw_message_available) {
        actions.append(button(t('message.download_raw'), async () => {
            try {
                const raw = await get(`${base}/raw`);
                saveBase64(raw.raw_message, `message-${m.id}.eml`);
            } catch (err) { flash(errorText(err), 'error'); }
        }, { id: 'download-raw' }));
    }
    if (m.held) box.append(notice(t('message.held_notice', { when: formatDate(m.hold_expires_at) }), 'warning'));
    else if (canWrite(org) && (m.status === 'Pending' || m.status === 'SoftFail')) box.append(notice(t('message.delete_in_flight', { status: m.status }), 'info'));
    box.append(h('section', { class: 'card' }, h('h2', null, t('message.summary')),
        kv([
            [t('messages.status'), statusBadge(m.status)],
            [t('messages.from'), h('span', { class: 'break' }, m.mail_from || '—')],
            [t('messages.to'), h('span', { class: 'break' }, m.rcpt_to)],
            [t('messages.subject'), h('span', { class: 'break', id: 'message-subject' }, m.subject)],
            [t('message.message_id'), h('code', { class: 'break' }, m.message_id || '—')],
            [t('messages.scope'), t(m.scope === 'incoming' ? 'messages.scope_incoming' : 'messages.scope_outgoing')],
            [t('messages.tag'), m.tag],
            [t('message.size'), sizeText(m.size)],
            [t('message.spam'), `${m.spam_status} (${m.spam_score})`],
            [t('message.token'), h('code', null, m.token)],
            [t('messages.time'), formatDate(m.created_at)],
        ]), actions));

    // Jump links to the sections (keyboard users skip long headers).
    const sections = [['msg-deliveries', t('message.deliveries')], ['msg-plain', t('message.plain')], ['msg-html', t('message.html')],
        ['msg-attachments', t('message.attachments')], ['msg-headers', t('message.headers')], ['msg-activity', t('message.activity')]];
    box.append(h('nav', { class: 'jump', 'aria-label': t('message.sections') }, h('ul', null,
        sections.map(([id, label]) => h('li', null, h('a', { href: `#${id}` }, label))))));

    box.append(h('section', { class: 'card', id: 'msg-deliveries' }, h('h2', null, t('message.deliveries')),
        m.deliveries.length === 0 ? h('p', { class: 'muted' }, t('message.no_deliveries'))
            : table([
                { label: t('messages.time'), cell: (d) => formatDate(d.created_at) },
                { label: t('messages.status'), cell: (d) => statusBadge(d.status) },
                { label: t('message.details'), cell: (d) => h('span', { class: 'break' }, d.details || '—') },
                { label: t('message.output'), cell: (d) => (d.output ? h('code', { class: 'break' }, d.output) : '—') },
                { label: t('message.tls'), cell: (d) => (d.sent_with_ssl ? t('common.yes') : t('common.no')) },
            ], m.deliveries, { caption: t('message.deliveries') })));

    if (!m.raw_message_available) {
        box.append(notice(t('message.expired'), 'info'));
    } else {
        box.append(h('section', { class: 'card', id: 'msg-plain' }, h('h2', null, t('message.plain')),
            m.plain_body === null ? h('p', { class: 'muted' }, t('message.no_plain'))
                : h('pre', { class: 'plain-body', tabindex: '0' }, m.plain_body)));
        const htmlBox = h('section', { class: 'card', id: 'msg-html' }, h('h2', null, t('message.html')));
        if (m.html_body === null) {
            htmlBox.append(h('p', { class: 'muted' }, t('message.no_html')));
        } else {
            htmlBox.append(h('p', { class: 'hint' }, t('message.html_hint')),
                h('iframe', { class: 'html-view', sandbox: true, referrerpolicy: 'no-referrer',
                    title: t('message.html_frame', { subject: title }), src: `/api/v2${base}/html` }));
        }
        box.append(htmlBox);
        box.append(h('section', { class: 'card', id: 'msg-attachments' }, h('h2', null, t('message.attachments')),
            (m.attachments || []).length === 0 ? h('p', { class: 'muted' }, t('message.no_attachments'))
                : table([
                    { label: t('message.filename'), cell: (a) => h('span', { class: 'break attachment-name' }, a.filename || t('message.unnamed')) },
                    { label: t('message.content_type'), cell: (a) => h('code', null, a.content_type) },
                    { label: t('message.size'), cell: (a) => sizeText(a.size) },
                    { label: t('common.actions'), cell: (a) => button(t('message.download'), async () => {
                        try {
                            const { attachment } = await get(`${base}/attachments/${m.attachments.indexOf(a)}`);
                            saveBase64(attachment.data, attachment.filename || `attachment-${m.attachments.indexOf(a)}`);
                        } catch (err) { flash(errorText(err), 'error'); }
                    }, { kind: 'small', 'aria-label': t('message.download_named', { name: a.filename || t('message.unnamed') }) }) },
                ], m.attachments, { caption: t('message.attachments') })));
        const headerRows = Object.entries(m.headers || {}).flatMap(([name, values]) => values.map((v) => [name, v]));
        box.append(h('section', { class: 'card', id: 'msg-headers' }, h('h2', null, t('message.headers')),
            h('details', null, h('summary', null, t('message.headers_count', { n: headerRows.length })),
                h('dl', { class: 'headers' }, headerRows.map(([k, v]) => [h('dt', null, k), h('dd', { class: 'break' }, v)])))));
    }
    const act = (list, withUrl) => (list.length === 0 ? h('p', { class: 'muted' }, (withUrl ? t('message.no_clicks') : t('message.no_opens')))
        : table([
            { label: t('messages.time'), cell: (x) => formatDate(x.created_at) },
            withUrl ? { label: t('message.url'), cell: (x) => h('code', { class: 'break' }, x.url) } : null,
            { label: t('message.ip'), cell: (x) => x.ip_address },
            { label: t('message.user_agent'), cell: (x) => h('span', { class: 'break' }, x.user_agent || '—') },
            { label: t('message.place'), cell: (x) => [x.city, x.country].filter(Boolean).join(', ') || '—' },
        ].filter(Boolean), list));
    box.append(h('section', { class: 'card', id: 'msg-activity' }, h('h2', null, t('message.activity')),
        h('h3', null, t('message.opens', { n: m.loads.length })), act(m.loads, false),
        h('h3', null, t('message.clicks', { n: m.clicks.length })), act(m.clicks, true)));
}

// ------------------------------------------------------------------ the Postfix queue

async function queuePage(ctx, box) {
    box.append(pageHeader(t('queue.title'), { lead: t('queue.lead') }));
    if (!ctx.session.user.admin) {
        box.append(notice(t('queue.admins_only'), 'info'));
        return;
    }
    const q = await get('/postfix/queue');
    box.append(h('p', null, button(t('queue.refresh'), () => ctx.reload(), { id: 'queue-refresh' })));
    if (q.truncated) box.append(notice(t('queue.truncated'), 'warning'));
    if (q.entries.length === 0) {
        box.append(emptyState(t('queue.empty_title'), t('queue.empty_text')));
        return;
    }
    box.append(table([
        { label: t('queue.id'), cell: (e) => h('code', null, e.queue_id) },
        { label: t('queue.queue'), cell: (e) => e.queue_name },
        { label: t('messages.time'), cell: (e) => formatDate(new Date(e.arrival_time * 1000).toISOString()) },
        { label: t('message.size'), cell: (e) => sizeText(e.message_size) },
        { label: t('queue.sender'), cell: (e) => h('span', { class: 'break' }, e.sender || '<>') },
        { label: t('queue.recipients'), cell: (e) => h('ul', { class: 'plain-list' }, (e.recipients || []).map((r) =>
            h('li', null, h('span', { class: 'break' }, r.address), r.delay_reason ? h('span', { class: 'muted break' }, ` — ${r.delay_reason}`) : null))) },
    ], q.entries, { caption: t('queue.title') }));
    box.append(h('p', { class: 'hint' }, t('queue.count', { n: q.count })));
}

export const routes = [
    { path: '/orgs/:org/servers/:server/messages', page: (ctx, box) => listPage(ctx, box, false) },
    { path: '/orgs/:org/servers/:server/held', page: (ctx, box) => listPage(ctx, box, true) },
    { path: '/orgs/:org/servers/:server/messages/:id', page: messagePage },
    { path: '/postfix/queue', page: queuePage },
];
