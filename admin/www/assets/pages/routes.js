// routes.js -- where a server's incoming mail goes: routes (address → mode and
// endpoint), the endpoints they deliver to (HTTP, SMTP, an address), and track domains.
//
// Contract: doc/api.md "Routes of a server" and "Endpoints of a server". A route's mode and
// spam handling are changed in place in its row. A route in mode
// Endpoint needs an endpoint, so the route form offers the server's endpoints and says
// to create one first when there is none. Track domains: doc/api.md "Track domains of a
// server"; each shows the CNAME to publish with a copy button.
//
// Must never: delete without confirmation, or show an SMTP endpoint's password (the API
// only says whether one is set).

import { h } from '../lib/dom.js';
import { t, formatDate } from '../lib/i18n.js';
import { get, post, patch, del } from '../lib/api.js';
import {
    pageHeader, form, table, paginated, emptyState, button, confirmAction, flash, errorText, notice, copyButton,
} from '../lib/ui.js';
import { loadServer, serverTabs, serverCrumbs, serverApi, canWrite } from './common.js';

const KINDS = [
    { type: 'HTTPEndpoint', path: 'http-endpoints', key: 'http' },
    { type: 'SMTPEndpoint', path: 'smtp-endpoints', key: 'smtp' },
    { type: 'AddressEndpoint', path: 'address-endpoints', key: 'address' },
];
const MODES = ['Endpoint', 'Accept', 'Hold', 'Bounce', 'Reject'];
const SPAM_MODES = ['Mark', 'Quarantine', 'Fail'];

// The form fields of an endpoint of kind key, filled from e when editing one (an SMTP
// endpoint's password is never shown: left empty, it stays as it is).
function endpointFields(key, e = null) {
    const f = {
        http: [
            { name: 'name', label: t('endpoints.name'), required: true },
            { name: 'url', label: t('endpoints.url'), required: true, type: 'url', placeholder: 'https://app.example.com/incoming', spellcheck: 'false' },
            { name: 'format', label: t('endpoints.format'), type: 'select', options: [['Hash', t('endpoints.format_hash')], ['RawMessage', t('endpoints.format_raw')]] },
            { name: 'encoding', label: t('endpoints.encoding'), type: 'select', options: [['BodyAsJSON', 'JSON'], ['FormData', t('endpoints.form_data')]] },
            { name: 'include_attachments', label: t('endpoints.include_attachments'), type: 'checkbox', value: true },
            { name: 'strip_replies', label: t('endpoints.strip_replies'), type: 'checkbox' },
            { name: 'timeout', label: t('endpoints.timeout'), type: 'number', value: 5, min: 5, max: 60, step: 1 },
        ],
        smtp: [
            { name: 'name', label: t('endpoints.name'), required: true },
            { name: 'hostname', label: t('endpoints.hostname'), required: true, spellcheck: 'false' },
            { name: 'port', label: t('endpoints.port'), type: 'number', value: 25, min: 1, max: 65535, step: 1 },
            { name: 'ssl_mode', label: t('endpoints.ssl_mode'), type: 'select', options: ['Auto', 'None', 'STARTTLS', 'TLS'].map((m) => [m, m]) },
            { name: 'username', label: t('endpoints.username'), omitEmpty: true, autocomplete: 'off' },
            { name: 'password', label: t('endpoints.password'), type: 'password', omitEmpty: true, autocomplete: 'new-password' },
        ],
        address: [
            { name: 'address', label: t('endpoints.address'), required: true, type: 'email', spellcheck: 'false' },
        ],
    }[key];
    if (!e) return f;
    return f.map((field) => (field.name === 'password' ? { ...field, hint: t('endpoints.password_keep') }
        : { ...field, value: e[field.name] ?? field.value }));
}

function endpointTarget(e) {
    if (e.type === 'HTTPEndpoint') return e.url;
    if (e.type === 'SMTPEndpoint') return `${e.hostname}:${e.port}`;
    return e.address;
}

async function routesPage(ctx, box) {
    const { org, server } = await loadServer(ctx.params.org, ctx.params.server);
    const base = serverApi(org.permalink, server.permalink);
    const [{ routes }, { domains }, { track_domains: trackDomains }, ...lists] = await Promise.all([
        get(`${base}/routes`), get(`${base}/domains`), get(`${base}/track-domains`),
        ...KINDS.map((k) => get(`${base}/${k.path}`))]);
    const endpoints = lists.flatMap((l, i) => l.endpoints.map((e) => ({ ...e, kind: KINDS[i] })));
    const write = canWrite(org);
    const byUuid = new Map(endpoints.map((e) => [e.uuid, e]));
    const endpointName = (ref) => {
        if (!ref) return '—';
        const e = byUuid.get(ref.uuid);
        return e ? `${e.name || e.address} (${t(`endpoint.kind.${e.kind.key}`)})` : ref.uuid;
    };
    box.append(pageHeader(server.name, { crumbs: serverCrumbs(org, server, [t('nav.routes'), null]) }),
        serverTabs(org, server, 'routes'), h('p', { class: 'lead' }, t('routes.lead')));

    const remove = (what, name, path) => button(t('common.delete'), async () => {
        const yes = await confirmAction({ title: t('routes.delete_title'), message: t('routes.delete_confirm', { what, name }), confirmLabel: t('common.delete') });
        if (!yes) return;
        try {
            await del(path);
            flash(t('routes.deleted', { name }));
            ctx.reload();
        } catch (err) { flash(errorText(err), 'error'); }
    }, { kind: 'danger-small', 'aria-label': t('routes.delete_named', { name }) });

    // A route's mode or spam handling, changed in place (PATCH); the API's refusal (a mode
    // Endpoint without an endpoint, say) is shown and the choice put back.
    const choice = (r, field, values, labelKey, label) => {
        if (!write) return t(`${labelKey}.${r[field]}`);
        const sel = h('select', { 'aria-label': label(r.address) },
            values.map((v) => h('option', { value: v }, t(`${labelKey}.${v}`))));
        sel.value = r[field];
        sel.addEventListener('change', async () => {
            sel.disabled = true;
            try {
                const { route } = await patch(`${base}/routes/${encodeURIComponent(r.uuid)}`, { [field]: sel.value });
                r[field] = route[field];
                flash(t('routes.changed', { name: r.address }));
            } catch (err) {
                sel.value = r[field];
                flash(errorText(err), 'error');
            } finally {
                sel.disabled = false;
            }
        });
        return sel;
    };

    // A route's endpoint, changed in place like its mode (only where the route has one: a
    // route in another mode gets its endpoint by switching to Endpoint first).
    const endpointChoice = (r) => {
        if (!write || !r.endpoint || endpoints.length < 2) return endpointName(r.endpoint);
        const sel = h('select', { 'aria-label': t('routes.endpoint_of', { address: r.address }) },
            endpoints.map((e) => h('option', { value: `${e.type}:${e.uuid}` }, endpointName({ type: e.type, uuid: e.uuid }))));
        const current = () => `${r.endpoint.type}:${r.endpoint.uuid}`;
        sel.value = current();
        sel.addEventListener('change', async () => {
            const [type, uuid] = sel.value.split(':');
            sel.disabled = true;
            try {
                const { route } = await patch(`${base}/routes/${encodeURIComponent(r.uuid)}`, { endpoint: { type, uuid } });
                r.endpoint = route.endpoint;
                flash(t('routes.changed', { name: r.address }));
            } catch (err) {
                sel.value = current();
                flash(errorText(err), 'error');
            } finally {
                sel.disabled = false;
            }
        });
        return sel;
    };

    // ---- routes
    const routesBox = h('section', { class: 'card', id: 'routes' }, h('h2', null, t('routes.title')));
    if (routes.length === 0) {
        routesBox.append(emptyState(t('routes.empty_title'), domains.length === 0 ? t('routes.empty_no_domain') : t('routes.empty_text')));
    } else {
        routesBox.append(paginated(routes, (slice) => table([
            { label: t('routes.address'), cell: (r) => h('code', { class: 'break strong' }, r.address) },
            { label: t('routes.mode'), cell: (r) => choice(r, 'mode', MODES, 'routes.mode', (address) => t('routes.mode_of', { address })) },
            { label: t('routes.endpoint'), cell: (r) => endpointChoice(r) },
            { label: t('routes.spam_mode'), cell: (r) => choice(r, 'spam_mode', SPAM_MODES, 'routes.spam', (address) => t('routes.spam_of', { address })) },
            { label: t('routes.token_address'), cell: (r) => h('code', { class: 'break' }, r.token_address) },
            { label: t('common.actions'), cell: (r) => (write ? remove(t('routes.route'), r.address, `${base}/routes/${encodeURIComponent(r.uuid)}`) : null) },
        ], slice, { caption: t('routes.title') })));
    }
    if (write && domains.length > 0) {
        const epOptions = [['', t('routes.choose_endpoint')], ...endpoints.map((e) => [`${e.type}:${e.uuid}`, e.name ? `${e.name} — ${endpointTarget(e)}` : endpointTarget(e)])];
        const f = form({
            fields: [
                { name: 'name', label: t('routes.name'), required: true, hint: t('routes.name_hint'), spellcheck: 'false' },
                { name: 'domain', label: t('routes.domain'), type: 'select', options: domains.map((d) => [d.name, d.name]) },
                { name: 'mode', label: t('routes.mode'), type: 'select', options: MODES.map((m) => [m, t(`routes.mode.${m}`)]), value: 'Endpoint', hint: t('routes.mode_hint') },
                { name: 'endpoint', label: t('routes.endpoint'), type: 'select', options: epOptions, skip: true },
                { name: 'spam_mode', label: t('routes.spam_mode'), type: 'select', options: SPAM_MODES.map((m) => [m, t(`routes.spam.${m}`)]), value: 'Mark' },
            ],
            submitLabel: t('routes.create'),
            async onSubmit(v) {
                const ep = f.input('endpoint').value;
                if (v.mode === 'Endpoint' && ep) {
                    const [type, uuid] = ep.split(':');
                    v.endpoint = { type, uuid };
                }
                const { route } = await post(`${base}/routes`, v);
                flash(t('routes.created', { name: route.address }));
                ctx.reload();
            },
        });
        const sync = () => { f.field('endpoint').hidden = f.input('mode').value !== 'Endpoint'; };
        f.input('mode').addEventListener('change', sync);
        sync();
        if (endpoints.length === 0) routesBox.append(notice(t('routes.need_endpoint'), 'info'));
        routesBox.append(h('h3', null, t('routes.create_title')), f.el);
    }
    box.append(routesBox);

    // ---- endpoints
    const epBox = h('section', { class: 'card', id: 'endpoints' }, h('h2', null, t('endpoints.title')), h('p', { class: 'hint' }, t('endpoints.lead')));
    if (endpoints.length === 0) {
        epBox.append(emptyState(t('endpoints.empty_title'), write ? t('endpoints.empty_text') : t('endpoints.empty_text_readonly')));
    } else {
        epBox.append(table([
            { label: t('endpoints.name'), cell: (e) => h('span', { class: 'strong' }, e.name || '—') },
            { label: t('endpoints.kind'), cell: (e) => t(`endpoint.kind.${e.kind.key}`) },
            { label: t('endpoints.target'), cell: (e) => h('code', { class: 'break' }, endpointTarget(e)) },
            { label: t('common.last_used'), cell: (e) => formatDate(e.last_used_at) },
            { label: t('common.actions'), cell: (e) => (write ? h('span', { class: 'actions' },
                button(t('endpoints.edit'), () => drawEdit(e), { kind: 'small', 'aria-label': t('endpoints.edit_named', { name: e.name || e.address }) }),
                remove(t('endpoints.endpoint'), e.name || e.address, `${base}/${e.kind.path}/${encodeURIComponent(e.uuid)}`)) : null) },
        ], endpoints, { caption: t('endpoints.title') }));
    }
    // Editing one endpoint: its form, filled in, above the one that makes new ones.
    const editSlot = h('div', { id: 'endpoint-edit' });
    const drawEdit = (e) => {
        const f = form({
            fields: endpointFields(e.kind.key, e),
            submitLabel: t('common.save'),
            async onSubmit(v) {
                if (v.password === '' || v.password === undefined) delete v.password;
                const { endpoint } = await patch(`${base}/${e.kind.path}/${encodeURIComponent(e.uuid)}`, v);
                flash(t('endpoints.saved', { name: endpoint.name || endpoint.address }));
                ctx.reload();
            },
        });
        editSlot.replaceChildren(h('h3', null, t('endpoints.edit_title', { name: e.name || e.address })), f.el,
            h('p', null, button(t('common.cancel'), () => editSlot.replaceChildren(), { kind: 'secondary' })));
        f.el.querySelector('input, select')?.focus();
    };
    epBox.append(editSlot);
    if (write) {
        const kindSel = h('select', { id: 'endpoint-kind' }, KINDS.map((k) => h('option', { value: k.key }, t(`endpoint.kind.${k.key}`))));
        const slot = h('div');
        const drawForm = () => {
            const kind = KINDS.find((k) => k.key === kindSel.value);
            const fields = endpointFields(kind.key);
            const f = form({
                fields,
                submitLabel: t('endpoints.create'),
                async onSubmit(v) {
                    if (v.password === '') delete v.password;
                    const { endpoint } = await post(`${base}/${kind.path}`, v);
                    flash(t('endpoints.created', { name: endpoint.name || endpoint.address }));
                    ctx.reload();
                },
            });
            slot.replaceChildren(f.el);
        };
        kindSel.addEventListener('change', drawForm);
        drawForm();
        epBox.append(h('h3', null, t('endpoints.create_title')),
            h('div', { class: 'field' }, h('label', { for: 'endpoint-kind' }, t('endpoints.kind')), kindSel), slot);
    }
    box.append(epBox);

    // ---- track domains
    const trackBox = h('section', { class: 'card', id: 'track-domains' }, h('h2', null, t('track.title')),
        h('p', { class: 'hint' }, t('track.lead')));
    if (trackDomains.length === 0) {
        trackBox.append(emptyState(t('track.empty_title'), domains.length === 0 ? t('routes.empty_no_domain') : t('track.empty_text')));
    } else {
        trackBox.append(table([
            { label: t('track.host'), cell: (d) => h('code', { class: 'break strong' }, d.host) },
            { label: t('track.cname'), cell: (d) => h('span', null, h('code', { class: 'break' }, `${d.dns_record.name}. CNAME ${d.dns_record.value}.`), ' ',
                copyButton(() => `${d.dns_record.name}. IN CNAME ${d.dns_record.value}.`)) },
            { label: t('track.options'), cell: (d) => [d.ssl ? 'HTTPS' : 'HTTP', d.track_clicks ? t('track.clicks') : null, d.track_loads ? t('track.loads') : null].filter(Boolean).join(', ') },
            { label: t('track.excluded'), cell: (d) => (d.excluded_click_domains.length ? d.excluded_click_domains.join(', ') : '—') },
            { label: t('common.actions'), cell: (d) => (write ? remove(t('track.track_domain'), d.host, `${base}/track-domains/${encodeURIComponent(d.uuid)}`) : null) },
        ], trackDomains, { caption: t('track.title') }));
    }
    if (write && domains.length > 0) {
        const f = form({
            fields: [
                { name: 'name', label: t('track.name'), required: true, hint: t('track.name_hint'), value: 'click', spellcheck: 'false' },
                { name: 'domain', label: t('routes.domain'), type: 'select', options: domains.map((d) => [d.name, d.name]) },
                { name: 'ssl', label: t('track.ssl'), type: 'checkbox', value: true },
                { name: 'track_clicks', label: t('track.clicks'), type: 'checkbox', value: true },
                { name: 'track_loads', label: t('track.loads'), type: 'checkbox', value: true },
                { name: 'excluded', label: t('track.excluded'), hint: t('track.excluded_hint'), omitEmpty: true, spellcheck: 'false', skip: true },
            ],
            submitLabel: t('track.create'),
            async onSubmit(v) {
                const ex = f.input('excluded').value.split(/[\s,]+/).filter(Boolean);
                if (ex.length) v.excluded_click_domains = ex;
                const { track_domain: td } = await post(`${base}/track-domains`, v);
                flash(t('track.created', { name: td.host }));
                ctx.reload();
            },
        });
        trackBox.append(h('h3', null, t('track.create_title')), f.el);
    }
    box.append(trackBox);
}

export const routes = [
    { path: '/orgs/:org/servers/:server/routes', page: routesPage },
];
