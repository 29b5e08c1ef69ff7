// suppressions.js -- a server's suppression list: search, add, remove, and a CSV import
// that shows its upload progress and then what was added, already there or refused
// (line by line).
//
// Contract: doc/api.md "Suppression list of a server". The search runs on the server
// (?search=, any part of the address); "More" follows next_before. The import sends the
// chosen file as it is (text/csv) with XMLHttpRequest so the bar follows the upload;
// the server parses it and answers with counts.
//
// Must never: remove an entry without confirmation, or read the file into the page as HTML.

import { h, clear } from '../lib/dom.js';
import { t, formatDate } from '../lib/i18n.js';
import { get, post, del, upload } from '../lib/api.js';
import {
    pageHeader, form, table, emptyState, button, confirmAction, flash, errorText, notice,
} from '../lib/ui.js';
import { loadServer, serverTabs, serverCrumbs, serverUrl, serverApi, canWrite } from './common.js';

const PAGE = 50;

async function suppressionsPage(ctx, box) {
    const { org, server } = await loadServer(ctx.params.org, ctx.params.server);
    const base = `${serverApi(org.permalink, server.permalink)}/suppressions`;
    const here = serverUrl(org, server, '/suppressions');
    const search = (ctx.query.search || '').trim();
    const write = canWrite(org);
    const first = await get(`${base}?limit=${PAGE}${search ? `&search=${encodeURIComponent(search)}` : ''}`);
    box.append(pageHeader(server.name, { crumbs: serverCrumbs(org, server, [t('nav.suppressions'), null]) }),
        serverTabs(org, server, 'suppressions'), h('p', { class: 'lead' }, t('supp.lead')));

    // Search (a GET form the router takes over, so the address keeps the query).
    const input = h('input', { type: 'search', id: 'supp-search', name: 'search', value: search, spellcheck: 'false', placeholder: 'example.com' });
    const searchForm = h('form', { class: 'searchbar', role: 'search' },
        h('label', { for: 'supp-search' }, t('supp.search')), input,
        h('button', { type: 'submit', class: ['btn', 'btn-primary'] }, t('messages.search')),
        search ? h('a', { href: here, class: 'btn btn-secondary' }, t('messages.clear')) : null);
    searchForm.addEventListener('submit', (e) => {
        e.preventDefault();
        const v = input.value.trim();
        ctx.navigate(v ? `${here}?search=${encodeURIComponent(v)}` : here);
    });
    box.append(searchForm);

    const listBox = h('div', { id: 'supp-list' });
    const more = h('div');
    box.append(listBox, more);
    const rows = [];
    const drawRows = () => {
        clear(listBox);
        if (rows.length === 0) {
            listBox.append(search ? emptyState(t('supp.none_title'), t('supp.none_text', { search }))
                : emptyState(t('supp.empty_title'), write ? t('supp.empty_text') : t('supp.empty_text_readonly')));
            return;
        }
        listBox.append(table([
            { label: t('supp.address'), cell: (s) => h('code', { class: 'break strong' }, s.address) },
            { label: t('supp.reason'), cell: (s) => h('span', { class: 'break' }, s.reason || '—') },
            { label: t('supp.source'), cell: (s) => t(`supp.src.${s.source}`) },
            { label: t('supp.keep_until'), cell: (s) => (s.keep_until ? formatDate(s.keep_until) : t('supp.until_removed')) },
            { label: t('common.created'), cell: (s) => formatDate(s.created_at) },
            { label: t('common.actions'), cell: (s) => (write ? button(t('supp.remove'), async () => {
                if (!await confirmAction({ title: t('supp.remove_title'), message: t('supp.remove_confirm', { address: s.address }), confirmLabel: t('supp.remove') })) return;
                try {
                    await del(`${base}/${s.id}`);
                    flash(t('supp.removed', { address: s.address }));
                    ctx.reload();
                } catch (err) { flash(errorText(err), 'error'); }
            }, { kind: 'danger-small', 'aria-label': t('supp.remove_named', { address: s.address }) }) : null) },
        ], rows, { caption: t('nav.suppressions') }));
    };
    const addPage = (data) => {
        rows.push(...data.suppressions);
        drawRows();
        clear(more);
        if (data.next_before) {
            more.append(h('nav', { class: 'pager', 'aria-label': t('pager.label') },
                h('span', { class: 'pager-status' }, t('supp.shown', { n: rows.length })),
                button(t('supp.more'), async () => {
                    try {
                        addPage(await get(`${base}?limit=${PAGE}&before=${data.next_before}${search ? `&search=${encodeURIComponent(search)}` : ''}`));
                    } catch (err) { flash(errorText(err), 'error'); }
                }, { id: 'supp-more' })));
        }
    };
    addPage(first);
    if (!write) return;

    // ---- add one
    const f = form({
        fields: [
            { name: 'address', label: t('supp.address'), required: true, type: 'email', spellcheck: 'false' },
            { name: 'reason', label: t('supp.reason'), omitEmpty: true, hint: t('supp.reason_hint') },
            { name: 'keep_days', label: t('supp.keep_days'), type: 'number', omitEmpty: true, min: 1, max: 3650, step: 1, hint: t('supp.keep_days_hint') },
        ],
        submitLabel: t('supp.add'),
        async onSubmit(v) {
            const { suppression } = await post(base, v);
            flash(t('supp.added', { address: suppression.address }));
            ctx.reload();
        },
    });
    box.append(h('section', { class: 'card' }, h('h2', null, t('supp.add_title')), f.el));

    // ---- import a CSV file
    const file = h('input', { type: 'file', id: 'supp-file', accept: '.csv,text/csv,text/plain' });
    const keep = h('input', { type: 'number', id: 'supp-import-keep', min: 1, max: 3650, step: 1 });
    const bar = h('progress', { id: 'supp-progress', max: 100, value: 0, 'aria-label': t('supp.progress') });
    const barText = h('span', { class: 'progress-text', 'aria-live': 'polite' });
    const result = h('div', { id: 'supp-import-result', 'aria-live': 'polite' });
    const start = h('button', { type: 'submit', class: ['btn', 'btn-primary'], id: 'supp-import' }, t('supp.import'));
    const importForm = h('form', { class: 'form' },
        h('div', { class: 'field' }, h('label', { for: 'supp-file' }, t('supp.file')), file, h('p', { class: 'hint' }, t('supp.file_hint'))),
        h('div', { class: 'field' }, h('label', { for: 'supp-import-keep' }, t('supp.keep_days')), keep, h('p', { class: 'hint' }, t('supp.keep_days_hint'))),
        h('div', { class: 'progress-row', hidden: true }, bar, barText),
        h('div', { class: 'form-actions' }, start), result);
    importForm.addEventListener('submit', async (e) => {
        e.preventDefault();
        clear(result);
        const chosen = file.files && file.files[0];
        if (!chosen) {
            result.append(notice(t('supp.choose_file'), 'error'));
            return;
        }
        const row = importForm.querySelector('.progress-row');
        row.hidden = false;
        bar.value = 0;
        start.disabled = true;
        const kd = keep.value.trim();
        try {
            const data = await upload(`${base}/import${kd ? `?keep_days=${encodeURIComponent(kd)}` : ''}`, chosen, 'text/csv',
                (sent, total) => {
                    const pct = total ? Math.round((sent / total) * 100) : 0;
                    bar.value = pct;
                    clear(barText).append(t('supp.uploaded', { pct }));
                });
            bar.value = 100;
            clear(barText).append(t('supp.uploaded', { pct: 100 }));
            result.append(notice(t('supp.import_done', { added: data.added, present: data.already_present, invalid: data.invalid_count }),
                data.invalid_count ? 'warning' : 'success'));
            if (data.invalid.length) {
                result.append(table([
                    { label: t('supp.line'), cell: (x) => String(x.line) },
                    { label: t('supp.value'), cell: (x) => h('code', { class: 'break' }, x.value) },
                    { label: t('supp.problem'), cell: (x) => x.error },
                ], data.invalid, { caption: t('supp.invalid_lines') }));
            }
            result.append(h('p', null, button(t('supp.show_list'), () => ctx.reload(), { id: 'supp-reload' })));
        } catch (err) {
            result.append(notice(`${errorText(err)} ${Object.values(err.fields || {}).flat().join(' ')}`, 'error'));
        } finally {
            start.disabled = false;
        }
    });
    box.append(h('section', { class: 'card', id: 'supp-import-card' }, h('h2', null, t('supp.import_title')),
        h('p', { class: 'hint' }, t('supp.import_lead')), importForm));
}

export const routes = [
    { path: '/orgs/:org/servers/:server/suppressions', page: suppressionsPage },
];
