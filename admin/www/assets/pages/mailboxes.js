// mailboxes.js -- a server's hosted mailboxes and aliases (mail hosting): each mailbox with
// its usage against its quota (a bar), the enabled switch and deletion after a confirmation
// typed out; each alias with its destinations; creating either (the password policy's
// refusal shown beside the password, naming the rule).
//
// Contract: doc/api.md "Mailboxes and aliases of a server". The usage is what Dovecot last
// reported (used_bytes, used_messages); null quotas are unlimited. No password is ever
// shown or kept: the create form is reset after it was sent.

import { h } from '../lib/dom.js';
import { t, lang, formatDate } from '../lib/i18n.js';
import { get, post, patch, del } from '../lib/api.js';
import {
    pageHeader, form, table, paginated, emptyState, badge, button, confirmAction, flash, errorText, link,
} from '../lib/ui.js';
import { loadServer, serverTabs, serverCrumbs, serverApi, serverUrl, canWrite } from './common.js';

const KB = 1024;
const MB = 1024 * KB;
const GB = 1024 * MB;

// bytes in the largest unit that keeps the number at 1 or more (binary: a quota of 50 MB is 50 × 2^20 bytes).
function size(bytes) {
    const [unit, div] = bytes >= GB ? ['gigabyte', GB] : bytes >= MB ? ['megabyte', MB] : ['kilobyte', KB];
    return new Intl.NumberFormat(lang(), { style: 'unit', unit, maximumFractionDigits: 1 }).format(bytes / div);
}

// "12.3 MB of 100 MB" and a bar, or "12.3 MB (no limit)"; messages beside.
function usageCell(m) {
    const used = m.used_bytes || 0;
    const parts = [];
    if (m.quota_bytes) {
        const pct = Math.min(100, Math.round((used * 100) / m.quota_bytes));
        parts.push(h('meter', {
            class: 'usage', min: 0, max: m.quota_bytes, value: Math.min(used, m.quota_bytes), low: m.quota_bytes * 0.8,
            high: m.quota_bytes * 0.95, optimum: 0, 'aria-label': t('mailboxes.usage_label', { address: m.address, pct }),
        }));
        parts.push(h('span', { class: 'usage-text' }, t('mailboxes.usage_of', { used: size(used), quota: size(m.quota_bytes) })));
    } else {
        parts.push(h('span', { class: 'usage-text' }, t('mailboxes.usage_unlimited', { used: size(used) })));
    }
    parts.push(h('span', { class: 'usage-text muted' }, m.quota_messages
        ? t('mailboxes.messages_of', { n: m.used_messages || 0, quota: m.quota_messages })
        : t('mailboxes.messages', { n: m.used_messages || 0 })));
    return h('div', { class: 'usage-cell' }, parts);
}

async function mailboxesPage(ctx, box) {
    const { org, server } = await loadServer(ctx.params.org, ctx.params.server);
    const api = serverApi(org.permalink, server.permalink);
    const [{ mailboxes }, { aliases }] = await Promise.all([get(`${api}/mailboxes`), get(`${api}/aliases`)]);
    const write = canWrite(org);
    const mailboxList = h('div');
    const aliasList = h('div');
    box.append(pageHeader(server.name, { crumbs: serverCrumbs(org, server, [t('nav.mailboxes'), null]) }),
        serverTabs(org, server, 'mailboxes'), h('p', { class: 'lead' }, t('mailboxes.lead')),
        h('section', null, h('h2', null, t('mailboxes.title')), mailboxList),
        h('section', null, h('h2', null, t('mailboxes.aliases_title')), aliasList));

    const enabledCell = (m) => {
        if (!write) return m.enabled ? t('common.yes') : badge(t('mailboxes.disabled'), 'warning');
        const id = `enabled-${m.uuid}`;
        const input = h('input', { type: 'checkbox', id, role: 'switch', checked: m.enabled });
        input.addEventListener('change', async () => {
            input.disabled = true;
            try {
                const { mailbox } = await patch(`${api}/mailboxes/${encodeURIComponent(m.uuid)}`, { enabled: input.checked });
                m.enabled = mailbox.enabled;
                flash(m.enabled ? t('mailboxes.enabled_on', { address: m.address }) : t('mailboxes.enabled_off', { address: m.address }));
            } catch (err) {
                input.checked = m.enabled;
                flash(errorText(err), 'error');
            } finally {
                input.disabled = false;
            }
        });
        return h('span', { class: 'switch' }, input, h('label', { for: id }, t('mailboxes.enabled_label', { address: m.address })));
    };
    const deleteMailbox = (m) => (write ? button(t('mailboxes.delete'), async () => {
        const yes = await confirmAction({
            title: t('mailboxes.delete_title'), message: t('mailboxes.delete_confirm', { address: m.address }),
            confirmLabel: t('mailboxes.delete'), typeToConfirm: m.address,
        });
        if (!yes) return;
        try {
            await del(`${api}/mailboxes/${encodeURIComponent(m.uuid)}`);
            flash(t('mailboxes.deleted', { address: m.address }));
            ctx.reload();
        } catch (err) { flash(errorText(err), 'error'); }
    }, { kind: 'danger-small', 'aria-label': t('mailboxes.delete_named', { address: m.address }) }) : null);
    const deleteAlias = (a) => (write ? button(t('mailboxes.delete'), async () => {
        const yes = await confirmAction({
            title: t('mailboxes.alias_delete_title'), message: t('mailboxes.alias_delete_confirm', { address: a.address }),
            confirmLabel: t('mailboxes.delete'),
        });
        if (!yes) return;
        try {
            await del(`${api}/aliases/${encodeURIComponent(a.uuid)}`);
            flash(t('mailboxes.alias_deleted', { address: a.address }));
            ctx.reload();
        } catch (err) { flash(errorText(err), 'error'); }
    }, { kind: 'danger-small', 'aria-label': t('mailboxes.alias_delete_named', { address: a.address }) }) : null);

    const drawMailboxes = () => {
        mailboxList.replaceChildren(mailboxes.length === 0
            ? emptyState(t('mailboxes.empty_title'), t('mailboxes.empty_text'),
                link(serverUrl(org, server, '/domains'), t('mailboxes.to_domains')))
            : paginated(mailboxes, (slice) => table([
                { label: t('mailboxes.address'), cell: (m) => h('span', { class: 'strong' }, m.address) },
                { label: t('mailboxes.name'), cell: (m) => m.name || '' },
                { label: t('mailboxes.usage'), cell: usageCell },
                { label: t('mailboxes.enabled'), cell: enabledCell },
                { label: t('mailboxes.last_login'), cell: (m) => formatDate(m.last_login_at) },
                { label: t('common.actions'), cell: deleteMailbox },
            ], slice, { caption: t('mailboxes.title') })));
    };
    const drawAliases = () => {
        aliasList.replaceChildren(aliases.length === 0
            ? emptyState(t('mailboxes.aliases_empty_title'), t('mailboxes.aliases_empty_text'))
            : paginated(aliases, (slice) => table([
                { label: t('mailboxes.address'), cell: (a) => h('span', { class: 'strong' }, a.address) },
                { label: t('mailboxes.destinations'), cell: (a) => h('ul', { class: 'plain-list' }, (a.destinations || []).map((d) => h('li', null, d))) },
                { label: t('common.actions'), cell: deleteAlias },
            ], slice, { caption: t('mailboxes.aliases_title') })));
    };
    drawMailboxes();
    drawAliases();
    if (!write) return;

    const mf = form({
        fields: [
            { name: 'address', label: t('mailboxes.address'), type: 'email', required: true, hint: t('mailboxes.address_hint'), spellcheck: 'false', autocomplete: 'off' },
            { name: 'name', label: t('mailboxes.name'), omitEmpty: true },
            { name: 'password', label: t('mailboxes.password'), type: 'password', required: true, hint: t('mailboxes.password_hint'), autocomplete: 'new-password' },
            { name: 'quota_mb', label: t('mailboxes.quota_mb'), type: 'number', min: 0, step: 1, omitEmpty: true, hint: t('mailboxes.quota_mb_hint') },
            { name: 'quota_messages', label: t('mailboxes.quota_messages'), type: 'number', min: 0, step: 1, omitEmpty: true },
        ],
        submitLabel: t('mailboxes.create'),
        async onSubmit(v) {
            const { quota_mb: mb, ...body } = v;
            if (typeof mb === 'number') body.quota_bytes = Math.round(mb * MB);
            const { mailbox } = await post(`${api}/mailboxes`, body);
            mf.el.reset();
            mailboxes.push(mailbox);
            mailboxes.sort((a, b) => a.address.localeCompare(b.address));
            drawMailboxes();
            flash(t('mailboxes.created', { address: mailbox.address }));
        },
    });
    const af = form({
        fields: [
            { name: 'address', label: t('mailboxes.address'), required: true, hint: t('mailboxes.alias_address_hint'), spellcheck: 'false', autocomplete: 'off' },
            { name: 'destinations', label: t('mailboxes.destinations'), type: 'textarea', required: true, hint: t('mailboxes.destinations_hint'), spellcheck: 'false' },
        ],
        submitLabel: t('mailboxes.alias_create'),
        async onSubmit(v) {
            const destinations = String(v.destinations || '').split(/[\s,]+/).filter(Boolean);
            const { alias } = await post(`${api}/aliases`, { address: v.address, destinations });
            af.el.reset();
            aliases.push(alias);
            drawAliases();
            flash(t('mailboxes.alias_created', { address: alias.address }));
        },
    });
    box.append(h('section', { class: 'card' }, h('h2', null, t('mailboxes.create_title')), mf.el),
        h('section', { class: 'card' }, h('h2', null, t('mailboxes.alias_create_title')), af.el));
}

export const routes = [
    { path: '/orgs/:org/servers/:server/mailboxes', page: mailboxesPage },
];
