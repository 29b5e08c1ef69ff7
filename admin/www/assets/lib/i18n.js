// i18n.js -- the UI's strings: one catalog per language (assets/i18n/*.json, the same
// keys in each; tests/browser checks), the chosen language kept in localStorage.
//
// Contract: loadCatalogs() before the first t(); t(key, params) answers the current
// language's string with {name} placeholders filled from params (as text), the English
// one when a key is missing from the current catalog, and the key itself when unknown
// (so a missing string shows, and the test catches it). formatDate() follows the language.
//
// Must never: interpret a string as HTML.

export const LANGUAGES = [
    { code: 'en', label: 'English' },
    { code: 'zh-CN', label: '简体中文' },
];
const STORAGE_KEY = 'postgate.lang';
const catalogs = {};
let current = 'en';
const listeners = [];

function initialLanguage() {
    let saved = null;
    try { saved = localStorage.getItem(STORAGE_KEY); } catch { /* storage may be off */ }
    if (saved && LANGUAGES.some((l) => l.code === saved)) return saved;
    return (navigator.language || '').toLowerCase().startsWith('zh') ? 'zh-CN' : 'en';
}

export async function loadCatalogs() {
    await Promise.all(LANGUAGES.map(async (l) => {
        const res = await fetch(`/assets/i18n/${l.code}.json`, { credentials: 'same-origin' });
        if (!res.ok) throw new Error(`catalog ${l.code}: HTTP ${res.status}`);
        catalogs[l.code] = await res.json();
    }));
    current = initialLanguage();
    document.documentElement.lang = current;
}

export function lang() {
    return current;
}

export function setLang(code) {
    if (!catalogs[code] || code === current) return;
    current = code;
    try { localStorage.setItem(STORAGE_KEY, code); } catch { /* storage may be off */ }
    document.documentElement.lang = code;
    for (const fn of listeners) fn(code);
}

export function onLangChange(fn) {
    listeners.push(fn);
}

export function t(key, params) {
    let s = catalogs[current]?.[key] ?? catalogs.en?.[key] ?? key;
    if (params) s = s.replace(/\{(\w+)\}/g, (m, name) => (name in params ? String(params[name]) : m));
    return s;
}

// Is there a string for key (used for optional translations such as error codes)?
export function has(key) {
    return key in (catalogs[current] || {});
}

export function formatDate(iso) {
    if (!iso) return t('common.never');
    const d = new Date(iso);
    if (Number.isNaN(d.getTime())) return iso;
    return new Intl.DateTimeFormat(current, { dateStyle: 'medium', timeStyle: 'short' }).format(d);
}
