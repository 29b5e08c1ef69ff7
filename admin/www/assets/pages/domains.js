// domains.js -- a server's domains: the list, adding one (with an Ed25519 key as well
// if wanted), a domain's DNS records to publish with copy buttons, deleting one.
//
// Contract: doc/api.md "Domains of a server". The records come as zone-file text
// (dns_records); each line is also shown as name / type / value, the value unquoted as
// a DNS provider's form wants it (long TXT strings joined), each with a copy button.

import { h } from '../lib/dom.js';
import { t, formatDate } from '../lib/i18n.js';
import { get, post, del, p } from '../lib/api.js';
import {
    pageHeader, form, table, paginated, emptyState, link, badge, button, confirmAction, flash, copyButton, errorText, notice,
} from '../lib/ui.js';
import { loadServer, serverTabs, serverCrumbs, serverUrl, serverApi, canWrite } from './common.js';

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
    const { org, server } = await loadServer(ctx.params.org, ctx.params.server);
    const { domains } = await get(`${serverApi(org.permalink, server.permalink)}/domains`);
    const write = canWrite(org);
    box.append(pageHeader(server.name, { crumbs: serverCrumbs(org, server, [t('nav.domains'), null]) }),
        serverTabs(org, server, 'domains'), h('p', { class: 'lead' }, t('domains.lead')));
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
                const { domain } = await post(`${serverApi(org.permalink, server.permalink)}/domains`, v);
                flash(t('domains.added', { name: domain.name }));
                ctx.navigate(serverUrl(org, server, `/domains/${encodeURIComponent(domain.name)}`));
            },
        });
        return h('section', { class: 'card', id: 'add-domain' }, h('h2', null, t('domains.add_title')), f.el);
    };
    if (domains.length === 0) {
        box.append(emptyState(t('domains.empty_title'), write ? t('domains.empty_text') : t('domains.empty_text_readonly')));
    } else {
        box.append(paginated(domains, (slice) => table([
            { label: t('domains.name'), cell: (d) => link(serverUrl(org, server, `/domains/${encodeURIComponent(d.name)}`), d.name, { class: 'strong' }) },
            { label: t('domains.status'), cell: verifiedBadge },
            { label: t('domains.dkim'), cell: (d) => d.dkim_keys.map((k) => k.algorithm).join(', ') || '—' },
            { label: t('common.created'), cell: (d) => formatDate(d.created_at) },
        ], slice, { caption: t('nav.domains') })));
    }
    if (write) box.append(addForm());
}

async function detailPage(ctx, box) {
    const { org, server } = await loadServer(ctx.params.org, ctx.params.server);
    const { domain } = await get(p`/organizations/${org.permalink}/servers/${server.permalink}/domains/${ctx.params.domain}`);
    const records = parseZone(domain.dns_records);
    box.append(pageHeader(domain.name, { crumbs: serverCrumbs(org, server, [t('nav.domains'), serverUrl(org, server, '/domains')], [domain.name, null]) }),
        serverTabs(org, server, 'domains'));
    box.append(domain.verified ? notice(t('domains.verified_notice'), 'success') : notice(t('domains.unverified_notice'), 'warning'));
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
    box.append(h('section', { class: 'card' },
        h('h2', null, t('domains.dkim_title')),
        table([
            { label: t('domains.selector'), cell: (k) => h('code', null, k.selector) },
            { label: t('domains.algorithm'), cell: (k) => k.algorithm },
            { label: t('domains.key_state'), cell: (k) => k.state },
        ], domain.dkim_keys, { caption: t('domains.dkim_title') })));
    if (canWrite(org)) {
        box.append(h('section', { class: 'card danger-zone' },
            h('h2', null, t('domains.delete_title')),
            h('p', null, t('domains.delete_text')),
            button(t('domains.delete'), async () => {
                const yes = await confirmAction({ title: t('domains.delete_title'), message: t('domains.delete_confirm', { name: domain.name }), confirmLabel: t('domains.delete') });
                if (!yes) return;
                try {
                    await del(p`/organizations/${org.permalink}/servers/${server.permalink}/domains/${domain.name}`);
                    flash(t('domains.deleted', { name: domain.name }));
                    ctx.navigate(serverUrl(org, server, '/domains'));
                } catch (err) { flash(errorText(err), 'error'); }
            }, { kind: 'danger', id: 'delete-domain' })));
    }
}

export const routes = [
    { path: '/orgs/:org/servers/:server/domains', page: listPage },
    { path: '/orgs/:org/servers/:server/domains/:domain', page: detailPage },
];
