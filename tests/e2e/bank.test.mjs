// bank.test.mjs: bank statement import end to end, on the engine the harness
// gives (SQLite, or PostgreSQL with SANAD_TEST_PG): a malformed statement
// refused with every bad row and column named in the reader's language and
// nothing stored; an upload matched (certain by reference and name,
// uncertain by name only, unmatched, a debit skipped); the certain lines
// confirmed together, an uncertain one confirmed, an unmatched one given
// another donor, a decision taken twice refused; the same file again
// refused as already imported; the pages (upload, review) with their CSRF
// forms; roles without the permission refused; and the whole cycle through
// the other parts' APIs (donor, agreement, due generated, statement line
// confirmed, payment allocated to the due). One server for the file; tests
// run in order and share state.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { apiClient, csrfOf, pageLogin, problemShape, startServer } from './lib.mjs';

let srv;
const S = {};

/** Creates a donor through the sponsors' API; returns its id (numbers are
 * given in order: D-000001, D-000002, ...). */
async function addDonor(name, latin) {
    const r = await S.off.post('/api/v1/donors', { json: { kind: 'person', name, ...(latin ? { name_latin: latin } : {}) } });
    assert.equal(r.status, 201, r.text);
    return r.json.id;
}

before(async () => {
    srv = await startServer();
    S.finUser = srv.addUser('main', 'fin', 'finance_officer', undefined, 'Finance');
    S.cwUser = srv.addUser('main', 'cw', 'case_worker', undefined, 'Case Worker');
    S.offUser = srv.addUser('main', 'off', 'sponsorship_officer', undefined, 'Officer');
    S.off = await apiClient(srv, 'main', 'off', S.offUser.password);
    S.fin = await apiClient(srv, 'main', 'fin', S.finUser.password);
    S.cw = await apiClient(srv, 'main', 'cw', S.cwUser.password);
    S.khatib = await addDonor('محمد أحمد الخطيب', 'Mohammed Ahmad Al-Khatib'); // D-000001
    S.yousef = await addDonor('عبد الرحمن يوسف');
    S.nasser = await addDonor('عمر ناصر', 'Omar Nasser');
});

after(async () => {
    if (srv) {
        await srv.close();
    }
});

/** Asserts r is a problem+json with status and code. */
function assertProblem(r, status, code) {
    assert.equal(r.status, status, r.text);
    assert.equal(problemShape(r), '', r.text);
    if (code) {
        assert.equal(r.json.code, code, r.text);
    }
}

const GOOD = [
    'التاريخ;المبلغ;العملة;البيان;الاسم',
    '01/02/2026;50,00;USD;كفالة D-000001;MOHAMMED AHMAD AL KHATIB',
    '02/02/2026;20,00;USD;تبرع;عبدالرحمن يوسف',
    '03/02/2026;7,00;USD;;',
    '04/02/2026;-3,00;USD;رسوم;',
    '05/02/2026;9,00;USD;;',
].join('\n') + '\n';

test('a malformed statement is refused whole, naming rows and columns', async () => {
    const bad = 'date,amount,currency\n2026-02-01,5.00,USD\n2026-02-30,5.00,USD\n2026-02-02,1.234,USD\n2026-02-03,5,QQQ\n';
    // the messages are in the user's language (Arabic, the default) ...
    let r = await S.fin.post('/api/v1/bank-imports', { body: bad, type: 'text/csv' });
    assertProblem(r, 422, 'invalid_rows');
    assert.equal(r.json.errors.length, 3, r.text);
    assert.deepEqual(r.json.errors.map((p) => [p.row, p.column, p.code]),
        [[3, 'date', 'invalid_date'], [4, 'amount', 'too_many_decimals'], [5, 'currency', 'unknown_currency']]);
    assert.match(r.json.errors[0].message, /^السطر 3، العمود «date»/);
    assert.match(r.json.errors[1].message, /^السطر 4/);
    // ... or in English for an English speaker
    srv.sql(`UPDATE users SET lang = 'en' WHERE username = 'fin'`);
    r = await S.fin.post('/api/v1/bank-imports', { body: bad, type: 'text/csv' });
    srv.sql(`UPDATE users SET lang = 'ar' WHERE username = 'fin'`);
    assert.match(r.json.errors[0].message, /^Row 3, column "date"/);
    r = await S.fin.get('/api/v1/bank-imports');
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.items.length, 0, 'nothing stored');
    // no file at all, and a file without lines
    r = await S.fin.post('/api/v1/bank-imports', { body: '', type: 'text/csv' });
    assertProblem(r, 422, 'empty_file');
    r = await S.fin.post('/api/v1/bank-imports', { body: 'date,amount\n', type: 'text/csv' });
    assertProblem(r, 422, 'empty_file');
    r = await S.fin.post('/api/v1/bank-imports', { body: 'x', type: 'application/json' });
    assert.equal(r.status, 415, r.text);
});

test('a statement is imported and matched', async () => {
    const r = await S.fin.post('/api/v1/bank-imports?filename=feb.csv&account=main', { body: GOOD, type: 'text/csv' });
    assert.equal(r.status, 201, r.text);
    assert.equal(r.json.lines, 5);
    assert.equal(r.json.debits, 1);
    assert.equal(r.json.matched, 1);
    assert.equal(r.json.uncertain, 1);
    assert.equal(r.json.unmatched, 2);
    S.importId = r.json.id;
    const g = await S.fin.get(`/api/v1/bank-imports/${S.importId}`);
    assert.equal(g.status, 200, g.text);
    const byRow = Object.fromEntries(g.json.lines_detail.map((l) => [l.row, l]));
    assert.equal(byRow[2].status, 'matched');
    assert.equal(byRow[2].donor.id, S.khatib);
    assert.equal(byRow[2].amount, '50.00');
    assert.ok(byRow[2].reason.includes('ref_donor') && byRow[2].reason.includes('name_same'), JSON.stringify(byRow[2]));
    assert.match(byRow[2].reason_text, /المرجع يحمل رقم المتبرع/);
    assert.equal(byRow[3].status, 'uncertain');
    assert.equal(byRow[3].candidates[0].donor_id, S.yousef);
    assert.equal(byRow[4].status, 'unmatched');
    assert.equal(byRow[5].status, 'skipped');
    assert.equal(byRow[5].amount_minor, -300);
    S.lines = byRow;
});

test('certain lines are confirmed together, others one by one, each once', async () => {
    let r = await S.cw.post(`/api/v1/bank-imports/${S.importId}/confirm-certain`);
    assertProblem(r, 403, 'forbidden');
    r = await S.fin.post(`/api/v1/bank-imports/${S.importId}/confirm-certain`);
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.json, { confirmed: 1, failed: 0 });
    r = await S.fin.post(`/api/v1/bank-lines/${S.lines[2].id}/confirm`);
    assertProblem(r, 409, 'bank_line_decided');
    r = await S.fin.post(`/api/v1/bank-lines/${S.lines[3].id}/confirm`, { json: {} });
    assert.equal(r.status, 200, r.text);
    assert.ok(r.json.payment_id);
    r = await S.fin.post(`/api/v1/bank-lines/${S.lines[3].id}/confirm`, { json: {} });
    assertProblem(r, 409, 'bank_line_decided');
    r = await S.fin.post(`/api/v1/bank-lines/${S.lines[4].id}/confirm`, { json: {} });
    assertProblem(r, 422, 'bank_donor_required');
    r = await S.fin.post(`/api/v1/bank-lines/${S.lines[4].id}/confirm`, { json: { donor_id: S.nasser } });
    assert.equal(r.status, 200, r.text);
    r = await S.fin.post(`/api/v1/bank-lines/${S.lines[5].id}/ignore`);
    assertProblem(r, 409, 'bank_line_decided');
    r = await S.fin.post(`/api/v1/bank-lines/${S.lines[6].id}/ignore`);
    assert.equal(r.status, 200, r.text);
    const g = await S.fin.get(`/api/v1/bank-imports/${S.importId}`);
    const st = Object.fromEntries(g.json.lines_detail.map((l) => [l.row, l.status]));
    assert.deepEqual(st, { 2: 'confirmed', 3: 'confirmed', 4: 'confirmed', 5: 'skipped', 6: 'ignored' });
    const paid = srv.sql(`SELECT COUNT(*) FROM payments WHERE method = 'bank_transfer' AND external_ref LIKE 'bank:%'`).trim();
    assert.equal(paid, '3');
});

test('the same statement again is refused as already imported', async () => {
    const r = await S.fin.post('/api/v1/bank-imports', { body: GOOD, type: 'text/csv' });
    assertProblem(r, 409, 'bank_already_imported');
    assert.equal(r.json.duplicates.length, 5);
});

test('roles without the permission are refused', async () => {
    let r = await S.cw.post('/api/v1/bank-imports', { body: GOOD, type: 'text/csv' });
    assertProblem(r, 403, 'forbidden');
    r = await S.cw.get('/api/v1/bank-imports');
    assertProblem(r, 403, 'forbidden');
});

test('the pages: upload, review, confirm all certain', async () => {
    const c = srv.client();
    const login = await pageLogin(c, 'main', 'fin', S.finUser.password);
    assert.equal(login.status, 303, login.text);
    let r = await c.get('/sponsorship/bank');
    assert.equal(r.status, 200, r.text);
    assert.match(r.text, /enctype="multipart\/form-data"/);
    const csrf = await csrfOf(c, '/sponsorship/bank');
    assert.ok(csrf);
    const csv = 'date,amount,reference,name\n2026-03-01,50.00,D-000001,Mohammed Khatib\n2026-03-02,4.00,,\n';
    const fd = new FormData();
    fd.append('csrf', csrf);
    fd.append('currency', 'USD');
    fd.append('file', new Blob([csv], { type: 'text/csv' }), 'march.csv');
    r = await c.post('/sponsorship/bank', { body: fd });
    assert.equal(r.status, 303, r.text);
    const loc = r.headers.get('location');
    assert.match(loc, /^\/sponsorship\/bank\/[0-9a-f-]{36}\?ok=/);
    const id = loc.split('/')[3].split('?')[0];
    r = await c.get(loc);
    assert.equal(r.status, 200, r.text);
    assert.match(r.text, /bk-confirm-certain/);
    assert.match(r.text, /D-000001/);
    // the certain line is ticked; the form sends the ticked ones
    const ticked = [...r.text.matchAll(/name="line" value="([0-9a-f-]{36})" checked/g)].map((m) => m[1]);
    assert.equal(ticked.length, 1, r.text);
    r = await c.post(`/sponsorship/bank/${id}/confirm-certain`, { form: { csrf, line: ticked[0] } });
    assert.equal(r.status, 303, r.text);
    r = await c.get(r.headers.get('location'));
    assert.match(r.text, /سُجّلت الدفعة/);
    const api = await S.fin.get(`/api/v1/bank-imports/${id}`);
    assert.equal(api.json.lines_detail[0].status, 'confirmed');
    r = await c.get(`/sponsorship/bank/${id}?line=x&q=ناصر`);
    assert.equal(r.status, 200, r.text);
    // a malformed upload shows the rows on the page, in the reader's language
    const bad = new FormData();
    bad.append('csrf', csrf);
    bad.append('currency', 'USD');
    bad.append('file', new Blob(['date,amount\n2026-13-01,5\n'], { type: 'text/csv' }), 'bad.csv');
    r = await c.post('/sponsorship/bank', { body: bad });
    assert.equal(r.status, 422, r.text);
    assert.match(r.text, /السطر 2، العمود «date»/);
});

test('the cycle through the other parts: agreement, due, statement, payment allocated', async () => {
    const off = S.off;
    // a donor, a child and an active agreement, through the sponsors' API
    let r = await off.post('/api/v1/donors', { json: { kind: 'person', name: 'سلمى يوسف الحداد', name_latin: 'Salma Haddad' } });
    assert.equal(r.status, 201, r.text);
    const donor = r.json;
    r = await S.cw.post('/api/v1/children', {
        json: { first_name: 'هدى', father_name: 'محمد', grandfather_name: 'علي', family_name: 'الخطيب',
                sex: 'F', birth_date: '2015-03-01', orphan_status: 'father_deceased' },
    });
    assert.equal(r.status, 201, r.text);
    srv.sql(`UPDATE children SET status = 'active' WHERE id = '${r.json.id}'`);
    r = await off.post('/api/v1/sponsorships', {
        json: { child_id: r.json.id, donor_id: donor.id, amount: '35.00', currency: 'USD', frequency: 'monthly',
                start_date: '2026-01-01', status: 'active' },
    });
    assert.equal(r.status, 201, r.text);
    const agreementNo = r.json.items[0].agreement_no;
    r = await S.fin.post('/api/v1/sponsorship/dues/generate', { json: { through: '2026-01-31' } });
    assert.equal(r.status, 200, r.text);
    // the statement: the agreement's number and the amount due (certain), the name alone (uncertain)
    const csv = `date;amount;currency;reference;name\n10/01/2026;35.00;USD;${agreementNo};S HADDAD\n` +
        `11/01/2026;15.00;USD;gift;SALMA HADDAD\n`;
    r = await off.post('/api/v1/bank-imports', { body: csv, type: 'text/csv' });
    assert.equal(r.status, 201, r.text); // the sponsorship officer imports ...
    assert.equal(r.json.matched, 1, r.text);
    assert.equal(r.json.uncertain, 1, r.text);
    const g = await off.get(`/api/v1/bank-imports/${r.json.id}`);
    const [certain, byName] = g.json.lines_detail;
    assert.deepEqual(certain.reason.sort(), ['amount_due', 'amount_total', 'ref_agreement']);
    assert.equal(certain.donor.id, donor.id);
    assert.equal(byName.donor.id, donor.id);
    r = await off.post(`/api/v1/bank-lines/${certain.id}/confirm`, { json: {} });
    assertProblem(r, 403); // ... the finance officer records the money
    r = await S.fin.post(`/api/v1/bank-imports/${g.json.id}/confirm-certain`);
    assert.deepEqual(r.json, { confirmed: 1, failed: 0 });
    r = await S.fin.get(`/api/v1/sponsorship/dues?payer_id=${donor.id}`);
    assert.equal(r.status, 200, r.text);
    const due = (r.json.items || [])[0];
    assert.ok(due, r.text);
    assert.equal(due.status, 'paid', JSON.stringify(due));
    const pay = srv.sql(`SELECT p.amount || ' ' || p.method || ' ' || p.received_on FROM payments p
                         JOIN bank_lines l ON l.payment_id = p.id WHERE l.id = '${certain.id}'`).trim();
    assert.equal(pay, '3500 bank_transfer 2026-01-10');
});
