// users.js -- the installation's people, for installation administrators: every live
// account with how it signs in and when it last did, and the switch that grants or
// revokes installation admin (the server refuses to revoke the last one: LastAdmin).
//
// Contract: doc/api.md "The installation's users" (GET /api/v2/users, PATCH
// /api/v2/users/{uuid}). Anyone else gets the API's 403, shown as it is.

import { h } from '../lib/dom.js';
import { t, formatDate } from '../lib/i18n.js';
import { get, patch, p } from '../lib/api.js';
import { pageHeader, table, paginated, badge, flash, errorText } from '../lib/ui.js';

async function usersPage(ctx, box) {
    const { users } = await get('/users');
    const me = ctx.session.user;
    box.append(pageHeader(t('users.title'), { lead: t('users.lead') }));
    const adminCell = (u) => {
        const id = `admin-${u.uuid}`;
        const input = h('input', { type: 'checkbox', id, role: 'switch', checked: u.admin });
        input.addEventListener('change', async () => {
            input.disabled = true;
            try {
                const { user } = await patch(p`/users/${u.uuid}`, { admin: input.checked });
                u.admin = user.admin;
                flash(u.admin ? t('users.admin_on', { email: u.email }) : t('users.admin_off', { email: u.email }));
            } catch (err) {
                input.checked = u.admin;
                flash(errorText(err), 'error');
            } finally {
                input.disabled = false;
            }
        });
        return h('span', { class: 'switch' }, input, h('label', { for: id }, t('users.admin_label', { email: u.email })));
    };
    box.append(paginated(users, (slice) => table([
        { label: t('members.email'), cell: (u) => h('span', null, u.email, u.email === me.email ? [' ', badge(t('users.you'), 'neutral')] : null) },
        { label: t('members.name'), cell: (u) => [u.first_name, u.last_name].filter(Boolean).join(' ') || '—' },
        { label: t('users.sign_in'), cell: (u) => (u.sign_in === 'oidc' ? t('users.sign_in_oidc') : t('users.sign_in_password')) },
        { label: t('users.last_login'), cell: (u) => formatDate(u.last_login_at) },
        { label: t('users.admin'), cell: adminCell },
    ], slice, { caption: t('users.title') })));
}

export const routes = [
    { path: '/users', page: usersPage },
];
