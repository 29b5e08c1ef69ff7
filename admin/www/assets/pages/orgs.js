// orgs.js -- organizations: the list, creating one, and an organization's settings
// (name, time zone; suspension for installation admins; deleting it for owners).
//
// Contract: doc/api.md "Organizations". The permalink is fixed once made; deleting asks
// for the permalink to be typed.

import { h } from '../lib/dom.js';
import { t, formatDate } from '../lib/i18n.js';
import { get, post, patch, del } from '../lib/api.js';
import {
    pageHeader, form, table, paginated, emptyState, link, badge, button, confirmAction, flash, notice, errorText,
} from '../lib/ui.js';
import { orgApi, loadOrg, orgUrl, orgTabs, orgCrumbs, canAdmin, isOwner, linkPermalink } from './common.js';
import { poolRulesCard } from './poolrules.js';

function timeZones() {
    try {
        return Intl.supportedValuesOf('timeZone');
    } catch {
        return ['UTC'];
    }
}

function tzList() {
    return h('datalist', { id: 'tz-list' }, ['UTC', ...timeZones()].map((z) => h('option', { value: z })));
}

async function listPage(ctx, box) {
    const { organizations } = await get('/organizations');
    const create = link('/orgs/new', t('orgs.create'), { class: 'btn btn-primary' });
    box.append(pageHeader(t('orgs.title'), { crumbs: [[t('nav.organizations'), null]], actions: [create], lead: t('orgs.lead') }));
    if (organizations.length === 0) {
        box.append(emptyState(t('orgs.empty_title'), t('orgs.empty_text'),
            link('/orgs/new', t('orgs.create_first'), { class: 'btn btn-primary' })));
        return;
    }
    box.append(paginated(organizations, (slice) => table([
        { label: t('orgs.name'), cell: (o) => link(orgUrl(o, '/servers'), o.name, { class: 'strong' }) },
        { label: t('orgs.permalink'), cell: (o) => h('code', null, o.permalink) },
        { label: t('orgs.your_role'), cell: (o) => t(`role.${o.role}`) },
        { label: t('orgs.status'), cell: (o) => (o.suspended ? badge(t('common.suspended'), 'danger') : badge(t('common.active'), 'ok')) },
        { label: t('common.created'), cell: (o) => formatDate(o.created_at) },
    ], slice, { caption: t('orgs.title') })));
}

function createPage(ctx, box) {
    const f = form({
        fields: [
            { name: 'name', label: t('orgs.name'), required: true, hint: t('orgs.name_hint') },
            { name: 'permalink', label: t('orgs.permalink'), required: true, hint: t('orgs.permalink_hint'), spellcheck: 'false' },
            { name: 'time_zone', label: t('orgs.time_zone'), value: 'UTC', hint: t('orgs.time_zone_hint'), list: 'tz-list' },
        ],
        submitLabel: t('orgs.create'),
        cancel: link('/orgs', t('common.cancel'), { class: 'btn btn-secondary' }),
        extra: tzList(),
        async onSubmit(v) {
            const { organization } = await post('/organizations', v);
            flash(t('orgs.created', { name: organization.name }));
            ctx.navigate(orgUrl(organization, '/servers'));
        },
    });
    linkPermalink(f);
    f.input('name').setAttribute('autofocus', '');
    box.append(pageHeader(t('orgs.new_title'), { crumbs: [[t('nav.organizations'), '/orgs'], [t('orgs.new_title'), null]], lead: t('orgs.new_lead') }), f.el);
}

async function settingsPage(ctx, box) {
    const org = await loadOrg(ctx.params.org);
    const admin = ctx.session.user.admin;
    box.append(pageHeader(org.name, { crumbs: orgCrumbs(org, [t('nav.settings'), null]) }), orgTabs(org, 'settings'));
    if (org.suspended) box.append(notice(t('orgs.suspended_notice', { reason: org.suspension_reason || '—' }), 'warning'));
    const fields = [
        { name: 'name', label: t('orgs.name'), value: org.name, required: true },
        { name: 'permalink', label: t('orgs.permalink'), value: org.permalink, readonly: true, hint: t('orgs.permalink_fixed') },
        { name: 'time_zone', label: t('orgs.time_zone'), value: org.time_zone, list: 'tz-list' },
        { name: 'require_two_factor', label: t('orgs.require_two_factor'), type: 'checkbox', value: org.require_two_factor, hint: t('orgs.require_two_factor_hint') },
    ];
    if (admin) {
        fields.push({ name: 'suspended', label: t('orgs.suspended'), type: 'checkbox', value: org.suspended, hint: t('orgs.suspended_hint') });
        fields.push({ name: 'suspension_reason', label: t('orgs.suspension_reason'), value: org.suspension_reason || '', omitEmpty: true });
    }
    if (!canAdmin(org)) {
        box.append(notice(t('orgs.readonly_notice')), h('dl', { class: 'facts' },
            h('dt', null, t('orgs.name')), h('dd', null, org.name),
            h('dt', null, t('orgs.permalink')), h('dd', null, h('code', null, org.permalink)),
            h('dt', null, t('orgs.time_zone')), h('dd', null, org.time_zone),
            h('dt', null, t('orgs.require_two_factor')), h('dd', null, org.require_two_factor ? t('common.yes') : t('common.no')),
            h('dt', null, t('orgs.your_role')), h('dd', null, t(`role.${org.role}`))));
    } else {
        const f = form({
            fields,
            submitLabel: t('common.save'),
            extra: tzList(),
            async onSubmit(v) {
                await patch(orgApi(org.permalink), v);
                flash(t('common.saved'));
                ctx.reload();
            },
        });
        box.append(h('section', { class: 'card' }, h('h2', null, t('orgs.settings_title')), f.el));
    }
    box.append(await poolRulesCard(ctx, {
        title: t('poolrules.org_title'), lead: t('poolrules.org_lead'), write: canAdmin(org),
        base: `${orgApi(org.permalink)}/ip-pool-rules`, orgApiPath: orgApi(org.permalink),
    }));
    if (isOwner(org)) {
        box.append(h('section', { class: 'card danger-zone' },
            h('h2', null, t('orgs.delete_title')),
            h('p', null, t('orgs.delete_text')),
            button(t('orgs.delete'), async () => {
                const yes = await confirmAction({ title: t('orgs.delete_title'), message: t('orgs.delete_confirm', { name: org.name }), confirmLabel: t('orgs.delete'), typeToConfirm: org.permalink });
                if (!yes) return;
                try {
                    await del(orgApi(org.permalink));
                    flash(t('orgs.deleted', { name: org.name }));
                    ctx.navigate('/orgs');
                } catch (err) { flash(errorText(err), 'error'); }
            }, { kind: 'danger', id: 'delete-org' })));
    }
}

export const routes = [
    { path: '/orgs', page: listPage },
    { path: '/orgs/new', page: createPage },
    { path: '/orgs/:org', page: (ctx) => ctx.navigate(`/orgs/${encodeURIComponent(ctx.params.org)}/servers`, { replace: true }) },
    { path: '/orgs/:org/settings', page: settingsPage },
];
