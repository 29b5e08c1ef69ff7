// orgdomains.mjs -- an organization's own domains in the web admin (Debian's headless
// Chromium, playwright-core): the organization's Domains tab lists them; an admin adds one
// and lands on its page with the DNS records to publish; a member sees the list without the
// form. No console error, page error or CSP violation.
//
// Environment: BASE_URL, ADMIN_EMAIL, ADMIN_PASSWORD (an admin of ORG), MEMBER_EMAIL,
// MEMBER_PASSWORD (a member), ORG, LISTED (a domain the organization has), NEW_DOMAIN.
// Prints PASS/FAIL lines and DONE (tests/browser/scenario.mjs); tests/integration/org_domains.t
// checks the database afterwards.

import { check, openPage } from './scenario.mjs';

const { BASE_URL: BASE, ORG, LISTED, NEW_DOMAIN } = process.env;
const { browser, page, problems, settled, logIn } = await openPage();
try {
    await logIn(BASE, process.env.ADMIN_EMAIL, process.env.ADMIN_PASSWORD);
    await page.waitForURL((u) => u.pathname === '/orgs');
    await page.goto(`${BASE}/orgs/${ORG}/servers`);
    await settled();
    await page.locator('nav.tabs').getByRole('link', { name: 'Domains', exact: true }).click();
    await page.waitForURL((u) => u.pathname === `/orgs/${ORG}/domains`);
    await settled();
    check('the organization has a Domains tab listing its own domains', await page.locator('table.data', { hasText: LISTED }).isVisible());
    const add = page.locator('#add-domain');
    await add.getByLabel('Domain').fill(NEW_DOMAIN);
    await add.getByRole('button', { name: 'Add domain' }).click();
    await page.waitForURL((u) => u.pathname === `/orgs/${ORG}/domains/${NEW_DOMAIN}`);
    await settled();
    check('an admin adds one and lands on its page with the DNS records',
        await page.getByText(`_domainkey.${NEW_DOMAIN}`).first().isVisible());
    await page.locator('#logout').click();
    await page.waitForURL((u) => u.pathname === '/login').catch(() => {});
    await logIn(BASE, process.env.MEMBER_EMAIL, process.env.MEMBER_PASSWORD);
    await page.waitForURL((u) => u.pathname === '/orgs');
    await page.goto(`${BASE}/orgs/${ORG}/domains`);
    await settled();
    check('a member sees the list without the form', await page.locator('table.data', { hasText: NEW_DOMAIN }).isVisible()
        && await page.locator('#add-domain').count() === 0);
    check('no console error, page error or CSP violation', problems.length === 0, problems.join(' | '));
    console.log('DONE');
} catch (err) {
    check('the scenario ran to its end', false, err.stack || err);
} finally {
    await browser.close();
}
