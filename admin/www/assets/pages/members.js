// members.js -- an organization's members and their roles: the list, adding an existing
// user by e-mail, changing a role, removing someone (or leaving); invitations for people
// without an account (the link shown once, pending ones listed and withdrawn).
//
// Contract: doc/api.md "Members". Admins manage members, owners also owners; the
// server has the last word (LastOwner, Forbidden) and its answer is shown.

import { h } from '../lib/dom.js';
import { t, formatDate } from '../lib/i18n.js';
import { get, post, patch, del, p } from '../lib/api.js';
import {
    pageHeader, form, table, paginated, emptyState, button, confirmAction, flash, notice, errorText, secretPanel,
} from '../lib/ui.js';
import { loadOrg, orgTabs, orgCrumbs, canAdmin, isOwner, ROLES } from './common.js';

// Pending invitations and the form that makes one; its link is shown once (only the
// token's hash is kept) for the admin to hand over.
async function invitations(ctx, box, org, roleOptions) {
    const base = p`/organizations/${org.permalink}/invitations`;
    const { invitations: list } = await get(base);
    const created = h('div', { class: 'created-slot' });
    const withdraw = (i) => button(t('invites.withdraw'), async () => {
        const yes = await confirmAction({ title: t('invites.withdraw_title'), message: t('invites.withdraw_text', { email: i.email }), confirmLabel: t('invites.withdraw') });
        if (!yes) return;
        try {
            await del(`${base}/${encodeURIComponent(i.uuid)}`);
            flash(t('invites.withdrawn', { email: i.email }));
            ctx.reload();
        } catch (err) { flash(errorText(err), 'error'); }
    }, { kind: 'danger-small', 'aria-label': t('invites.withdraw_named', { email: i.email }) });
    const f = form({
        fields: [
            { name: 'email', label: t('members.email'), type: 'email', required: true, hint: t('invites.email_hint') },
            { name: 'role', label: t('members.role'), type: 'select', options: roleOptions, value: 'member' },
        ],
        submitLabel: t('invites.create'),
        async onSubmit(v) {
            const { invitation } = await post(base, v);
            f.el.reset();
            const link = `${window.location.origin}/invitations/${invitation.token}`;
            created.replaceChildren(secretPanel({
                title: t('invites.link_title', { email: invitation.email }),
                warning: invitation.mailed ? t('invites.link_mailed', { email: invitation.email })
                    : t('invites.link_not_mailed', { error: invitation.mail_error || '' }),
                value: link,
                details: [[t('members.role'), t(`role.${invitation.role}`)]],
                onDone: () => ctx.reload(),
            }));
            created.querySelector('.secret-panel').focus();
        },
    });
    box.append(h('section', { class: 'card', id: 'invitations' }, h('h2', null, t('invites.title')),
        h('p', { class: 'hint' }, t('invites.lead')), created,
        list.length === 0 ? h('p', { class: 'muted' }, t('invites.none')) : table([
            { label: t('members.email'), cell: (i) => i.email },
            { label: t('members.role'), cell: (i) => t(`role.${i.role}`) },
            { label: t('invites.expires'), cell: (i) => formatDate(i.expires_at) },
            { label: t('common.actions'), cell: withdraw },
        ], list, { caption: t('invites.title') }),
        f.el));
}

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
        box.append(h('section', { class: 'card' }, h('h2', null, t('members.add_title')), f.el));
        await invitations(ctx, box, org, roleOptions);
        box.append(
            h('section', { class: 'card' }, h('h2', null, t('members.roles_title')),
                h('dl', { class: 'facts' }, ROLES.flatMap((r) => [h('dt', null, t(`role.${r}`)), h('dd', null, t(`role.${r}.text`))]))));
    } else {
        box.append(notice(t('members.readonly_notice')));
    }
}

export const routes = [
    { path: '/orgs/:org/members', page: membersPage },
];
