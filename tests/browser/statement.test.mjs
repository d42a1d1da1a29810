// statement.test.mjs: the receipt, the statement and the annual statement in a real browser
// (Debian's chromium) as the donor sees them, in Arabic and English, on a 360-pixel phone and on
// a desktop: nothing scrolls sideways but the tables' own wrappers, both languages are on the
// receipt, and the receipt prints on one A4 page. Screenshots go to SANAD_SCREENSHOTS.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { launch, loginPage, scrollsSideways, shot, startServer } from './lib.mjs';
import { seedStatement } from '../e2e/statement_data.mjs';

let srv;
let browser;
let S;

before(async () => {
    srv = await startServer();
    S = await seedStatement(srv);
    browser = await launch();
});

after(async () => {
    if (browser) {
        await browser.close();
    }
    if (srv) {
        await srv.close();
    }
});

/** The donor's page at path in lang ("ar" or "en") and width. */
async function donorPage(width, lang) {
    const context = await browser.newContext({ viewport: { width, height: 800 }, locale: 'ar' });
    const page = await context.newPage();
    await loginPage(page, srv.url, 'main', 'donor1', S.d1User.password);
    await page.goto(srv.url + '/sponsorship/donors/me/annual/2025');
    // The language is the account's: switch only when it is not the one wanted.
    if ((await page.evaluate(() => document.documentElement.lang)) !== lang) {
        await Promise.all([page.waitForNavigation(), page.click('form.lang-form button')]);
    }
    return { context, page };
}

for (const lang of ['ar', 'en']) {
    test(`the donor's receipt and statements in ${lang}, phone and desktop`, async () => {
        for (const width of [360, 1280]) {
            const { context, page } = await donorPage(width, lang);
            assert.equal(await page.evaluate(() => document.documentElement.lang), lang);
            const pages = [['receipt', `/sponsorship/receipts/${S.receipt}`],
                ['statement', '/sponsorship/donors/me/statement?from=2025-01-01&to=2025-02-28'],
                ['annual', '/sponsorship/donors/me/annual/2025']];
            for (const [name, path] of pages) {
                const r = await page.goto(srv.url + path);
                assert.equal(r.status(), 200, name);
                assert.equal(await scrollsSideways(page), false, `${name} scrolls sideways at ${width}`);
                await shot(page, `statement-${name}-${lang}-${width}`);
            }
            // Both languages on the receipt, whatever the page's language.
            await page.goto(srv.url + `/sponsorship/receipts/${S.receipt}`);
            const text = await page.textContent('main');
            assert.ok(text.includes('إيصال تبرع') && text.includes('Donation receipt'));
            if (width === 1280) {
                // Printed: one A4 page (print CSS hides the navigation and the buttons).
                await page.emulateMedia({ media: 'print' });
                const pdf = await page.pdf({ format: 'A4', preferCSSPageSize: true });
                const pages = (pdf.toString('latin1').match(/\/Type\s*\/Page[^s]/g) || []).length;
                assert.equal(pages, 1, 'the receipt prints on one page');
            }
            await context.close();
        }
    });
}
