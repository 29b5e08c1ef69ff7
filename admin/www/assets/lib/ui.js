// ui.js -- the pieces every page is made of: page headers with breadcrumbs, notices,
// empty states, responsive tables, pagination, forms that show the server's per-field
// errors beside their fields, the confirmation dialog, copy buttons and the panel that
// shows a secret once.
//
// Contract: everything is built with dom.js (text only); strings come from i18n.js.
// form() answers {el, values(), showError(err), clearErrors(), busy(on)}; a field's
// server errors land in the element beside it (aria-describedby, aria-invalid), the
// rest in the form's alert. confirmAction() resolves true only on an explicit confirm.
//
// Must never: insert API data as HTML, or run a destructive action without the
// caller having asked confirmAction() first.

import { h, clear, uid } from './dom.js';
import { t, has } from './i18n.js';

// ------------------------------------------------------------------ text helpers

export function errorText(err) {
    if (!err) return '';
    if (err.code && has(`error.${err.code}`)) return t(`error.${err.code}`);
    return err.message || String(err);
}

export function badge(text, kind = 'neutral') {
    return h('span', { class: ['badge', `badge-${kind}`] }, text);
}

export function link(href, text, props = {}) {
    return h('a', { href, ...props }, text);
}

export function button(text, onClick, { kind = 'secondary', type = 'button', ...props } = {}) {
    return h('button', { type, class: ['btn', `btn-${kind}`], on: onClick ? { click: onClick } : undefined, ...props }, text);
}

// ------------------------------------------------------------------ page structure

// A page's header: breadcrumbs ([label, href] pairs), the title (focused after
// navigation), an optional lead paragraph and actions.
export function pageHeader(title, { crumbs = [], lead = null, actions = [] } = {}) {
    const nav = crumbs.length
        ? h('nav', { class: 'crumbs', 'aria-label': t('nav.breadcrumbs') },
            h('ol', null, crumbs.map(([label, href]) => h('li', null, href ? link(href, label) : label))))
        : null;
    document.title = `${title} — postgate`;
    return h('div', { class: 'page-header' },
        nav,
        h('div', { class: 'page-title-row' },
            h('h1', { tabindex: '-1', id: 'page-title' }, title),
            actions.length ? h('div', { class: 'actions' }, actions) : null),
        lead ? h('p', { class: 'lead' }, lead) : null);
}

// Tabs of an organization or a server: [{label, href, current}].
export function tabs(label, items) {
    return h('nav', { class: 'tabs', 'aria-label': label },
        h('ul', null, items.map((it) => h('li', null,
            h('a', { href: it.href, 'aria-current': it.current ? 'page' : null }, it.label)))));
}

export function notice(text, kind = 'info') {
    return h('p', { class: ['notice', `notice-${kind}`], role: kind === 'error' ? 'alert' : 'status' }, text);
}

export function emptyState(title, text, action = null) {
    return h('div', { class: 'empty' }, h('h2', null, title), h('p', null, text), action);
}

export function loading() {
    return h('p', { class: 'loading', role: 'status' }, t('common.loading'));
}

// The app's flash line (role=status): "Saved." after an action. It outlives the
// navigation that follows the action, not the one after (clearStaleFlash).
let flashAt = 0;
export function flash(text, kind = 'success') {
    const el = document.getElementById('flash');
    if (!el) return;
    clear(el);
    el.className = `flash flash-${kind}`;
    el.append(text);
    flashAt = Date.now();
    clearTimeout(flash.timer);
    flash.timer = setTimeout(() => { clear(el); el.className = 'flash'; }, 8000);
}

export function clearStaleFlash() {
    const el = document.getElementById('flash');
    if (el && Date.now() - flashAt > 1500) {
        clear(el);
        el.className = 'flash';
    }
}

// ------------------------------------------------------------------ tables and pages

// columns: [{label, cell(row) -> node or text, class}]; on narrow screens each cell
// shows its column's label (data-label, CSS).
export function table(columns, rows, { caption = null } = {}) {
    return h('div', { class: 'table-wrap' },
        h('table', { class: 'data' },
            caption ? h('caption', { class: 'visually-hidden' }, caption) : null,
            h('thead', null, h('tr', null, columns.map((c) => h('th', { scope: 'col', class: c.class }, c.label)))),
            h('tbody', null, rows.map((r) => h('tr', null, columns.map((c) => {
                const v = c.cell(r);
                return h('td', { 'data-label': c.label, class: c.class }, v === null || v === undefined ? '—' : v);
            }))))));
}

export const PAGE_SIZE = 20;

// Shows items a page at a time: render(slice) gives the content of one page.
export function paginated(items, render, { pageSize = PAGE_SIZE, label = t('pager.label') } = {}) {
    const box = h('div', { class: 'paginated' });
    const pages = Math.max(1, Math.ceil(items.length / pageSize));
    let page = 1;
    const draw = (focusPager) => {
        clear(box);
        box.append(render(items.slice((page - 1) * pageSize, page * pageSize)));
        if (pages > 1) {
            const prev = button(t('pager.previous'), () => { page -= 1; draw('prev'); }, { disabled: page === 1 });
            const next = button(t('pager.next'), () => { page += 1; draw('next'); }, { disabled: page === pages });
            box.append(h('nav', { class: 'pager', 'aria-label': label },
                prev,
                h('span', { class: 'pager-status', 'aria-live': 'polite' },
                    t('pager.status', { page, pages, total: items.length })),
                next));
            if (focusPager === 'prev') (page === 1 ? next : prev).focus();
            if (focusPager === 'next') (page === pages ? prev : next).focus();
        }
    };
    draw(null);
    return box;
}

// ------------------------------------------------------------------ forms

// spec: {name, label, type: text|email|password|number|select|checkbox|textarea,
// value, options: [[value, label]], required, hint, nullable ('' -> null),
// omitEmpty ('' -> not sent), autocomplete, step, min, max, placeholder, readonly}.
function fieldEl(spec) {
    const id = uid(`f-${spec.name}`);
    const errId = `${id}-error`;
    const hintId = spec.hint ? `${id}-hint` : null;
    const describedBy = [hintId, errId].filter(Boolean).join(' ');
    let input;
    const common = { id, name: spec.name, 'aria-describedby': describedBy, required: spec.required,
        readonly: spec.readonly, autocomplete: spec.autocomplete, placeholder: spec.placeholder };
    if (spec.type === 'select') {
        input = h('select', common, spec.options.map(([v, label]) => h('option', { value: v }, label)));
        if (spec.value !== undefined && spec.value !== null) input.value = String(spec.value);
    } else if (spec.type === 'textarea') {
        input = h('textarea', { ...common, rows: spec.rows || 3 });
        input.value = spec.value ?? '';
    } else if (spec.type === 'checkbox') {
        input = h('input', { ...common, type: 'checkbox', checked: !!spec.value });
    } else {
        input = h('input', { ...common, type: spec.type || 'text', step: spec.step, min: spec.min, max: spec.max,
            inputmode: spec.inputmode, spellcheck: spec.spellcheck, list: spec.list });
        input.value = spec.value ?? '';
    }
    const label = h('label', { for: id }, spec.label, spec.required ? h('span', { class: 'req', 'aria-hidden': 'true' }, ' *') : null);
    const hint = spec.hint ? h('p', { class: 'hint', id: hintId }, spec.hint) : null;
    const err = h('p', { class: 'field-error', id: errId });
    const wrap = spec.type === 'checkbox'
        ? h('div', { class: 'field field-check', dataset: { field: spec.name } }, input, label, hint, err)
        : h('div', { class: 'field', dataset: { field: spec.name } }, label, input, hint, err);
    return { wrap, input, err, spec };
}

export function form({ fields, submitLabel, onSubmit, cancel = null, extra = null, class: cls = null }) {
    const alert = h('div', { class: 'form-alert', role: 'alert' });
    const built = fields.map(fieldEl);
    const submit = h('button', { type: 'submit', class: ['btn', 'btn-primary'] }, submitLabel);
    const el = h('form', { class: ['form', cls], novalidate: true },
        alert, built.map((f) => f.wrap), extra,
        h('div', { class: 'form-actions' }, submit, cancel));
    const api = {
        el,
        input: (name) => built.find((f) => f.spec.name === name)?.input,
        field: (name) => built.find((f) => f.spec.name === name)?.wrap,
        values() {
            const out = {};
            for (const { input, spec } of built) {
                if (spec.readonly || spec.skip) continue;
                const wrap = input.closest('.field');
                if (wrap && wrap.hidden) continue;
                if (spec.type === 'checkbox') { out[spec.name] = input.checked; continue; }
                const raw = input.value.trim();
                if (spec.type === 'number') {
                    if (raw === '') { if (spec.nullable) out[spec.name] = null; else if (!spec.omitEmpty) out[spec.name] = raw; continue; }
                    const n = Number(raw);
                    out[spec.name] = Number.isFinite(n) ? n : raw;
                    continue;
                }
                if (raw === '' && spec.nullable) { out[spec.name] = null; continue; }
                if (raw === '' && spec.omitEmpty) continue;
                out[spec.name] = spec.type === 'password' ? input.value : raw;
            }
            return out;
        },
        clearErrors() {
            clear(alert);
            for (const f of built) {
                clear(f.err);
                f.input.removeAttribute('aria-invalid');
            }
        },
        showError(err) {
            api.clearErrors();
            const leftovers = [];
            let first = null;
            for (const [name, msgs] of Object.entries(err.fields || {})) {
                const f = built.find((b) => b.spec.name === name && !b.wrap.hidden);
                const text = (Array.isArray(msgs) ? msgs : [msgs]).join(' ');
                if (f) {
                    f.err.append(text);
                    f.input.setAttribute('aria-invalid', 'true');
                    first = first || f.input;
                } else {
                    leftovers.push(`${name}: ${text}`);
                }
            }
            alert.append(h('p', null, errorText(err)), leftovers.map((l) => h('p', null, l)));
            (first || alert).focus?.();
            if (!first) alert.scrollIntoView?.({ block: 'nearest' });
        },
        busy(on) {
            submit.disabled = on;
            el.setAttribute('aria-busy', on ? 'true' : 'false');
        },
    };
    alert.tabIndex = -1;
    el.addEventListener('submit', async (e) => {
        e.preventDefault();
        api.clearErrors();
        api.busy(true);
        try {
            await onSubmit(api.values(), api);
        } catch (err) {
            api.showError(err);
        } finally {
            api.busy(false);
        }
    });
    return api;
}

// ------------------------------------------------------------------ confirmation

// Resolves true when the person confirms; with typeToConfirm they must type that text.
export function confirmAction({ title, message, confirmLabel, typeToConfirm = null, danger = true }) {
    const dlg = document.getElementById('confirm-dialog');
    clear(dlg);
    return new Promise((resolve) => {
        const typed = typeToConfirm
            ? h('input', { type: 'text', id: 'confirm-typed', autocomplete: 'off', spellcheck: 'false' })
            : null;
        const ok = button(confirmLabel, null, { kind: danger ? 'danger' : 'primary', type: 'submit', id: 'confirm-ok',
            disabled: !!typeToConfirm });
        const cancel = button(t('common.cancel'), () => dlg.close('cancel'), { id: 'confirm-cancel' });
        if (typed) typed.addEventListener('input', () => { ok.disabled = typed.value !== typeToConfirm; });
        const f = h('form', { method: 'dialog' },
            h('h2', { id: 'confirm-title' }, title),
            h('p', null, message),
            typed ? h('div', { class: 'field' },
                h('label', { for: 'confirm-typed' }, t('confirm.type', { text: typeToConfirm })), typed) : null,
            h('div', { class: 'form-actions' }, ok, cancel));
        f.addEventListener('submit', (e) => {
            e.preventDefault();
            if (typed && typed.value !== typeToConfirm) return;
            dlg.close('confirm');
        });
        dlg.append(f);
        dlg.addEventListener('close', () => resolve(dlg.returnValue === 'confirm'), { once: true });
        dlg.returnValue = '';
        dlg.showModal();
        (typed || cancel).focus();
    });
}

// ------------------------------------------------------------------ copying and secrets

async function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) {
        try {
            await navigator.clipboard.writeText(text);
            return true;
        } catch { /* fall through to the selection way */ }
    }
    const ta = h('textarea', { class: 'offscreen', readonly: true, 'aria-hidden': 'true' });
    ta.value = text;
    document.body.append(ta);
    ta.select();
    let ok = false;
    try { ok = document.execCommand('copy'); } catch { ok = false; }
    ta.remove();
    return ok;
}

export function copyButton(getText, label = t('common.copy'), props = {}) {
    const status = h('span', { class: 'copy-status', 'aria-live': 'polite' });
    const btn = button(label, async () => {
        const ok = await copyText(typeof getText === 'function' ? getText() : getText);
        clear(status).append(ok ? t('common.copied') : t('common.copy_failed'));
        setTimeout(() => clear(status), 4000);
    }, { kind: 'small', ...props });
    return h('span', { class: 'copy' }, btn, status);
}

// Shows a secret once: the warning, the value with a copy button, and a button that
// hides it for good.
export function secretPanel({ title, warning, value, details = [], onDone }) {
    const id = uid('secret');
    const panel = h('section', { class: 'secret-panel', 'aria-labelledby': `${id}-title`, tabindex: '-1' },
        h('h2', { id: `${id}-title` }, title),
        h('p', { class: 'warning' }, warning),
        h('div', { class: 'secret-row' },
            h('label', { for: id, class: 'visually-hidden' }, title),
            h('input', { id, class: 'secret-value', type: 'text', readonly: true, value, spellcheck: 'false' }),
            copyButton(value, t('common.copy'), { id: `${id}-copy` })),
        details.map(([k, v]) => h('p', { class: 'secret-detail' }, h('span', { class: 'muted' }, `${k}: `), h('code', null, v))),
        h('div', { class: 'form-actions' }, button(t('secret.done'), () => { panel.remove(); if (onDone) onDone(); }, { kind: 'primary' })));
    return panel;
}
