// mail.mjs -- the web admin's mail pages in Debian's headless Chromium (playwright-core):
// a webhook and an API credential made in the UI, a message with XSS payloads (subject,
// plain body, HTML body, attachment name) sent through the send API with that key, found
// in the message list, opened (headers, text, the HTML in the sandboxed frame, the
// attachment and the raw message downloaded, its delivery once postgate-worker has read
// Postfix's log), the webhook's request log entry sent again, held mail of a server in
// Development mode released in bulk and cancelled, the suppression list (add, CSV import
// with its progress bar, search, remove), routes and endpoints, DKIM rotation, the
// overview charts, IP pools and the Postfix queue. Screenshots at laptop and phone width.
//
// Environment: BASE_URL, ADMIN_EMAIL, ADMIN_PASSWORD, SCREENSHOT_DIR, STATE_DIR (written:
// message-id, held-ids), ORG, LIVE (server permalink, domain LIVE_DOMAIN), DEV (a server in
// Development mode, API key DEV_API_KEY, domain DEV_DOMAIN), RECEIVER_URL (a
// webhook-receiver.py). Prints PASS/FAIL lines and DONE, as ui.mjs does.

import { mkdirSync, writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const E = process.env;
const BASE = E.BASE_URL;
const SHOTS = E.SCREENSHOT_DIR;
const LAPTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };
const SRV = `/orgs/${E.ORG}/servers/${E.LIVE}`;
const DEVSRV = `/orgs/${E.ORG}/servers/${E.DEV}`;
const XSS_SUBJECT = `Invoice <img src=x onerror=alert('subject')><script>alert('subject2')</script>`;
const XSS_PLAIN = `Hello <script>alert('plain')</script> plain text`;
const XSS_HTML = `<html><head><style>p { color: #123456 }</style></head><body><p id="hello">Hello <b>HTML</b> body</p>`
    + `<script>parent.document.title = 'pwned'; alert('html')</script>`
    + `<img src=x onerror="parent.document.title = 'pwned2'; alert('img')">`
    + `<img id="remote" src="http://127.0.0.1:9/remote.png"></body></html>`;
const XSS_ATTACHMENT = `<img src=x onerror=alert('att')>.html`;
const ATTACHMENT_BODY = '<script>alert("attachment")</script>';

let failures = 0;
function check(name, cond, why = '') {
    if (cond) console.log(`PASS\t${name}`);
    else { failures++; console.log(`FAIL\t${name}\t${String(why).replace(/\s+/g, ' ').slice(0, 400)}`); }
}

mkdirSync(SHOTS, { recursive: true });
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true });
const context = await browser.newContext({ viewport: LAPTOP, locale: 'en-US', acceptDownloads: true });
const page = await context.newPage();
page.setDefaultTimeout(10000);
const dialogs = [];
const pageErrors = [];
const cspViolations = [];
page.on('dialog', async (d) => { dialogs.push(`${d.type()}: ${d.message()}`); await d.dismiss(); });
page.on('pageerror', (e) => pageErrors.push(e.message));
page.on('console', (m) => { if (/Content Security Policy/i.test(m.text())) cspViolations.push(m.text()); });

const path = () => new URL(page.url()).pathname;
const visible = (text) => page.getByText(text, { exact: false }).first().isVisible().catch(() => false);
async function settled() {
    await page.locator('#main[aria-busy="false"]').waitFor({ timeout: 10000 }).catch(() => {});
}
async function go(p) {
    await page.goto(`${BASE}${p}`);
    await settled();
    await page.locator('#main h1').first().waitFor();
}
const tab = (name) => page.locator('nav.tabs').getByRole('link', { name, exact: true });
// Waits for the flash line to match re (a new flash, not the one before it).
async function flashHas(re) {
    await page.locator('#flash', { hasText: re }).waitFor({ timeout: 10000 }).catch(() => {});
    return re.test((await page.locator('#flash').textContent()) ?? '');
}
async function flashText() {
    await page.locator('#flash:not(:empty)').waitFor({ timeout: 10000 }).catch(() => {});
    return (await page.locator('#flash').textContent()) ?? '';
}
const phoneOverflow = {};
async function shoot(name) {
    await page.waitForLoadState('networkidle').catch(() => {});
    await page.setViewportSize(PHONE);
    await page.screenshot({ path: join(SHOTS, `${name}-phone.png`), fullPage: true });
    phoneOverflow[name] = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    await page.setViewportSize(LAPTOP);
    await page.screenshot({ path: join(SHOTS, `${name}-laptop.png`), fullPage: true });
}
async function confirmDialog() {
    await page.locator('#confirm-dialog[open]').waitFor();
    await page.locator('#confirm-ok').click();
}
// No element the payloads would have made exists in the admin's own document.
async function inert() {
    return page.evaluate(() => document.querySelectorAll('img[src="x"], #main script, #hello').length === 0
        && !/pwned/.test(document.title));
}
// Reloads the page until fn() is true (a worker or the webhook task catching up).
async function until(fn, seconds) {
    for (let i = 0; i < seconds; i++) {
        if (await fn()) return true;
        await page.waitForTimeout(1000);
        await page.reload();
        await settled();
    }
    return fn();
}
async function sendApi(key, body) {
    const res = await fetch(`${BASE}/api/v1/send/message`, {
        method: 'POST', headers: { 'X-Server-API-Key': key, 'Content-Type': 'application/json' }, body: JSON.stringify(body),
    });
    return res.json();
}

try {
    // ---------------------------------------------------------------- log in
    await page.goto(`${BASE}/login`);
    await page.getByLabel('E-mail address').fill(E.ADMIN_EMAIL);
    await page.getByLabel('Password').fill(E.ADMIN_PASSWORD);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.waitForURL((u) => u.pathname === '/orgs');
    await settled();

    // ---------------------------------------------------------------- overview, empty
    await go(SRV);
    check('a server opens on its overview', await tab('Overview').getAttribute('aria-current') === 'page');
    check('with no mail the overview says what to do next', await visible('No mail yet') && await page.getByRole('link', { name: 'Create a credential' }).isVisible());

    // ---------------------------------------------------------------- webhook (before any event)
    await tab('Webhooks').click();
    await settled();
    check('with no webhook the page says what to add', await visible('No webhooks yet'));
    await page.locator('#main input[name="name"]').fill('receiver');
    await page.locator('#main input[name="url"]').fill('ftp://example.com/');
    await page.getByRole('button', { name: 'Add webhook' }).click();
    await page.locator('[data-field="url"] .field-error:not(:empty)').waitFor();
    check('a non-http webhook URL is refused beside the URL field', /http/.test(await page.locator('[data-field="url"] .field-error').textContent()));
    await page.locator('#main input[name="url"]').fill(E.RECEIVER_URL);
    await page.getByRole('button', { name: 'Add webhook' }).click();
    await page.waitForURL((u) => /\/webhooks\/[0-9a-f-]{36}$/.test(u.pathname));
    await settled();
    const webhookPath = path();
    check('adding the webhook opens its page with an empty request log', await visible('No requests yet'));

    // ---------------------------------------------------------------- API credential
    await tab('Credentials').click();
    await settled();
    await page.getByLabel('Type').selectOption('API');
    await page.locator('#main input[name="name"]').fill('api');
    await page.getByRole('button', { name: 'Create credential' }).click();
    await page.locator('.secret-panel').waitFor();
    const key = await page.locator('.secret-panel .secret-value').inputValue();
    check('the API key is shown once', /^[A-Za-z0-9]{24}$/.test(key), key);

    // ---------------------------------------------------------------- send with XSS payloads
    const sent = await sendApi(key, {
        from: `App <app@${E.LIVE_DOMAIN}>`, to: ['rcpt@example.net'], subject: XSS_SUBJECT, plain_body: XSS_PLAIN,
        html_body: XSS_HTML, tag: 'ui-test',
        attachments: [{ name: XSS_ATTACHMENT, content_type: 'text/html', data: Buffer.from(ATTACHMENT_BODY).toString('base64') }],
    });
    const msgId = sent?.data?.messages?.['rcpt@example.net']?.id;
    check('the send API accepts the message sent with the key made in the UI', sent.status === 'success' && msgId > 0, JSON.stringify(sent).slice(0, 300));
    writeFileSync(join(E.STATE_DIR, 'message-id'), String(msgId));

    // ---------------------------------------------------------------- find it
    await go(`${SRV}/messages`);
    const row = page.locator('tbody tr', { hasText: 'rcpt@example.net' }).first();
    await row.waitFor();
    check('the message list shows the message', await row.isVisible());
    // Compared with white space folded: a long Subject is folded in the header.
    const norm = (x) => (x ?? '').replace(/\s+/g, ' ').trim();
    check('the subject in the list is shown as text', norm(await row.locator('a.msg-link').textContent()) === XSS_SUBJECT,
        JSON.stringify(await row.locator('a.msg-link').textContent()));
    check('the subject payload made no element in the list', await inert());
    await page.locator('#flt-subject').fill('onerror');
    await page.locator('#flt-status').selectOption('Sent');
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    await settled();
    check('the filters are kept in the address', /subject=onerror/.test(page.url()) && /status=Sent/.test(page.url()), page.url());
    // Sent may not be recorded yet: widen to any status if the list is empty.
    if (await page.locator('tbody tr').count() === 0) {
        await page.locator('#flt-status').selectOption('');
        await page.getByRole('button', { name: 'Search', exact: true }).click();
        await settled();
    }
    check('a subject search finds it', await page.locator('tbody tr', { hasText: 'rcpt@example.net' }).count() === 1);
    await page.locator('#flt-subject').fill('no such subject at all');
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    await settled();
    check('a search without results says so and offers to clear the filters', await visible('No messages match')
        && await page.getByRole('link', { name: 'Clear filters' }).first().isVisible());
    await page.getByRole('link', { name: 'Clear filters' }).first().click();
    await settled();
    await shoot('messages');

    // ---------------------------------------------------------------- open it
    await page.locator('a.msg-link').first().click();
    await page.waitForURL((u) => u.pathname === `${SRV}/messages/${msgId}`);
    await settled();
    await page.locator('h1', { hasText: 'Invoice' }).waitFor();
    check('the message page is titled with the subject, as text', norm(await page.locator('h1').textContent()) === XSS_SUBJECT,
        JSON.stringify(await page.locator('h1').textContent()));
    check('the plain text is shown as text', (await page.locator('pre.plain-body').textContent()) === XSS_PLAIN + '\n'
        || (await page.locator('pre.plain-body').textContent()).trim() === XSS_PLAIN, await page.locator('pre.plain-body').textContent());
    check('the attachment name is shown as text', (await page.locator('.attachment-name').textContent()) === XSS_ATTACHMENT);
    check('headers are listed (Subject among them)', await page.locator('dl.headers dt', { hasText: /^subject$/ }).count() === 1);
    const iframe = page.locator('iframe.html-view');
    check('the HTML body is in a frame with an empty sandbox (no scripts, no same origin)', (await iframe.getAttribute('sandbox')) === '');
    const frame = page.frameLocator('iframe.html-view');
    await frame.locator('#hello').waitFor();
    check('the HTML body is rendered in the frame', (await frame.locator('#hello').textContent()) === 'Hello HTML body');
    check('its inline style applies (style-src unsafe-inline)', await frame.locator('#hello').evaluate((el) => getComputedStyle(el).color) === 'rgb(18, 52, 86)');
    const remote = await frame.locator('#remote').evaluate((img) => img.complete && img.naturalWidth === 0);
    check('a remote image in the HTML is not loaded', remote);
    const policy = await page.evaluate(async (u) => {
        const r = await fetch(u);
        return { ct: r.headers.get('content-type'), csp: r.headers.get('content-security-policy'), xfo: r.headers.get('x-frame-options') };
    }, await iframe.getAttribute('src'));
    check('the HTML route answers text/html with its own CSP (no script, sandbox)', policy.ct === 'text/html; charset=utf-8'
        && /^default-src 'none'; style-src 'unsafe-inline'; img-src data:; sandbox/.test(policy.csp || '') && policy.xfo === 'SAMEORIGIN', JSON.stringify(policy));
    await page.waitForTimeout(500);
    check('no script of the message ran: no dialog, the admin\'s title untouched', dialogs.length === 0 && !/pwned/.test(await page.title()), dialogs.join(' | '));
    check('the payloads made no element in the admin page', await inert());

    const [att] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: /^Download </ }).click()]);
    const attPath = await att.path();
    check('the attachment downloads with its content (not opened)', readFileSync(attPath, 'utf8') === ATTACHMENT_BODY);
    const [raw] = await Promise.all([page.waitForEvent('download'), page.locator('#download-raw').click()]);
    const rawText = readFileSync(await raw.path(), 'utf8');
    check('the raw message downloads as message-ID.eml', raw.suggestedFilename() === `message-${msgId}.eml` && /^Subject: /m.test(rawText), raw.suggestedFilename());

    const delivered = await until(async () => (await page.locator('#msg-deliveries tbody tr', { hasText: 'Sent' }).count()) > 0, 40);
    check('the delivery appears once postgate-worker reads Postfix\'s log (Sent)', delivered);
    await shoot('message');
    check('after reloads still no script ran', dialogs.length === 0 && await inert(), dialogs.join(' | '));

    // ---------------------------------------------------------------- webhook request log
    await go(webhookPath);
    const logged = await until(async () => (await page.locator('details.request').count()) > 0, 40);
    check('the webhook request log shows the delivery of MessageSent', logged && await page.locator('details.request', { hasText: 'MessageSent' }).count() > 0);
    if (!logged) {
        for (const n of ['status 200', 'payload', 'send again']) check(`webhook request log: ${n}`, false, 'no request was logged');
    } else {
        const entry = page.locator('details.request', { hasText: 'MessageSent' }).first();
        check('the entry shows the receiver\'s status 200', await entry.locator('.badge', { hasText: '200' }).count() === 1);
        await entry.locator('summary').click();
        const payload = (await entry.locator('pre.payload').nth(1).textContent()) ?? '';
        check('the entry shows the payload sent (the message\'s subject, as text)', payload.includes('"subject"') && payload.includes('onerror'), payload.slice(0, 200));
        await entry.getByRole('button', { name: /^Send request \d+ again$/ }).click();
        check('"Send again" queues the event', await flashHas(/queued to be sent again/));
        await shoot('webhook');
    }

    // ---------------------------------------------------------------- held mail (Development mode)
    const held = [];
    for (const to of ['hold-a@example.net', 'hold-b@example.net', 'hold-c@example.net']) {
        const r = await sendApi(E.DEV_API_KEY, { from: `app@${E.DEV_DOMAIN}`, to: [to], subject: `held ${to}`, plain_body: 'held' });
        held.push(r?.data?.messages?.[to]?.id);
    }
    check('three messages sent to the server in Development mode', held.every((id) => id > 0), JSON.stringify(held));
    writeFileSync(join(E.STATE_DIR, 'held-ids'), held.join(' '));
    await go(`${DEVSRV}/held`);
    await page.locator('tbody tr').first().waitFor();
    check('the held page lists the three held messages', await page.locator('tbody tr').count() === 3);
    await shoot('held');
    // Cancel one from its own page.
    await page.locator('tbody tr', { hasText: 'hold-c@example.net' }).locator('a.msg-link').click();
    await settled();
    check('a held message offers no Delete (release or cancel it first)', await page.locator('#delete-message').count() === 0);
    await page.locator('#cancel-message').click();
    await page.locator('#confirm-dialog[open]').waitFor();
    check('cancelling a hold asks for confirmation', await page.locator('#confirm-dialog').getByText('It will never be sent').isVisible());
    await page.locator('#confirm-ok').click();
    check('the hold is cancelled', await flashHas(/hold was cancelled/));
    await settled();
    check('the message now says Hold cancelled', await page.locator('.badge', { hasText: 'Hold cancelled' }).first().isVisible());
    await page.locator('#delete-message').click();
    await page.locator('#confirm-dialog[open]').waitFor();
    check('once its hold is cancelled the message can be deleted, after a confirmation',
        await page.locator('#confirm-dialog').getByText('for good').isVisible());
    await page.locator('#confirm-cancel').click();      // kept: the checks below count it
    // Release the other two in bulk.
    await go(`${DEVSRV}/held`);
    await page.locator('tbody tr').first().waitFor();
    check('two are still held', await page.locator('tbody tr').count() === 2);
    await page.getByLabel('Select all on this page').check();
    check('selecting all counts 2', await visible('2 selected'));
    await page.locator('#bulk-release').click();
    await confirmDialog();
    check('releasing in bulk says 2 released', await flashHas(/2 released/), await flashText());
    await settled();
    check('after the release nothing is held and the page says so', await visible('Nothing is held'));

    // ---------------------------------------------------------------- suppression list
    await go(`${SRV}/suppressions`);
    check('the empty suppression list says what to do', await visible('The suppression list is empty'));
    await page.locator('#main input[name="address"]').fill('manual@example.org');
    await page.locator('#main input[name="reason"]').fill('asked by phone');
    await page.getByRole('button', { name: 'Add address' }).click();
    check('adding an address', await flashHas(/manual@example.org is on the list/));
    await settled();
    const csv = 'email,reason\nann@example.org,unsubscribed\nnot-an-address\n"bob@example.org","said ""stop"""\nmanual@example.org,again\n';
    await page.locator('#supp-file').setInputFiles({ name: 'list.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) });
    await page.locator('#supp-import').click();
    await page.locator('#supp-import-result .notice').waitFor();
    check('the import reports its counts', await visible('Import finished: 2 added, 1 already on the list, 1 lines refused.'),
        await page.locator('#supp-import-result').textContent());
    check('the progress bar reached 100 %', (await page.locator('#supp-progress').evaluate((el) => el.value)) === 100);
    check('the refused line is listed with its number', await page.locator('#supp-import-result tbody tr', { hasText: 'not-an-address' }).locator('td').first().textContent() === '3');
    await shoot('suppressions-import');
    await page.locator('#supp-reload').click();
    await settled();
    check('the list shows the three addresses', await page.locator('#supp-list tbody tr').count() === 3);
    await page.locator('#supp-search').fill('ann@');
    await page.locator('#supp-search').press('Enter');
    await settled();
    check('a search narrows the list', await page.locator('#supp-list tbody tr').count() === 1 && /search=ann/.test(page.url()));
    await page.getByRole('button', { name: 'Remove ann@example.org' }).click();
    await confirmDialog();
    check('removing asks first, then removes', await flashHas(/ann@example.org removed/));
    await settled();
    check('the search now finds nothing and says so', await visible('No address matches'));

    // ---------------------------------------------------------------- routes and endpoints
    await go(`${SRV}/routes`);
    check('with no route the page says what to do', await visible('No routes yet'));
    check('track domains have a clear empty state', await visible('No track domain yet'));
    await page.locator('#track-domains input[name="excluded"]').fill('example.org');
    await page.getByRole('button', { name: 'Create track domain' }).click();
    check('a track domain is created', await flashHas(new RegExp(`Track domain click\\.${E.LIVE_DOMAIN.replace(/\./g, '\\.')} created`)));
    await settled();
    check('it is listed with the CNAME to publish', await page.locator('#track-domains tbody tr', { hasText: `click.${E.LIVE_DOMAIN}. CNAME` }).count() === 1);
    await page.locator('#endpoint-kind').selectOption('address');
    await page.locator('#endpoints input[name="address"]').fill('desk@example.org');
    await page.getByRole('button', { name: 'Create endpoint' }).click();
    check('an address endpoint is created', await flashHas(/Endpoint desk@example.org created/));
    await settled();
    await page.locator('#routes input[name="name"]').fill('support');
    await page.locator('#routes select[name="endpoint"]').selectOption({ label: 'desk@example.org' });
    await page.getByRole('button', { name: 'Add route' }).click();
    check('a route to it is added', await flashHas(new RegExp(`Route support@${E.LIVE_DOMAIN} added`)));
    await settled();
    check('the route is listed with its endpoint', await page.locator('#routes tbody tr', { hasText: `support@${E.LIVE_DOMAIN}` }).count() === 1
        && await page.locator('#routes tbody tr', { hasText: 'desk@example.org (Address)' }).count() === 1);
    const changed = new RegExp(`Route support@${E.LIVE_DOMAIN.replace(/\./g, '\\.')} changed`);
    await page.getByLabel(`Spam handling of support@${E.LIVE_DOMAIN}`).selectOption('Quarantine');
    check('a route\'s spam handling is changed in its row', await flashHas(changed), await flashText());
    await page.reload();
    await settled();
    check('... and kept after a reload (the mode select beside it, leaving Endpoint would drop the endpoint)',
        (await page.getByLabel(`Spam handling of support@${E.LIVE_DOMAIN}`).inputValue()) === 'Quarantine'
        && (await page.getByLabel(`Mode of support@${E.LIVE_DOMAIN}`).inputValue()) === 'Endpoint');
    // An endpoint edited in place: its form comes filled in, and the change stays.
    await page.locator('#endpoint-kind').selectOption('http');
    await page.locator('#endpoints input[name="name"]').last().fill('app');
    await page.locator('#endpoints input[name="url"]').last().fill('https://app.example.org/in');
    await page.getByRole('button', { name: 'Create endpoint' }).click();
    await flashHas(/Endpoint app created/);
    await settled();
    await page.getByRole('button', { name: 'Edit the endpoint app' }).click();
    const edit = page.locator('#endpoint-edit');
    const prefilled = (await edit.locator('input[name="url"]').inputValue()) === 'https://app.example.org/in';
    await edit.locator('input[name="url"]').fill('https://app.example.org/mail-in');
    await edit.locator('input[name="timeout"]').fill('20');
    await edit.getByRole('button', { name: 'Save changes' }).click();
    check('an endpoint is edited in place, its form filled in', prefilled && await flashHas(/Endpoint app saved/), await flashText());
    await page.reload();
    await settled();
    check('... and the change stays (the list shows the new URL)',
        await page.locator('#endpoints tbody tr', { hasText: 'https://app.example.org/mail-in' }).count() === 1);
    // A route's endpoint changed in its row, then back (browser.t checks the route's endpoint).
    const epSel = page.getByLabel(`Endpoint of support@${E.LIVE_DOMAIN}`);
    await epSel.selectOption({ label: 'app (HTTP)' });
    const toApp = await flashHas(changed);
    await page.reload();
    await settled();
    const kept = (await page.getByLabel(`Endpoint of support@${E.LIVE_DOMAIN}`).locator('option:checked').textContent()) === 'app (HTTP)';
    await page.getByLabel(`Endpoint of support@${E.LIVE_DOMAIN}`).selectOption({ label: 'desk@example.org (Address)' });
    check('a route\'s endpoint is changed in its row, and kept after a reload', toApp && kept && await flashHas(changed), await flashText());
    await settled();
    await shoot('routes');

    // ---------------------------------------------------------------- DKIM rotation
    await go(`${SRV}/domains/${E.LIVE_DOMAIN}`);
    check('the domain page shows the DNS check section', await visible('DNS check') && await page.locator('#check-domain').isVisible());
    await page.locator('#rotate-dkim').click();
    await confirmDialog();
    check('rotating makes a pending key', await flashHas(/new key is pending/));
    await settled();
    const pending = page.locator('#dkim tbody tr', { hasText: 'Pending' });
    check('the new key is listed as pending with "Activate now"', await pending.count() === 1 && await pending.getByRole('button', { name: /Activate key/ }).isVisible());
    await pending.getByRole('button', { name: /Activate key/ }).click();
    await confirmDialog();
    check('activating it makes it sign', await flashHas(/signs from now on/));
    await settled();
    check('the old key is retiring', await page.locator('#dkim tbody tr', { hasText: 'Retiring' }).count() === 1);
    await shoot('domain-dkim');

    // ---------------------------------------------------------------- overview with data
    await go(SRV);
    const outgoing = await page.locator('.stat-outgoing .stat-value').textContent();
    check('the overview counts the outgoing message', Number(outgoing) >= 1, outgoing);
    check('the hourly chart draws bars (inline SVG)', await page.locator('#chart-hours svg rect.chart-bar').count() >= 1);
    check('the charts have a data table for screen readers', await page.locator('#chart-days details.chart-data table').count() === 1);
    await shoot('overview');
    await go(DEVSRV);
    const heldCount = await page.locator('.stat-held .stat-value').textContent();
    check('the Development server\'s overview counts the cancelled hold as held (the released two went out)', Number(heldCount) === 1, heldCount);

    // ---------------------------------------------------------------- IP pools and the queue
    await page.getByRole('link', { name: 'IP pools', exact: true }).click();
    await settled();
    check('with no IP pool the page says what to do', await visible('No IP pools'));
    await page.locator('#main input[name="name"]').fill('Transactional');
    await page.getByRole('button', { name: 'Create pool' }).click();
    await page.waitForURL((u) => /^\/ip-pools\/[0-9a-f-]{36}$/.test(u.pathname));
    await settled();
    await page.locator('#main input[name="ipv4"]').fill('192.0.2.300');
    await page.locator('#main input[name="hostname"]').fill('mta1.example.com');
    await page.getByRole('button', { name: 'Add address' }).click();
    await page.locator('[data-field="ipv4"] .field-error:not(:empty)').waitFor().catch(() => {});
    check('a bad IPv4 address is refused beside its field', ((await page.locator('[data-field="ipv4"] .field-error').textContent()) ?? '').length > 0);
    await page.locator('#main input[name="ipv4"]').fill('192.0.2.10');
    await page.getByRole('button', { name: 'Add address' }).click();
    check('a good address is added', await flashHas(/Address added/));
    await settled();
    await page.getByLabel('Warm up mta1.example.com').check();
    check('its warm-up switch starts the plan: day 1, 0 of 50 today', await flashHas(/starts its warm-up plan today/)
        && await page.locator('table.data', { hasText: 'day 1: 0 of 50 today' }).count() === 1, await flashText());
    await settled();
    await page.locator('#main input[name="organization"]').fill(E.ORG);
    await page.getByRole('button', { name: 'Assign' }).click();
    check('the pool is assigned to the organization', await flashHas(new RegExp(`Assigned to ${E.ORG}`)));
    await settled();
    const poolSettings = page.locator('#pool-settings');
    await poolSettings.getByLabel('Connections per destination').fill('0');
    await poolSettings.getByRole('button', { name: 'Save changes' }).click();
    await poolSettings.locator('[data-field="destination_concurrency_limit"] .field-error:not(:empty)').waitFor().catch(() => {});
    check('a pool limit out of range is refused beside its field',
        ((await poolSettings.locator('[data-field="destination_concurrency_limit"] .field-error').textContent()) ?? '').length > 0);
    await poolSettings.getByLabel('Connections per destination').fill('5');
    await poolSettings.getByLabel('Seconds between deliveries to a destination').fill('2');
    await poolSettings.getByRole('button', { name: 'Save changes' }).click();
    check('the pool\'s Postfix limits are saved', await flashHas(/Saved/), await flashText());
    await settled();
    check('... and shown after the reload', (await page.locator('#pool-settings').getByLabel('Connections per destination').inputValue()) === '5');
    await shoot('ip-pool');
    // A server's pool rules, choosing among the organization's pools.
    await go(`${SRV}/settings`);
    const rulesCard = page.locator('section.pool-rules');
    await rulesCard.getByRole('button', { name: 'Add rule' }).click();
    await rulesCard.locator('[data-field="from"] .field-error:not(:empty)').waitFor().catch(() => {});
    check('a pool rule without any pattern is refused beside its field', /at least one pattern/.test((await rulesCard.locator('[data-field="from"] .field-error').textContent()) ?? ''));
    await rulesCard.getByLabel('IP pool').selectOption({ label: 'Transactional' });
    await rulesCard.getByLabel('From').fill(`billing@${E.LIVE_DOMAIN}`);
    await rulesCard.getByRole('button', { name: 'Add rule' }).click();
    check('a server\'s pool rule is added', await flashHas(/Rule added/), await flashText());
    await settled();
    check('... and listed with its pool and pattern', await page.locator('section.pool-rules tbody tr', { hasText: 'Transactional' })
        .filter({ hasText: `billing@${E.LIVE_DOMAIN}` }).count() === 1);
    await shoot('server-rules');
    await page.getByRole('link', { name: 'Postfix queue', exact: true }).click();
    await settled();
    check('the Postfix queue page answers (a list or "The queue is empty")', await visible('The queue is empty') || await page.locator('tbody tr').count() > 0);
    await shoot('queue');

    // ---------------------------------------------------------------- keyboard
    await go(`${DEVSRV}/messages`);
    await page.locator('a.msg-link').first().focus();
    await page.keyboard.press('Enter');
    await settled();
    check('a message opens from the keyboard (Enter on its link)', /\/messages\/\d+$/.test(path()), path());

    // ---------------------------------------------------------------- phone width, errors
    const wide = Object.entries(phoneOverflow).filter(([, v]) => v > 1).map(([k, v]) => `${k} +${v}px`);
    check('no mail page scrolls sideways at phone width (390 px)', wide.length === 0, wide.join(', '));
    check('no dialog was ever opened by a payload', dialogs.length === 0, dialogs.join(' | '));
    check('no script error on any page', pageErrors.length === 0, pageErrors.join(' | '));
    check('no Content-Security-Policy violation in the admin', cspViolations.filter((v) => !/remote\.png|img-src|script-src 'none'|default-src 'none'/.test(v)).length === 0, cspViolations.join(' | '));
} catch (e) {
    check('the mail scenario ran without an exception', false, `${e.message} (at ${page.url()})`);
    await page.screenshot({ path: join(SHOTS, 'mail-failure.png'), fullPage: true }).catch(() => {});
}
await browser.close();
console.log(failures ? `DONE\t${failures} failed` : 'DONE');
