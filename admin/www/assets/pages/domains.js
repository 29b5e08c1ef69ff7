// domains.js -- a server's domains, and an organization's own (shared by all its servers,
// managed by its admins): the list, adding one (with an Ed25519 key as well if wanted), a
// domain's DNS records to publish with copy buttons, verifying it, the live DNS check (SPF,
// DKIM, return path, MX), DKIM keys with rotation, deleting one.
//
// Contract: doc/api.md "Domains of a server" and "Domains of an organization". The records come as zone-file text
// (dns_records); each line is also shown as name / type / value, the value unquoted as
// a DNS provider's form wants it (long TXT strings joined), each with a copy button.

import { h } from '../lib/dom.js';
import { t, formatDate } from '../lib/i18n.js';
import { get, post, patch, del, p } from '../lib/api.js';
import {
    pageHeader, form, table, paginated, emptyState, link, badge, button, confirmAction, flash, copyButton, errorText, notice,
} from '../lib/ui.js';
import {
    loadOrg, loadServer, serverTabs, serverCrumbs, serverUrl, serverApi, orgTabs, orgCrumbs, orgUrl, canWrite, canAdmin,
} from './common.js';

// Whose domains the page shows: the server of the path, or (no server in it) the
// organization itself; the same pages serve both.
async function loadOwner(ctx) {
    if (ctx.params.server) {
        const { org, server } = await loadServer(ctx.params.org, ctx.params.server);
        return {
            org, server, title: server.name, api: serverApi(org.permalink, server.permalink),
            url: (rest = '') => serverUrl(org, server, rest), crumbs: (...more) => serverCrumbs(org, server, ...more),
            tabs: () => serverTabs(org, server, 'domains'), write: canWrite(org),
        };
    }
    const org = await loadOrg(ctx.params.org);
    return {
        org, server: null, title: org.name, api: p`/organizations/${org.permalink}`,
        url: (rest = '') => orgUrl(org, rest), crumbs: (...more) => orgCrumbs(org, ...more),
        tabs: () => orgTabs(org, 'domains'), write: canAdmin(org),
    };
}

// "name. 3600 IN TXT "a" "b"" -> {name, ttl, type, value}; comments and blanks skipped.
export function parseZone(text) {
    const out = [];
    for (const line of (text || '').split('\n')) {
        if (!line.trim() || line.trimStart().startsWith(';')) continue;
        const m = /^(\S+)\s+(\d+)\s+IN\s+(\S+)\s+(.*)$/.exec(line.trim());
        if (!m) continue;
        let value = m[4];
        if (m[3] === 'TXT') {
            value = [...value.matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((q) => q[1].replace(/\\(.)/g, '$1')).join('');
        }
        out.push({ name: m[1], ttl: m[2], type: m[3], value, line: line.trim() });
    }
    return out;
}

function verifiedBadge(d) {
    return d.verified ? badge(t('domains.verified'), 'ok') : badge(t('domains.unverified'), 'warning');
}

async function listPage(ctx, box) {
    const o = await loadOwner(ctx);
    const { domains } = await get(`${o.api}/domains`);
    const write = o.write;
    box.append(pageHeader(o.title, { crumbs: o.crumbs([t('nav.domains'), null]) }),
        o.tabs(), h('p', { class: 'lead' }, o.server ? t('domains.lead') : t('domains.org_lead')));
    const addForm = () => {
        const fields = [
            { name: 'name', label: t('domains.name'), required: true, placeholder: 'example.com', spellcheck: 'false', hint: t('domains.name_hint') },
            { name: 'ed25519', label: t('domains.ed25519'), type: 'checkbox', hint: t('domains.ed25519_hint') },
        ];
        if (ctx.session.user.admin) fields.push({ name: 'verified', label: t('domains.mark_verified'), type: 'checkbox', hint: t('domains.mark_verified_hint') });
        const f = form({
            fields,
            submitLabel: t('domains.add'),
            async onSubmit(v) {
                const { domain } = await post(`${o.api}/domains`, v);
                flash(t('domains.added', { name: domain.name }));
                ctx.navigate(o.url(`/domains/${encodeURIComponent(domain.name)}`));
            },
        });
        return h('section', { class: 'card', id: 'add-domain' }, h('h2', null, t('domains.add_title')), f.el);
    };
    if (domains.length === 0) {
        box.append(emptyState(t('domains.empty_title'), write ? t('domains.empty_text') : t('domains.empty_text_readonly')));
    } else {
        box.append(paginated(domains, (slice) => table([
            { label: t('domains.name'), cell: (d) => link(o.url(`/domains/${encodeURIComponent(d.name)}`), d.name, { class: 'strong' }) },
            { label: t('domains.status'), cell: verifiedBadge },
            { label: t('domains.dkim'), cell: (d) => d.dkim_keys.map((k) => k.algorithm).join(', ') || '—' },
            { label: t('common.created'), cell: (d) => formatDate(d.created_at) },
        ], slice, { caption: t('nav.domains') })));
    }
    if (write) box.append(addForm());
}

async function detailPage(ctx, box) {
    const o = await loadOwner(ctx);
    const { domain } = await get(`${o.api}${p`/domains/${ctx.params.domain}`}`);
    const records = parseZone(domain.dns_records);
    box.append(pageHeader(domain.name, { crumbs: o.crumbs([t('nav.domains'), o.url('/domains')], [domain.name, null]) }),
        o.tabs());
    const base = `${o.api}${p`/domains/${domain.name}`}`;
    const write = o.write;
    // Runs a domain action and redraws with its answer; errors land in the section's alert.
    const act = async (alertEl, fn, done) => {
        alertEl.replaceChildren();
        try {
            await fn();
            if (done) flash(done);
            ctx.reload();
        } catch (err) {
            alertEl.replaceChildren(notice(errorText(err), 'error'));
        }
    };
    const verifyAlert = h('div', { class: 'section-alert' });
    // The second way: a code mailed to webmaster@ (or another of Postal's addresses).
    const byEmail = () => {
        const send = form({
            fields: [{ name: 'address', label: t('domains.email_address'), type: 'select', hint: t('domains.email_address_hint'),
                options: domain.verification_email_addresses.map((a) => [a, a]) }],
            submitLabel: t('domains.email_send'),
            async onSubmit(v) {
                await post(`${base}/verification-email`, v);
                flash(t('domains.email_sent', { address: v.address }));
                ctx.reload();
            },
            class: 'inline-form',
        });
        const check = form({
            fields: [{ name: 'code', label: t('domains.email_code'), required: true, inputmode: 'numeric', autocomplete: 'one-time-code',
                spellcheck: 'false', hint: domain.verification_email ? t('domains.email_code_hint', { address: domain.verification_email }) : null }],
            submitLabel: t('domains.email_verify'),
            async onSubmit(v) {
                await post(`${base}/verify`, v);
                flash(t('domains.verified_now'));
                ctx.reload();
            },
            class: 'inline-form',
        });
        send.el.id = 'send-verification-email';
        check.el.id = 'verify-code';
        return h('details', { class: 'verify-email', open: domain.verification_email ? true : null },
            h('summary', null, t('domains.email_title')), h('p', { class: 'hint' }, t('domains.email_lead')),
            send.el, domain.verification_email ? check.el : null);
    };
    box.append(domain.verified ? notice(t('domains.verified_notice'), 'success') : h('div', { class: 'card' },
        notice(t('domains.unverified_notice'), 'warning'), verifyAlert,
        write ? button(t('domains.verify'), () => act(verifyAlert, () => post(`${base}/verify`), t('domains.verified_now')),
            { kind: 'primary', id: 'verify-domain' }) : null,
        write ? byEmail() : null));
    // Mail hosting (doc/manual.md "Mail hosting"): the switch, for verified domains.
    if (domain.verified) {
        const hostingAlert = h('div', { class: 'section-alert' });
        const state = domain.alias_of ? t('domains.hosting_alias', { target: domain.alias_of })
            : domain.hosting ? t('domains.hosting_on') : t('domains.hosting_off');
        let control = null;
        if (write && !domain.alias_of) {
            const input = h('input', { type: 'checkbox', id: 'hosting-switch', role: 'switch', checked: domain.hosting });
            input.addEventListener('change', () => act(hostingAlert, () => patch(base, { hosting: input.checked }),
                input.checked ? t('domains.hosting_now_on', { name: domain.name }) : t('domains.hosting_now_off', { name: domain.name })));
            control = h('span', { class: 'switch' }, input, h('label', { for: 'hosting-switch' }, t('domains.hosting_label', { name: domain.name })));
        }
        box.append(h('section', { class: 'card', id: 'hosting' },
            h('h2', null, t('domains.hosting_title')), h('p', null, state), hostingAlert, control,
            domain.hosting && o.server ? h('p', null, link(o.url('/mailboxes'), t('domains.hosting_mailboxes'))) : null));
    }
    box.append(h('section', { class: 'card' },
        h('h2', null, t('domains.records_title')),
        h('p', { class: 'hint' }, t('domains.records_lead')),
        table([
            { label: t('domains.record_type'), cell: (r) => h('code', null, r.type) },
            { label: t('domains.record_name'), cell: (r) => h('span', { class: 'rec' }, h('code', { class: 'break' }, r.name), copyButton(r.name, t('common.copy'), { 'aria-label': t('domains.copy_name', { type: r.type, name: r.name }) })) },
            { label: t('domains.record_value'), cell: (r) => h('span', { class: 'rec' }, h('code', { class: 'break' }, r.value), copyButton(r.value, t('common.copy'), { 'aria-label': t('domains.copy_value', { type: r.type, name: r.name }) })) },
            { label: t('domains.record_ttl'), cell: (r) => r.ttl },
        ], records, { caption: t('domains.records_title') }),
        h('details', { class: 'zone' },
            h('summary', null, t('domains.zone_text')),
            h('pre', { class: 'zone-text', tabindex: '0' }, domain.dns_records),
            copyButton(domain.dns_records, t('domains.copy_all'), { id: 'copy-zone' }))));
    const chk = domain.dns_check || {};
    const checkAlert = h('div', { class: 'section-alert' });
    const checkRow = (key, label) => ({ label, status: chk[`${key}_status`], error: chk[`${key}_error`] });
    const checkRows = [checkRow('spf', 'SPF'), checkRow('dkim', 'DKIM'), checkRow('return_path', t('domains.return_path')), checkRow('mx', 'MX'), checkRow('dmarc', 'DMARC')];
    // A hosted domain's names for mail clients (autoconfig, autodiscover, SRV records).
    if (domain.hosting) checkRows.push(checkRow('client_config', t('domains.client_config')));
    const checkBadge = (st) => (st === 'OK' ? badge(t('domains.check_ok'), 'ok') : st === 'Missing' ? badge(t('domains.check_missing'), 'warning')
        : st === 'Invalid' ? badge(t('domains.check_invalid'), 'danger') : badge(t('domains.check_unknown'), 'neutral'));
    box.append(h('section', { class: 'card', id: 'dns-check' },
        h('h2', null, t('domains.check_title')),
        h('p', { class: 'hint' }, chk.checked_at ? t('domains.checked_at', { when: formatDate(chk.checked_at) }) : t('domains.never_checked')),
        checkAlert,
        table([
            { label: t('domains.record_type'), cell: (r) => r.label },
            { label: t('domains.status'), cell: (r) => checkBadge(r.status) },
            { label: t('message.details'), cell: (r) => h('span', { class: 'break' }, r.error || (r.status === 'OK' ? t('domains.check_ok_text') : '—')) },
        ], checkRows, { caption: t('domains.check_title') }),
        write ? h('div', { class: 'form-actions' }, button(t('domains.check_now'), () => act(checkAlert, () => post(`${base}/check`), t('domains.checked')),
            { kind: 'secondary', id: 'check-domain' })) : null));

    const dkimAlert = h('div', { class: 'section-alert' });
    const stateBadge = (k) => (k.state === 'active' ? badge(t('domains.state_active'), 'ok')
        : k.state === 'pending' ? badge(t('domains.state_pending'), 'warning') : badge(t('domains.state_retiring'), 'neutral'));
    box.append(h('section', { class: 'card', id: 'dkim' },
        h('h2', null, t('domains.dkim_title')),
        h('p', { class: 'hint' }, t('domains.dkim_lead')),
        dkimAlert,
        table([
            { label: t('domains.selector'), cell: (k) => h('code', null, k.selector) },
            { label: t('domains.algorithm'), cell: (k) => k.algorithm },
            { label: t('domains.key_state'), cell: stateBadge },
            { label: t('domains.signing'), cell: (k) => (k.signing ? t('common.yes') : t('common.no')) },
            { label: t('domains.activates'), cell: (k) => (k.activated_at ? formatDate(k.activated_at) : '—') },
            { label: t('common.actions'), cell: (k) => (write && k.state === 'pending' ? button(t('domains.activate'), async () => {
                const yes = await confirmAction({ title: t('domains.activate_title'), message: t('domains.activate_confirm', { selector: k.selector }), confirmLabel: t('domains.activate'), danger: false });
                if (yes) await act(dkimAlert, () => post(`${base}/dkim/activate`, { selector: k.selector }), t('domains.activated', { selector: k.selector }));
            }, { kind: 'small', 'aria-label': t('domains.activate_named', { selector: k.selector }) }) : null) },
        ], domain.dkim_keys, { caption: t('domains.dkim_title') }),
        write ? (() => {
            const alg = h('select', { id: 'rotate-alg' }, h('option', { value: 'rsa-sha256' }, 'RSA-2048 (rsa-sha256)'),
                h('option', { value: 'ed25519-sha256' }, 'Ed25519 (ed25519-sha256)'));
            return h('div', { class: 'rotate' },
                h('h3', null, t('domains.rotate_title')),
                h('p', { class: 'hint' }, t('domains.rotate_text')),
                h('div', { class: 'field' }, h('label', { for: 'rotate-alg' }, t('domains.algorithm')), alg),
                button(t('domains.rotate'), async () => {
                    const yes = await confirmAction({ title: t('domains.rotate_title'), message: t('domains.rotate_confirm'), confirmLabel: t('domains.rotate'), danger: false });
                    if (yes) await act(dkimAlert, () => post(`${base}/dkim/rotate`, { algorithm: alg.value }), t('domains.rotated'));
                }, { kind: 'secondary', id: 'rotate-dkim' }));
        })() : null));
    if (write) {
        box.append(h('section', { class: 'card danger-zone' },
            h('h2', null, t('domains.delete_title')),
            h('p', null, t('domains.delete_text')),
            button(t('domains.delete'), async () => {
                const yes = await confirmAction({ title: t('domains.delete_title'), message: t('domains.delete_confirm', { name: domain.name }), confirmLabel: t('domains.delete') });
                if (!yes) return;
                try {
                    await del(base);
                    flash(t('domains.deleted', { name: domain.name }));
                    ctx.navigate(o.url('/domains'));
                } catch (err) { flash(errorText(err), 'error'); }
            }, { kind: 'danger', id: 'delete-domain' })));
    }
}

export const routes = [
    { path: '/orgs/:org/servers/:server/domains', page: listPage },
    { path: '/orgs/:org/servers/:server/domains/:domain', page: detailPage },
    { path: '/orgs/:org/domains', page: listPage },
    { path: '/orgs/:org/domains/:domain', page: detailPage },
];
