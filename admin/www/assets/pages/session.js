// session.js -- logging in and the account page (who you are, two-factor sign-in,
// personal API tokens, deleting the account).
//
// Contract: /login (public) logs in with e-mail and password and goes on to ?next= (a
// local path only) or /orgs, or, where OpenID Connect is on, through the provider's
// "Login with NAME" button (a plain link to /auth/oidc/start; only the button when local
// authentication is off; ?oidc_error=CODE from the callback is said in words); an account with a second factor then gives its code (or a
// recovery code) on the same page, and one that must enrol one goes to /account/two-factor
// first (twofactor.js); /account shows the two-factor card and lists, creates (the token shown once) and
// revokes the personal API tokens of doc/api.md, and deletes the account with its
// password (DELETE /api/v2/user), after which the session is gone.
//
// Must never: follow a ?next= that leaves the site, keep a token after showing it, or
// delete the account without its password and a confirmation.

import { h } from '../lib/dom.js';
import { t, formatDate } from '../lib/i18n.js';
import { get, post, del, p, login, logout, setCsrfToken, signInOptions } from '../lib/api.js';
import { twoFactorSection } from './twofactor.js';
import {
    pageHeader, form, notice, table, paginated, emptyState, button, confirmAction, secretPanel, flash, errorText, link,
} from '../lib/ui.js';

function safeNext(next) {
    return typeof next === 'string' && next.startsWith('/') && !next.startsWith('//') && !next.startsWith('/login')
        ? next : '/orgs';
}

// Where a session goes once its password was accepted.
function afterPassword(ctx, s) {
    ctx.setSession(s);
    if (s.second_factor === 'enrol') {
        ctx.navigate(`/account/two-factor?next=${encodeURIComponent(safeNext(ctx.query.next))}`, { replace: true });
    } else if (s.second_factor === 'code') {
        ctx.reload();
    } else {
        ctx.navigate(safeNext(ctx.query.next), { replace: true });
    }
}

// The sign-in's second step: a code of the authenticator app, or a recovery code.
function codeStep(ctx, box) {
    const done = (s) => {
        setCsrfToken(s.csrf_token);
        afterPassword(ctx, s);
    };
    const f = form({
        fields: [{ name: 'code', label: t('totp.code'), required: true, autocomplete: 'one-time-code', inputmode: 'numeric', hint: t('totp.code_hint') }],
        submitLabel: t('login.code_submit'),
        async onSubmit(v) { done(await post('/session/totp', { code: v.code })); },
    });
    const r = form({
        fields: [{ name: 'recovery_code', label: t('totp.recovery_code'), required: true, autocomplete: 'off' }],
        submitLabel: t('login.code_submit'),
        async onSubmit(v) { done(await post('/session/totp', { recovery_code: v.recovery_code })); },
    });
    f.input('code').setAttribute('autofocus', '');
    const other = h('details', { class: 'recovery-step' }, h('summary', null, t('login.use_recovery')), r.el);
    box.append(h('div', { class: 'login-card' },
        pageHeader(t('login.code_title'), { lead: t('login.code_lead', { email: ctx.session.user.email }) }),
        f.el, other,
        h('p', null, button(t('login.code_cancel'), async () => {
            try { await logout(); } catch { /* gone already */ }
            ctx.setSession(null);
            ctx.navigate('/login', { replace: true });
        }, { kind: 'secondary', id: 'code-cancel' }))));
}

// The callback's reasons (mgmt_oidc.c), in words.
const OIDC_ERRORS = {
    StateInvalid: () => t('login.oidc_error_state'),
    ProviderRefused: () => t('login.oidc_error_refused'),
    ProviderUnavailable: () => t('login.oidc_error_unavailable'),
    EmailMissing: () => t('login.oidc_error_email'),
    EmailNotVerified: () => t('login.oidc_error_email'),
    NoMatchingUser: () => t('login.oidc_error_no_user'),
    AccountLinkedElsewhere: () => t('login.oidc_error_linked'),
};

function oidcButton(oidc) {
    return h('p', { class: 'oidc-login' },
        h('a', { class: ['btn', 'btn-primary'], id: 'oidc-login', href: oidc.start }, t('login.oidc_button', { name: oidc.name })));
}

function loginPage(ctx, box) {
    if (ctx.session?.second_factor === 'code') {
        codeStep(ctx, box);
        return;
    }
    if (ctx.session) {
        afterPassword(ctx, ctx.session);
        return;
    }
    const { local, oidc } = signInOptions();
    const oidcError = ctx.query.oidc_error
        ? notice((OIDC_ERRORS[ctx.query.oidc_error] ?? (() => t('login.oidc_error_other')))(), 'error') : null;
    if (!local && oidc) {
        box.append(h('div', { class: 'login-card' },
            pageHeader(t('login.title'), { lead: t('login.lead') }),
            ctx.query.bye ? notice(t('login.logged_out'), 'success') : null,
            ctx.query.expired ? notice(t('login.expired'), 'warning') : null,
            oidcError, oidcButton(oidc)));
        return;
    }
    const f = form({
        fields: [
            { name: 'email', label: t('login.email'), type: 'email', required: true, autocomplete: 'username' },
            { name: 'password', label: t('login.password'), type: 'password', required: true, autocomplete: 'current-password' },
        ],
        submitLabel: t('login.submit'),
        async onSubmit(v) {
            afterPassword(ctx, await login(v.email, v.password));
        },
    });
    f.input('email').setAttribute('autofocus', '');
    box.append(h('div', { class: 'login-card' },
        pageHeader(t('login.title'), { lead: t('login.lead') }),
        ctx.query.bye ? notice(t('login.logged_out'), 'success') : null,
        ctx.query.deleted ? notice(t('login.account_deleted'), 'success') : null,
        ctx.query.expired ? notice(t('login.expired'), 'warning') : null,
        oidcError,
        f.el,
        oidc ? h('p', { class: 'hint' }, t('login.or')) : null,
        oidc ? oidcButton(oidc) : null,
        h('p', null, link('/password-reset', t('login.forgot'))),
        h('p', { class: 'hint' }, t('login.help'))));
}

async function accountPage(ctx, box) {
    const user = ctx.session.user;
    const { tokens } = await get('/user/tokens');
    const twoFactor = await twoFactorSection(ctx);
    const created = h('div');
    const listBox = h('div');
    const drawList = (list) => {
        listBox.replaceChildren(list.length === 0
            ? emptyState(t('tokens.empty_title'), t('tokens.empty_text'))
            : paginated(list, (slice) => table([
                { label: t('tokens.name'), cell: (tk) => tk.name },
                { label: t('tokens.prefix'), cell: (tk) => h('code', null, `${tk.prefix}…`) },
                { label: t('common.created'), cell: (tk) => formatDate(tk.created_at) },
                { label: t('common.last_used'), cell: (tk) => formatDate(tk.last_used_at) },
                { label: t('common.actions'), cell: (tk) => button(t('tokens.revoke'), async () => {
                    const yes = await confirmAction({ title: t('tokens.revoke_title'), message: t('tokens.revoke_text', { name: tk.name }), confirmLabel: t('tokens.revoke') });
                    if (!yes) return;
                    try {
                        await del(p`/user/tokens/${tk.uuid}`);
                        flash(t('tokens.revoked', { name: tk.name }));
                        ctx.reload();
                    } catch (err) { flash(errorText(err), 'error'); }
                }, { kind: 'danger-small' }) },
            ], slice, { caption: t('tokens.title') })));
    };
    drawList(tokens);
    const f = form({
        fields: [{ name: 'name', label: t('tokens.name'), required: true, hint: t('tokens.name_hint') }],
        submitLabel: t('tokens.create'),
        async onSubmit(v) {
            const { token } = await post('/user/tokens', v);
            const { token: secret, ...listed } = token;   // the list keeps no secret
            f.el.reset();
            created.replaceChildren(secretPanel({
                title: t('tokens.created_title'),
                warning: t('tokens.created_warning'),
                value: secret,
                onDone: () => ctx.reload(),
            }));
            created.querySelector('.secret-panel').focus();
            tokens.unshift(listed);
            drawList(tokens);
        },
    });
    const gone = form({
        fields: [{ name: 'password', label: t('account.delete_password'), type: 'password', required: true, autocomplete: 'current-password' }],
        submitLabel: t('account.delete_submit'),
        async onSubmit(v) {
            if (!await confirmAction({ title: t('account.delete_title'), message: t('account.delete_confirm_text', { email: user.email }), confirmLabel: t('account.delete_submit') })) return;
            await del('/user', { password: v.password });
            setCsrfToken(null);
            ctx.setSession(null);
            ctx.navigate('/login?deleted=1', { replace: true });
        },
    });
    box.append(
        pageHeader(t('account.title'), { crumbs: [[t('nav.account'), null]] }),
        h('section', { class: 'card' },
            h('h2', null, t('account.you')),
            h('dl', { class: 'facts' },
                h('dt', null, t('account.email')), h('dd', null, user.email),
                h('dt', null, t('account.name')), h('dd', null, [user.first_name, user.last_name].filter(Boolean).join(' ') || '—'),
                h('dt', null, t('account.admin')), h('dd', null, user.admin ? t('common.yes') : t('common.no')))),
        twoFactor,
        h('section', { class: 'card' },
            h('h2', null, t('tokens.title')),
            h('p', { class: 'hint' }, t('tokens.lead')),
            created, listBox,
            h('h3', null, t('tokens.new')), f.el),
        h('section', { class: 'card', id: 'delete-account' },
            h('h2', null, t('account.delete_title')),
            h('p', { class: 'hint' }, t('account.delete_lead')),
            gone.el));
}

export const routes = [
    { path: '/login', page: loginPage, public: true },
    { path: '/account', page: accountPage },
];
