// ippools.js -- IP pools: the list (all of them for installation administrators, the
// ones assigned to your organizations for everyone else), and a pool's page with its
// settings (name, default, Postfix's per-destination limits), its addresses and the
// organizations that may use it. Only installation administrators
// create, change and delete pools, addresses and assignments (the API says 403 to others,
// and the page does not offer it).
//
// Contract: doc/api.md "IP pools".
//
// Must never: delete a pool or an address without confirmation.

import { h } from '../lib/dom.js';
import { t, formatDate } from '../lib/i18n.js';
import { get, post, patch, del, p } from '../lib/api.js';
import {
    pageHeader, form, table, emptyState, link, badge, button, confirmAction, flash, errorText,
} from '../lib/ui.js';

async function listPage(ctx, box) {
    const { ip_pools: pools } = await get('/ip-pools');
    const admin = ctx.session.user.admin;
    box.append(pageHeader(t('pools.title'), { lead: admin ? t('pools.lead_admin') : t('pools.lead') }));
    if (pools.length === 0) {
        box.append(emptyState(t('pools.empty_title'), admin ? t('pools.empty_text_admin') : t('pools.empty_text')));
    } else {
        box.append(table([
            { label: t('pools.name'), cell: (pl) => link(`/ip-pools/${encodeURIComponent(pl.uuid)}`, pl.name, { class: 'strong' }) },
            { label: t('pools.default'), cell: (pl) => (pl.default ? badge(t('pools.default'), 'ok') : '—') },
            { label: t('pools.addresses'), cell: (pl) => String(pl.addresses.length) },
            admin ? { label: t('pools.organizations'), cell: (pl) => (pl.organizations || []).join(', ') || '—' } : null,
            { label: t('common.created'), cell: (pl) => formatDate(pl.created_at) },
        ].filter(Boolean), pools, { caption: t('pools.title') }));
    }
    if (!admin) return;
    const f = form({
        fields: [
            { name: 'name', label: t('pools.name'), required: true },
            { name: 'default', label: t('pools.make_default'), type: 'checkbox', hint: t('pools.default_hint') },
        ],
        submitLabel: t('pools.create'),
        async onSubmit(v) {
            const { ip_pool: pool } = await post('/ip-pools', v);
            flash(t('pools.created', { name: pool.name }));
            ctx.navigate(`/ip-pools/${encodeURIComponent(pool.uuid)}`);
        },
    });
    box.append(h('section', { class: 'card' }, h('h2', null, t('pools.create_title')), f.el));
}

async function poolPage(ctx, box) {
    const base = p`/ip-pools/${ctx.params.uuid}`;
    const { ip_pool: pool } = await get(base);
    const admin = ctx.session.user.admin;
    box.append(pageHeader(pool.name, { crumbs: [[t('pools.title'), '/ip-pools'], [pool.name, null]] }));
    const confirmDel = async (message, path, done, after) => {
        if (!await confirmAction({ title: t('common.delete'), message, confirmLabel: t('common.delete') })) return;
        try {
            await del(path);
            flash(done);
            after();
        } catch (err) { flash(errorText(err), 'error'); }
    };
    // The pool's own settings: Postfix's limits per destination for each of its addresses.
    const limit = (v) => (v === null || v === undefined ? t('pools.postfix_default') : String(v));
    if (admin) {
        const sf = form({
            fields: [
                { name: 'name', label: t('pools.name'), value: pool.name, required: true },
                { name: 'default', label: t('pools.default'), type: 'checkbox', value: pool.default, hint: t('pools.default_hint') },
                { name: 'destination_concurrency_limit', label: t('pools.concurrency'), type: 'number', value: pool.destination_concurrency_limit ?? '',
                    nullable: true, min: 1, max: 1000, step: 1, hint: t('pools.concurrency_hint') },
                { name: 'destination_rate_delay', label: t('pools.rate_delay'), type: 'number', value: pool.destination_rate_delay ?? '',
                    nullable: true, min: 0, max: 3600, step: 1, hint: t('pools.rate_delay_hint') },
            ],
            submitLabel: t('common.save'),
            async onSubmit(v) {
                await patch(base, v);
                flash(t('common.saved'));
                ctx.reload();
            },
        });
        box.append(h('section', { class: 'card', id: 'pool-settings' }, h('h2', null, t('pools.settings_title')), sf.el));
    } else {
        box.append(h('section', { class: 'card' }, h('h2', null, t('pools.settings_title')), h('dl', { class: 'facts' },
            h('dt', null, t('pools.concurrency')), h('dd', null, limit(pool.destination_concurrency_limit)),
            h('dt', null, t('pools.rate_delay')), h('dd', null, limit(pool.destination_rate_delay)))));
    }
    // An address's warm-up: the day of the plan, today's share and use, and (admins) the switch.
    const warmupCell = (a) => {
        const text = a.warmup ? (a.warmup.share_today === null ? t('pools.warmup_done', { day: a.warmup.day })
            : t('pools.warmup_day', { day: a.warmup.day, sent: a.warmup.sent_today, share: a.warmup.share_today })) : t('pools.warmup_off');
        if (!admin) return text;
        const box = h('input', { type: 'checkbox', checked: a.warmup ? true : null, 'aria-label': t('pools.warmup_named', { host: a.hostname }) });
        box.addEventListener('change', async () => {
            try {
                await patch(`${base}/addresses/${a.id}`, { warmup: box.checked });
                flash(box.checked ? t('pools.warmup_started', { host: a.hostname }) : t('pools.warmup_ended', { host: a.hostname }));
                ctx.reload();
            } catch (err) {
                box.checked = !box.checked;
                flash(errorText(err), 'error');
            }
        });
        return h('label', { class: 'switch-inline' }, box, ' ', text);
    };
    const addrBox = h('section', { class: 'card' }, h('h2', null, t('pools.addresses')));
    if (pool.addresses.length === 0) {
        addrBox.append(emptyState(t('pools.no_addresses_title'), admin ? t('pools.no_addresses_text') : t('pools.no_addresses_readonly')));
    } else {
        addrBox.append(table([
            { label: 'IPv4', cell: (a) => (a.ipv4 ? h('code', null, a.ipv4) : '—') },
            { label: 'IPv6', cell: (a) => (a.ipv6 ? h('code', { class: 'break' }, a.ipv6) : '—') },
            { label: t('pools.hostname'), cell: (a) => h('code', { class: 'break' }, a.hostname) },
            { label: t('pools.priority'), cell: (a) => String(a.priority) },
            { label: t('pools.warmup'), cell: (a) => warmupCell(a) },
            admin ? { label: t('common.actions'), cell: (a) => button(t('common.delete'), () => confirmDel(t('pools.delete_address_confirm', { host: a.hostname }),
                `${base}/addresses/${a.id}`, t('pools.address_deleted'), () => ctx.reload()), { kind: 'danger-small', 'aria-label': t('pools.delete_address_named', { host: a.hostname }) }) } : null,
        ].filter(Boolean), pool.addresses, { caption: t('pools.addresses') }));
    }
    if (admin) {
        const f = form({
            fields: [
                { name: 'ipv4', label: 'IPv4', omitEmpty: true, placeholder: '192.0.2.10', spellcheck: 'false' },
                { name: 'ipv6', label: 'IPv6', omitEmpty: true, placeholder: '2001:db8::10', spellcheck: 'false' },
                { name: 'hostname', label: t('pools.hostname'), required: true, hint: t('pools.hostname_hint'), spellcheck: 'false' },
                { name: 'priority', label: t('pools.priority'), type: 'number', value: 100, min: 0, max: 100, step: 1, hint: t('pools.priority_hint') },
            ],
            submitLabel: t('pools.add_address'),
            async onSubmit(v) {
                await post(`${base}/addresses`, v);
                flash(t('pools.address_added'));
                ctx.reload();
            },
        });
        addrBox.append(h('h3', null, t('pools.add_address')), f.el);
    }
    box.append(addrBox);
    if (!admin) return;

    const orgs = pool.organizations || [];
    const orgBox = h('section', { class: 'card' }, h('h2', null, t('pools.organizations')), h('p', { class: 'hint' }, t('pools.organizations_lead')));
    orgBox.append(orgs.length === 0 ? h('p', { class: 'muted' }, t('pools.no_orgs'))
        : table([
            { label: t('pools.organization'), cell: (o) => link(`/orgs/${encodeURIComponent(o)}/servers`, o) },
            { label: t('common.actions'), cell: (o) => button(t('pools.unassign'), () => confirmDel(t('pools.unassign_confirm', { org: o }),
                `${base}/organizations/${encodeURIComponent(o)}`, t('pools.unassigned', { org: o }), () => ctx.reload()), { kind: 'danger-small', 'aria-label': t('pools.unassign_named', { org: o }) }) },
        ], orgs));
    const f = form({
        fields: [{ name: 'organization', label: t('pools.org_permalink'), required: true, spellcheck: 'false' }],
        submitLabel: t('pools.assign'),
        async onSubmit(v) {
            await post(`${base}/organizations`, v);
            flash(t('pools.assigned', { org: v.organization }));
            ctx.reload();
        },
    });
    orgBox.append(f.el);
    box.append(orgBox);
    box.append(h('section', { class: 'card danger-zone' }, h('h2', null, t('pools.delete_title')), h('p', null, t('pools.delete_text')),
        button(t('pools.delete'), () => confirmDel(t('pools.delete_confirm', { name: pool.name }), base, t('pools.deleted', { name: pool.name }),
            () => ctx.navigate('/ip-pools')), { kind: 'danger', id: 'delete-pool' })));
}

export const routes = [
    { path: '/ip-pools', page: listPage },
    { path: '/ip-pools/:uuid', page: poolPage },
];
