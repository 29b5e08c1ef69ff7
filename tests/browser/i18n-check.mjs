// i18n-check.mjs -- the web admin's string catalogs agree: both have exactly the same
// keys, no value is empty or left in English in the Chinese catalog by accident (a value
// equal to the English one must be on the short list of words that are the same in both),
// the placeholders ({name}) match, and every literal t('key') in the sources exists.
//
// Usage: node i18n-check.mjs WWW_DIR. Prints "PASS<TAB>name" or "FAIL<TAB>name<TAB>why"
// lines for tests/integration/browser.t; exits 0.

import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const www = process.argv[2];
const dir = join(www, 'assets', 'i18n');
const en = JSON.parse(readFileSync(join(dir, 'en.json'), 'utf8'));
const zh = JSON.parse(readFileSync(join(dir, 'zh-CN.json'), 'utf8'));
const SAME_IN_BOTH = new Set(['domains.record_ttl', 'messages.kib', 'messages.mib']);   // "TTL", "KB", "MB" are written so in Chinese too

function report(name, problems) {
    if (problems.length === 0) console.log(`PASS\t${name}`);
    else console.log(`FAIL\t${name}\t${problems.slice(0, 10).join('; ')}${problems.length > 10 ? ` (+${problems.length - 10} more)` : ''}`);
}

const enKeys = Object.keys(en);
const zhKeys = Object.keys(zh);
report(`en and zh-CN have the same ${enKeys.length} keys`, [
    ...enKeys.filter((k) => !(k in zh)).map((k) => `missing in zh-CN: ${k}`),
    ...zhKeys.filter((k) => !(k in en)).map((k) => `missing in en: ${k}`),
]);

report('no catalog value is empty, and zh-CN translates every English string', [
    ...Object.entries(en).filter(([, v]) => typeof v !== 'string' || v.trim() === '').map(([k]) => `en ${k} empty`),
    ...Object.entries(zh).filter(([, v]) => typeof v !== 'string' || v.trim() === '').map(([k]) => `zh-CN ${k} empty`),
    ...Object.entries(zh).filter(([k, v]) => v === en[k] && !SAME_IN_BOTH.has(k)).map(([k]) => `zh-CN ${k} is the English text`),
]);

const placeholders = (s) => [...String(s).matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort().join(',');
report('placeholders match between the catalogs', enKeys.filter((k) => k in zh && placeholders(en[k]) !== placeholders(zh[k]))
    .map((k) => `${k}: en {${placeholders(en[k])}} zh-CN {${placeholders(zh[k])}}`));

// The UI's own .js files (symlinks are not followed: the test plants some).
function sources(d) {
    return readdirSync(d, { withFileTypes: true }).flatMap((e) => {
        const p = join(d, e.name);
        if (e.isDirectory()) return sources(p);
        return e.isFile() && p.endsWith('.js') ? [p] : [];
    });
}
const used = new Set();
for (const file of sources(join(www, 'assets'))) {
    for (const m of readFileSync(file, 'utf8').matchAll(/\bt\('([A-Za-z0-9_.-]+)'/g)) used.add(m[1]);
}
report(`every literal t('key') of the sources (${used.size}) is in the catalogs`,
    [...used].filter((k) => !(k in en)).map((k) => `unknown key ${k}`));

// Keys only reached through template strings (roles, modes, types, settings, errors).
const dynamic = enKeys.filter((k) => !used.has(k));
const prefixes = ['role.', 'server.mode.', 'credentials.type.', 'server.', 'error.', 'msgstatus.', 'endpoint.kind.',
    'routes.mode.', 'routes.spam.', 'supp.src.'];
report('every catalog key is used, directly or through a known dynamic prefix',
    dynamic.filter((k) => !prefixes.some((p) => k.startsWith(p))).map((k) => `unused key ${k}`));

// The UI must never build markup from strings.
const banned = /\.(innerHTML|outerHTML)\s*=|insertAdjacentHTML|document\.write\(/;
report('no source sets innerHTML/outerHTML or uses insertAdjacentHTML/document.write',
    sources(join(www, 'assets')).filter((f) => banned.test(readFileSync(f, 'utf8')
        .replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, ''))));
