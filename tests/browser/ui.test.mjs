// ui.test.mjs: the pages in a real browser (Debian's chromium), in Arabic
// and English, at phone and desktop widths: logging in, switching language,
// the admin's second factor, inviting a user and managing them, and the
// pages without JavaScript. Screenshots go to SANAD_SCREENSHOTS.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import {
    freshTotp, launch, loginPage, logoutPage, scrollsSideways, shot, startServer, strongPassword,
} from './lib.mjs';

let srv;
let browser;
let admin; // {context, page} of the admin, 360 px wide
const S = {};
const PHONE = { width: 360, height: 740 };
const DESKTOP = { width: 1280, height: 800 };

before(async () => {
    srv = await startServer();
    S.sup = srv.addUser('main', 'sup', 'supervisor', undefined, 'المشرفة سلمى');
    browser = await launch();
});

after(async () => {
    if (browser) {
        await browser.close();
    }
    if (srv) {
        await srv.stop();
        srv.cleanup();
    }
});

/** A new context and page; the page accepts confirm() dialogs. */
async function newPage(viewport = PHONE, opts = {}) {
    // An Arabic-speaking visitor's browser; the default Accept-Language would be en-US.
    const context = await browser.newContext({ viewport, locale: 'ar', ...opts });
    const page = await context.newPage();
    page.on('dialog', (d) => d.accept());
    return { context, page };
}

/** The <html> element's lang and dir. */
async function langDir(page) {
    return page.evaluate(() => [document.documentElement.lang, document.documentElement.dir]);
}

test('the login page is Arabic and right-to-left, fits 360 px, and is shot at two widths', async () => {
    const { context, page } = await newPage(PHONE);
    await page.goto(srv.url + '/login');
    assert.deepEqual(await langDir(page), ['ar', 'rtl']);
    assert.equal(await scrollsSideways(page), false);
    await shot(page, 'login-ar-360');
    await page.setViewportSize(DESKTOP);
    await shot(page, 'login-ar-1280');
    await context.close();
});

test('a wrong password shows the error on the login page', async () => {
    const { context, page } = await newPage(PHONE);
    await loginPage(page, srv.url, 'main', 'admin', 'not the password at all');
    assert.match(page.url(), /\/login/);
    assert.ok(await page.isVisible('#login-error'));
    assert.deepEqual(await langDir(page), ['ar', 'rtl']);
    await shot(page, 'login-error-ar-360');
    await context.close();
});

test('the admin logs in in Arabic and enrols the second factor through the page', async () => {
    admin = await newPage(PHONE);
    const { page } = admin;
    await loginPage(page, srv.url, 'main', 'admin', srv.adminPassword);
    assert.match(page.url(), /\/account\/totp$/);
    assert.deepEqual(await langDir(page), ['ar', 'rtl']);
    await shot(page, 'totp-required-ar-360');
    await Promise.all([page.waitForLoadState('load'), page.click('form[action="/account/totp/start"] button')]);
    const secret = (await page.textContent('code.secret')).replace(/\s/g, '');
    assert.match(secret, /^[A-Z2-7]{16,}$/);
    assert.ok(await page.isVisible('p.qr img'));
    assert.equal(await scrollsSideways(page), false);
    await shot(page, 'totp-secret-ar-360');
    S.totp = { secret, last: -1 };
    await page.fill('#code', await freshTotp(S.totp));
    await Promise.all([page.waitForURL(/\/account/), page.click('form[action="/account/totp/confirm"] button')]);
    await page.goto(srv.url + '/');
    assert.equal(new URL(page.url()).pathname, '/');
    await shot(page, 'dashboard-ar-360');
    await page.setViewportSize(DESKTOP);
    await shot(page, 'dashboard-ar-1280');
    await page.setViewportSize(PHONE);
});

test('the header button switches to English; the choice is kept for the user across logins', async () => {
    const { page } = admin;
    await Promise.all([page.waitForLoadState('load'), page.click('form.lang-form button')]);
    assert.deepEqual(await langDir(page), ['en', 'ltr']);
    assert.equal(new URL(page.url()).pathname, '/');
    await shot(page, 'dashboard-en-360');
    await logoutPage(page);
    // A fresh browser context has no language cookie: the account remembers.
    const fresh = await newPage(PHONE);
    await loginPage(fresh.page, srv.url, 'main', 'admin', srv.adminPassword);
    assert.match(fresh.page.url(), /\/login\/mfa/);
    await fresh.page.fill('#code', await freshTotp(S.totp));
    await Promise.all([fresh.page.waitForLoadState('load'), fresh.page.click('form[action="/login/mfa"] button')]);
    assert.equal(new URL(fresh.page.url()).pathname, '/');
    assert.deepEqual(await langDir(fresh.page), ['en', 'ltr']);
    await admin.context.close();
    admin = fresh;
});

test('the admin invites a user on the users page; the invitee sets a password and logs in', async () => {
    const { page } = admin;
    await page.goto(srv.url + '/users');
    await page.fill('#display_name', 'Huda Invited');
    await page.fill('#username', 'huda');
    await page.selectOption('#role', 'case_worker');
    await page.selectOption('#lang', 'ar');
    await Promise.all([page.waitForLoadState('load'), page.click('form[action="/users"] button[type=submit]')]);
    const link = (await page.textContent('section[role=status] code.secret')).trim();
    assert.match(link, /^http:\/\/127\.0\.0\.1:\d+\/invite\/[A-Za-z0-9_-]+$/);
    assert.equal(await scrollsSideways(page), false, 'the invite link does not widen the page');
    await shot(page, 'users-invited-en-360');

    const guest = await newPage(PHONE);
    await guest.page.goto(link);
    assert.deepEqual(await langDir(guest.page), ['ar', 'rtl']);
    await shot(guest.page, 'invite-ar-360');
    S.hudaPw = strongPassword();
    await guest.page.fill('#password', S.hudaPw);
    await guest.page.fill('#password_again', S.hudaPw);
    await Promise.all([guest.page.waitForURL(/\/login/), guest.page.click('form[action^="/invite/"] button[type=submit]')]);
    await loginPage(guest.page, srv.url, 'main', 'huda', S.hudaPw);
    assert.equal(new URL(guest.page.url()).pathname, '/');
    assert.match(await guest.page.textContent('.user-name'), /Huda Invited/);
    await guest.context.close();
});

test('the admin changes the invitee\'s role and deactivates them on the user page', async () => {
    const { page } = admin;
    await page.goto(srv.url + '/users');
    await Promise.all([page.waitForLoadState('load'), page.click('a:text("Huda Invited")')]);
    assert.match(page.url(), /\/users\/[0-9a-f-]{36}$/);
    S.hudaUrl = page.url();
    await shot(page, 'user-en-360');
    await page.selectOption('#role', 'supervisor');
    await Promise.all([page.waitForURL(/ok=flash\.saved/), page.click('form[action$="/role"] button')]);
    assert.equal(await page.inputValue('#role'), 'supervisor');
    await Promise.all([page.waitForURL(/ok=flash\.saved/), page.click('form[action$="/active"] button')]);
    assert.equal(await page.inputValue('form[action$="/active"] input[name=active]'), '1', 'now offers to activate');
    await shot(page, 'user-deactivated-en-360');
    const guest = await newPage(PHONE);
    await loginPage(guest.page, srv.url, 'main', 'huda', S.hudaPw);
    assert.match(guest.page.url(), /\/login/, 'a deactivated user cannot log in');
    await guest.context.close();
});

test('every main page fits 360 px and is shot in both languages', async () => {
    const { page } = admin;
    const pages = ['/', '/account', '/account/totp', '/users', '/tokens', '/audit'];
    for (const lang of ['en', 'ar']) {
        await page.goto(srv.url + '/');
        const [current] = await langDir(page);
        if (current !== lang) {
            await Promise.all([page.waitForLoadState('load'), page.click('form.lang-form button')]);
        }
        assert.equal((await langDir(page))[0], lang);
        for (const path of [...pages, new URL(S.hudaUrl).pathname]) {
            const r = await page.goto(srv.url + path);
            assert.equal(r.status(), 200, path);
            assert.deepEqual(await langDir(page), [lang, lang === 'ar' ? 'rtl' : 'ltr']);
            assert.equal(await scrollsSideways(page), false, `${path} (${lang}) scrolls sideways at 360 px`);
            const name = path === '/' ? 'dashboard' : path.slice(1).replace(/\//g, '-').replace(/users-[0-9a-f-]{36}/, 'user');
            await shot(page, `page-${name}-${lang}-360`);
        }
        await page.setViewportSize(DESKTOP);
        await page.goto(srv.url + '/users');
        await shot(page, `page-users-${lang}-1280`);
        await page.setViewportSize(PHONE);
    }
});

test('without JavaScript the login form and the users page work', async () => {
    const { context, page } = await newPage(PHONE, { javaScriptEnabled: false });
    await loginPage(page, srv.url, 'main', 'sup', S.sup.password);
    assert.equal(new URL(page.url()).pathname, '/');
    await page.goto(srv.url + '/users');
    const rows = await page.$$eval('table tbody tr', (trs) => trs.map((tr) => tr.textContent));
    assert.ok(rows.some((t) => t.includes('huda')), rows.join('|'));
    assert.ok(rows.some((t) => t.includes('admin')));
    assert.equal(await page.$('form[action="/users"]'), null, 'a supervisor gets no invite form');
    assert.equal(await scrollsSideways(page), false);
    await shot(page, 'users-nojs-ar-360');
    await Promise.all([page.waitForLoadState('load'), page.click('form.lang-form button')]);
    assert.deepEqual(await langDir(page), ['en', 'ltr']);
    await context.close();
});

test('the server stops cleanly', async () => {
    await admin.context.close();
    const { code, signal } = await srv.stop();
    assert.equal(code, 0, `exit ${code ?? signal}; stderr tail:\n${srv.stderrTail()}`);
});
