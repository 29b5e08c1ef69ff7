// credentials.js -- a server's credentials: the list with the hold switch, creating one
// (the key shown once, with a copy button and a warning), deleting one.
//
// Contract: doc/api.md "Credentials of a server". The key is in the create answer only;
// this page shows it in a panel until the person says it is saved, and keeps it nowhere.
// SMTP-IP credentials take a network instead of a key.

import { h } from '../lib/dom.js';
import { t, formatDate } from '../lib/i18n.js';
import { get, post, patch, del } from '../lib/api.js';
import {
    pageHeader, form, table, paginated, emptyState, badge, button, confirmAction, flash, secretPanel, errorText,
} from '../lib/ui.js';
import { loadServer, serverTabs, serverCrumbs, serverApi, canWrite } from './common.js';

const TYPES = ['SMTP', 'API', 'SMTP-IP'];

async function credentialsPage(ctx, box) {
    const { org, server } = await loadServer(ctx.params.org, ctx.params.server);
    const base = `${serverApi(org.permalink, server.permalink)}/credentials`;
    const { credentials } = await get(base);
    const write = canWrite(org);
    const created = h('div', { class: 'created-slot' });
    const listBox = h('div');
    box.append(pageHeader(server.name, { crumbs: serverCrumbs(org, server, [t('nav.credentials'), null]) }),
        serverTabs(org, server, 'credentials'), h('p', { class: 'lead' }, t('credentials.lead')), created, listBox);

    const holdCell = (c) => {
        if (!write) return c.hold ? badge(t('credentials.held'), 'warning') : t('common.no');
        const id = `hold-${c.uuid}`;
        const input = h('input', { type: 'checkbox', id, role: 'switch', checked: c.hold });
        input.addEventListener('change', async () => {
            input.disabled = true;
            try {
                const { credential } = await patch(`${base}/${encodeURIComponent(c.uuid)}`, { hold: input.checked });
                c.hold = credential.hold;
                flash(c.hold ? t('credentials.hold_on', { name: c.name }) : t('credentials.hold_off', { name: c.name }));
            } catch (err) {
                input.checked = c.hold;
                flash(errorText(err), 'error');
            } finally {
                input.disabled = false;
            }
        });
        return h('span', { class: 'switch' }, input, h('label', { for: id }, t('credentials.hold_label', { name: c.name })));
    };
    const deleteCell = (c) => (write ? button(t('credentials.delete'), async () => {
        const yes = await confirmAction({ title: t('credentials.delete_title'), message: t('credentials.delete_confirm', { name: c.name }), confirmLabel: t('credentials.delete') });
        if (!yes) return;
        try {
            await del(`${base}/${encodeURIComponent(c.uuid)}`);
            flash(t('credentials.deleted', { name: c.name }));
            ctx.reload();
        } catch (err) { flash(errorText(err), 'error'); }
    }, { kind: 'danger-small', 'aria-label': t('credentials.delete_named', { name: c.name }) }) : null);

    const drawList = () => {
        listBox.replaceChildren(credentials.length === 0
            ? emptyState(t('credentials.empty_title'), write ? t('credentials.empty_text') : t('credentials.empty_text_readonly'))
            : paginated(credentials, (slice) => table([
                { label: t('credentials.name'), cell: (c) => h('span', { class: 'strong' }, c.name) },
                { label: t('credentials.type'), cell: (c) => c.type },
                { label: t('credentials.key'), cell: (c) => (c.type === 'SMTP-IP' ? h('code', null, c.network) : h('code', null, `${c.key_prefix}…`)) },
                { label: t('credentials.hold'), cell: holdCell },
                { label: t('common.last_used'), cell: (c) => formatDate(c.last_used_at) },
                { label: t('common.actions'), cell: deleteCell },
            ], slice, { caption: t('nav.credentials') })));
    };
    drawList();
    if (!write) return;

    const f = form({
        fields: [
            { name: 'type', label: t('credentials.type'), type: 'select', options: TYPES.map((ty) => [ty, t(`credentials.type.${ty}`)]), value: 'SMTP' },
            { name: 'name', label: t('credentials.name'), required: true, hint: t('credentials.name_hint') },
            { name: 'network', label: t('credentials.network'), hint: t('credentials.network_hint'), placeholder: '192.0.2.0/24', spellcheck: 'false' },
            { name: 'hold', label: t('credentials.hold'), type: 'checkbox', hint: t('credentials.hold_hint') },
        ],
        submitLabel: t('credentials.create'),
        async onSubmit(v) {
            const { credential } = await post(base, v);
            const { key, ...listed } = credential;   // the list keeps no secret
            f.el.reset();
            syncType();
            credentials.unshift(listed);
            drawList();
            if (key) {
                const details = [[t('credentials.type'), credential.type]];
                if (credential.cram_md5_username) details.push([t('credentials.cram_user'), credential.cram_md5_username]);
                created.replaceChildren(secretPanel({
                    title: t('credentials.key_title', { name: credential.name }),
                    warning: t('credentials.key_warning'),
                    value: key,
                    details,
                }));
                created.querySelector('.secret-panel').focus();
            } else {
                flash(t('credentials.created', { name: credential.name }));
            }
        },
    });
    const syncType = () => {
        f.field('network').hidden = f.input('type').value !== 'SMTP-IP';
    };
    f.input('type').addEventListener('change', syncType);
    syncType();
    box.append(h('section', { class: 'card' }, h('h2', null, t('credentials.create_title')), f.el));
}

export const routes = [
    { path: '/orgs/:org/servers/:server/credentials', page: credentialsPage },
];
