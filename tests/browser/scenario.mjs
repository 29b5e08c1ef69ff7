// scenario.mjs -- what the browser scenarios run by the integration tests share (hosting,
// totp, oidc): the result lines the .t files read, and a page in Debian's headless Chromium
// (playwright-core) that records console errors, page errors and CSP violations.
//
// Output contract: "PASS<TAB>name" / "FAIL<TAB>name<TAB>why" lines, "DONE" at the end
// (harness_browser in tests/integration/harness.sh turns them into TAP).

import { chromium } from 'playwright-core';

export function check(name, cond, why = '') {
    if (cond) console.log(`PASS\t${name}`);
    else console.log(`FAIL\t${name}\t${String(why).replace(/\s+/g, ' ').slice(0, 400)}`);
}

// A browser and one page at laptop size in English. problems collects console errors, page
// errors and CSP violations for which counts(message text, page) is true (default: all);
// settled() waits for a page to be drawn, logIn(base, email, password) submits the login form.
export async function openPage({ counts = () => true } = {}) {
    const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true });
    const page = await (await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'en-US' })).newPage();
    page.setDefaultTimeout(10000);
    const problems = [];
    page.on('pageerror', (e) => { if (counts(e.message, page)) problems.push(`page error: ${e.message}`); });
    page.on('console', (m) => {
        if ((m.type() === 'error' || /Content Security Policy/i.test(m.text())) && counts(m.text(), page)) problems.push(m.text());
    });
    // app.js marks #main aria-busy while a page is drawn.
    const settled = () => page.locator('#main[aria-busy="false"]').waitFor({ timeout: 10000 }).catch(() => {});
    // Logs in on base's login page (the caller waits for where it lands).
    const logIn = async (base, email, password) => {
        await page.goto(`${base}/login`);
        await settled();
        await page.getByLabel('E-mail address').fill(email);
        await page.getByLabel('Password').fill(password);
        await page.getByRole('button', { name: 'Log in' }).click();
    };
    return { browser, page, problems, settled, logIn };
}
