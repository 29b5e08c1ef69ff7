// webmail.mjs -- hosting from the web admin to webmail, in Debian's headless Chromium
// (playwright-core): an installation administrator adds a domain to a server in the web
// admin (marked verified), switches hosting on on its page and creates two mailboxes; then
// the first mailbox's user logs into Roundcube and sends to the second, who logs in, reads
// the message and replies, and the first reads the reply. Nothing is prepared behind the
// browser's back except the organization, server and administrator account.
//
// Environment: BASE_URL (postgate-admin), ADMIN_EMAIL, ADMIN_PASSWORD, ORG, SERVER, DOMAIN
// (not yet on the server), WEBMAIL_URL (Roundcube), PASSWORD_1, PASSWORD_2 (the two
// mailboxes' passwords), NEW_PASSWORD_1 (the first user changes hers to it in Roundcube's
// settings), SUBJECT (of the first message), SCREENSHOT_DIR (optional). The
// mailboxes are ann@DOMAIN and ben@DOMAIN. Prints "PASS<TAB>name" / "FAIL<TAB>name<TAB>why"
// lines and "DONE" at the end; tests/integration/webmail.t turns them into TAP and reads the
// mailboxes back over IMAP. A step that throws fails and ends the run.

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { check, openPage } from './scenario.mjs';

const { BASE_URL: BASE, ORG, SERVER, DOMAIN, WEBMAIL_URL: WEBMAIL, SUBJECT, SCREENSHOT_DIR: SHOTS } = process.env;
const ANN = `ann@${DOMAIN}`;
const BEN = `ben@${DOMAIN}`;
const BODY = 'Lunch at noon? Sent from webmail.';
const REPLY = 'Noon works. Replying from webmail.';
const AWAY = 'I am away this week; back on Monday.';

// Only the web admin's own page counts for console errors: Roundcube is Debian's.
const { browser, page, problems, settled, logIn } = await openPage({ counts: (text, p) => !p.url().startsWith(WEBMAIL) });
try {
    const flash = async (text) => {
        await page.locator('#flash', { hasText: text }).waitFor({ timeout: 5000 }).catch(() => {});
        return (await page.locator('#flash').textContent()) ?? '';
    };
    const shoot = async (p, name) => {
        if (!SHOTS) return;
        mkdirSync(SHOTS, { recursive: true });
        await p.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
    };

    // ---- the web admin: a domain, hosting on, two mailboxes
    await logIn(BASE, process.env.ADMIN_EMAIL, process.env.ADMIN_PASSWORD);
    await page.waitForURL((u) => u.pathname === '/orgs');
    await page.goto(`${BASE}/orgs/${ORG}/servers/${SERVER}/domains`);
    await settled();
    const add = page.locator('#add-domain');
    await add.getByLabel('Domain').fill(DOMAIN);
    await add.getByLabel('Mark as verified').check();
    await add.getByRole('button', { name: 'Add domain' }).click();
    await page.waitForURL((u) => u.pathname === `/orgs/${ORG}/servers/${SERVER}/domains/${DOMAIN}`);
    await settled();
    check('the administrator adds the domain in the web admin, marked verified',
        (await flash(`Domain ${DOMAIN} added`)).includes(DOMAIN), await flash(''));
    const sw = page.getByLabel(`Host mailboxes for ${DOMAIN}`);
    await sw.check();
    check('... and switches hosting on on its page', (await flash('hosts mailboxes now')).includes(`${DOMAIN} hosts mailboxes now`),
        await flash(''));

    await page.goto(`${BASE}/orgs/${ORG}/servers/${SERVER}/mailboxes`);
    await settled();
    const mf = page.locator('section.card', { hasText: 'New mailbox' });
    for (const [address, password] of [[ANN, process.env.PASSWORD_1], [BEN, process.env.PASSWORD_2]]) {
        await mf.getByLabel('Address').fill(address);
        await mf.getByLabel('Password').fill(password);
        await mf.getByRole('button', { name: 'Create mailbox' }).click();
        check(`the mailbox ${address} is created in the web admin`,
            (await flash(`Mailbox ${address} created.`)).includes(`Mailbox ${address} created.`), await flash(''));
        await settled();
    }
    await shoot(page, 'webmail-admin-mailboxes');

    // ---- Roundcube: one fresh browser context (cookies) per person
    // Roundcube moves on by itself after some actions (back to the list after sending): a
    // navigation of ours that lands in one is aborted, and is tried again once it settled.
    const go = async (p, url) => {
        try {
            await p.goto(url);
        } catch (err) {
            if (!/ERR_ABORTED/.test(String(err))) throw err;
            await p.waitForLoadState('load');
            await p.goto(url);
        }
    };
    const webmailAs = async (address, password) => {
        const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'en-US' });
        const p = await context.newPage();
        p.setDefaultTimeout(15000);
        await p.goto(WEBMAIL);
        await p.locator('#rcmloginuser').fill(address);
        await p.locator('#rcmloginpwd').fill(password);
        await p.locator('#rcmloginsubmit').click();
        await p.waitForURL(/_task=mail/);
        return { context, p };
    };
    const send = async (p, to, subject, body) => {
        await go(p, `${WEBMAIL}?_task=mail&_action=compose`);
        await p.locator('#composebody').waitFor();
        await p.locator('#_to').locator('xpath=..').locator('input[type=text]').fill(`${to}, `);
        await p.locator('#compose-subject').fill(subject);
        await p.locator('#composebody').fill(body);
        await p.locator('button.send').click();
        const sent = await p.locator('#messagestack', { hasText: 'Message sent successfully' })
            .waitFor({ timeout: 20000 }).then(() => true, () => false);
        if (!sent) await shoot(p, 'webmail-send-failed');
        return sent;
    };
    // Opens the INBOX message whose subject is exactly subject (reloading until it arrives):
    // the full message view, or null.
    const open = async (p, subject) => {
        for (let i = 0; i < 30; i++) {
            await go(p, `${WEBMAIL}?_task=mail&_mbox=INBOX`);
            const row = p.locator('#messagelist tbody tr', { has: p.locator('span.subject', { hasText: subject }) }).first();
            if (await row.waitFor({ timeout: 2000 }).then(() => true, () => false)) {
                // Roundcube's row id is "rcmrow" + the UID, base64url-encoded without padding.
                const id = (await row.getAttribute('id')).replace(/^rcmrow/, '');
                const uid = /^\d+$/.test(id) ? id : Buffer.from(id.replace(/-/g, '+').replace(/_/g, '/'), 'base64').toString();
                await go(p, `${WEBMAIL}?_task=mail&_mbox=INBOX&_uid=${uid}&_action=show`);
                await p.locator('#messagebody').waitFor();
                return uid;
            }
        }
        return null;
    };

    const ann = await webmailAs(ANN, process.env.PASSWORD_1);
    check(`${ANN} logs into Roundcube with the password set in the web admin`, ann.p.url().includes('_task=mail'), ann.p.url());
    check('... and sends a message to the other mailbox', await send(ann.p, BEN, SUBJECT, BODY),
        await ann.p.locator('#messagestack').textContent().catch(() => ''));

    const ben = await webmailAs(BEN, process.env.PASSWORD_2);
    const uid = await open(ben.p, SUBJECT);
    check(`${BEN} finds it in the inbox`, uid !== null);
    const text = uid ? await ben.p.locator('#messagebody').textContent() : '';
    const from = uid ? await ben.p.locator('#message-header').textContent().catch(() => '') : '';
    check('... reads its text, from the first mailbox', text.includes(BODY) && from.includes(ANN.split('@')[0]), `${from} | ${text}`);
    await shoot(ben.p, 'webmail-read');

    let replied = false;
    if (uid) {
        await go(ben.p, `${WEBMAIL}?_task=mail&_reply_uid=${uid}&_mbox=INBOX&_action=compose`);
        await ben.p.locator('#composebody').waitFor();
        const subj = await ben.p.locator('#compose-subject').inputValue();
        const quoted = await ben.p.locator('#composebody').inputValue();
        await ben.p.locator('#composebody').fill(`${REPLY}\n\n${quoted}`);
        await ben.p.locator('button.send').click();
        replied = subj === `Re: ${SUBJECT}` && await ben.p.locator('#messagestack', { hasText: 'Message sent successfully' })
            .waitFor({ timeout: 20000 }).then(() => true, () => false);
    }
    check('... and replies to it', replied);

    // Settings > Out of office (managesieve plugin, Sieve vacation with start and end dates).
    const day = (offset) => new Date(Date.now() + offset * 86400000).toISOString().slice(0, 10);
    await go(ben.p, `${WEBMAIL}?_task=settings&_action=plugin.managesieve-vacation`);
    await ben.p.locator('#vacation_subject').fill(`Away ${SUBJECT}`);
    await ben.p.locator('#vacation_reason').fill(AWAY);
    // (Escape closes the date picker each field opens.)
    await ben.p.locator('#vacation_datefrom').fill(day(-1));
    await ben.p.keyboard.press('Escape');
    await ben.p.locator('#vacation_dateto').fill(day(7));
    await ben.p.keyboard.press('Escape');
    await ben.p.locator('#vacation_status').selectOption('on');
    await ben.p.getByRole('button', { name: 'Save' }).click();
    check(`${BEN} sets an out-of-office reply with start and end dates in Roundcube`,
        await ben.p.locator('#messagestack', { hasText: 'saved successfully' }).waitFor({ timeout: 20000 }).then(() => true, () => false),
        await ben.p.locator('#messagestack').textContent().catch(() => ''));

    check(`${ANN} writes to him again ...`, await send(ann.p, BEN, `Again ${SUBJECT}`, 'Are you back?'));
    const away = await open(ann.p, `Away ${SUBJECT}`);
    const awayText = away ? await ann.p.locator('#messagebody').textContent() : '';
    check('... and reads his out-of-office reply in her inbox', away !== null && awayText.includes(AWAY), awayText);

    const back = await open(ann.p, `Re: ${SUBJECT}`);
    const replyText = back ? await ann.p.locator('#messagebody').textContent() : '';
    check(`${ANN} reads the reply, with her message quoted`, back !== null && replyText.includes(REPLY) && replyText.includes(BODY), replyText);
    await shoot(ann.p, 'webmail-reply');

    // Settings > Password (the password plugin asks postgate-admin, proven by the current one).
    await go(ann.p, `${WEBMAIL}?_task=settings&_action=plugin.password`);
    await ann.p.locator('#curpasswd').fill(process.env.PASSWORD_1);
    await ann.p.locator('#newpasswd').fill(process.env.NEW_PASSWORD_1);
    await ann.p.locator('#confpasswd').fill(process.env.NEW_PASSWORD_1);
    await ann.p.getByRole('button', { name: 'Save' }).click();
    check(`${ANN} changes her password in Roundcube's settings`, await ann.p.locator('#messagestack', { hasText: 'Successfully saved' })
        .waitFor({ timeout: 20000 }).then(() => true, () => false), await ann.p.locator('#messagestack').textContent().catch(() => ''));
    await ann.context.close();
    await ben.context.close();

    check('no console error, page error or CSP violation in the web admin', problems.length === 0, problems.join(' | '));
    console.log('DONE');
} catch (err) {
    check('the scenario ran to its end', false, err.stack || err);
} finally {
    await browser.close();
}
