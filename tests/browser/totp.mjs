// totp.mjs -- two-factor sign-in in Debian's headless Chromium (playwright-core): the
// account page's enrolment shows the QR image (decoded by the browser under the strict
// Content-Security-Policy) and the secret, the first code (from oathtool) turns it on and
// shows ten recovery codes; after logging out, the login page asks for the code and the
// right one signs in; an organization's settings page has the "require two-factor" switch.
// No console error, page error or CSP violation along the way.
//
// Environment: BASE_URL, USER_EMAIL, USER_PASSWORD (a user without a second factor who
// owns the organization ORG), SCREENSHOT_DIR (optional). Prints "PASS<TAB>name" /
// "FAIL<TAB>name<TAB>why" lines and "DONE" at the end; tests/integration/totp.t turns them
// into TAP. A step that throws fails and ends the run.

import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { check, openPage } from './scenario.mjs';

const BASE = process.env.BASE_URL;
const SHOTS = process.env.SCREENSHOT_DIR;
const ORG = process.env.ORG;

const sleep = (ms) => new Promise((r) => { setTimeout(r, ms); });
const stepNow = () => Math.floor(Date.now() / 1000 / 30);
// At least 8 seconds of the current 30-second step left, so the server agrees on it.
async function steady() {
    while ((Date.now() / 1000) % 30 > 21) await sleep(500);
}
const codeAt = (secret, step) => execFileSync('oathtool', ['--totp', '-b', '-N', `@${step * 30}`, secret]).toString().trim();

const { browser, page, problems, settled, logIn } = await openPage();
try {
    const login = () => logIn(BASE, process.env.USER_EMAIL, process.env.USER_PASSWORD);

    await login();
    await page.waitForURL((u) => u.pathname === '/orgs');
    await page.goto(`${BASE}/account`);
    await settled();
    await page.locator('#totp-start').click();
    const qr = page.locator('img.totp-qr');
    await qr.waitFor();
    const drawn = await qr.evaluate((img) => img.decode().then(() => img.naturalWidth, () => 0));
    check('the enrolment shows the QR code as an image the browser draws', drawn > 100, `naturalWidth ${drawn}`);
    const secret = ((await page.locator('#totp-secret').textContent()) ?? '').replace(/\s+/g, '');
    check('... and the secret as text (base32)', /^[A-Z2-7]{32}$/.test(secret), secret);
    if (SHOTS) {
        mkdirSync(SHOTS, { recursive: true });
        await page.screenshot({ path: join(SHOTS, 'totp-enrol-laptop.png'), fullPage: true });
    }
    await steady();
    const enrolStep = stepNow();
    await page.locator('#two-factor input[name="code"]').fill(codeAt(secret, enrolStep));
    await page.getByRole('button', { name: 'Turn on' }).click();
    await page.locator('#recovery-codes').waitFor();
    const codes = await page.locator('.recovery-codes li').allTextContents();
    check('the first code turns it on and shows ten recovery codes', codes.length === 10 && codes.every((c) => /^[a-z2-9]{5}-[a-z2-9]{5}$/.test(c)), codes.join(' '));
    await page.locator('#recovery-done').click();
    await settled();
    await page.locator('#totp-status').waitFor();
    check('the account page then says it is on', /On since/.test((await page.locator('#totp-status').textContent()) ?? ''));

    await page.locator('#logout').click();
    await page.waitForURL((u) => u.pathname === '/login');
    await login();
    const codeField = page.locator('input[name="code"]');
    await codeField.waitFor();
    check('after the password, the login page asks for the code', (await page.locator('h1').first().textContent())?.includes('Enter your code'));
    // Asked beside the page (its cookies, not its console): the page itself makes no failing request.
    const res = (await page.request.get(`${BASE}/api/v2/organizations`)).status();
    check('... and meanwhile the API answers nothing else (401)', res === 401, `status ${res}`);
    // The enrolment used its step: the next code is of a later one, within a step of now.
    await steady();
    const step = Math.max(stepNow(), enrolStep + 1);
    await codeField.fill(codeAt(secret, step));
    await page.getByRole('button', { name: 'Continue' }).first().click();
    await page.waitForURL((u) => u.pathname === '/orgs').catch(() => {});
    await settled();
    check('the right code signs in and goes on to the organizations', new URL(page.url()).pathname === '/orgs'
        && await page.locator('nav.mainnav').isVisible(), page.url());

    await page.goto(`${BASE}/orgs/${ORG}/settings`);
    await settled();
    const box = page.getByLabel('Require two-factor sign-in of every member');
    check('the organization settings have the two-factor switch', await box.isVisible());
    await box.check();
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.locator('#flash', { hasText: 'Saved.' }).waitFor({ timeout: 5000 }).catch(() => {});
    check('... and it saves', ((await page.locator('#flash').textContent()) ?? '').includes('Saved.'));
    check('no console error, page error or CSP violation', problems.length === 0, problems.join(' | '));
} catch (e) {
    console.log(`FAIL\tthe scenario ran without an exception\t${e.message}`);
} finally {
    await browser.close();
}
console.log('DONE');
