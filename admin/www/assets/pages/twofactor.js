// twofactor.js -- two-factor sign-in on one's own account (doc/manual.md, "Two-factor
// sign-in"): enrolling (the QR code and the secret shown once, the first code), the ten
// recovery codes shown once, new recovery codes, disabling; and the page a person whose
// organization requires a second factor is sent to until they have one.
//
// Contract: twoFactorSection(ctx) builds the account page's "Two-factor sign-in" card from
// GET /api/v2/user/totp; /account/two-factor shows that card alone (the only page a session
// that must enrol can reach; once enrolled it goes on to ?next= or /orgs). The QR code is
// the server's SVG as a data: image; the secret and the recovery codes are text.
//
// Must never: keep the secret or a recovery code after it was shown, or put API data into
// the page as HTML.

import { h } from '../lib/dom.js';
import { t, formatDate } from '../lib/i18n.js';
import { get, post, del } from '../lib/api.js';
import { pageHeader, form, notice, button, copyButton, flash, confirmAction } from '../lib/ui.js';

function safeNext(next) {
    return typeof next === 'string' && next.startsWith('/') && !next.startsWith('//') && !next.startsWith('/login')
        && !next.startsWith('/account/two-factor') ? next : '/orgs';
}

// The recovery codes as shown once, with a button that copies them all.
function recoveryPanel(codes, onDone) {
    const panel = h('section', { class: 'secret-panel', id: 'recovery-codes', tabindex: '-1', 'aria-labelledby': 'recovery-title' },
        h('h3', { id: 'recovery-title' }, t('totp.recovery_title')),
        h('p', { class: 'warning' }, t('totp.recovery_warning')),
        h('ol', { class: 'recovery-codes' }, codes.map((c) => h('li', null, h('code', null, c)))),
        h('div', { class: 'form-actions' },
            copyButton(codes.join('\n'), t('totp.recovery_copy')),
            button(t('totp.recovery_saved'), () => { panel.remove(); onDone(); }, { kind: 'primary', id: 'recovery-done' })));
    return panel;
}

// Built when drawn: the catalogs are not loaded when this module is.
const codeField = () => ({ name: 'code', label: t('totp.code'), required: true, autocomplete: 'one-time-code', inputmode: 'numeric', hint: t('totp.code_hint') });

// Enrolment: begin (secret, URI and QR code), then the first code.
function enrolBox(ctx, st, onEnabled) {
    const box = h('div', { class: 'totp-enrol' });
    const start = button(t('totp.enrol_start'), async () => {
        start.disabled = true;
        try {
            const { enrolment } = await post('/user/totp');
            const f = form({
                fields: [codeField()],
                submitLabel: t('totp.enrol_confirm'),
                async onSubmit(v) {
                    const done = await post('/user/totp/confirm', { code: v.code });
                    box.replaceChildren(recoveryPanel(done.recovery_codes, () => onEnabled(done)));
                    box.querySelector('#recovery-codes').focus();
                },
            });
            f.input('code').setAttribute('autofocus', '');
            box.replaceChildren(
                h('p', null, t('totp.enrol_scan')),
                h('img', { class: 'totp-qr', src: enrolment.qr_image, alt: t('totp.qr_alt'), width: 240, height: 240 }),
                h('p', null, t('totp.enrol_manual')),
                h('div', { class: 'secret-row' },
                    h('code', { class: 'totp-secret', id: 'totp-secret' }, enrolment.secret.replace(/(.{4})(?!$)/g, '$1 ')),
                    copyButton(enrolment.secret)),
                h('p', { class: 'hint' }, t('totp.enrol_shown_once')),
                f.el);
            f.input('code').focus();
        } catch (err) {
            start.disabled = false;
            flash(err.message, 'error');
        }
    }, { kind: 'primary', id: 'totp-start' });
    box.append(h('p', null, st.required ? t('totp.required_text') : t('totp.off_text')), start);
    return box;
}

// Enabled: the facts, new recovery codes, and disabling (not while required).
function enabledBox(ctx, st) {
    const shown = h('div');
    const renew = form({
        fields: [codeField()],
        submitLabel: t('totp.recovery_renew'),
        async onSubmit(v, f) {
            const { recovery_codes: codes } = await post('/user/totp/recovery-codes', { code: v.code });
            f.el.reset();
            shown.replaceChildren(recoveryPanel(codes, () => ctx.reload()));
            shown.querySelector('#recovery-codes').focus();
        },
    });
    const off = form({
        fields: [{ ...codeField(), required: false, hint: t('totp.disable_hint') },
            { name: 'recovery_code', label: t('totp.recovery_code'), autocomplete: 'off', omitEmpty: true }],
        submitLabel: t('totp.disable'),
        async onSubmit(v) {
            if (!await confirmAction({ title: t('totp.disable_title'), message: t('totp.disable_text'), confirmLabel: t('totp.disable') })) return;
            const body = v.code ? { code: v.code } : { recovery_code: v.recovery_code };
            await del('/user/totp', body);
            flash(t('totp.disabled'));
            ctx.reload();
        },
    });
    return h('div', null,
        h('dl', { class: 'facts' },
            h('dt', null, t('totp.status')), h('dd', { id: 'totp-status' }, t('totp.on_since', { date: formatDate(st.confirmed_at) })),
            h('dt', null, t('totp.recovery_left')), h('dd', null, String(st.recovery_codes_left))),
        shown,
        h('h3', null, t('totp.recovery_renew_title')), renew.el,
        st.required
            ? notice(t('totp.required_cannot_disable'))
            : [h('h3', null, t('totp.disable_title')), off.el]);
}

export async function twoFactorSection(ctx, { onEnabled } = {}) {
    const { totp: st } = await get('/user/totp');
    const card = h('section', { class: 'card', id: 'two-factor' }, h('h2', null, t('totp.title')));
    if (st.required && !st.enabled) card.append(notice(t('totp.required_notice'), 'warning'));
    card.append(st.enabled ? enabledBox(ctx, st) : enrolBox(ctx, st, (done) => {
        if (onEnabled) onEnabled(done);
        else ctx.reload();
    }));
    return card;
}

async function twoFactorPage(ctx, box) {
    const enrolling = ctx.session.second_factor === 'enrol';
    box.append(pageHeader(t('totp.title'), { crumbs: enrolling ? [] : [[t('nav.account'), '/account'], [t('totp.title'), null]],
        lead: enrolling ? t('totp.enrol_lead') : null }));
    box.append(await twoFactorSection(ctx, {
        onEnabled(done) {
            ctx.setSession({ ...ctx.session, second_factor: done.second_factor });
            ctx.navigate(safeNext(ctx.query.next), { replace: true });
        },
    }));
}

export const routes = [
    { path: '/account/two-factor', page: twoFactorPage },
];
