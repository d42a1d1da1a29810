// portal.test.mjs: the sponsor portal end to end, on SQLite and on PostgreSQL (the harness
// picks): a donor logs in and lands on the portal; every portal page and API answer holds only
// the allowlisted members of their own children (the leak check: no forbidden field name and
// none of the values planted in the child's record, case and guardian); another donor's child,
// the registry, the cases, donors' records and the books answer 403/404; the photo follows the
// sponsor_media consent; letters go through staff review; a progress report is made, approved
// and e-mailed (with its attachment) to the sponsor through a local SMTP sink; everything is
// audited.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { apiClient, csrfOf, inputValue, pageLogin, rand, startServer } from './lib.mjs';
import { parseMessage, startSmtpSink, decodeWords } from './smtp_sink.mjs';
import { spawnSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

let srv;
let sink;
const S = {};
const TAG = rand(6);

// Values planted in the child's record, case and guardian: none may reach a donor.
const PLANT = {
    health_conditions: `ربو-مزمن-${TAG}`,
    disability: `إعاقة-سمعية-${TAG}`,
    medication: `دواء-سري-${TAG}`,
    camp: `مخيم-الأمل-${TAG}`,
    shelter: `خيمة-١٢-${TAG}`,
    district: `حي-الشهداء-${TAG}`,
    locality: `قرية-مخفية-${TAG}`,
    latitude: '36.1234567',
    longitude: '37.7654321',
    school_name: `مدرسة-سرية-${TAG}`,
    school_results: `نتائج-السجل-${TAG}`,
    birth_place: `بلدة-الميلاد-${TAG}`,
    id_doc_number: `ID${TAG}99`,
    psych: `ملاحظة نفسية سرية ${TAG}`,
};
// Arabic-only names (the registry refuses other characters in names).
const NAMES = { father_name: 'عبدالمخفي', mother_name: 'زينب المخفية', family_name: 'آلمستور' };
const GUARDIAN = 'سعاد الكتومة';
const GUARDIAN_PHONE = '+963 944 777 321';
const FORBIDDEN_KEYS = [
    'health_conditions', 'disability', 'medication', 'psych', 'notes', 'camp', 'shelter', 'district',
    'locality', 'latitude', 'longitude', 'address', 'guardian', 'guardian_id', 'household',
    'household_id', 'mother_name', 'father_name', 'grandfather_name', 'family_name', 'birth_date',
    'birth_place', 'id_doc_number', 'school_name', 'file_no', 'case', 'cases', 'phone', 'orphan_status',
];

/** A 1x1 PNG. */
function png() {
    return Buffer.from(
        '89504e470d0a1a0a0000000d4948445200000001000000010802000000907753de0000000c4944415478' +
        '9c63606060000000040001f61738550000000049454e44ae426082', 'hex');
}

/** A multipart body with a file and its kind. */
function upload(bytes, name, type, kind) {
    const fd = new FormData();
    fd.append('kind', kind);
    fd.append('file', new Blob([bytes], { type }), name);
    return fd;
}

/** Every key of a JSON value, at any depth. */
function keysOf(v, out = new Set()) {
    if (Array.isArray(v)) {
        v.forEach((x) => keysOf(x, out));
    } else if (v && typeof v === 'object') {
        for (const [k, x] of Object.entries(v)) {
            out.add(k);
            keysOf(x, out);
        }
    }
    return out;
}

/** Asserts that a donor-facing answer leaks nothing planted. */
function assertNoLeak(label, r) {
    const text = r.text;
    for (const [k, v] of Object.entries(PLANT)) {
        assert.ok(!text.includes(v), `${label}: the planted ${k} leaked`);
    }
    for (const [k, v] of Object.entries(NAMES)) {
        assert.ok(!text.includes(v), `${label}: the ${k} leaked`);
    }
    assert.ok(!text.includes(GUARDIAN), `${label}: the guardian's name leaked`);
    assert.ok(!text.includes('944 777 321'), `${label}: the guardian's phone leaked`);
    assert.ok(!text.includes(S.childA.file_no), `${label}: the file number leaked`);
    if (r.json) {
        const keys = keysOf(r.json);
        for (const k of FORBIDDEN_KEYS) {
            assert.ok(!keys.has(k), `${label}: member "${k}" in a donor answer`);
        }
    } else {
        for (const k of FORBIDDEN_KEYS.filter((x) => x.includes('_'))) {
            assert.ok(!text.includes(k), `${label}: "${k}" in a donor page`);
        }
    }
}

/** Registers a child; returns {id, file_no}. */
async function registerChild(c, over) {
    const body = {
        first_name: 'ليلى', father_name: 'أحمد', grandfather_name: 'علي', family_name: 'الخطيب',
        sex: 'F', birth_date: '2015-06-01', orphan_status: 'father_deceased', ...over,
    };
    let r = await c.post('/api/v1/children', { json: body });
    if (r.status === 409 && r.json?.code === 'possible_duplicates') {
        r = await c.post('/api/v1/children', { json: { ...body, different_from: r.json.candidates.map((x) => x.id) } });
    }
    assert.equal(r.status, 201, r.text);
    return r.json;
}

/** Makes a donor through the sponsors' API and links the portal user; returns its id. */
async function addDonor(name, user, email) {
    let r = await S.off.post('/api/v1/donors', {
        json: { kind: 'person', name, email, contact_consent: true, address: `عنوان-المتبرع-${TAG}`, phone: '+1 555 0100' },
    });
    assert.equal(r.status, 201, r.text);
    const id = r.json.id;
    r = await S.off.post(`/api/v1/donors/${id}/user`, { json: { user_id: user.id } });
    assert.equal(r.status, 204, r.text);
    return id;
}

/** Makes an active agreement child <-> donor through the sponsors' API. */
async function addAgreement(childId, donorId) {
    const r = await S.off.post('/api/v1/sponsorships', {
        json: {
            child_id: childId, donor_id: donorId, amount: '50.00', currency: 'USD', frequency: 'monthly',
            start_date: '2026-01-01', status: 'active',
        },
    });
    assert.equal(r.status, 201, r.text);
}

before(async () => {
    sink = await startSmtpSink();
    // Under ASan: fontconfig (under pango, for the report's PDF) keeps its global cache until
    // exit, which LeakSanitizer reports as a leak of the library's, not of ours.
    const supp = S.supp = join(tmpdir(), `sanad-portal-lsan-${TAG}.supp`);
    writeFileSync(supp, 'leak:libfontconfig.so\n');
    srv = await startServer({
        env: {
            SANAD_SMTP_URL: sink.url, SANAD_SMTP_FROM: 'sanad@example.org',
            LSAN_OPTIONS: `suppressions=${supp}:print_suppressions=0`,
        },
    });
    S.cwUser = srv.addUser('main', 'cw', 'case_worker', undefined, 'Case Worker');
    S.offUser = srv.addUser('main', 'officer', 'sponsorship_officer', undefined, 'Officer');
    S.d1User = srv.addUser('main', 'donor1', 'donor', undefined, 'Donor One');
    S.d2User = srv.addUser('main', 'donor2', 'donor', undefined, 'Donor Two');
    S.d3User = srv.addUser('main', 'donor3', 'donor', undefined, 'Donor Unlinked');
    S.cw = await apiClient(srv, 'main', 'cw', S.cwUser.password);
    S.off = await apiClient(srv, 'main', 'officer', S.offUser.password);
    S.childA = await registerChild(S.cw, {
        ...NAMES, ...Object.fromEntries(Object.entries(PLANT).filter(([k]) => k !== 'psych')),
        first_name: 'ليلى', first_name_latin: 'Layla', governorate: 'حلب', school_grade: 'الخامس',
    });
    S.childB = await registerChild(S.cw, { first_name: 'مريم', father_name: 'خالد', birth_date: '2012-02-02' });
    // The guardian and a case with sealed psychosocial notes, planted too.
    const g = await S.cw.post('/api/v1/guardians', { json: { full_name: GUARDIAN, relation: 'mother', phone: GUARDIAN_PHONE } });
    assert.equal(g.status, 201, g.text);
    const sg = await S.cw.post(`/api/v1/children/${S.childA.id}/guardian`, { json: { guardian_id: g.json.id, reason: 'الأم' } });
    assert.ok(sg.status < 300, sg.text);
    const c = await S.cw.post('/api/v1/cases', { json: { child_id: S.childA.id } });
    assert.equal(c.status, 201, c.text);
    const asmt = await S.cw.post(`/api/v1/cases/${c.json.id}/assessment`, {
        json: {
            ratings: { basic_needs: 2, education: 3, health: 1, protection: 4, psychosocial: 3, family: 2, digital_access: 4 },
            risks: ['violence'], digital: { device: false, connection: false, electricity: true, skills: true },
            overall_risk: 'high', notes: PLANT.psych,
        },
    });
    assert.equal(asmt.status, 200, asmt.text);
    S.caseId = c.json.id;
    // A photo, and the consent to show it to sponsors.
    const up = await S.cw.post(`/api/v1/children/${S.childA.id}/documents`, { body: upload(png(), 'layla.png', 'image/png', 'photo') });
    assert.equal(up.status, 201, up.text);
    S.photoDoc = up.json.id;
    const cons = await S.cw.post(`/api/v1/children/${S.childA.id}/consents`, {
        json: { scope: 'sponsor_media', guardian_consent: true, child_assent: true, given_by: 'الأم' },
    });
    assert.equal(cons.status, 201, cons.text);
    S.consentId = cons.json.id;
    // Donors and agreements.
    S.donor1 = await addDonor('كافل أول', S.d1User, 'donor1@example.org');
    S.donor2 = await addDonor('كافل ثان', S.d2User, 'donor2@example.org');
    await addAgreement(S.childA.id, S.donor1);
    await addAgreement(S.childB.id, S.donor2);
    // A payment with its receipt (billing), so that the giving pages have money to show.
    const finUser = srv.addUser('main', 'fin', 'finance_officer', undefined, 'Finance');
    const fin = await apiClient(srv, 'main', 'fin', finUser.password);
    const pay = await fin.post('/api/v1/payments', {
        json: { donor_id: S.donor1, amount: '100.00', currency: 'USD', method: 'bank_transfer', received_on: '2026-01-20' },
    });
    assert.equal(pay.status, 201, pay.text);
    S.receiptNo = pay.json.receipt_no;
    S.d1 = await apiClient(srv, 'main', 'donor1', S.d1User.password);
    S.d2 = await apiClient(srv, 'main', 'donor2', S.d2User.password);
    S.d3 = await apiClient(srv, 'main', 'donor3', S.d3User.password);
    // Files are pages (cookie sessions), not API routes.
    S.page2 = srv.client();
    assert.equal((await pageLogin(S.page2, 'main', 'donor2', S.d2User.password)).status, 303);
});

after(async () => {
    if (srv) {
        await srv.close();
    }
    if (sink) {
        await sink.close();
    }
    if (S.supp) {
        rmSync(S.supp, { force: true });
    }
});

test('a donor logs in through the page and lands on the portal', async () => {
    const c = srv.client();
    const r = await pageLogin(c, 'main', 'donor1', S.d1User.password);
    assert.equal(r.status, 303, r.text);
    assert.equal(r.headers.get('location'), '/');
    const home = await c.get('/');
    assert.equal(home.status, 303);
    assert.equal(home.headers.get('location'), '/portal');
    const portal = await c.get('/portal');
    assert.equal(portal.status, 200, portal.text);
    assert.ok(portal.text.includes('ليلى'), 'the child is on the home page');
    assert.ok(!portal.text.includes('مريم'), 'another donor\'s child is not');
    S.page = c;
});

test('the API gives only the allowlisted members of the donor\'s own children', async () => {
    const r = await S.d1.get('/api/v1/portal/children');
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.items.length, 1);
    const ch = r.json.items[0];
    assert.equal(ch.id, S.childA.id);
    assert.equal(ch.first_name, 'ليلى');
    assert.equal(ch.city, 'حلب', 'the governorate, never the locality');
    assert.equal(ch.school_year, 'الخامس');
    assert.equal(typeof ch.age, 'number');
    assert.equal(ch.status, 'active');
    assert.equal(ch.photo_url, `/portal/children/${S.childA.id}/photo`);
    const allowed = ['id', 'first_name', 'first_name_latin', 'age', 'city', 'school_year', 'since', 'status', 'photo_url', 'note', 'note_en'];
    for (const k of Object.keys(ch)) {
        assert.ok(allowed.includes(k), `member ${k} is not on the allowlist`);
    }
    const two = await S.d2.get('/api/v1/portal/children');
    assert.deepEqual(two.json.items.map((x) => x.id), [S.childB.id]);
    const none = await S.d3.get('/api/v1/portal/children');
    assert.equal(none.status, 404, 'a donor login without a donor record');
    assert.equal(none.json.code, 'no_donor');
});

test('the photo follows the sponsor_media consent and is never cached', async () => {
    const r = await S.page.get(`/portal/children/${S.childA.id}/photo`);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.headers.get('content-type'), 'image/png');
    assert.match(r.headers.get('cache-control') || '', /no-store/);
    assert.equal((await S.page2.get(`/portal/children/${S.childA.id}/photo`)).status, 404);
    assert.equal((await S.page.get(`/portal/children/${S.childB.id}/photo`)).status, 404);
});

test('letters: the donor writes, staff review, the donor sees the status', async () => {
    const csrf = await csrfOf(S.page, '/portal/letters/new');
    assert.ok(csrf);
    let r = await S.page.post('/portal/letters/new', { form: { csrf, child_id: S.childA.id, body: 'مرحبا يا ليلى، كيف حالك؟' } });
    assert.equal(r.status, 303, r.text);
    r = await S.page.post('/portal/letters/new', { form: { csrf, child_id: S.childB.id, body: 'hello' } });
    assert.equal(r.status, 422, 'a letter to another donor\'s child');
    r = await S.page.post('/portal/letters/new', { form: { csrf, child_id: S.childA.id, body: '   ' } });
    assert.equal(r.status, 422, 'a blank letter');
    r = await S.d1.post('/api/v1/portal/letters', { json: { child_id: S.childA.id, body: 'x'.repeat(2001) } });
    assert.equal(r.status, 422, r.text);
    r = await S.d1.post('/api/v1/portal/letters', { json: { child_id: S.childA.id, body: 'رسالة ثانية' } });
    assert.equal(r.status, 201, r.text);
    const second = r.json.id;
    const q = await S.off.get('/api/v1/sponsor-letters?status=pending');
    assert.equal(q.status, 200, q.text);
    assert.equal(q.json.items.length, 2);
    const first = q.json.items.find((l) => l.id !== second).id;
    r = await S.off.post(`/api/v1/sponsor-letters/${second}/reject`, { json: {} });
    assert.equal(r.status, 422, 'a rejection needs a note');
    r = await S.off.post(`/api/v1/sponsor-letters/${second}/reject`, { json: { note: 'يرجى عدم ذكر العنوان' } });
    assert.equal(r.status, 204, r.text);
    r = await S.off.post(`/api/v1/sponsor-letters/${first}/deliver`, { json: {} });
    assert.equal(r.status, 409, 'not approved yet');
    assert.equal((await S.off.post(`/api/v1/sponsor-letters/${first}/approve`, { json: {} })).status, 204);
    assert.equal((await S.off.post(`/api/v1/sponsor-letters/${first}/deliver`, { json: {} })).status, 204);
    assert.equal((await S.d1.post(`/api/v1/sponsor-letters/${first}/approve`, { json: {} })).status, 403);
    const own = await S.d1.get('/api/v1/portal/letters');
    const byId = Object.fromEntries(own.json.items.map((l) => [l.id, l]));
    assert.equal(byId[first].status, 'delivered');
    assert.equal(byId[second].status, 'rejected');
    assert.equal(byId[second].review_note, 'يرجى عدم ذكر العنوان');
    assert.equal((await S.d2.get('/api/v1/portal/letters')).json.items.length, 0);
    // The staff page shows the queue with the review forms.
    const oc = srv.client();
    assert.equal((await pageLogin(oc, 'main', 'officer', S.offUser.password)).status, 303);
    const page = await oc.get('/sponsorship/letters');
    assert.equal(page.status, 200, page.text);
    assert.ok(page.text.includes('مرحبا يا ليلى'));
});

test('a progress report is made, approved and e-mailed to the sponsor with its attachment', async () => {
    let r = await S.off.post('/api/v1/progress-reports', { json: { child_id: S.childA.id, period: '2026-13', note: '' } });
    assert.equal(r.status, 422, r.text);
    const fields = r.json.errors.map((e) => e.field).sort();
    assert.deepEqual(fields, ['note', 'period']);
    r = await S.off.post('/api/v1/progress-reports', { json: { child_id: S.childA.id, period: '2026-H1', note: 'x', photo_doc: 'nope' } });
    assert.equal(r.status, 422, r.text);
    r = await S.off.post('/api/v1/progress-reports', {
        json: {
            child_id: S.childA.id, period: '2026-H1', note: 'تتقدم ليلى في القراءة وتحب الرسم',
            note_en: 'Layla is making progress in reading and loves drawing', school_results: 'ممتاز في العربية',
            photo_doc: S.photoDoc,
        },
    });
    assert.equal(r.status, 201, r.text);
    S.report = r.json.id;
    r = await S.off.post('/api/v1/progress-reports', { json: { child_id: S.childA.id, period: '2026-H1', note: 'مكرر' } });
    assert.equal(r.status, 409, r.text);
    assert.equal(r.json.code, 'duplicate_period');
    // A draft can be changed (not its child or period); once approved it cannot.
    r = await S.off.patch(`/api/v1/progress-reports/${S.report}`, { json: { period: '2026-H2', note: '' } });
    assert.equal(r.status, 422, r.text);
    assert.deepEqual(r.json.errors.map((x) => x.field).sort(), ['note', 'period']);
    r = await S.off.patch(`/api/v1/progress-reports/${S.report}`, { json: { school_results: 'ممتاز في العربية والرياضيات' } });
    assert.equal(r.status, 204, r.text);
    // A draft is neither visible to the donor nor sendable.
    assert.equal((await S.d1.get(`/api/v1/portal/children/${S.childA.id}`)).json.reports.length, 0);
    assert.equal((await S.off.post(`/api/v1/progress-reports/${S.report}/send`, { json: {} })).status, 409);
    assert.equal((await S.off.post(`/api/v1/progress-reports/${S.report}/approve`, { json: {} })).status, 200);
    r = await S.off.patch(`/api/v1/progress-reports/${S.report}`, { json: { note: 'بعد الاعتماد' } });
    assert.equal(r.status, 409, r.text);
    const due = await S.off.get('/api/v1/progress-reports/due');
    assert.ok(!due.json.items.some((x) => x.child_id === S.childA.id), 'child A has a fresh report');
    assert.ok(due.json.items.some((x) => x.child_id === S.childB.id), 'child B is due');
    const before = sink.messages.length;
    r = await S.off.post(`/api/v1/progress-reports/${S.report}/send`, { json: {} });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.sent, 1);
    assert.equal(sink.messages.length, before + 1);
    const m = sink.messages[before];
    assert.deepEqual(m.to, ['donor1@example.org']);
    const head = parseMessage(m.data).headers;
    assert.match(head['content-type'], /^multipart\/mixed/);
    assert.ok(decodeWords(head.subject).includes('ليلى'));
    const att = /Content-Type: (application\/pdf|text\/html)\r\n[\s\S]*?filename\*=UTF-8''([^\r\n]+)\r\n\r\n([A-Za-z0-9+/=\r\n]+?)\r\n--/.exec(m.data);
    assert.ok(att, 'the message has the report attached');
    const bytes = Buffer.from(att[3].replace(/\r\n/g, ''), 'base64');
    assert.equal(att[1], 'application/pdf');
    assert.equal(bytes.subarray(0, 5).toString('latin1'), '%PDF-');
    // The PDF's text (poppler's pdftotext) holds the note in both languages and nothing planted.
    const file = join(srv.dir, 'report.pdf');
    writeFileSync(file, bytes);
    const txt = spawnSync('pdftotext', ['-enc', 'UTF-8', file, '-'], { encoding: 'utf8' });
    assert.equal(txt.status, 0, txt.stderr);
    assert.ok(txt.stdout.includes('Layla is making progress'), txt.stdout);
    assert.ok(txt.stdout.includes('Layla'), txt.stdout);
    // The mail is donor-facing too: nothing planted in it.
    assertNoLeak('the e-mail', { text: m.data + txt.stdout });
    // Sending again sends nobody twice.
    r = await S.off.post(`/api/v1/progress-reports/${S.report}/send`, { json: {} });
    assert.equal(r.json.sent, 0);
    const got = await S.off.get(`/api/v1/progress-reports/${S.report}`);
    assert.equal(got.json.status, 'sent');
    assert.equal(got.json.sends.length, 1);
    // The staff's printable page.
    const oc = srv.client();
    await pageLogin(oc, 'main', 'officer', S.offUser.password);
    const page = await oc.get(`/sponsorship/reports/${S.report}`);
    assert.equal(page.status, 200, page.text);
    assert.ok(page.text.includes('Layla is making progress'));
    assert.ok(page.text.includes('تتقدم ليلى'));
    assert.ok(page.text.includes('والرياضيات'), 'the changed school results');
    const pdf = await oc.get(`/sponsorship/reports/${S.report}/pdf`);
    assert.equal(pdf.status, 200);
});

test('the leak check: no donor-facing page or answer holds a forbidden field or planted value', async () => {
    const pages = ['/portal', `/portal/children/${S.childA.id}`, '/portal/giving', '/portal/letters/new',
        `/portal/letters/new?child=${S.childA.id}`, '/sponsorship/donors/me/statement'];
    for (const p of pages) {
        const r = await S.page.get(p);
        assert.equal(r.status, 200, `${p}: ${r.text}`);
        assertNoLeak(p, r);
    }
    const apis = ['/api/v1/portal/children', `/api/v1/portal/children/${S.childA.id}`, '/api/v1/portal/giving',
        '/api/v1/portal/letters', '/api/v1/donors/me/statement'];
    for (const p of apis) {
        const r = await S.d1.get(p);
        assert.equal(r.status, 200, `${p}: ${r.text}`);
        assertNoLeak(p, r);
    }
    const giving = await S.d1.get('/api/v1/portal/giving');
    assert.deepEqual(giving.json.totals.map((t) => [t.currency, t.amount_text, t.n_payments]), [['USD', '100.00', 1]]);
    assert.equal(giving.json.receipts[0].receipt_no, S.receiptNo);
    const receipt = await S.page.get(`/sponsorship/receipts/${giving.json.receipts[0].id}`);
    assert.equal(receipt.status, 200, 'the donor opens their own receipt');
    assertNoLeak('the receipt', receipt);
    assert.equal((await S.page2.get(`/sponsorship/receipts/${giving.json.receipts[0].id}`)).status, 404,
        'another donor does not');
    const child = await S.d1.get(`/api/v1/portal/children/${S.childA.id}`);
    assert.equal(child.json.reports.length, 1);
    assert.equal(child.json.reports[0].note, 'تتقدم ليلى في القراءة وتحب الرسم');
    assert.equal(child.json.note, 'تتقدم ليلى في القراءة وتحب الرسم', 'the latest note, consented');
    const photo = await S.page.get(child.json.reports[0].photo_url);
    assert.equal(photo.status, 200);
    // In English too.
    const en = srv.client();
    await pageLogin(en, 'main', 'donor1', S.d1User.password);
    const csrf = await csrfOf(en, '/portal');
    await en.post('/lang', { form: { csrf, lang: 'en', next: '/portal' } });
    const enPage = await en.get(`/portal/children/${S.childA.id}`);
    assert.ok(enPage.text.includes('Layla'), 'the Latin first name in English');
    assert.ok(enPage.text.includes('Layla is making progress'), 'the English note');
    assertNoLeak('english child page', enPage);
});

test('a donor gets 403/404 on another donor\'s child, the registry, cases, donors and the books', async () => {
    for (const p of [`/api/v1/portal/children/${S.childB.id}`, `/portal/children/${S.childB.id}`,
        `/portal/reports/${S.report}/photo`.replace(S.report, 'nope')]) {
        const r = await (p.startsWith('/api') ? S.d1 : S.page).get(p);
        assert.equal(r.status, 404, `${p}: ${r.status}`);
    }
    assert.equal((await S.d2.get(`/api/v1/portal/children/${S.childA.id}`)).status, 404);
    assert.equal((await S.page2.get(`/portal/reports/${S.report}/photo`)).status, 404);
    const denied = ['/children', `/children/${S.childA.id}`, '/cases', `/cases/${S.caseId}`, '/sponsorship',
        '/sponsorship/letters', '/sponsorship/reports', '/finance', '/'];
    for (const p of denied) {
        const r = await S.page.get(p);
        assert.ok(r.status === 403 || r.status === 404 || (p === '/' && r.status === 303), `${p}: ${r.status}`);
        assertNoLeak(p, r);
    }
    const apiDenied = ['/api/v1/children', `/api/v1/children/${S.childA.id}`, `/api/v1/children/${S.childA.id}/documents`,
        '/api/v1/cases', `/api/v1/cases/${S.caseId}`, '/api/v1/donors', `/api/v1/donors/${S.donor1}`,
        `/api/v1/donors/${S.donor2}/statement`, '/api/v1/sponsorship/home', '/api/v1/sponsorship/waiting',
        '/api/v1/sponsorships', '/api/v1/sponsor-letters', '/api/v1/progress-reports', `/api/v1/progress-reports/${S.report}`,
        '/api/v1/ledger/accounts', '/api/v1/ledger/trial-balance', '/api/v1/finance/trial-balance', '/api/v1/payments'];
    for (const p of apiDenied) {
        const r = await S.d1.get(p);
        assert.ok(r.status === 403 || r.status === 404, `${p}: ${r.status}`);
        assertNoLeak(p, r);
    }
});

test('a withdrawn consent hides the photo and the note at once', async () => {
    const w = await S.cw.post(`/api/v1/consents/${S.consentId}/withdraw`, { json: { reason: 'الأم طلبت ذلك' } });
    assert.ok(w.status < 300, w.text);
    const r = await S.d1.get(`/api/v1/portal/children/${S.childA.id}`);
    assert.equal(r.json.photo_url, undefined);
    assert.equal(r.json.note, undefined);
    assert.equal(r.json.reports[0].note, undefined);
    assert.equal(r.json.reports[0].photo_url, undefined);
    assert.equal((await S.page.get(`/portal/children/${S.childA.id}/photo`)).status, 404);
    assert.equal((await S.page.get(`/portal/reports/${S.report}/photo`)).status, 404);
});

test('every portal view and letter is audited', async () => {
    const rows = srv.sql("SELECT action, COUNT(*) FROM audit_log WHERE action LIKE 'donor.%' OR action LIKE 'letter.%'"
        + " OR action LIKE 'report.%' GROUP BY action ORDER BY action");
    for (const a of ['donor.portal.view', 'donor.portal.child', 'donor.portal.giving', 'donor.portal.media',
        'donor.letter.create', 'letter.approve', 'letter.reject', 'letter.deliver', 'report.create',
        'report.approve', 'report.send']) {
        assert.ok(rows.includes(a + '|'), `${a} audited:\n${rows}`);
    }
    const v = srv.auditVerify();
    assert.equal(v.code, 0, v.stderr + v.stdout);
});
