// pwreset.js -- "Forgot your password?" (public: no login): /password-reset asks for the
// account's address and says a link is on its way whether or not the address has an
// account; /reset/:token (the link the mail carries) sets a new password, after which the
// person logs in (every session of the account has ended).
//
// Contract: doc/api.md "Password reset" (POST /api/v2/password-reset and
// /api/v2/password-reset/{token}). The token is in the address and goes nowhere else; the
// password is never kept.

import { h } from '../lib/dom.js';
import { t } from '../lib/i18n.js';
import { post, p } from '../lib/api.js';
import { pageHeader, form, flash, notice, link } from '../lib/ui.js';

function requestPage(ctx, box) {
    const sent = h('div');
    const f = form({
        fields: [{ name: 'email', label: t('login.email'), type: 'email', required: true, autocomplete: 'username' }],
        submitLabel: t('reset.request_submit'),
        async onSubmit(v) {
            await post('/password-reset', v);
            f.el.reset();
            sent.replaceChildren(notice(t('reset.requested', { email: v.email }), 'success'));
        },
    });
    box.append(h('div', { class: 'login-card' },
        pageHeader(t('reset.request_title'), { lead: t('reset.request_lead') }),
        sent, f.el, h('p', null, link('/login', t('reset.back')))));
}

function setPage(ctx, box) {
    const f = form({
        fields: [
            { name: 'password', label: t('reset.password'), type: 'password', required: true, autocomplete: 'new-password', hint: t('invite.password_hint') },
        ],
        submitLabel: t('reset.set_submit'),
        async onSubmit(v) {
            await post(p`/password-reset/${ctx.params.token}`, v);
            flash(t('reset.done'));
            ctx.navigate('/login');
        },
    });
    box.append(h('div', { class: 'login-card' },
        pageHeader(t('reset.set_title'), { lead: t('reset.set_lead') }), f.el));
}

export const routes = [
    { path: '/password-reset', page: requestPage, public: true },
    { path: '/reset/:token', page: setPage, public: true },
];
