// cases.test.mjs: a case walked from assessment to closure in Arabic through the pages, in a
// real browser (Debian's chromium) on a 360-pixel phone: the case worker opens the case by
// the child's file number, fills the assessment and submits it; the supervisor approves; the
// worker writes the plan and submits it; the supervisor approves; the worker moves the case to
// follow-up and requests closure; the supervisor approves the closure. Every page is
// right-to-left and does not scroll sideways; the case page is photographed at each stage.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { apiClient, launch, loginPage, logoutPage, scrollsSideways, shot, startServer } from './lib.mjs';

const PHONE = { width: 360, height: 740 };

let srv;
let browser;
let page;
let worker;
let supervisor;
let child;
let casePath = '';
let served = true;

before(async () => {
    srv = await startServer();
    worker = srv.addUser('main', 'rana', 'case_worker', undefined, 'رنا الخطيب');
    supervisor = srv.addUser('main', 'omar', 'supervisor', undefined, 'عمر المصري');
    const api = await apiClient(srv, 'main', 'rana', worker.password);
    const r = await api.post('/api/v1/children', {
        json: {
            first_name: 'يوسف', father_name: 'خالد', grandfather_name: 'محمود', family_name: 'الأحمد',
            mother_name: 'مريم سعيد', sex: 'M', birth_date: '2012-09-14', birth_place: 'درعا',
            orphan_status: 'father_deceased',
        },
    });
    assert.equal(r.status, 201, r.text);
    child = r.json;
    served = (await api.get('/cases')).status !== 404;
    browser = await launch();
    const context = await browser.newContext({ viewport: PHONE, locale: 'ar' });
    page = await context.newPage();
});

after(async () => {
    if (browser) {
        await browser.close();
    }
    if (srv) {
        await srv.close();
    }
});

/** The case pages must be served: a 404 at start is a failure, not a skip. */
function needPages() {
    assert.ok(served, 'GET /cases answers 404: the case pages are not served');
    return true;
}

/** Asserts the page is Arabic, right to left, and does not scroll sideways. */
async function checkLayout(what) {
    const [lang, dir] = await page.evaluate(() => [document.documentElement.lang, document.documentElement.dir]);
    assert.deepEqual([lang, dir], ['ar', 'rtl'], what);
    assert.equal(await scrollsSideways(page), false, `${what} scrolls sideways at 360 px`);
}

/** Clicks the submit button matching selector and waits for the next page. */
async function submit(selector) {
    await Promise.all([page.waitForLoadState('load'), page.waitForNavigation(), page.click(selector)]);
}

/** Opens the case page, checks it and photographs it as cases-<name>. */
async function caseShot(name) {
    await page.goto(srv.url + casePath);
    await checkLayout(`the case page (${name})`);
    await shot(page, `cases-${name}`);
}

/** Logs the current user out and logs user in. */
async function loginAs(user) {
    if (await page.isVisible('form[action="/logout"] button')) {
        await logoutPage(page);
    }
    await loginPage(page, srv.url, 'main', user.username, user.password);
}

test('the worker opens a case by file number and fills the assessment in Arabic', async (t) => {
    if (!needPages(t)) {
        return;
    }
    await loginAs(worker);
    await page.goto(srv.url + '/cases');
    await checkLayout('the case list');
    await page.goto(srv.url + '/cases/new');
    await checkLayout('the new case form');
    await page.fill('#f-file_no', child.file_no);
    await submit('form[action="/cases"] button[type=submit]');
    casePath = new URL(page.url()).pathname;
    assert.match(casePath, /^\/cases\/[0-9a-f-]{36}$/);
    await caseShot('1-opened');
    assert.ok(await page.isVisible('.case-stages [aria-current="step"]'));
    await page.click(`a[href="${casePath}/assessment"]`);
    await page.waitForLoadState('load');
    await checkLayout('the assessment form');
    // Save and submit with nothing rated: every area's error stands beside it.
    await submit('button[name=submit][value="1"]');
    assert.ok(await page.isVisible('#f-r_basic_needs-error'));
    assert.ok(await page.isVisible('#f-overall_risk-error'));
    const scores = { basic_needs: 2, education: 3, health: 1, protection: 3, psychosocial: 3, family: 2, digital_access: 4 };
    for (const [area, v] of Object.entries(scores)) {
        await page.check(`input[name="r_${area}"][value="${v}"]`);
    }
    await page.check('input[name=risks][value=child_labour]');
    await page.check('input[name=d_electricity]');
    await page.selectOption('#f-overall_risk', 'high');
    await page.fill('#f-notes', 'يعمل الطفل بعد المدرسة في ورشة');
    await shot(page, 'cases-assessment-form');
    await submit('button[name=submit][value="1"]');
    assert.equal(new URL(page.url()).pathname, casePath);
    assert.ok(await page.isVisible('.case-pending'));
    await caseShot('2-assessment-submitted');
});

test('the supervisor approves the assessment; the worker writes the plan and submits it', async (t) => {
    if (!needPages(t)) {
        return;
    }
    await loginAs(supervisor);
    await page.goto(srv.url + casePath);
    await checkLayout('the case page for the supervisor');
    await submit('button[name=decision][value=approve]');
    assert.equal(await page.isVisible('.case-pending'), false);
    await loginAs(worker);
    await caseShot('3-plan');
    await page.click(`a[href="${casePath}/plan"]`);
    await page.waitForLoadState('load');
    await checkLayout('the plan form');
    // A plan without a goal: the error stands at the goals.
    await submit('button[name=submit][value="1"]');
    assert.ok(await page.isVisible('#f-goals-error'));
    const due = new Date(Date.now() + 10 * 86400000).toISOString().slice(0, 10);
    await page.fill('#g0_goal', 'عودة يوسف إلى الانتظام في المدرسة');
    await page.fill('#g0_a0_action', 'زيارة المدرسة مع الأم');
    await page.fill('#g0_a0_responsible', 'رنا');
    await page.fill('#g0_a0_due', due);
    await page.fill('#g1_goal', 'إيقاف العمل في الورشة');
    await page.fill('#g1_a0_action', 'جلسة مع صاحب الورشة والأسرة');
    await shot(page, 'cases-plan-form');
    await submit('button[name=submit][value="1"]');
    assert.equal(new URL(page.url()).pathname, casePath);
    await caseShot('4-plan-submitted');
});

test('the supervisor approves the plan; the worker moves to follow-up and requests closure', async (t) => {
    if (!needPages(t)) {
        return;
    }
    await loginAs(supervisor);
    await page.goto(srv.url + casePath);
    await submit('button[name=decision][value=approve]');
    await loginAs(worker);
    await caseShot('5-services');
    await submit(`form[action="${casePath}/move"] button[type=submit]`);
    await caseShot('6-follow-up');
    // Closure without a reason: refused beside the form, which stays open.
    await page.click('#close-title');
    await submit(`form[action="${casePath}/submit"] input[value=closure] ~ .form-actions button`);
    assert.ok(await page.isVisible('#close-error'));
    await page.selectOption('#cl-reason', 'goals_met');
    await page.fill('#cl-note', 'انتظم يوسف في المدرسة وترك العمل');
    await submit(`form[action="${casePath}/submit"] input[value=closure] ~ .form-actions button`);
    assert.ok(await page.isVisible('.case-pending'));
    await caseShot('7-closure-requested');
});

test('the supervisor approves the closure', async (t) => {
    if (!needPages(t)) {
        return;
    }
    await loginAs(supervisor);
    await page.goto(srv.url + casePath);
    await submit('button[name=decision][value=approve]');
    await caseShot('8-closed');
    const current = await page.textContent('.case-stages [aria-current="step"]');
    assert.match(current, /مغلقة/);
    assert.ok(await page.isVisible(`form[action="${casePath}/reopen"]`));
    const history = await page.textContent('.case-events');
    assert.match(history, /وافق المشرف/);
    assert.match(history, /فُتحت الحالة/);
});
