// ui.mjs -- the web admin in Debian's headless Chromium (playwright-core, no browser of
// its own): the login page loads with no error in the console, log in (keyboard only),
// create an organization, a server, a domain and a credential (key shown once),
// per-field validation errors beside the fields, hold and delete with confirmation,
// members and roles, pagination, an XSS payload as names, English and Simplified
// Chinese, log out. A screenshot of each main page at laptop and
// phone width goes to $SCREENSHOT_DIR.
//
// Environment: BASE_URL, ADMIN_EMAIL, ADMIN_PASSWORD, MEMBER_EMAIL (an existing user),
// SCREENSHOT_DIR, STATE_DIR (written: credential-key, for the database checks of
// browser.t). Prints "PASS<TAB>name" / "FAIL<TAB>name<TAB>why" lines and "DONE" at the
// end; browser.t turns them into TAP. A step that throws fails and ends the run.

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const BASE = process.env.BASE_URL;
const SHOTS = process.env.SCREENSHOT_DIR;
const STATE = process.env.STATE_DIR;
const XSS_ORG = '<img src=x onerror=alert(1)>';
const XSS_SERVER = '<script>alert(2)</script><img src=x onerror=alert(3)>';
const LAPTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };

let failures = 0;
function check(name, cond, why = '') {
    if (cond) console.log(`PASS\t${name}`);
    else { failures++; console.log(`FAIL\t${name}\t${String(why).replace(/\s+/g, ' ').slice(0, 400)}`); }
}

mkdirSync(SHOTS, { recursive: true });
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true });
const context = await browser.newContext({ viewport: LAPTOP, locale: 'en-US' });
await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: BASE });
const page = await context.newPage();
page.setDefaultTimeout(10000);
const dialogs = [];
const pageErrors = [];
const cspViolations = [];
page.on('dialog', async (d) => { dialogs.push(`${d.type()}: ${d.message()}`); await d.dismiss(); });
page.on('pageerror', (e) => pageErrors.push(e.message));
const consoleErrors = [];
page.on('console', (m) => {
    if (/Content Security Policy/i.test(m.text())) cspViolations.push(m.text());
    if (m.type() === 'error') consoleErrors.push(m.text());
});

const path = () => new URL(page.url()).pathname;
const url = () => { const u = new URL(page.url()); return u.pathname + u.search; };
const visible = (text) => page.getByText(text, { exact: false }).first().isVisible().catch(() => false);
// Waits for the location, then for the page to be drawn (app.js: #main aria-busy).
async function waitPath(p) {
    try { await page.waitForURL((u) => u.pathname === p, { timeout: 10000 }); } catch { /* the check says so */ }
    await settled();
    return path();
}
async function settled() {
    await page.locator('#main[aria-busy="false"]').waitFor({ timeout: 10000 }).catch(() => {});
}
const tab = (name) => page.locator('nav.tabs').getByRole('link', { name, exact: true });
async function flashHas(text) {
    await page.locator('#flash', { hasText: text }).waitFor({ timeout: 5000 }).catch(() => {});
    return ((await page.locator('#flash').textContent()) ?? '').includes(text);
}
async function h1() {
    return (await page.locator('h1').first().textContent()) ?? '';
}
async function shoot(name) {
    await page.waitForLoadState('networkidle');
    await page.setViewportSize(PHONE);
    await page.screenshot({ path: join(SHOTS, `${name}-phone.png`), fullPage: true });
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    await page.setViewportSize(LAPTOP);
    await page.screenshot({ path: join(SHOTS, `${name}-laptop.png`), fullPage: true });
    return overflow;
}
const phoneOverflow = {};
async function fieldError(name) {
    return ((await page.locator(`[data-field="${name}"] .field-error`).textContent()) ?? '').trim();
}
async function flashText() {
    await page.locator('#flash:not(:empty)').waitFor({ timeout: 5000 }).catch(() => {});
    return (await page.locator('#flash').textContent()) ?? '';
}
async function clipboard() {
    return page.evaluate(() => navigator.clipboard.readText());
}

try {
    // ---------------------------------------------------------------- login
    await page.goto(`${BASE}/orgs`);
    await settled();
    await waitPath('/login');
    check('an anonymous visit to /orgs lands on /login?next=/orgs', url() === '/login?next=%2Forgs', url());
    check('the login page has a labelled e-mail field', await page.getByLabel('E-mail address').isVisible());
    phoneOverflow.login = await shoot('login');
    // The session probe answers 200 to nobody (GET /api/v2/session/status): no failed
    // request, so Chromium logs nothing. (The wrong password below is a 401 on purpose.)
    check('the login page loads with no error in the browser console', consoleErrors.length === 0,
        consoleErrors.join(' | '));

    await page.getByLabel('E-mail address').fill(process.env.ADMIN_EMAIL);
    await page.getByLabel('Password').fill('wrong password');
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.locator('.form-alert:not(:empty)').waitFor();
    check('a wrong password shows "Wrong e-mail address or password."', await visible('Wrong e-mail address or password.'));
    check('a failed login stays on /login', path() === '/login', url());

    // Keyboard only: the e-mail field has focus after a reload, Tab reaches the password, Enter submits.
    await page.goto(`${BASE}/login?next=%2Forgs`);
    await settled();
    await page.locator('#main input[type=email]').waitFor();
    const focused = await page.evaluate(() => document.activeElement?.getAttribute('type'));
    check('the e-mail field has the focus when the login page opens', focused === 'email', focused);
    await page.keyboard.type(process.env.ADMIN_EMAIL);
    await page.keyboard.press('Tab');
    await page.keyboard.type(process.env.ADMIN_PASSWORD);
    await page.keyboard.press('Enter');
    check('logging in with the keyboard goes on to /orgs', (await waitPath('/orgs')) === '/orgs', url());
    await page.locator('.empty').waitFor();
    check('with no organization the list says what to do next', await visible('No organizations yet')
        && await page.getByRole('link', { name: 'Create your first organization' }).isVisible());
    check('the top bar shows who is logged in', (await page.locator('.whoami').textContent()) === process.env.ADMIN_EMAIL);

    // ---------------------------------------------------------------- organization
    await page.getByRole('link', { name: 'Create your first organization' }).click();
    await waitPath('/orgs/new');
    await page.locator('#main input[name="name"]').fill('Acme Mail');
    check('the permalink is suggested from the name', (await page.getByLabel('Permalink').inputValue()) === 'acme-mail');
    await page.getByLabel('Time zone').fill('Mars Base (local time)');
    await page.getByRole('button', { name: 'New organization' }).click();
    await page.locator('[data-field="time_zone"] .field-error:not(:empty)').waitFor();
    check('the server\'s time-zone error appears beside the time zone field', (await fieldError('time_zone')).length > 0, await fieldError('time_zone'));
    check('the invalid field is marked aria-invalid', (await page.getByLabel('Time zone').getAttribute('aria-invalid')) === 'true');
    check('the form says fields need attention', await visible('Some fields need attention'));
    phoneOverflow.org_new = await shoot('org-new-validation');
    await page.getByLabel('Time zone').fill('Europe/London');
    await page.getByRole('button', { name: 'New organization' }).click();
    check('creating the organization opens its servers', (await waitPath('/orgs/acme-mail/servers')) === '/orgs/acme-mail/servers', url());
    check('the new organization\'s page is titled with its name', (await h1()) === 'Acme Mail', await h1());
    check('with no server the page offers to create one', await page.getByRole('link', { name: 'Create a mail server' }).isVisible());
    phoneOverflow.servers_empty = await shoot('servers-empty');

    // ---------------------------------------------------------------- server
    await page.getByRole('link', { name: 'Create a mail server' }).click();
    await waitPath('/orgs/acme-mail/servers/new');
    await page.locator('#main input[name="name"]').fill('Main');
    await page.getByRole('button', { name: 'New mail server' }).click();
    check('creating the server opens its domains', (await waitPath('/orgs/acme-mail/servers/main/domains')) === '/orgs/acme-mail/servers/main/domains', url());
    check('with no domain the page says what to add', await visible('No domains yet'));

    await tab('Settings').click();
    await waitPath('/orgs/acme-mail/servers/main/settings');
    await page.getByLabel('Spam threshold', { exact: true }).fill('100000');
    await page.getByLabel('Send limit (messages per hour)').fill('5000');
    await page.getByLabel('Postmaster address').fill('postmaster@example.com');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.locator('[data-field="spam_threshold"] .field-error:not(:empty)').waitFor();
    check('an out-of-range spam threshold is refused beside its field', /9999/.test(await fieldError('spam_threshold')), await fieldError('spam_threshold'));
    check('a postmaster address at a domain the server does not have is refused beside its field',
        /verified domain/.test(await fieldError('postmaster_address')), await fieldError('postmaster_address'));
    await page.getByLabel('Postmaster address').fill('');
    check('no error is shown beside the send limit', (await fieldError('send_limit')) === '', await fieldError('send_limit'));
    await page.getByLabel('Spam threshold', { exact: true }).fill('6.5');
    await page.getByLabel('Privacy mode').check();
    await page.getByRole('button', { name: 'Save changes' }).click();
    check('valid settings save ("Saved.")', await flashHas('Saved.'), await flashText());
    await page.locator('input[name="send_limit"]').waitFor();
    check('after saving the form shows the stored send limit', (await page.locator('input[name="send_limit"]').inputValue()) === '5000');
    phoneOverflow.server_settings = await shoot('server-settings');

    // ---------------------------------------------------------------- domain
    await tab('Domains').click();
    await waitPath('/orgs/acme-mail/servers/main/domains');
    await page.getByLabel('Domain', { exact: false }).first().fill('Example.COM');
    await page.getByRole('button', { name: 'Add domain' }).click();
    check('adding a domain opens its page', (await waitPath('/orgs/acme-mail/servers/main/domains/example.com')) === '/orgs/acme-mail/servers/main/domains/example.com', url());
    check('the domain page shows the records to publish', await visible('DNS records to publish'));
    const spfRow = page.locator('tbody tr', { hasText: 'v=spf1' }).first();
    const spfValue = (await spfRow.locator('td').nth(2).locator('code').textContent()) ?? '';
    check('the SPF record is listed', /^v=spf1 a mx include:\S+ ~all$/.test(spfValue), spfValue);
    const dkimRow = page.locator('tbody tr', { hasText: '_domainkey' }).first();
    const dkimValue = (await dkimRow.locator('td').nth(2).locator('code').textContent()) ?? '';
    check('the DKIM record\'s value is shown joined and unquoted', /^v=DKIM1; t=s; h=sha256; p=[A-Za-z0-9+/=]{300,};?$/.test(dkimValue), dkimValue.slice(0, 80));
    await dkimRow.locator('td').nth(2).getByRole('button', { name: /Copy the value/ }).click();
    check('the copy button puts the DKIM value on the clipboard', (await clipboard()) === dkimValue);
    check('the copy button confirms "Copied."', await dkimRow.getByText('Copied.').isVisible());
    check('an unverified domain says so', await visible('This domain is not verified yet'));
    phoneOverflow.domain = await shoot('domain');
    await tab('Domains').click();
    await waitPath('/orgs/acme-mail/servers/main/domains');
    await page.locator('table.data').first().waitFor();
    check('the domain list shows example.com', await page.getByRole('link', { name: 'example.com' }).isVisible());
    phoneOverflow.domains = await shoot('domains');

    // ---------------------------------------------------------------- credentials
    await tab('Credentials').click();
    await waitPath('/orgs/acme-mail/servers/main/credentials');
    check('with no credential the page says what to create', await visible('No credentials yet'));
    check('the network field is hidden for SMTP', !(await page.getByLabel('Network').isVisible()));
    await page.getByLabel('Type').selectOption('SMTP-IP');
    check('choosing SMTP-IP shows the network field', await page.getByLabel('Network').isVisible());
    await page.locator('#main input[name="name"]').fill('office');
    await page.getByLabel('Network').fill('192.0.2.300/24');
    await page.getByRole('button', { name: 'Create credential' }).click();
    await page.locator('[data-field="network"] .field-error:not(:empty)').waitFor();
    check('a bad network is refused beside the network field', /IP address or network/.test(await fieldError('network')), await fieldError('network'));
    await page.getByLabel('Type').selectOption('SMTP');
    await page.locator('#main input[name="name"]').fill('app');
    await page.getByRole('button', { name: 'Create credential' }).click();
    await page.locator('.secret-panel').waitFor();
    const key = await page.locator('.secret-panel .secret-value').inputValue();
    check('the new SMTP key is shown: 24 letters and digits', /^[A-Za-z0-9]{24}$/.test(key), key);
    check('the key comes with a warning that it is shown once', await visible('It is shown only this once'));
    check('the SMTP credential shows its CRAM-MD5 user name', await visible('acme-mail/main'));
    await page.locator('.secret-panel').getByRole('button', { name: 'Copy' }).click();
    check('the key\'s copy button puts it on the clipboard', (await clipboard()) === key);
    phoneOverflow.credential_key = await shoot('credential-key');
    writeFileSync(join(STATE, 'credential-key'), key);
    await page.getByRole('button', { name: 'I have saved it' }).click();
    check('after "I have saved it" the key is gone from the page', !(await page.content()).includes(key));
    await page.reload();
    await settled();
    await page.locator('table.data').first().waitFor();
    check('the list shows only the key\'s first characters', await visible(`${key.slice(0, 4)}…`) && !(await page.content()).includes(key));

    await page.getByLabel('Hold mail from app').check();
    check('switching hold on says mail is held', await flashHas('Mail sent with app is now held.'), await flashText());

    await page.getByLabel('Type').selectOption('API');
    await page.locator('#main input[name="name"]').fill('temporary');
    await page.getByRole('button', { name: 'Create credential' }).click();
    await page.locator('.secret-panel').waitFor();
    await page.getByRole('button', { name: 'I have saved it' }).click();
    await page.getByRole('button', { name: 'Delete credential temporary' }).click();
    check('deleting asks for confirmation', await page.locator('#confirm-dialog').isVisible()
        && await page.locator('#confirm-dialog').getByText('Delete the credential temporary?').isVisible());
    await page.keyboard.press('Escape');
    await page.locator('#confirm-dialog').waitFor({ state: 'hidden' });
    check('Escape cancels: the credential is still listed', await page.locator('tbody tr', { hasText: 'temporary' }).isVisible());
    await page.getByRole('button', { name: 'Delete credential temporary' }).click();
    await page.locator('#confirm-ok').click();
    await page.locator('tbody tr', { hasText: 'temporary' }).waitFor({ state: 'detached' });
    check('confirming deletes it', await flashHas('Credential temporary deleted.'), await flashText());
    phoneOverflow.credentials = await shoot('credentials');

    // ---------------------------------------------------------------- members
    await page.goto(`${BASE}/orgs/acme-mail/members`);
    await settled();
    // The "Add member" card (the Invitations card below it has fields of the same names).
    const addCard = page.locator('section.card', { has: page.getByRole('button', { name: 'Add member' }) });
    await addCard.waitFor();
    await addCard.getByLabel('E-mail address').fill('nobody@example.test');
    await addCard.getByRole('button', { name: 'Add member' }).click();
    await addCard.locator('.form-alert:not(:empty)').waitFor();
    check('adding an unknown user shows the server\'s answer', ((await addCard.locator('.form-alert').textContent()) ?? '').length > 0);
    await addCard.getByLabel('E-mail address').fill(process.env.MEMBER_EMAIL);
    await addCard.getByLabel('Role', { exact: true }).selectOption('readonly');
    await addCard.getByRole('button', { name: 'Add member' }).click();
    await page.locator('tbody tr', { hasText: process.env.MEMBER_EMAIL }).waitFor();
    check('the new member is listed', await page.locator('tbody tr', { hasText: process.env.MEMBER_EMAIL }).isVisible());
    await page.getByLabel(`Role of ${process.env.MEMBER_EMAIL}`).selectOption('member');
    check('changing a role says so', await flashHas(`${process.env.MEMBER_EMAIL} is now Member.`), await flashText());
    phoneOverflow.members = await shoot('members');

    // ---------------------------------------------------------------- account: personal tokens
    await page.getByRole('link', { name: 'Account' }).click();
    await waitPath('/account');
    await page.locator('#main input[name="name"]').fill('ci script');
    await page.getByRole('button', { name: 'Create token' }).click();
    await page.locator('.secret-panel').waitFor();
    const token = await page.locator('.secret-panel .secret-value').inputValue();
    check('a personal API token is shown once', /^pgt_/.test(token), token.slice(0, 6));
    phoneOverflow.account = await shoot('account');
    // Deleting the account asks first; the admin, who owns acme-mail, is told why it cannot
    // go (the answer comes after the password was checked, so the password reached the server).
    await page.locator('#delete-account input[name="password"]').fill(process.env.ADMIN_PASSWORD);
    await page.getByRole('button', { name: 'Delete my account' }).click();
    await page.locator('#confirm-dialog[open]').waitFor();
    check('deleting the account asks for confirmation', await page.locator('#confirm-dialog').getByText('This cannot be undone').isVisible());
    await page.locator('#confirm-ok').click();
    await page.locator('#delete-account .form-alert:not(:empty)').waitFor({ timeout: 10000 }).catch(() => {});
    const refusal = (await page.locator('#delete-account .form-alert').textContent()) ?? '';
    check('the owner of an organization is told why the account cannot be deleted, naming it', /You own organizations.*acme-mail/.test(refusal), refusal);

    // ---------------------------------------------------------------- XSS as names
    await page.goto(`${BASE}/orgs/new`);
    await settled();
    await page.locator('#main input[name="name"]').fill(XSS_ORG);
    await page.getByLabel('Permalink').fill('xss-org');
    await page.getByRole('button', { name: 'New organization' }).click();
    await waitPath('/orgs/xss-org/servers');
    await page.getByRole('link', { name: 'Create a mail server' }).click();
    await page.locator('#main input[name="name"]').fill(XSS_SERVER);
    await page.getByLabel('Permalink').fill('xss-server');
    await page.getByRole('button', { name: 'New mail server' }).click();
    await waitPath('/orgs/xss-org/servers/xss-server/domains');
    check('the server\'s name is shown literally as its title', (await h1()) === XSS_SERVER, await h1());
    check('the organization\'s name is shown literally in the breadcrumbs', await page.locator('.crumbs').getByText(XSS_ORG, { exact: true }).isVisible());
    await page.goto(`${BASE}/orgs`);
    await settled();
    await page.locator('table.data').first().waitFor();
    check('the organization list shows the payload as text', await page.getByRole('link', { name: XSS_ORG, exact: true }).isVisible());
    const injected = await page.evaluate(() => document.querySelectorAll('img[src="x"], #main script').length);
    check('no element was made from the payloads', injected === 0, `${injected} elements`);
    phoneOverflow.orgs = await shoot('orgs');
    await page.goto(`${BASE}/orgs/xss-org/servers`);
    await settled();
    await page.locator('table.data').first().waitFor();
    check('the server list shows the payload as text', await page.getByRole('link', { name: XSS_SERVER, exact: true }).isVisible());
    check('no dialog fired (alert from a payload)', dialogs.length === 0, dialogs.join(' | '));

    // ---------------------------------------------------------------- pagination
    const csrf = await page.evaluate(async () => (await (await fetch('/api/v2/session')).json()).data.csrf_token);
    for (let i = 1; i <= 20; i++) {
        const r = await page.request.post(`${BASE}/api/v2/organizations`, {
            headers: { 'X-CSRF-Token': csrf },
            data: { name: `Bulk ${String(i).padStart(2, '0')}`, permalink: `bulk-${i}` },
        });
        if (r.status() !== 201) throw new Error(`creating bulk-${i}: ${r.status()}`);
    }
    await page.goto(`${BASE}/orgs`);
    await settled();
    await page.locator('.pager').waitFor();
    check('22 organizations are paginated: "Page 1 of 2"', await visible('Page 1 of 2 (22 in all)'));
    check('the first page shows 20 rows', (await page.locator('tbody tr').count()) === 20);
    await page.getByRole('button', { name: 'Next' }).click();
    check('"Next" shows page 2 with the other 2', await visible('Page 2 of 2 (22 in all)') && (await page.locator('tbody tr').count()) === 2);

    // ---------------------------------------------------------------- language
    await page.getByLabel('Language').selectOption('zh-CN');
    await page.locator('h1', { hasText: '组织' }).waitFor();
    check('switching to 简体中文 translates the page', (await h1()) === '组织' && await page.getByRole('link', { name: '组织' }).first().isVisible());
    check('the document language is zh-CN', (await page.evaluate(() => document.documentElement.lang)) === 'zh-CN');
    await page.reload();
    await settled();
    await page.locator('h1').waitFor();
    check('the choice survives a reload (localStorage)', (await h1()) === '组织', await h1());
    phoneOverflow.orgs_zh = await shoot('orgs-zh');
    await page.goto(`${BASE}/orgs/acme-mail/servers/main/credentials`);
    await settled();
    await page.locator('table.data').first().waitFor();
    check('the credentials page is in Chinese too', await visible('新建凭据') && await page.getByRole('button', { name: '退出登录' }).isVisible());
    phoneOverflow.credentials_zh = await shoot('credentials-zh');
    await page.getByLabel('语言').selectOption('en');
    await page.locator('h2', { hasText: 'New credential' }).waitFor();
    check('switching back to English', await visible('New credential') && (await page.evaluate(() => localStorage.getItem('postgate.lang'))) === 'en');

    // ---------------------------------------------------------------- phone width
    const wide = Object.entries(phoneOverflow).filter(([, v]) => v > 1).map(([k, v]) => `${k} +${v}px`);
    check('no page scrolls sideways at phone width (390 px)', wide.length === 0, wide.join(', '));

    // ---------------------------------------------------------------- logout
    await page.getByRole('button', { name: 'Log out' }).click();
    await waitPath('/login');
    check('logging out shows the login page with "You have logged out."', await visible('You have logged out.'));
    const after = await page.evaluate(async () => (await fetch('/api/v2/session')).status);
    check('the session is gone on the server (GET /api/v2/session: 401)', after === 401, after);
    await page.goto(`${BASE}/orgs/acme-mail/servers`);
    await settled();
    check('a page that needs a login goes back to /login', (await waitPath('/login')) === '/login', url());

    check('no script error on any page', pageErrors.length === 0, pageErrors.join(' | '));
    check('no Content-Security-Policy violation', cspViolations.length === 0, cspViolations.join(' | '));
} catch (e) {
    check('the browser scenario ran without an exception', false, `${e.message} (at ${page.url()})`);
    await page.screenshot({ path: join(SHOTS, 'failure.png'), fullPage: true }).catch(() => {});
}
await browser.close();
console.log(failures ? `DONE\t${failures} failed` : 'DONE');
