// finance.test.mjs: the finance pages in a real browser (Debian's chromium) on a 360-pixel
// phone, in Arabic and then English: a finance officer fills the manual entry form with
// JavaScript off (a wrong amount is refused next to its line, then the entry posts), reverses
// it, and every finance page is right-to-left in Arabic and does not scroll sideways (wide
// tables scroll inside their wrapper). Each page is photographed.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { apiClient, launch, loginPage, scrollsSideways, shot, startServer } from './lib.mjs';

const PHONE = { width: 360, height: 740 };
const TODAY = new Date().toISOString().slice(0, 10);
const PAGES = ['/finance', '/finance/journal', '/finance/trial-balance', '/finance/balance-sheet',
    '/finance/income-statement', '/finance/periods', '/finance/rates', '/finance/entries/new'];

let srv;
let browser;
let page;
let fin;

before(async () => {
    srv = await startServer();
    fin = srv.addUser('main', 'huda', 'finance_officer', undefined, 'هدى المحاسبة');
    const api = await apiClient(srv, 'main', 'huda', fin.password);
    let r = await api.post('/api/v1/finance/rates', { json: { currency: 'JOD', day: TODAY, rate: '1.41' } });
    assert.equal(r.status, 201, r.text);
    const entries = [
        { memo: 'رصيد افتتاحي للصندوق', lines: [
            { account: '1000', currency: 'USD', debit: '1250.00' },
            { account: '3000', currency: 'USD', credit: '1250.00' }] },
        { memo: 'كفالة تعليمية بالدينار', lines: [
            { account: '1010', fund: 'sponsorship', currency: 'JOD', debit: '35.000' },
            { account: '4000', fund: 'education', currency: 'JOD', credit: '35.000' }] },
    ];
    for (const e of entries) {
        r = await api.post('/api/v1/finance/entries', { json: { date: TODAY, ...e } });
        assert.equal(r.status, 201, r.text);
    }
    browser = await launch();
    const context = await browser.newContext({ viewport: PHONE, locale: 'ar', javaScriptEnabled: false });
    page = await context.newPage();
});

after(async () => {
    await browser?.close();
    await srv?.close();
});

test('a manual entry through the form, without JavaScript, on a phone', async () => {
    await loginPage(page, srv.url, 'main', 'huda', fin.password);
    await page.goto(srv.url + '/finance/entries/new');
    assert.equal(await page.getAttribute('html', 'dir'), 'rtl');
    await page.fill('#n-memo', 'تبرع نقدي');
    await page.selectOption('#account-0', '1000');
    await page.fill('#debit-0', '20.005');
    await page.selectOption('#account-1', '4900');
    await page.fill('#credit-1', '20.00');
    await Promise.all([page.waitForLoadState('load'), page.click('button:not([name]):has-text("ترحيل القيد")')]);
    assert.ok(await page.isVisible('#row-0-error'));
    await shot(page, 'finance-form-error');
    await page.fill('#debit-0', '20.00');
    await Promise.all([page.waitForURL(/\/finance\/entries\/[0-9a-f-]{36}/),
        page.click('button:not([name]):has-text("ترحيل القيد")')]);
    assert.match(await page.textContent('body'), /رُحِّل القيد/);
    assert.equal(await scrollsSideways(page), false);
    await shot(page, 'finance-entry');
    await Promise.all([page.waitForURL(/ok=flash.fin_reversed/), page.click('form[action$="/reverse"] button')]);
    assert.match(await page.textContent('main'), /القيد الأصلي/);
});

test('every finance page is RTL and fits a 360-pixel phone, in Arabic and English', async () => {
    for (const path of PAGES) {
        await page.goto(srv.url + path);
        assert.equal(await page.getAttribute('html', 'dir'), 'rtl', path);
        assert.equal(await scrollsSideways(page), false, `${path} scrolls sideways`);
        await shot(page, 'finance-ar' + path.replaceAll('/', '-'));
    }
    await Promise.all([page.waitForLoadState('load'), page.click('form.lang-form button')]);
    for (const path of ['/finance', '/finance/trial-balance', '/finance/balance-sheet']) {
        await page.goto(srv.url + path);
        assert.equal(await page.getAttribute('html', 'dir'), 'ltr', path);
        assert.equal(await scrollsSideways(page), false, `${path} scrolls sideways`);
        await shot(page, 'finance-en' + path.replaceAll('/', '-'));
    }
});
