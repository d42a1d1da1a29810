// registry.test.mjs: the children's registry in a real browser (Debian's
// chromium), Arabic first and then English, on a 360-pixel phone: a case
// worker registers a child through the form, finds the child in the list by
// another spelling of the name (typed into the live filter), starts
// registering the same child again and sees the possible duplicate before
// saving, marks it as a different child and saves. Screenshots of the list,
// the profile and the duplicate warning in both languages go to SANAD_SCREENSHOTS.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { launch, loginPage, scrollsSideways, shot, startServer } from './lib.mjs';

const PHONE = { width: 360, height: 740 };

let srv;
let browser;
let worker; // the case worker's account
let context;
let page;
let childPath = ''; // /children/{id} of the child registered first
let fileNo = '';

before(async () => {
    srv = await startServer();
    worker = srv.addUser('main', 'amal', 'case_worker', undefined, 'أمل الحسيني');
    browser = await launch();
    context = await browser.newContext({ viewport: PHONE, locale: 'ar' });
    page = await context.newPage();
    page.on('dialog', (d) => d.accept());
});

after(async () => {
    if (browser) {
        await browser.close();
    }
    if (srv) {
        await srv.close();
    }
});

/** The <html> element's lang and dir. */
async function langDir() {
    return page.evaluate(() => [document.documentElement.lang, document.documentElement.dir]);
}

/** Fills the registration form with the child's essentials. */
async function fillChild({ first, father, grandfather, family, sex, born, orphan }) {
    await page.fill('#f-first_name', first);
    await page.fill('#f-father_name', father);
    await page.fill('#f-grandfather_name', grandfather);
    await page.fill('#f-family_name', family);
    await page.selectOption('#f-sex', sex);
    await page.fill('#f-birth_date', born);
    await page.selectOption('#f-orphan_status', orphan);
}

/** Submits the registration form and waits for the next page. */
async function submitForm() {
    await Promise.all([page.waitForLoadState('load'), page.click('form[action="/children"] button[type=submit]')]);
}

/** Switches the page's language with the header's button. */
async function switchLanguage(to) {
    if ((await langDir())[0] !== to) {
        await Promise.all([page.waitForLoadState('load'), page.click('form.lang-form button')]);
    }
    assert.equal((await langDir())[0], to);
}

test('a case worker registers a child in Arabic through the form', async () => {
    await loginPage(page, srv.url, 'main', worker.username, worker.password);
    await page.goto(srv.url + '/children/new');
    assert.deepEqual(await langDir(), ['ar', 'rtl']);
    assert.equal(await scrollsSideways(page), false);
    // Bad input first: the message stands next to the field, tied to it for screen readers.
    await submitForm();
    assert.ok(await page.isVisible('#f-first_name-error'));
    assert.equal(await page.getAttribute('#f-first_name', 'aria-describedby'), 'f-first_name-error');
    assert.equal(await page.getAttribute('#f-first_name', 'aria-invalid'), 'true');
    await fillChild({
        first: 'عبدالله', father: 'يوسف', grandfather: 'إبراهيم', family: 'الكردي',
        sex: 'M', born: '2016-05-10', orphan: 'father_deceased',
    });
    await page.check('input[name="needs"][value="school_fees"]');
    await submitForm();
    assert.match(page.url(), /\/children\/[0-9a-f-]{36}\?ok=flash\.child_created$/);
    childPath = new URL(page.url()).pathname;
    assert.match(await page.textContent('main h1'), /عبدالله يوسف إبراهيم الكردي/);
    fileNo = (await page.textContent('.child-meta .ltr')).trim();
    assert.match(fileNo, /^MAIN-\d{4}-\d+$/);
    assert.ok(await page.isVisible('.flash-ok'));
    assert.match(await page.textContent('.tab-panel'), /رسوم مدرسية/); // the need, by its label
    assert.deepEqual(await langDir(), ['ar', 'rtl']);
    assert.equal(await scrollsSideways(page), false);
    await shot(page, 'registry-profile-ar-360');
    // The tabs work without JavaScript: each is a link that renders its section.
    await Promise.all([page.waitForLoadState('load'), page.click('nav.tabs a[href$="tab=history"]')]);
    assert.equal(await page.getAttribute('nav.tabs a[href$="tab=history"]', 'aria-current'), 'page');
    assert.match(await page.textContent('.tab-panel'), /مسجَّل/);
});

test('the child is found by another spelling typed into the live filter', async () => {
    await page.goto(srv.url + '/children');
    assert.deepEqual(await langDir(), ['ar', 'rtl']);
    // The form submits itself after typing stops (app.js); the result is an ordinary GET.
    await Promise.all([page.waitForURL(/[?&]q=/), page.fill('#q', 'عبد الله الكردى')]);
    await page.waitForLoadState('load');
    const rows = await page.locator('table.child-list tbody tr').allTextContents();
    assert.ok(rows.some((r) => r.includes(fileNo) && r.includes('عبدالله يوسف')),
        `rows: ${rows.join(' | ')}`);
    assert.match(await page.textContent('#results-count'), /1/);
    assert.equal(await scrollsSideways(page), false);
    await shot(page, 'registry-list-ar-360');
    // The row links to the profile; the export links keep the search.
    assert.equal(await page.getAttribute(`table.child-list a:text("${fileNo}")`, 'href'), childPath);
    assert.match(await page.getAttribute('.export-links a >> nth=0', 'href'), /^\/children\/export\?format=csv&q=/);
});

test('registering the same child again shows the possible duplicate before saving', async () => {
    await page.goto(srv.url + '/children/new');
    await fillChild({
        first: 'عبد الله', father: 'يوسف', grandfather: 'ابراهيم', family: 'الكردي',
        sex: 'M', born: '2016-09-01', orphan: 'father_deceased',
    });
    await submitForm();
    assert.match(page.url(), /\/children$/); // not saved: the form is shown again
    assert.ok(await page.isVisible('#duplicates'));
    const warning = await page.textContent('#duplicates');
    assert.ok(warning.includes(fileNo), warning);
    assert.ok(warning.includes('عبدالله يوسف إبراهيم الكردي'), warning);
    // "Same child" opens the existing record.
    assert.equal(await page.getAttribute('#duplicates a.button', 'href'), childPath);
    // The typed values are kept.
    assert.equal(await page.inputValue('#f-first_name'), 'عبد الله');
    assert.deepEqual(await langDir(), ['ar', 'rtl']);
    assert.equal(await scrollsSideways(page), false);
    await shot(page, 'registry-duplicate-ar-360');
    // "Different child", then save: the new child is registered.
    await page.check('input[name="different_from"]');
    await submitForm();
    assert.match(page.url(), /\/children\/[0-9a-f-]{36}\?ok=flash\.child_created$/);
    assert.notEqual(new URL(page.url()).pathname, childPath);
});

test('the list, the profile and the duplicate warning in English, left to right', async () => {
    await page.goto(srv.url + '/children');
    await switchLanguage('en');
    assert.deepEqual(await langDir(), ['en', 'ltr']);
    await page.goto(srv.url + '/children?q=' + encodeURIComponent('عبدالله'));
    assert.match(await page.textContent('#results-count'), /2 children/);
    assert.equal(await scrollsSideways(page), false);
    await shot(page, 'registry-list-en-360');
    await page.goto(srv.url + childPath);
    assert.match(await page.textContent('.tab-panel'), /School fees/);
    assert.equal(await scrollsSideways(page), false);
    await shot(page, 'registry-profile-en-360');
    await page.goto(srv.url + '/children/new');
    await fillChild({
        first: 'عبدالله', father: 'يوسف', grandfather: 'إبراهيم', family: 'الكردى',
        sex: 'M', born: '2016-05-10', orphan: 'father_deceased',
    });
    await submitForm();
    assert.ok(await page.isVisible('#duplicates'));
    assert.match(await page.textContent('#duplicates h2'), /may be registered already/);
    assert.equal(await scrollsSideways(page), false);
    await shot(page, 'registry-duplicate-en-360');
    await switchLanguage('ar'); // leave the account as it was
});
