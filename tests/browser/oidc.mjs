// oidc.mjs -- OpenID Connect sign-in in Debian's headless Chromium (playwright-core): the
// login page shows "Login with Test IdP" beside the password form; the button leads to
// the provider (oidc-provider.mjs, run by tests/integration/oidc.t), whose own login form
// and consent page are filled in; the browser comes back to the web admin signed in as
// the account with the provider's verified e-mail address. No console error, page error
// or CSP violation on postgate's pages along the way.
//
// Environment: BASE_URL, PROVIDER_LOGIN (the login name at the provider; its address is
// NAME@example.test), SCREENSHOT_DIR (optional). Prints "PASS<TAB>name" /
// "FAIL<TAB>name<TAB>why" lines and "DONE" at the end; oidc.t turns them into TAP.

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { check, openPage } from './scenario.mjs';

const BASE = process.env.BASE_URL;
const SHOTS = process.env.SCREENSHOT_DIR;
const LOGIN = process.env.PROVIDER_LOGIN;


// Only postgate's pages count (the provider's own pages are not ours to judge).
const { browser, page, problems, settled } = await openPage({ counts: (text, p) => p.url().startsWith(BASE) });
try {

    await page.goto(`${BASE}/login`);
    await settled();
    const button = page.getByRole('link', { name: 'Login with Test IdP' });
    check('the login page shows "Login with Test IdP" beside the password form',
        await button.isVisible() && await page.getByLabel('Password').isVisible());
    if (SHOTS) {
        mkdirSync(SHOTS, { recursive: true });
        await page.screenshot({ path: join(SHOTS, 'oidc-login-laptop.png'), fullPage: true });
    }
    await button.click();
    await page.waitForURL((u) => !u.href.startsWith(BASE));
    const login = page.locator('input[name="login"]');
    await login.waitFor();
    check('the button leads to the provider\'s own login form', await login.isVisible(), page.url());
    await login.fill(LOGIN);
    await page.locator('input[name="password"]').fill('any password: the development form takes it');
    await page.locator('button[type="submit"]').click();
    // The provider asks for consent once; then it sends the browser back.
    for (let i = 0; i < 3 && !page.url().startsWith(BASE); i++) {
        const consent = page.locator('button[type="submit"], button[autofocus]').first();
        await Promise.race([
            page.waitForURL((u) => u.href.startsWith(BASE), { timeout: 5000 }).catch(() => {}),
            consent.waitFor({ timeout: 5000 }).then(() => consent.click()).catch(() => {}),
        ]);
    }
    await page.waitForURL((u) => u.href.startsWith(BASE) && u.pathname === '/orgs', { timeout: 15000 }).catch(() => {});
    await settled();
    check('back from the provider, the web admin is signed in at the organizations page',
        new URL(page.url()).pathname === '/orgs' && await page.locator('nav.mainnav').isVisible(), page.url());
    const who = await (await page.request.get(`${BASE}/api/v2/session`)).json().catch(() => ({}));
    check('... as the account with the provider\'s e-mail address', who?.data?.user?.email === `${LOGIN}@example.test`,
        JSON.stringify(who).slice(0, 200));
    check('no console error, page error or CSP violation on postgate\'s pages', problems.length === 0, problems.join(' | '));
} catch (e) {
    console.log(`FAIL\tthe scenario ran without an exception\t${e.message}`);
} finally {
    await browser.close();
}
console.log('DONE');
