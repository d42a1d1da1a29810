// portal.test.mjs: the sponsor portal in a real browser (Debian's chromium): a sponsor logs
// in on a 360-pixel phone in Arabic and lands on the portal, opens their child (the consented
// photo shows), is refused a blank letter beside the field and sends a real one; staff approve
// it and make, approve and print a progress report; the sponsor then reads the portal in
// English on a desktop. Every page has the language's direction and never scrolls sideways
// on the phone; screenshots go to SANAD_SCREENSHOTS.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { apiClient, launch, loginPage, logoutPage, scrollsSideways, shot, startServer } from './lib.mjs';

const PHONE = { width: 360, height: 740 };
const DESKTOP = { width: 1280, height: 900 };

let srv;
let browser;
let phone;
let desk;
const S = {};

/** A 1x1 PNG. */
const PNG = Buffer.from('89504e470d0a1a0a0000000d4948445200000001000000010802000000907753de0000000c4944415478'
    + '9c63606060000000040001f61738550000000049454e44ae426082', 'hex');

before(async () => {
    srv = await startServer();
    const cwUser = srv.addUser('main', 'cw', 'case_worker', undefined, 'رنا الخطيب');
    S.officer = srv.addUser('main', 'officer', 'sponsorship_officer', undefined, 'عمر المصري');
    S.donor = srv.addUser('main', 'kafil', 'donor', undefined, 'أبو أحمد');
    const cw = await apiClient(srv, 'main', 'cw', cwUser.password);
    let r = await cw.post('/api/v1/children', {
        json: {
            first_name: 'ليلى', first_name_latin: 'Layla', father_name: 'خالد', family_name: 'الأحمد',
            sex: 'F', birth_date: '2015-09-14', orphan_status: 'father_deceased', governorate: 'حلب',
            school_grade: 'الخامس', health_conditions: 'ربو', camp: 'مخيم الأمل',
        },
    });
    assert.equal(r.status, 201, r.text);
    S.child = r.json;
    const fd = new FormData();
    fd.append('kind', 'photo');
    fd.append('file', new Blob([PNG], { type: 'image/png' }), 'layla.png');
    r = await cw.post(`/api/v1/children/${S.child.id}/documents`, { body: fd });
    assert.equal(r.status, 201, r.text);
    S.photo = r.json.id;
    r = await cw.post(`/api/v1/children/${S.child.id}/consents`, {
        json: { scope: 'sponsor_media', guardian_consent: true, child_assent: true, given_by: 'الأم' },
    });
    assert.equal(r.status, 201, r.text);
    // The donor record, its portal login and the agreement, through the sponsors' API.
    const off = await apiClient(srv, 'main', 'officer', S.officer.password);
    r = await off.post('/api/v1/donors', { json: { kind: 'person', name: 'أبو أحمد', email: 'k@example.org', contact_consent: true } });
    assert.equal(r.status, 201, r.text);
    const donorId = r.json.id;
    r = await off.post(`/api/v1/donors/${donorId}/user`, { json: { user_id: S.donor.id } });
    assert.equal(r.status, 204, r.text);
    r = await off.post('/api/v1/sponsorships', {
        json: {
            child_id: S.child.id, donor_id: donorId, amount: '50.00', currency: 'USD', frequency: 'monthly',
            start_date: '2026-01-01', status: 'active',
        },
    });
    assert.equal(r.status, 201, r.text);
    browser = await launch();
    phone = await (await browser.newContext({ viewport: PHONE, locale: 'ar' })).newPage();
    desk = await (await browser.newContext({ viewport: DESKTOP, locale: 'en' })).newPage();
});

after(async () => {
    if (browser) {
        await browser.close();
    }
    if (srv) {
        await srv.close();
    }
});

/** Asserts page's language and direction and, on the phone, no sideways scrolling. */
async function checkLayout(page, what, lang, dir) {
    const got = await page.evaluate(() => [document.documentElement.lang, document.documentElement.dir]);
    assert.deepEqual(got, [lang, dir], what);
    assert.equal(await scrollsSideways(page), false, `${what} scrolls sideways`);
}

/** Clicks selector and waits for the next page. */
async function submit(page, selector) {
    await Promise.all([page.waitForNavigation(), page.click(selector)]);
}

test('in Arabic on a phone: the sponsor lands on the portal, sees the child and writes a letter', async () => {
    await loginPage(phone, srv.url, 'main', S.donor.username, S.donor.password);
    assert.equal(new URL(phone.url()).pathname, '/portal');
    await checkLayout(phone, 'the portal home', 'ar', 'rtl');
    assert.match(await phone.textContent('main'), /ليلى/);
    assert.doesNotMatch(await phone.textContent('body'), /ربو|مخيم الأمل/);
    await shot(phone, 'portal-ar-phone-home');
    await submit(phone, `main a[href="/portal/children/${S.child.id}"] >> nth=0`);
    await checkLayout(phone, 'the child page', 'ar', 'rtl');
    const w = await phone.evaluate(() => document.querySelector('main img')?.naturalWidth || 0);
    assert.equal(w, 1, 'the consented photo is shown');
    await shot(phone, 'portal-ar-phone-child');
    await submit(phone, `a[href="/portal/letters/new?child=${S.child.id}"]`);
    await checkLayout(phone, 'the letter form', 'ar', 'rtl');
    await phone.fill('#body', '   ');
    await submit(phone, 'form[action="/portal/letters/new"] button[type=submit]');
    assert.ok(await phone.isVisible('#body-error'), 'the blank letter is refused beside the field');
    await phone.fill('#body', 'عزيزتي ليلى، نتمنى لك سنة دراسية موفقة');
    await shot(phone, 'portal-ar-phone-letter');
    await submit(phone, 'form[action="/portal/letters/new"] button[type=submit]');
    assert.equal(new URL(phone.url()).pathname, '/portal');
    assert.ok(await phone.isVisible('.flash-ok'));
    await checkLayout(phone, 'the portal after the letter', 'ar', 'rtl');
    await logoutPage(phone);
});

test('in Arabic on a phone: staff approve the letter and make, approve and print a report', async () => {
    await loginPage(phone, srv.url, 'main', S.officer.username, S.officer.password);
    await phone.goto(srv.url + '/sponsorship/letters');
    await checkLayout(phone, 'the letters queue', 'ar', 'rtl');
    await shot(phone, 'portal-ar-phone-letters');
    await submit(phone, 'button[name=action][value=approve]');
    assert.ok(await phone.isVisible('button[name=action][value=deliver]'));
    await phone.goto(srv.url + `/sponsorship/reports/new?child=${S.child.id}`);
    await checkLayout(phone, 'the report form', 'ar', 'rtl');
    await phone.fill('#period', '2026-H1');
    await phone.fill('#note', 'تتقدم ليلى في القراءة');
    await phone.fill('#note_en', 'Layla is making progress in reading');
    await phone.selectOption('#photo_doc', S.photo);
    await submit(phone, 'form[action="/sponsorship/reports/new"] button[type=submit]');
    assert.match(new URL(phone.url()).pathname, /^\/sponsorship\/reports\/[0-9a-f-]{36}$/);
    // The draft is changed through its form (the period stays), then approved.
    await submit(phone, 'a[href$="/edit"]');
    await checkLayout(phone, 'the draft form', 'ar', 'rtl');
    assert.equal(await phone.isVisible('#period'), false, 'the period is fixed');
    await phone.fill('#school_results', 'ممتاز في العربية');
    await submit(phone, 'form[action$="/edit"] button[type=submit]');
    assert.match(await phone.textContent('main'), /ممتاز في العربية/);
    await submit(phone, 'form[action$="/approve"] button');
    await checkLayout(phone, 'the report page', 'ar', 'rtl');
    const english = await phone.getAttribute('.pt-report[lang=en]', 'dir');
    assert.equal(english, 'ltr', 'the English half reads left to right');
    assert.match(await phone.textContent('.pt-report[lang=en]'), /First name\s*Layla/);
    assert.match(await phone.textContent('.pt-report[lang=ar]'), /الاسم\s*ليلى/);
    await shot(phone, 'portal-ar-phone-report');
    await logoutPage(phone);
});

test('in English on a desktop: the sponsor reads the portal left to right', async () => {
    await loginPage(desk, srv.url, 'main', S.donor.username, S.donor.password);
    await submit(desk, 'form.lang-form button');
    await desk.goto(srv.url + '/portal');
    await checkLayout(desk, 'the portal home in English', 'en', 'ltr');
    assert.match(await desk.textContent('main'), /Layla/);
    assert.match(await desk.textContent('main'), /Layla is making progress/);
    await shot(desk, 'portal-en-desktop-home');
    await desk.goto(srv.url + `/portal/children/${S.child.id}`);
    await checkLayout(desk, 'the child page in English', 'en', 'ltr');
    assert.match(await desk.textContent('main'), /2026-H1/);
    await shot(desk, 'portal-en-desktop-child');
    await desk.goto(srv.url + '/portal/giving');
    await checkLayout(desk, 'the giving page in English', 'en', 'ltr');
    assert.match(await desk.textContent('main table'), /Layla/, 'the Latin first name in English');
    await shot(desk, 'portal-en-desktop-giving');
    // The same English pages on a phone do not scroll sideways either.
    await desk.setViewportSize(PHONE);
    for (const p of ['/portal', `/portal/children/${S.child.id}`, '/portal/giving', '/portal/letters/new']) {
        await desk.goto(srv.url + p);
        await checkLayout(desk, `${p} in English on a phone`, 'en', 'ltr');
    }
    await shot(desk, 'portal-en-phone-letter');
});
