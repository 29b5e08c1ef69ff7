// hosting.mjs -- the web admin's mailboxes page in Debian's headless Chromium
// (playwright-core): a member sees the server's mailboxes with their usage bars (what
// Dovecot reported), is refused a weak password beside the password field, creates a
// mailbox with a quota and an alias to it, disables and enables the mailbox with its
// switch, deletes the alias after confirming, finds that deleting a mailbox needs its
// address typed out, switches hosting off on a domain's page, reads what an alias domain is,
// and sees the page in Simplified Chinese. No console error, page error or CSP violation
// along the way.
//
// Environment: BASE_URL, USER_EMAIL, USER_PASSWORD (a member of ORG), ORG, SERVER, DOMAIN
// (a hosted domain of the server), SWITCH_DOMAIN (another, hosting on, switched off here),
// ALIAS_DOMAIN (an alias of DOMAIN), NEW_PASSWORD (the new mailbox's), SCREENSHOT_DIR
// (optional). Prints "PASS<TAB>name" / "FAIL<TAB>name<TAB>why" lines and "DONE" at the end;
// tests/integration/hosting.t turns them into TAP and checks over IMAP that the mailbox
// made here logs in with NEW_PASSWORD. A step that throws fails and ends the run.

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { check, openPage } from './scenario.mjs';

const { BASE_URL: BASE, ORG, SERVER, DOMAIN, SCREENSHOT_DIR: SHOTS } = process.env;
const NEW = `erin@${DOMAIN}`;

// The weak password's 400 is the one failed request the scenario makes on purpose.
const { browser, page, problems, settled, logIn } = await openPage({ counts: (text) => !/status of 400 \(Bad Request\)/.test(text) });
try {
    const flash = async (text) => {
        await page.locator('#flash', { hasText: text }).waitFor({ timeout: 5000 }).catch(() => {});
        return (await page.locator('#flash').textContent()) ?? '';
    };
    const shoot = async (name) => {
        if (!SHOTS) return;
        mkdirSync(SHOTS, { recursive: true });
        await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
    };
    const row = (text) => page.locator('table.data tbody tr', { hasText: text }).first();

    await logIn(BASE, process.env.USER_EMAIL, process.env.USER_PASSWORD);
    await page.waitForURL((u) => u.pathname === '/orgs');
    await page.goto(`${BASE}/orgs/${ORG}/servers/${SERVER}`);
    await settled();
    await page.locator('nav.tabs').getByRole('link', { name: 'Mailboxes', exact: true }).click();
    await page.waitForURL((u) => u.pathname === `/orgs/${ORG}/servers/${SERVER}/mailboxes`);
    await settled();
    check('the server has a Mailboxes tab leading to its mailboxes', await page.getByRole('heading', { name: 'Mailboxes', exact: true }).isVisible());

    const bob = row(`bob@${DOMAIN}`);
    const meter = bob.locator('meter.usage');
    const used = Number(await meter.getAttribute('value').catch(() => '0'));
    check('a mailbox with a quota shows its usage as a bar (what Dovecot reported)', used > 0 && /\d kB of 95\.4 MB/.test(await bob.textContent()),
        `${used} ${await bob.textContent()}`);

    const mf = page.locator('section.card', { hasText: 'New mailbox' });
    await mf.getByLabel('Address').fill(NEW);
    await mf.getByLabel('Password').fill('password123');
    await mf.getByRole('button', { name: 'Create mailbox' }).click();
    const pwError = mf.locator('[data-field="password"] .field-error');
    await mf.locator('[data-field="password"] .field-error:not(:empty)').waitFor();
    check('a weak password is refused beside the password field, saying which rule', (await pwError.textContent()).length > 10
        && (await mf.getByLabel('Password').getAttribute('aria-invalid')) === 'true', await pwError.textContent());

    await mf.getByLabel('Password').fill(process.env.NEW_PASSWORD);
    await mf.getByLabel('Quota (MB)').fill('50');
    await mf.getByRole('button', { name: 'Create mailbox' }).click();
    check('a mailbox is created', (await flash(`Mailbox ${NEW} created.`)).includes(`Mailbox ${NEW} created.`), await flash(''));
    check('... listed with its quota', /0 kB of 50 MB/.test((await row(NEW).textContent()) ?? ''), await row(NEW).textContent());
    check('... and the form forgets the password', (await mf.getByLabel('Password').inputValue()) === '');

    const af = page.locator('section.card', { hasText: 'New alias' });
    await af.getByLabel('Address').fill(`help@${DOMAIN}`);
    await af.getByLabel('Destinations').fill(`${NEW}\nsomeone@example.org`);
    await af.getByRole('button', { name: 'Create alias' }).click();
    check('an alias with two destinations is created', (await flash(`Alias help@${DOMAIN} created.`)).includes('created')
        && /someone@example\.org/.test((await row(`help@${DOMAIN}`).textContent()) ?? ''));
    await shoot('mailboxes');

    await page.getByLabel(`${NEW} can log in`).uncheck();
    check('the switch disables the mailbox', (await flash('is disabled')).includes(`${NEW} is disabled`), await flash(''));
    await page.getByLabel(`${NEW} can log in`).check();
    check('... and enables it again', (await flash('can log in again')).includes(`${NEW} can log in again.`), await flash(''));

    await page.getByRole('button', { name: `Delete alias help@${DOMAIN}` }).click();
    await page.locator('#confirm-dialog[open]').waitFor();
    await page.locator('#confirm-ok').click();
    check('an alias is deleted after confirming', (await flash(`Alias help@${DOMAIN} deleted.`)).includes('deleted'), await flash(''));
    await settled();
    check('... and is gone from the list', !(await page.locator('table.data', { hasText: `help@${DOMAIN}` }).count()));

    await page.getByRole('button', { name: `Delete mailbox ${NEW}` }).click();
    await page.locator('#confirm-dialog[open]').waitFor();
    const blocked = await page.locator('#confirm-ok').isDisabled();
    await page.locator('#confirm-typed').fill(NEW);
    const allowed = await page.locator('#confirm-ok').isEnabled();
    await page.locator('#confirm-cancel').click();
    await page.locator('#confirm-dialog').waitFor({ state: 'hidden' });
    check('deleting a mailbox needs its address typed out (cancelled here)', blocked && allowed && await row(NEW).isVisible());

    // The domain page: the hosting switch, and what an alias domain is.
    await page.goto(`${BASE}/orgs/${ORG}/servers/${SERVER}/domains/${process.env.SWITCH_DOMAIN}`);
    await settled();
    const sw = page.getByLabel(`Host mailboxes for ${process.env.SWITCH_DOMAIN}`);
    const wasOn = await sw.isChecked();
    await sw.uncheck();
    check('a domain page\'s hosting switch turns hosting off', wasOn
        && (await flash('hosts no mailboxes now')).includes(`${process.env.SWITCH_DOMAIN} hosts no mailboxes now`), await flash(''));
    await page.goto(`${BASE}/orgs/${ORG}/servers/${SERVER}/domains/${process.env.ALIAS_DOMAIN}`);
    await settled();
    check('an alias domain\'s page says whose alias it is', await page.getByText(`This domain is an alias of ${DOMAIN}`).isVisible());
    await page.goto(`${BASE}/orgs/${ORG}/servers/${SERVER}/mailboxes`);
    await settled();

    await page.getByLabel('Language').selectOption('zh-CN');
    await settled();
    check('the page is in Chinese too', await page.getByRole('heading', { name: '新建邮箱' }).isVisible()
        && await page.locator('nav.tabs').getByRole('link', { name: '邮箱', exact: true }).isVisible());
    await shoot('mailboxes-zh');
    await page.getByLabel('语言').selectOption('en');

    check('no console error, page error or CSP violation', problems.length === 0, problems.join(' | '));
    console.log('DONE');
} catch (err) {
    check('the scenario ran to its end', false, err.stack || err);
} finally {
    await browser.close();
}
