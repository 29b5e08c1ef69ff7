// poolrules.js -- the IP-pool rules card of a server's and an organization's settings:
// which pool the mail of some senders (from) or to some recipients (to) leaves from. A
// server's rules are tried before its organization's, then the server's own pool (doc/manual.md
// "IP pools in the delivery path"). Organization admins add and delete rules, choosing among
// the pools an installation admin assigned to the organization; everyone else reads them.
//
// Contract: doc/api.md "IP pools" (…/ip-pool-rules). Patterns are sent as lists, one per line
// in the form; the server checks them and its errors land beside the fields.

import { h } from '../lib/dom.js';
import { t } from '../lib/i18n.js';
import { get, post, del } from '../lib/api.js';
import { form, table, button, confirmAction, flash, errorText, notice } from '../lib/ui.js';

const lines = (text) => String(text || '').split(/[\s,]+/).filter(Boolean);

// base: the API path of the rules (…/ip-pool-rules); orgApiPath: the organization's.
export async function poolRulesCard(ctx, { title, lead, base, orgApiPath, write }) {
    const [{ rules }, { ip_pools: pools }] = await Promise.all([get(base), get(`${orgApiPath}/ip-pools`)]);
    const remove = (r) => button(t('common.delete'), async () => {
        const yes = await confirmAction({ title: t('poolrules.delete_title'), message: t('poolrules.delete_confirm', { pool: r.ip_pool.name }), confirmLabel: t('common.delete') });
        if (!yes) return;
        try {
            await del(`${base}/${encodeURIComponent(r.uuid)}`);
            flash(t('poolrules.deleted'));
            ctx.reload();
        } catch (err) { flash(errorText(err), 'error'); }
    }, { kind: 'danger-small', 'aria-label': t('poolrules.delete_named', { pool: r.ip_pool.name }) });
    const patterns = (list) => (list.length ? h('ul', { class: 'plain-list' }, list.map((x) => h('li', null, h('code', null, x)))) : '—');
    const card = h('section', { class: 'card pool-rules' }, h('h2', null, title), h('p', { class: 'hint' }, lead),
        rules.length === 0 ? h('p', { class: 'muted' }, t('poolrules.none')) : table([
            { label: t('poolrules.pool'), cell: (r) => r.ip_pool.name },
            { label: t('poolrules.from'), cell: (r) => patterns(r.from) },
            { label: t('poolrules.to'), cell: (r) => patterns(r.to) },
            write ? { label: t('common.actions'), cell: remove } : null,
        ].filter(Boolean), rules, { caption: title }));
    if (!write) return card;
    if (pools.length === 0) {
        card.append(notice(t('poolrules.no_pools'), 'info'));
        return card;
    }
    const f = form({
        fields: [
            { name: 'ip_pool', label: t('poolrules.pool'), type: 'select', options: pools.map((pl) => [pl.uuid, pl.name]) },
            { name: 'from', label: t('poolrules.from'), type: 'textarea', hint: t('poolrules.from_hint'), spellcheck: 'false' },
            { name: 'to', label: t('poolrules.to'), type: 'textarea', hint: t('poolrules.to_hint'), spellcheck: 'false' },
        ],
        submitLabel: t('poolrules.create'),
        async onSubmit(v) {
            await post(base, { ip_pool: v.ip_pool, from: lines(v.from), to: lines(v.to) });
            flash(t('poolrules.created'));
            ctx.reload();
        },
    });
    card.append(h('h3', null, t('poolrules.create_title')), f.el);
    return card;
}
