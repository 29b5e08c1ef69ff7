// members.js -- an organization's members and their roles: the list, adding an existing
// user by e-mail, changing a role, removing someone (or leaving).
//
// Contract: doc/api.md "Members". Admins manage members, owners also owners; the
// server has the last word (LastOwner, Forbidden) and its answer is shown.

import { h } from '../lib/dom.js';
import { t, formatDate } from '../lib/i18n.js';
import { get, post, patch, del, p } from '../lib/api.js';
import { pageHeader, form, table, paginated, emptyState, button, confirmAction, flash, notice, errorText } from '../lib/ui.js';
import { loadOrg, orgTabs, orgCrumbs, canAdmin, isOwner, ROLES } from './common.js';

async function membersPage(ctx, box) {
    const org = await loadOrg(ctx.params.org);
    const { members } = await get(p`/organizations/${org.permalink}/members`);
    const me = ctx.session.user;
    const manage = canAdmin(org);
    const roleOptions = (isOwner(org) ? ROLES : ROLES.filter((r) => r !== 'owner')).map((r) => [r, t(`role.${r}`)]);
    box.append(pageHeader(org.name, { crumbs: orgCrumbs(org, [t('nav.members'), null]) }), orgTabs(org, 'members'),
        h('p', { class: 'lead' }, t('members.lead')));

    const roleCell = (m) => {
        if (!manage || (m.role === 'owner' && !isOwner(org))) return t(`role.${m.role}`);
        const id = `role-${m.uuid}`;
        const sel = h('select', { id, 'aria-label': t('members.role_for', { email: m.email }) },
            (m.role === 'owner' && !isOwner(org) ? ROLES : roleOptions.map(([r]) => r)).map((r) => h('option', { value: r }, t(`role.${r}`))));
        sel.value = m.role;
        sel.addEventListener('change', async () => {
            try {
                await patch(p`/organizations/${org.permalink}/members/${m.uuid}`, { role: sel.value });
                flash(t('members.role_changed', { email: m.email, role: t(`role.${sel.value}`) }));
                m.role = sel.value;
            } catch (err) {
                sel.value = m.role;
                flash(errorText(err), 'error');
            }
        });
        return sel;
    };
    const removeCell = (m) => {
        const self = m.email === me.email;
        if (!self && !manage) return null;
        return button(self ? t('members.leave') : t('members.remove'), async () => {
            const yes = await confirmAction({
                title: self ? t('members.leave_title') : t('members.remove_title'),
                message: self ? t('members.leave_text', { org: org.name }) : t('members.remove_text', { email: m.email, org: org.name }),
                confirmLabel: self ? t('members.leave') : t('members.remove'),
            });
            if (!yes) return;
            try {
                await del(p`/organizations/${org.permalink}/members/${m.uuid}`);
                flash(t('members.removed', { email: m.email }));
                if (self) ctx.navigate('/orgs'); else ctx.reload();
            } catch (err) { flash(errorText(err), 'error'); }
        }, { kind: 'danger-small' });
    };
    box.append(members.length === 0
        ? emptyState(t('members.empty_title'), t('members.empty_text'))
        : paginated(members, (slice) => table([
            { label: t('members.name'), cell: (m) => [m.first_name, m.last_name].filter(Boolean).join(' ') || '—' },
            { label: t('members.email'), cell: (m) => m.email },
            { label: t('members.role'), cell: roleCell },
            { label: t('members.since'), cell: (m) => formatDate(m.member_since) },
            { label: t('common.actions'), cell: removeCell },
        ], slice, { caption: t('nav.members') })));

    if (manage) {
        const f = form({
            fields: [
                { name: 'email', label: t('members.email'), type: 'email', required: true, hint: t('members.email_hint') },
                { name: 'role', label: t('members.role'), type: 'select', options: roleOptions, value: 'member' },
            ],
            submitLabel: t('members.add'),
            async onSubmit(v) {
                await post(p`/organizations/${org.permalink}/members`, v);
                flash(t('members.added', { email: v.email }));
                ctx.reload();
            },
        });
        box.append(h('section', { class: 'card' }, h('h2', null, t('members.add_title')), f.el),
            h('section', { class: 'card' }, h('h2', null, t('members.roles_title')),
                h('dl', { class: 'facts' }, ROLES.flatMap((r) => [h('dt', null, t(`role.${r}`)), h('dd', null, t(`role.${r}.text`))]))));
    } else {
        box.append(notice(t('members.readonly_notice')));
    }
}

export const routes = [
    { path: '/orgs/:org/members', page: membersPage },
];
