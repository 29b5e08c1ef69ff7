// webhooks.js -- a server's webhooks: the list, adding one (all events or a chosen few),
// and a webhook's page: switch it on or off, its request log (every attempt: status,
// the answer, the payload sent, whether it will be retried) with "send again", delete.
//
// Contract: doc/api.md "Webhooks of a server". The request log pages with next_before
// ("Older requests" appends the next page). Retry queues the logged event again with a
// new event uuid; the worker delivers it on its usual schedule.
//
// Must never: show an answer body or payload as HTML (it is text in <pre>), or delete
// without confirmation.

import { h, clear } from '../lib/dom.js';
import { t, formatDate } from '../lib/i18n.js';
import { get, post, patch, del, p } from '../lib/api.js';
import {
    pageHeader, form, table, paginated, emptyState, link, badge, button, confirmAction, flash, errorText,
} from '../lib/ui.js';
import { loadServer, serverTabs, serverCrumbs, serverUrl, serverApi, canWrite } from './common.js';

const EVENTS = ['MessageSent', 'MessageDelayed', 'MessageDeliveryFailed', 'MessageHeld', 'MessageBounced',
    'MessageLinkClicked', 'MessageLoaded', 'DomainDNSError', 'SendLimitApproaching', 'SendLimitExceeded',
    'MessageComplained'];

function stateBadge(w) {
    return w.enabled ? badge(t('webhooks.enabled'), 'ok') : badge(t('webhooks.disabled'), 'neutral');
}

async function listPage(ctx, box) {
    const { org, server } = await loadServer(ctx.params.org, ctx.params.server);
    const base = `${serverApi(org.permalink, server.permalink)}/webhooks`;
    const { webhooks } = await get(base);
    const write = canWrite(org);
    box.append(pageHeader(server.name, { crumbs: serverCrumbs(org, server, [t('nav.webhooks'), null]) }),
        serverTabs(org, server, 'webhooks'), h('p', { class: 'lead' }, t('webhooks.lead')));
    if (webhooks.length === 0) {
        box.append(emptyState(t('webhooks.empty_title'), write ? t('webhooks.empty_text') : t('webhooks.empty_text_readonly')));
    } else {
        box.append(paginated(webhooks, (slice) => table([
            { label: t('webhooks.name'), cell: (w) => link(serverUrl(org, server, `/webhooks/${encodeURIComponent(w.uuid)}`), w.name, { class: 'strong' }) },
            { label: t('webhooks.url'), cell: (w) => h('code', { class: 'break' }, w.url) },
            { label: t('webhooks.events'), cell: (w) => (w.all_events ? t('webhooks.all_events') : w.events.join(', ')) },
            { label: t('webhooks.state'), cell: stateBadge },
            { label: t('common.last_used'), cell: (w) => formatDate(w.last_used_at) },
        ], slice, { caption: t('nav.webhooks') })));
    }
    if (!write) return;
    const eventBoxes = h('fieldset', { class: 'events', 'data-field': 'events' },
        h('legend', null, t('webhooks.events')),
        EVENTS.map((ev) => h('label', { class: 'check' }, h('input', { type: 'checkbox', name: 'event', value: ev }), ` ${ev}`)),
        h('p', { class: 'field-error', id: 'events-error' }));
    const f = form({
        fields: [
            { name: 'name', label: t('webhooks.name'), required: true, hint: t('webhooks.name_hint') },
            { name: 'url', label: t('webhooks.url'), required: true, type: 'url', placeholder: 'https://app.example.com/postal', spellcheck: 'false', hint: t('webhooks.url_hint') },
            { name: 'all_events', label: t('webhooks.all_events'), type: 'checkbox', value: true, hint: t('webhooks.all_events_hint') },
            { name: 'sign', label: t('webhooks.sign'), type: 'checkbox', value: true, hint: t('webhooks.sign_hint') },
        ],
        extra: eventBoxes,
        submitLabel: t('webhooks.create'),
        async onSubmit(v) {
            if (!v.all_events) v.events = [...eventBoxes.querySelectorAll('input:checked')].map((i) => i.value);
            try {
                const { webhook } = await post(base, v);
                flash(t('webhooks.created', { name: webhook.name }));
                ctx.navigate(serverUrl(org, server, `/webhooks/${encodeURIComponent(webhook.uuid)}`));
            } catch (err) {
                const evErr = eventBoxes.querySelector('.field-error');
                clear(evErr);
                if (err.fields?.events) evErr.append([].concat(err.fields.events).join(' '));
                throw err;
            }
        },
    });
    const sync = () => { eventBoxes.hidden = f.input('all_events').checked; };
    f.input('all_events').addEventListener('change', sync);
    sync();
    box.append(h('section', { class: 'card' }, h('h2', null, t('webhooks.create_title')), f.el));
}

async function detailPage(ctx, box) {
    const { org, server } = await loadServer(ctx.params.org, ctx.params.server);
    const base = `${serverApi(org.permalink, server.permalink)}/webhooks`;
    const one = p`/${ctx.params.uuid}`;
    const { webhook: w } = await get(base + one);
    const write = canWrite(org);
    box.append(pageHeader(w.name, { crumbs: serverCrumbs(org, server, [t('nav.webhooks'), serverUrl(org, server, '/webhooks')], [w.name, null]) }),
        serverTabs(org, server, 'webhooks'));
    const toggle = write ? button(w.enabled ? t('webhooks.disable') : t('webhooks.enable'), async () => {
        try {
            await patch(base + one, { enabled: !w.enabled });
            flash(w.enabled ? t('webhooks.disabled_now') : t('webhooks.enabled_now'));
            ctx.reload();
        } catch (err) { flash(errorText(err), 'error'); }
    }, { id: 'toggle-webhook' }) : null;
    box.append(h('section', { class: 'card' },
        h('dl', { class: 'facts' },
            h('dt', null, t('webhooks.url')), h('dd', null, h('code', { class: 'break' }, w.url)),
            h('dt', null, t('webhooks.events')), h('dd', null, w.all_events ? t('webhooks.all_events') : w.events.join(', ')),
            h('dt', null, t('webhooks.state')), h('dd', null, stateBadge(w)),
            h('dt', null, t('webhooks.sign')), h('dd', null, w.sign ? t('common.yes') : t('common.no')),
            h('dt', null, t('common.last_used')), h('dd', null, formatDate(w.last_used_at))),
        toggle ? h('div', { class: 'form-actions' }, toggle) : null));

    // ---- the request log
    const logBox = h('section', { class: 'card', id: 'request-log' }, h('h2', null, t('webhooks.log_title')), h('p', { class: 'hint' }, t('webhooks.log_lead')));
    const rowsBox = h('div', { class: 'request-log' });
    const more = h('div');
    logBox.append(button(t('webhooks.refresh'), () => ctx.reload(), { kind: 'small', id: 'refresh-log' }), rowsBox, more);
    box.append(logBox);
    const entry = (r) => {
        const ok = r.status_code !== null && r.status_code >= 200 && r.status_code < 300;
        const status = r.status_code === null ? badge(t('webhooks.no_answer'), 'danger') : badge(String(r.status_code), ok ? 'ok' : 'danger');
        const retry = write ? button(t('webhooks.retry'), async () => {
            try {
                await post(`${base}/requests/${r.id}/retry`);
                flash(t('webhooks.retried', { event: r.event }));
            } catch (err) { flash(errorText(err), 'error'); }
        }, { kind: 'small', 'aria-label': t('webhooks.retry_named', { id: r.id }) }) : null;
        return h('details', { class: 'request', dataset: { id: String(r.id) } },
            h('summary', null,
                status, ' ', h('span', { class: 'strong' }, r.event), ' ',
                h('span', { class: 'muted' }, `${formatDate(r.created_at)} · ${t('webhooks.attempt', { n: r.attempt })}${r.duration_ms !== null ? ` · ${r.duration_ms} ms` : ''}`),
                r.will_retry ? [' ', badge(t('webhooks.will_retry'), 'warning')] : null),
            h('dl', { class: 'facts' },
                h('dt', null, t('webhooks.url')), h('dd', null, h('code', { class: 'break' }, r.url)),
                h('dt', null, t('webhooks.event_uuid')), h('dd', null, h('code', null, r.event_uuid)),
                r.error ? [h('dt', null, t('webhooks.error')), h('dd', { class: 'break' }, r.error)] : null),
            h('h3', null, t('webhooks.response')),
            h('pre', { class: 'payload', tabindex: '0' }, r.body || t('webhooks.empty_body')),
            h('h3', null, t('webhooks.payload')),
            h('pre', { class: 'payload', tabindex: '0' }, r.payload ? JSON.stringify(r.payload, null, 2) : t('webhooks.payload_gone')),
            retry ? h('div', { class: 'form-actions' }, retry) : null);
    };
    const load = async (before) => {
        const data = await get(`${base}${one}/requests?limit=20${before ? `&before=${before}` : ''}`);
        if (!before && data.requests.length === 0) {
            rowsBox.append(emptyState(t('webhooks.log_empty_title'), t('webhooks.log_empty_text')));
        }
        rowsBox.append(...data.requests.map(entry));
        clear(more);
        if (data.next_before) more.append(button(t('webhooks.older'), () => load(data.next_before).catch((err) => flash(errorText(err), 'error')), { id: 'older-requests' }));
    };
    await load(null);

    if (write) {
        box.append(h('section', { class: 'card danger-zone' },
            h('h2', null, t('webhooks.delete_title')),
            h('p', null, t('webhooks.delete_text')),
            button(t('webhooks.delete'), async () => {
                if (!await confirmAction({ title: t('webhooks.delete_title'), message: t('webhooks.delete_confirm', { name: w.name }), confirmLabel: t('webhooks.delete') })) return;
                try {
                    await del(base + one);
                    flash(t('webhooks.deleted', { name: w.name }));
                    ctx.navigate(serverUrl(org, server, '/webhooks'));
                } catch (err) { flash(errorText(err), 'error'); }
            }, { kind: 'danger', id: 'delete-webhook' })));
    }
}

export const routes = [
    { path: '/orgs/:org/servers/:server/webhooks', page: listPage },
    { path: '/orgs/:org/servers/:server/webhooks/:uuid', page: detailPage },
];
