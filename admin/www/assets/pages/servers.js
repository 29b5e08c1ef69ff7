// servers.js -- an organization's mail servers: the list, creating one, a server's
// settings (mode, send limit, retention, spam thresholds, allow_sender, privacy mode, suspension) and
// deleting it (organization admins, its permalink typed out).
//
// Contract: doc/api.md "Servers". A PATCH is applied whole or not at all, so the form
// sends every setting and the server's per-field errors land beside the fields. Blank
// send limit or outbound threshold means none (null).

import { h } from '../lib/dom.js';
import { t, formatDate } from '../lib/i18n.js';
import { get, post, patch, del, p } from '../lib/api.js';
import {
    pageHeader, form, table, paginated, emptyState, link, badge, flash, notice, button, confirmAction, errorText,
} from '../lib/ui.js';
import {
    loadOrg, loadServer, orgTabs, orgCrumbs, orgUrl, serverTabs, serverCrumbs, serverUrl, serverApi, canAdmin, linkPermalink,
} from './common.js';
import { poolRulesCard } from './poolrules.js';

const modeOptions = () => [['Live', t('server.mode.Live')], ['Development', t('server.mode.Development')]];

function statusBadge(s) {
    if (s.suspended) return badge(t('common.suspended'), 'danger');
    return s.mode === 'Live' ? badge(t('server.mode.Live'), 'ok') : badge(t('server.mode.Development'), 'warning');
}

async function listPage(ctx, box) {
    const org = await loadOrg(ctx.params.org);
    const { servers } = await get(p`/organizations/${org.permalink}/servers`);
    const newHref = `/orgs/${encodeURIComponent(org.permalink)}/servers/new`;
    const actions = canAdmin(org) ? [link(newHref, t('servers.create'), { class: 'btn btn-primary' })] : [];
    box.append(pageHeader(org.name, { crumbs: orgCrumbs(org, [t('nav.servers'), null]), actions }), orgTabs(org, 'servers'));
    if (org.suspended) box.append(notice(t('orgs.suspended_notice', { reason: org.suspension_reason || '—' }), 'warning'));
    if (servers.length === 0) {
        box.append(emptyState(t('servers.empty_title'),
            canAdmin(org) ? t('servers.empty_text') : t('servers.empty_text_readonly'),
            canAdmin(org) ? link(newHref, t('servers.create_first'), { class: 'btn btn-primary' }) : null));
        return;
    }
    box.append(paginated(servers, (slice) => table([
        { label: t('servers.name'), cell: (s) => link(serverUrl(org, s), s.name, { class: 'strong' }) },
        { label: t('servers.permalink'), cell: (s) => h('code', null, s.permalink) },
        { label: t('servers.status'), cell: statusBadge },
        { label: t('server.send_limit'), cell: (s) => (s.send_limit === null ? t('server.no_limit') : String(s.send_limit)) },
        { label: t('common.created'), cell: (s) => formatDate(s.created_at) },
    ], slice, { caption: t('nav.servers') })));
}

async function createPage(ctx, box) {
    const org = await loadOrg(ctx.params.org);
    const f = form({
        fields: [
            { name: 'name', label: t('servers.name'), required: true },
            { name: 'permalink', label: t('servers.permalink'), required: true, hint: t('servers.permalink_hint'), spellcheck: 'false' },
            { name: 'mode', label: t('server.mode'), type: 'select', options: modeOptions(), value: 'Live', hint: t('server.mode_hint') },
        ],
        submitLabel: t('servers.create'),
        cancel: link(`/orgs/${encodeURIComponent(org.permalink)}/servers`, t('common.cancel'), { class: 'btn btn-secondary' }),
        async onSubmit(v) {
            const { server } = await post(p`/organizations/${org.permalink}/servers`, v);
            flash(t('servers.created', { name: server.name }));
            ctx.navigate(serverUrl(org, server, '/domains'));
        },
    });
    linkPermalink(f);
    f.input('name').setAttribute('autofocus', '');
    box.append(pageHeader(t('servers.new_title'), { crumbs: orgCrumbs(org, [t('nav.servers'), `/orgs/${encodeURIComponent(org.permalink)}/servers`], [t('servers.new_title'), null]), lead: t('servers.new_lead') }), f.el);
}

function settingFields(s, admin) {
    const num = (name, extra = {}) => ({ name, label: t(`server.${name}`), type: 'number', value: s[name] ?? '', hint: t(`server.${name}_hint`), ...extra });
    const fields = [
        { name: 'name', label: t('servers.name'), value: s.name, required: true },
        { name: 'mode', label: t('server.mode'), type: 'select', options: modeOptions(), value: s.mode, hint: t('server.mode_hint') },
        num('send_limit', { nullable: true, min: 0, step: 1 }),
        { name: 'allow_sender', label: t('server.allow_sender'), type: 'checkbox', value: s.allow_sender, hint: t('server.allow_sender_hint') },
        { name: 'privacy_mode', label: t('server.privacy_mode'), type: 'checkbox', value: s.privacy_mode, hint: t('server.privacy_mode_hint') },
        num('spam_threshold', { step: 0.01, min: 0 }),
        num('spam_failure_threshold', { step: 0.01, min: 0 }),
        num('outbound_spam_threshold', { nullable: true, step: 0.01, min: 0 }),
        num('raw_message_retention_days', { min: 1, step: 1 }),
        num('raw_message_retention_size', { min: 0, step: 1 }),
        num('message_retention_days', { min: 1, step: 1 }),
        { name: 'postmaster_address', label: t('server.postmaster_address'), type: 'email', value: s.postmaster_address ?? '',
            nullable: true, spellcheck: 'false', hint: t('server.postmaster_address_hint') },
    ];
    if (admin) fields.push({ name: 'suspended', label: t('server.suspended'), type: 'checkbox', value: s.suspended, hint: t('server.suspended_hint') });
    return fields;
}

async function settingsPage(ctx, box) {
    const { org, server } = await loadServer(ctx.params.org, ctx.params.server);
    box.append(pageHeader(server.name, { crumbs: serverCrumbs(org, server, [t('nav.server_settings'), null]) }),
        serverTabs(org, server, 'settings'));
    if (server.suspended) box.append(notice(t('server.suspended_notice', { when: formatDate(server.suspended_at) }), 'warning'));
    if (server.mode === 'Development') box.append(notice(t('server.development_notice'), 'info'));
    box.append(h('section', { class: 'card' }, h('h2', null, t('server.facts')),
        h('dl', { class: 'facts' },
            h('dt', null, t('servers.permalink')), h('dd', null, h('code', null, `${org.permalink}/${server.permalink}`)),
            h('dt', null, t('server.token')), h('dd', null, h('code', null, server.token)),
            h('dt', null, t('servers.status')), h('dd', null, statusBadge(server)),
            h('dt', null, t('common.created')), h('dd', null, formatDate(server.created_at)))));
    const rules = () => poolRulesCard(ctx, {
        title: t('poolrules.server_title'), lead: t('poolrules.server_lead'), write: canAdmin(org),
        base: `${serverApi(org.permalink, server.permalink)}/ip-pool-rules`, orgApiPath: `/organizations/${encodeURIComponent(org.permalink)}`,
    });
    if (!canAdmin(org)) {
        box.append(notice(t('server.readonly_notice')), table([
            { label: t('server.setting'), cell: (r) => r[0] },
            { label: t('server.value'), cell: (r) => r[1] },
        ], settingFields(server, false).filter((f) => f.name !== 'name').map((f) => [f.label,
            f.type === 'checkbox' ? (f.value ? t('common.yes') : t('common.no'))
                : f.value === '' || f.value === null ? t('server.none') : String(f.type === 'select' ? t(`server.mode.${f.value}`) : f.value)])));
        box.append(await rules());
        return;
    }
    const f = form({
        fields: settingFields(server, ctx.session.user.admin),
        submitLabel: t('common.save'),
        async onSubmit(v) {
            await patch(serverApi(org.permalink, server.permalink), v);
            flash(t('common.saved'));
            ctx.reload();
        },
    });
    box.append(h('section', { class: 'card' }, h('h2', null, t('server.settings_title')), f.el), await rules());
    // Deleting the server with its data (doc/api.md "Servers"): the permalink typed out.
    box.append(h('section', { class: 'card danger-zone' },
        h('h2', null, t('server.delete_title')),
        h('p', null, t('server.delete_text')),
        button(t('server.delete'), async () => {
            const yes = await confirmAction({
                title: t('server.delete_title'), message: t('server.delete_confirm', { name: server.name }),
                confirmLabel: t('server.delete'), typeToConfirm: server.permalink,
            });
            if (!yes) return;
            try {
                await del(serverApi(org.permalink, server.permalink));
                flash(t('server.deleted', { name: server.name }));
                ctx.navigate(orgUrl(org, '/servers'));
            } catch (err) { flash(errorText(err), 'error'); }
        }, { kind: 'danger', id: 'delete-server' })));
}

export const routes = [
    { path: '/orgs/:org/servers', page: listPage },
    { path: '/orgs/:org/servers/new', page: createPage },
    { path: '/orgs/:org/servers/:server/settings', page: settingsPage },
];
