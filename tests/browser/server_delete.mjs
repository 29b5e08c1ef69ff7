// server_delete.mjs -- deleting a server in the web admin (Debian's headless Chromium,
// playwright-core): an organization admin opens the server's settings, the danger zone's
// button asks for the permalink typed out (the confirmation stays disabled until then),
// and confirming lands on the organization's servers without it. No console error, page
// error or CSP violation.
//
// Environment: BASE_URL, USER_EMAIL, USER_PASSWORD (an admin of ORG), ORG, SERVER (its
// permalink), SERVER_NAME. Prints PASS/FAIL lines and DONE (tests/browser/scenario.mjs);
// tests/integration/server_delete.t checks the database afterwards.

import { check, openPage } from './scenario.mjs';

const { BASE_URL: BASE, ORG, SERVER, SERVER_NAME } = process.env;
const { browser, page, problems, settled, logIn } = await openPage();
try {
    await logIn(BASE, process.env.USER_EMAIL, process.env.USER_PASSWORD);
    await page.waitForURL((u) => u.pathname === '/orgs');
    await page.goto(`${BASE}/orgs/${ORG}/servers/${SERVER}/settings`);
    await settled();
    await page.getByRole('button', { name: 'Delete server' }).click();
    await page.locator('#confirm-dialog[open]').waitFor();
    const blocked = await page.locator('#confirm-ok').isDisabled();
    await page.locator('#confirm-typed').fill(`${SERVER}x`);
    const stillBlocked = await page.locator('#confirm-ok').isDisabled();
    await page.locator('#confirm-typed').fill(SERVER);
    check('deleting a server needs its permalink typed out', blocked && stillBlocked && await page.locator('#confirm-ok').isEnabled());
    await page.locator('#confirm-ok').click();
    await page.waitForURL((u) => u.pathname === `/orgs/${ORG}/servers`);
    await settled();
    const flashText = (await page.locator('#flash').textContent()) ?? '';
    check('confirming deletes it and lands on the servers', flashText.includes(`Server ${SERVER_NAME} deleted`), flashText);
    check('... where it is no longer listed', !(await page.getByRole('link', { name: SERVER_NAME, exact: true }).count()));
    check('no console error, page error or CSP violation', problems.length === 0, problems.join(' | '));
    console.log('DONE');
} catch (err) {
    check('the scenario ran to its end', false, err.stack || err);
} finally {
    await browser.close();
}
