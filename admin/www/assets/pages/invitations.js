// invitations.js -- joining an organization by invitation: the page an invitation link opens
// (public: no login). For an address without an account it makes one with the password
// given; for one with an account that account's password proves it is theirs. Then the
// person logs in.
//
// Contract: doc/api.md "Invitations" (POST /api/v2/invitations/{token}/accept). The token
// is in the address and goes nowhere else; the password is never kept.

import { h } from '../lib/dom.js';
import { t } from '../lib/i18n.js';
import { post, p } from '../lib/api.js';
import { pageHeader, form, flash, notice } from '../lib/ui.js';

function acceptPage(ctx, box) {
    const f = form({
        fields: [
            { name: 'first_name', label: t('invite.first_name'), autocomplete: 'given-name', omitEmpty: true },
            { name: 'last_name', label: t('invite.last_name'), autocomplete: 'family-name', omitEmpty: true },
            { name: 'password', label: t('invite.password'), type: 'password', required: true, autocomplete: 'new-password', hint: t('invite.password_hint') },
        ],
        submitLabel: t('invite.accept'),
        async onSubmit(v) {
            const data = await post(p`/invitations/${ctx.params.token}/accept`, v);
            flash(data.created ? t('invite.created', { org: data.organization }) : t('invite.joined', { org: data.organization }));
            ctx.navigate(`/login?next=${encodeURIComponent(`/orgs/${data.organization}/servers`)}`);
        },
    });
    box.append(h('div', { class: 'login-card' },
        pageHeader(t('invite.title'), { lead: t('invite.lead') }),
        ctx.session ? notice(t('invite.signed_in', { email: ctx.session.user.email }), 'info') : null,
        f.el));
}

export const routes = [
    { path: '/invitations/:token', page: acceptPage, public: true },
];
