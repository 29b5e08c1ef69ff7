// pwreset.mjs -- "Forgot your password?" in the web admin (Debian's headless Chromium,
// playwright-core): the login page links to the request page, which says a link is on its
// way (whatever the address); the link from the mail opens the page that sets a new
// password, refusing a weak one beside the field, then sends the person to log in, where
// the new password works. No console error, page error or CSP violation besides the 400
// of the weak password, made on purpose.
//
// Environment: BASE_URL, USER_EMAIL (an account), LINK (the reset link the mail carried),
// NEW_PASSWORD. Prints PASS/FAIL lines and DONE (tests/browser/scenario.mjs);
// tests/integration/password_reset.t checks the rest over the API.

import { check, openPage } from './scenario.mjs';

const { BASE_URL: BASE, USER_EMAIL, LINK, NEW_PASSWORD } = process.env;
const { browser, page, problems, settled, logIn } = await openPage({ counts: (text) => !/status of 400 \(Bad Request\)/.test(text) });
try {
    await page.goto(`${BASE}/login`);
    await settled();
    await page.getByRole('link', { name: 'Forgot your password?' }).click();
    await page.waitForURL((u) => u.pathname === '/password-reset');
    await settled();
    await page.getByLabel('E-mail address').fill(USER_EMAIL);
    await page.getByRole('button', { name: 'Send the link' }).click();
    check('the login page leads to the request page, which says a link is on its way',
        await page.getByText(`If ${USER_EMAIL} has an account here, a link to reset its password is on its way.`)
            .waitFor({ timeout: 10000 }).then(() => true, () => false));

    await page.goto(LINK);
    await settled();
    await page.getByLabel('New password').fill('password123');
    await page.getByRole('button', { name: 'Set the password' }).click();
    const err = page.locator('[data-field="password"] .field-error:not(:empty)');
    check('the link opens the page to set a new password, which refuses a weak one beside the field',
        await err.waitFor({ timeout: 10000 }).then(() => true, () => false), await err.textContent().catch(() => ''));
    await page.getByLabel('New password').fill(NEW_PASSWORD);
    await page.getByRole('button', { name: 'Set the password' }).click();
    await page.waitForURL((u) => u.pathname === '/login');
    check('... sets a good one and sends the person to log in', await page.getByText('Your password was changed.')
        .waitFor({ timeout: 10000 }).then(() => true, () => false));
    await logIn(BASE, USER_EMAIL, NEW_PASSWORD);
    check('... where the new password works', await page.waitForURL((u) => u.pathname === '/orgs').then(() => true, () => false), page.url());

    check('no console error, page error or CSP violation', problems.length === 0, problems.join(' | '));
    console.log('DONE');
} catch (err) {
    check('the scenario ran to its end', false, err.stack || err);
} finally {
    await browser.close();
}
