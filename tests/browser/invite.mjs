// invite.mjs -- inviting someone in the web admin (Debian's headless Chromium,
// playwright-core): an organization admin makes an invitation on the Members page and gets
// its link once, logs out; the link opens the public page, which refuses a weak password
// beside the field, then makes the account and sends the person to log in, after which they
// see the organization. Then the installation's Users page: the new account listed,
// installation admin granted and revoked, revoking the last admin refused. No console
// error, page error or CSP violation besides the 400 of the weak password and the 409 of
// the last admin, both made on purpose.
//
// Environment: BASE_URL, USER_EMAIL, USER_PASSWORD (an admin of ORG and the installation's
// only administrator), ORG, ORG_NAME,
// NEW_EMAIL, NEW_PASSWORD. Prints PASS/FAIL lines and DONE (tests/browser/scenario.mjs);
// tests/integration/invitations.t checks the database afterwards.

import { check, openPage } from './scenario.mjs';

const { BASE_URL: BASE, ORG, ORG_NAME, NEW_EMAIL, NEW_PASSWORD } = process.env;
const { browser, page, problems, settled, logIn } = await openPage({ counts: (text) => !/status of (400 \(Bad Request\)|409 \(Conflict\))/.test(text) });
const login = (email, password) => logIn(BASE, email, password);
try {
    await login(process.env.USER_EMAIL, process.env.USER_PASSWORD);
    await page.waitForURL((u) => u.pathname === '/orgs');
    await page.goto(`${BASE}/orgs/${ORG}/members`);
    await settled();
    const card = page.locator('#invitations');
    check('the Members page has an Invitations section with none waiting', await card.getByText('No invitations are waiting.').isVisible());
    await card.getByLabel('E-mail address').fill(NEW_EMAIL);
    await card.getByLabel('Role').selectOption('member');
    await card.getByRole('button', { name: 'Create invitation' }).click();
    await card.locator('.secret-panel').waitFor();
    const link = await card.locator('.secret-panel .secret-value').inputValue();
    check('the invitation link is shown once, saying postgate mailed it', /\/invitations\/[A-Za-z0-9]{40}$/.test(link)
        && await card.getByText(`postgate has e-mailed this link to ${NEW_EMAIL}`).isVisible(), link);
    await card.getByRole('button', { name: 'I have saved it' }).click();
    await settled();
    check('... and the invitation is listed as waiting', await page.locator('#invitations table').getByText(NEW_EMAIL).isVisible());
    await page.getByRole('button', { name: 'Log out' }).click();
    await page.waitForURL((u) => u.pathname === '/login');

    await page.goto(link);
    await settled();
    check('the link opens the page to join, without a login', await page.getByRole('heading', { name: 'Join an organization' }).isVisible());
    await page.getByLabel('First name').fill('Nina');
    await page.getByLabel('Password').fill('password123');
    await page.getByRole('button', { name: 'Accept the invitation' }).click();
    await page.locator('[data-field="password"] .field-error:not(:empty)').waitFor();
    check('a weak password is refused beside the field', ((await page.locator('[data-field="password"] .field-error').textContent()) ?? '').length > 10);
    await page.getByLabel('Password').fill(NEW_PASSWORD);
    await page.getByRole('button', { name: 'Accept the invitation' }).click();
    await page.waitForURL((u) => u.pathname === '/login');
    await settled();
    const text = (await page.locator('#flash').textContent()) ?? '';
    check('accepting makes the account and asks to log in', text.includes(`Your account is ready and you joined ${ORG}`), text);
    await page.getByLabel('E-mail address').fill(NEW_EMAIL);
    await page.getByLabel('Password').fill(NEW_PASSWORD);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.waitForURL((u) => u.pathname === `/orgs/${ORG}/servers`);
    await settled();
    check('the new member logs in and lands in the organization', (await page.locator('h1').first().textContent()) === ORG_NAME);
    check('... and, being no installation admin, has no Users link', !(await page.getByRole('link', { name: 'Users', exact: true }).count()));

    // The installation's users, for its admin (USER_EMAIL is one).
    await page.getByRole('button', { name: 'Log out' }).click();
    await page.waitForURL((u) => u.pathname === '/login');
    await login(process.env.USER_EMAIL, process.env.USER_PASSWORD);
    await page.waitForURL((u) => u.pathname === '/orgs');
    await page.getByRole('link', { name: 'Users', exact: true }).click();
    await page.waitForURL((u) => u.pathname === '/users');
    await settled();
    check('an installation admin\'s Users page lists the new account', await page.locator('table').getByText(NEW_EMAIL, { exact: true }).isVisible());
    await page.getByLabel(`${NEW_EMAIL} is an installation administrator`).check();
    const granted = (await page.locator('#flash', { hasText: 'is an installation administrator now' }).textContent().catch(() => '')) ?? '';
    await page.getByLabel(`${NEW_EMAIL} is an installation administrator`).uncheck();
    await page.locator('#flash', { hasText: 'no longer' }).waitFor().catch(() => {});
    check('the switch grants installation admin and revokes it', granted.includes(NEW_EMAIL)
        && ((await page.locator('#flash').textContent()) ?? '').includes(`${NEW_EMAIL} is no longer`));
    const self = page.getByLabel(`${process.env.USER_EMAIL} is an installation administrator`);
    await self.click();   // not uncheck(): the refusal turns it back on, which uncheck() would call a failure
    // The switch is disabled while the request runs; the answer puts it back.
    await page.waitForFunction((label) => {
        const input = [...document.querySelectorAll('input[role="switch"]')].find((i) => i.labels[0]?.textContent === label);
        return input && !input.disabled;
    }, `${process.env.USER_EMAIL} is an installation administrator`);
    check('revoking the last admin is refused, and the switch stays on', await self.isChecked()
        && /last|admin/i.test((await page.locator('#flash').textContent()) ?? ''), await page.locator('#flash').textContent());
    check('no console error, page error or CSP violation', problems.length === 0, problems.join(' | '));
    console.log('DONE');
} catch (err) {
    check('the scenario ran to its end', false, err.stack || err);
} finally {
    await browser.close();
}
