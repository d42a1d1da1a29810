// disburse.test.mjs: payouts to guardians and in-kind distributions end to end, on SQLite and
// on PostgreSQL (the harness picks). Sponsors' money is seeded with SQL the way billing leaves
// it (agreements, dues, payments, allocations); then over the API: a list picks only the
// money not passed on yet, one line per child and fund; a second list finds nothing;
// cancelling releases the money; approving posts balanced entries; a payout needs proof and
// happens once; a failed payout stays payable; bad input names its field and changes nothing;
// the CSV; in-kind items with and without a value; who may see and do what. Then the pages
// in Arabic and English: the lists, a new list, the printable list with its signature column,
// a payout recorded with a signature photo, the in-kind form; and the audit chain verifies.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { deflateSync } from 'node:zlib';
import {
    apiClient, inputValue, pageLogin, problemShape, startServer,
} from './lib.mjs';

let srv;
const S = {};

/** The previous month as YYYY-MM. */
function lastMonth() {
    const d = new Date();
    d.setUTCDate(1);
    d.setUTCMonth(d.getUTCMonth() - 1);
    return d.toISOString().slice(0, 7);
}

/** Registers a child; returns {id, file_no}. */
async function registerChild(c, first) {
    const body = {
        first_name: first, father_name: 'أحمد', grandfather_name: 'علي', family_name: 'الخطيب',
        sex: 'F', birth_date: '2014-03-11', orphan_status: 'father_deceased',
    };
    let r = await c.post('/api/v1/children', { json: body });
    if (r.status === 409 && r.json?.code === 'possible_duplicates') {
        r = await c.post('/api/v1/children', { json: { ...body, different_from: r.json.candidates.map((x) => x.id) } });
    }
    assert.equal(r.status, 201, r.text);
    return r.json;
}

/** SQL text literal. */
function q(s) {
    return s === null ? 'NULL' : `'${String(s).replace(/'/g, "''")}'`;
}

let seq = 0;
/** Seeds a paid due for child (an agreement, the due, a payment, the allocation). */
function seedPaid(child, period, amount, currency = 'USD', purpose = 'general') {
    seq++;
    const sp = randomUUID(), due = randomUUID(), pay = randomUUID(), al = randomUUID();
    const fund = { general: 'sponsorship', education: 'education', medical: 'medical' }[purpose];
    const now = new Date().toISOString();
    const start = `${period}-01`;
    srv.sql(`INSERT INTO sponsorships (id, org_id, agreement_no, child_id, donor_id, payer_id, amount,
        currency, frequency, purpose, start_date, status, next_due, created_by, created_at, updated_at)
        VALUES (${q(sp)}, ${q(S.org)}, ${q('S-E2E-' + seq)}, ${q(child)}, ${q(S.donor)}, ${q(S.donor)},
        ${amount}, ${q(currency)}, 'monthly', ${q(purpose)}, ${q(start)}, 'ended', ${q(start)}, 'e2e',
        ${q(now)}, ${q(now)})`);
    srv.sql(`INSERT INTO sponsorship_dues (id, org_id, sponsorship_id, donor_id, payer_id, child_id,
        period_start, period_end, due_date, amount, currency, fund, paid, status, created_at)
        VALUES (${q(due)}, ${q(S.org)}, ${q(sp)}, ${q(S.donor)}, ${q(S.donor)}, ${q(child)}, ${q(start)},
        ${q(period + '-28')}, ${q(start)}, ${amount}, ${q(currency)}, ${q(fund)}, ${amount}, 'paid', ${q(now)})`);
    srv.sql(`INSERT INTO payments (id, org_id, payment_no, donor_id, amount, fee, currency, method,
        received_on, unallocated, status, created_by, created_at) VALUES (${q(pay)}, ${q(S.org)},
        ${q('P-E2E-' + seq)}, ${q(S.donor)}, ${amount}, 0, ${q(currency)}, 'cash', ${q(start)}, 0,
        'recorded', 'e2e', ${q(now)})`);
    srv.sql(`INSERT INTO payment_allocations (id, org_id, payment_id, due_id, amount, created_at)
        VALUES (${q(al)}, ${q(S.org)}, ${q(pay)}, ${q(due)}, ${amount}, ${q(now)})`);
    return al;
}

/** Journal lines per currency and fund that do not sum to zero ('' when the books balance). */
function unbalanced() {
    return srv.sql(`SELECT currency, fund, SUM(amount) FROM journal_lines WHERE org_id = ${q(S.org)}
        GROUP BY currency, fund HAVING SUM(amount) <> 0`).trim();
}

/** The balance of an account in a fund (debit positive). */
function balance(account, fund) {
    return Number(srv.sql(`SELECT COALESCE(SUM(amount), 0) FROM journal_lines WHERE org_id = ${q(S.org)}
        AND account = ${q(account)} AND fund = ${q(fund)}`).trim());
}

/** Asserts r is a problem+json with status and code (and field, when given). */
function assertProblem(r, status, code, field) {
    assert.equal(r.status, status, r.text);
    assert.equal(problemShape(r), '', r.text);
    assert.equal(r.json.code, code, r.text);
    if (field) {
        const named = (r.json.errors || []).map((x) => x.field);
        assert.ok(named.includes(field), `${field} not in ${r.text}`);
    }
}

/** A 1x1 PNG with a text chunk that must not survive. */
function png() {
    const crcTable = [];
    for (let n = 0; n < 256; n++) {
        let c = n;
        for (let k = 0; k < 8; k++) {
            c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
        }
        crcTable[n] = c >>> 0;
    }
    const crc = (buf) => {
        let c = 0xffffffff;
        for (const b of buf) {
            c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8);
        }
        return (c ^ 0xffffffff) >>> 0;
    };
    const chunk = (type, data) => {
        const len = Buffer.alloc(4);
        len.writeUInt32BE(data.length);
        const td = Buffer.concat([Buffer.from(type, 'latin1'), data]);
        const c = Buffer.alloc(4);
        c.writeUInt32BE(crc(td));
        return Buffer.concat([len, td, c]);
    };
    const ihdr = Buffer.from([0, 0, 0, 1, 0, 0, 0, 1, 8, 2, 0, 0, 0]);
    return Buffer.concat([
        Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
        chunk('IHDR', ihdr),
        chunk('tEXt', Buffer.from('Comment\0GPS 33.5,36.2', 'latin1')),
        chunk('IDAT', deflateSync(Buffer.from([0, 255, 255, 255]))),
        chunk('IEND', Buffer.alloc(0)),
    ]);
}

before(async () => {
    srv = await startServer();
    S.finUser = srv.addUser('main', 'fin', 'finance_officer', undefined, 'Finance Officer');
    S.spoUser = srv.addUser('main', 'spo', 'sponsorship_officer', undefined, 'Sponsorship Officer');
    S.cwUser = srv.addUser('main', 'cw', 'case_worker', undefined, 'Case Worker');
    srv.addOrg('other', 'Other Org');
    S.otherUser = srv.addUser('other', 'ofin', 'finance_officer', undefined, 'Other Finance');
    S.fin = await apiClient(srv, 'main', 'fin', S.finUser.password);
    S.spo = await apiClient(srv, 'main', 'spo', S.spoUser.password);
    S.cw = await apiClient(srv, 'main', 'cw', S.cwUser.password);
    S.other = await apiClient(srv, 'other', 'ofin', S.otherUser.password);
    S.org = srv.sql("SELECT id FROM organizations WHERE slug = 'main'").trim();
    S.kid1 = await registerChild(S.cw, 'مريم');
    S.kid2 = await registerChild(S.cw, 'سارة');
    const g = await S.cw.post('/api/v1/guardians', {
        json: { full_name: 'ريم الخطيب', relation: 'mother', phone: '0791234567' },
    });
    assert.equal(g.status, 201, g.text);
    const sg = await S.cw.post(`/api/v1/children/${S.kid1.id}/guardian`, {
        json: { guardian_id: g.json.id, reason: 'registration' },
    });
    assert.ok(sg.status < 300, sg.text);
    S.donor = randomUUID();
    const now = new Date().toISOString();
    srv.sql(`INSERT INTO donors (id, org_id, donor_no, kind, name, created_by, created_at, updated_at)
        VALUES (${q(S.donor)}, ${q(S.org)}, 'D-000001', 'person', 'Amina Trust', 'e2e', ${q(now)}, ${q(now)})`);
    S.period = lastMonth();
    seedPaid(S.kid1.id, S.period, 5000);
    seedPaid(S.kid1.id, S.period, 2550);
    seedPaid(S.kid1.id, S.period, 1000, 'USD', 'education');
    seedPaid(S.kid2.id, '2021-01', 4000);
    seedPaid(S.kid2.id, S.period, 900, 'EUR');
});

after(async () => {
    if (srv) {
        await srv.close();
    }
});

test('bad input names its field and makes nothing', async () => {
    const cases = [
        [{ period: '2026-13', currency: 'USD' }, 422, 'invalid_field', 'period'],
        [{ period: '10-2026', currency: 'USD' }, 422, 'invalid_field', 'period'],
        [{ period: S.period, currency: 'XYZ' }, 422, 'unknown_currency', 'currency'],
        [{ period: S.period, currency: 'USD', method: 'card' }, 422, 'invalid_choice', 'method'],
        [{ period: S.period }, 422, 'required', 'currency'],
        [{ period: S.period, currency: 'USD', colour: 'red' }, 422, null, null],
    ];
    for (const [json, status, code, field] of cases) {
        const r = await S.fin.post('/api/v1/disbursements', { json });
        assert.ok(r.status === status || (r.status === 400 && status === 422), `${JSON.stringify(json)}: ${r.text}`);
        assert.equal(problemShape(r), '', r.text);
        if (code) {
            assert.equal(r.json.code, code, r.text);
        }
        if (field) {
            assert.ok(r.text.includes(field), r.text);
        }
    }
    // Roles without finance.write, and case roles, are refused.
    let r = await S.spo.post('/api/v1/disbursements', { json: { period: S.period, currency: 'USD' } });
    assert.equal(r.status, 403, r.text);
    r = await S.cw.get('/api/v1/disbursements');
    assert.equal(r.status, 403, r.text);
    r = await S.fin.get('/api/v1/disbursements');
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.total, 0);
});

test('a list passes each allocation on once; cancelling releases it', async () => {
    let r = await S.fin.post('/api/v1/disbursements', { json: { period: S.period, currency: 'USD', method: 'cash' } });
    assert.equal(r.status, 201, r.text);
    assert.equal(r.json.n_lines, 3);
    assert.equal(r.json.total, 5000 + 2550 + 1000 + 4000);
    assert.match(r.json.run_no, /^DR-\d{4}-\d{4}$/);
    const first = r.json.id;
    r = await S.fin.post('/api/v1/disbursements', { json: { period: S.period, currency: 'USD' } });
    assertProblem(r, 409, 'nothing_to_disburse');
    r = await S.fin.post(`/api/v1/disbursements/${first}/cancel`);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.status, 'cancelled');
    assert.ok(r.json.lines.every((l) => l.status === 'cancelled'));
    r = await S.fin.post(`/api/v1/disbursements/${first}/cancel`);
    assertProblem(r, 409, 'run_not_draft');
    r = await S.fin.post('/api/v1/disbursements', { json: { period: S.period, currency: 'USD', method: 'mobile_money' } });
    assert.equal(r.status, 201, r.text);
    assert.equal(r.json.total, 12550);
    S.run = r.json.id;
    r = await S.fin.get(`/api/v1/disbursements/${S.run}`);
    assert.equal(r.status, 200, r.text);
    const lines = r.json.lines;
    S.linePool = lines.find((l) => l.child_id === S.kid1.id && l.fund === 'sponsorship');
    S.lineEdu = lines.find((l) => l.child_id === S.kid1.id && l.fund === 'education');
    S.lineKid2 = lines.find((l) => l.child_id === S.kid2.id);
    assert.equal(S.linePool.amount, 7550);
    assert.equal(S.linePool.amount_text, '75.50');
    assert.equal(S.linePool.guardian_name, 'ريم الخطيب');
    assert.equal(S.lineEdu.amount, 1000);
    assert.equal(S.lineKid2.amount, 4000);
    assert.equal(S.lineKid2.guardian_id ?? null, null);
    // Another organization sees nothing.
    r = await S.other.get(`/api/v1/disbursements/${S.run}`);
    assert.equal(r.status, 404, r.text);
});

test('approving posts balanced entries; a payout needs proof and happens once', async () => {
    let r = await S.fin.post(`/api/v1/disbursement-lines/${S.linePool.id}/paid`, { json: { reference: 'TX-1' } });
    assertProblem(r, 409, 'run_not_confirmed');
    r = await S.fin.post(`/api/v1/disbursements/${S.run}/confirm`, { json: { date: '2999-01-01' } });
    assertProblem(r, 422, 'future_date', 'date');
    r = await S.fin.post(`/api/v1/disbursements/${S.run}/confirm`, { json: { date: '2026-02-30' } });
    assertProblem(r, 422, 'invalid_date', 'date');
    assert.equal(balance('5000', 'sponsorship'), 0);
    r = await S.fin.post(`/api/v1/disbursements/${S.run}/confirm`);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.status, 'confirmed');
    assert.ok(r.json.entry_id);
    assert.equal(balance('5000', 'sponsorship'), 11550);
    assert.equal(balance('2000', 'sponsorship'), -11550);
    assert.equal(balance('5000', 'education'), 1000);
    assert.equal(unbalanced(), '');
    r = await S.fin.post(`/api/v1/disbursements/${S.run}/confirm`);
    assertProblem(r, 409, 'run_not_draft');

    r = await S.fin.post(`/api/v1/disbursement-lines/${S.linePool.id}/paid`, { json: {} });
    assertProblem(r, 422, 'proof_required', 'reference');
    r = await S.fin.post(`/api/v1/disbursement-lines/${S.linePool.id}/paid`, { json: { reference: 'TX-1', method: 'card' } });
    assertProblem(r, 422, 'invalid_choice', 'method');
    r = await S.fin.post(`/api/v1/disbursement-lines/${S.linePool.id}/paid`, { json: { reference: 'TX-1', paid_on: '2020-01-01' } });
    assertProblem(r, 422, 'before_confirmation', 'paid_on');
    r = await S.spo.post(`/api/v1/disbursement-lines/${S.linePool.id}/paid`, { json: { reference: 'TX-1' } });
    assert.equal(r.status, 403, r.text);
    assert.equal(balance('2000', 'sponsorship'), -11550);

    r = await S.fin.post(`/api/v1/disbursement-lines/${S.linePool.id}/paid`, { json: { reference: 'MM-778899' } });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.status, 'paid');
    assert.equal(r.json.method, 'mobile_money');
    assert.equal(r.json.proof_kind, 'reference');
    assert.equal(balance('2000', 'sponsorship'), -4000);
    assert.equal(balance('1020', 'sponsorship'), -7550);
    r = await S.fin.post(`/api/v1/disbursement-lines/${S.linePool.id}/paid`, { json: { reference: 'MM-778899' } });
    assertProblem(r, 409, 'payout_paid');
    assert.equal(balance('2000', 'sponsorship'), -4000);
    assert.equal(unbalanced(), '');

    // Failed, then paid later in cash with a signature photo (multipart).
    r = await S.fin.post(`/api/v1/disbursement-lines/${S.lineKid2.id}/failed`, { json: { reason: 'guardian away' } });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.status, 'failed');
    const fd = new FormData();
    fd.append('photo', new Blob([png()], { type: 'image/png' }), 'sig.png');
    fd.append('method', 'cash');
    r = await S.fin.post(`/api/v1/disbursement-lines/${S.lineKid2.id}/paid`, { body: fd });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.proof_kind, 'signature');
    assert.equal(balance('1000', 'sponsorship'), -4000);
    r = await S.fin.get(`/api/v1/disbursement-lines/${S.lineKid2.id}/proof`);
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('content-type'), 'image/png');
    assert.match(r.headers.get('cache-control') || '', /no-store/);
    assert.ok(!r.raw.includes(Buffer.from('GPS')), 'metadata stripped');
    const bad = new FormData();
    bad.append('photo', new Blob(['<svg onload=alert(1)>'], { type: 'image/png' }), 'x.png');
    r = await S.fin.post(`/api/v1/disbursement-lines/${S.lineEdu.id}/paid`, { body: bad });
    assert.equal(r.status, 422, r.text);
    assert.equal(r.json.errors?.[0]?.field ?? 'photo', 'photo');
    assert.equal(unbalanced(), '');

    r = await S.fin.get(`/api/v1/disbursements/${S.run}.csv`);
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type'), /text\/csv/);
    assert.ok(r.text.includes('MM-778899'), r.text);
    assert.ok(r.text.includes('75.50'), r.text);
    r = await S.fin.get('/api/v1/disbursements');
    const item = r.json.items.find((x) => x.id === S.run);
    assert.equal(item.n_paid, 2);
    assert.equal(item.paid_total, 11550);
    // The EUR money waits for its own list.
    r = await S.fin.post('/api/v1/disbursements', { json: { period: S.period, currency: 'EUR' } });
    assert.equal(r.status, 201, r.text);
    assert.equal(r.json.total, 900);
});

test('in-kind distributions with and without a value', async () => {
    let r = await S.spo.post('/api/v1/inkind', {
        json: { child_id: S.kid2.id, kind: 'school_kit', description: 'حقيبة ودفاتر', quantity: 2 },
    });
    assert.equal(r.status, 201, r.text);
    r = await S.spo.post('/api/v1/inkind', {
        json: {
            child_id: S.kid2.id, kind: 'device', value: '120.50', currency: 'USD', fund: 'education',
            donor_id: S.donor, proof_ref: 'DN-77',
        },
    });
    assert.equal(r.status, 201, r.text);
    assert.equal(balance('5200', 'education'), 12050);
    assert.equal(balance('4100', 'education'), -12050);
    assert.equal(unbalanced(), '');
    const before = srv.sql(`SELECT COUNT(*) FROM inkind_distributions WHERE org_id = ${q(S.org)}`).trim();
    for (const [json, field] of [
        [{ child_id: S.kid2.id, kind: 'toy' }, 'kind'],
        [{ child_id: S.kid2.id, kind: 'food_parcel', quantity: 0 }, 'quantity'],
        [{ child_id: S.kid2.id, kind: 'food_parcel', value: '0', currency: 'USD' }, 'value'],
        [{ child_id: S.kid2.id, kind: 'food_parcel', value: '-1', currency: 'USD' }, 'value'],
        [{ child_id: S.kid2.id, kind: 'food_parcel', value: '1.234', currency: 'USD' }, 'value'],
        [{ child_id: S.kid2.id, kind: 'food_parcel', value: '1', currency: 'ABC' }, 'currency'],
        [{ child_id: S.kid2.id, kind: 'food_parcel', value: '1' }, 'currency'],
        [{ child_id: S.kid2.id, kind: 'food_parcel', distributed_on: '2999-01-01' }, 'distributed_on'],
        [{ child_id: randomUUID(), kind: 'food_parcel' }, 'child_id'],
    ]) {
        r = await S.spo.post('/api/v1/inkind', { json });
        assertProblem(r, 422, 'validation_failed', field);
    }
    assert.equal(srv.sql(`SELECT COUNT(*) FROM inkind_distributions WHERE org_id = ${q(S.org)}`).trim(), before);
    r = await S.cw.post('/api/v1/inkind', { json: { child_id: S.kid2.id, kind: 'food_parcel' } });
    assert.equal(r.status, 403, r.text);
    r = await S.cw.get(`/api/v1/children/${S.kid2.id}/inkind`);
    assert.equal(r.status, 403, r.text);
    r = await S.fin.get(`/api/v1/children/${S.kid2.id}/inkind`);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.items.length, 2);
    const valued = r.json.items.find((x) => x.value !== null);
    assert.equal(valued.value_text, '120.50');
    assert.equal(valued.donor_name, 'Amina Trust');
    r = await S.other.get(`/api/v1/children/${S.kid2.id}/inkind`);
    assert.equal(r.status, 404, r.text);
});

test('the pages in Arabic and English, the printable list, a payout with a photo', async () => {
    const c = srv.client();
    let r = await pageLogin(c, 'main', 'fin', S.finUser.password);
    assert.ok(r.status === 303 || r.status === 302, r.text);
    r = await c.get('/sponsorship/disbursements');
    assert.equal(r.status, 200, r.text);
    assert.match(r.text, /dir="rtl"/);
    assert.ok(r.text.includes('صرف الكفالات للأوصياء'));
    r = await c.get('/sponsorship/disbursements/new');
    assert.equal(r.status, 200, r.text);
    const csrf = inputValue(r.text, 'csrf');
    // Bad input: the form again, the field named, in Arabic.
    r = await c.post('/sponsorship/disbursements', { form: { csrf, period: '2026-13', currency: 'usd', method: 'cash' } });
    assert.equal(r.status, 422, r.text);
    assert.match(r.text, /aria-invalid="true"/);
    assert.ok(r.text.includes('الشهر'), 'the field is named');
    r = await c.post('/sponsorship/disbursements', { form: { csrf, period: S.period, currency: 'usd', method: 'cash' } });
    assert.equal(r.status, 409, r.text);
    assert.ok(r.text.includes('لا أموال تنتظر الصرف'), r.text);
    // New money arrives: a list made from the page, printed, approved, paid with a photo.
    seedPaid(S.kid1.id, S.period, 3000);
    r = await c.post('/sponsorship/disbursements', { form: { csrf, period: S.period, currency: 'usd', method: 'cash' } });
    assert.equal(r.status, 303, r.text);
    const loc = r.headers.get('location');
    const runId = /disbursements\/([0-9a-f-]{36})/.exec(loc)[1];
    r = await c.get(loc);
    assert.equal(r.status, 200, r.text);
    assert.ok(r.text.includes('ds-sign'), 'signature column');
    assert.ok(r.text.includes('/static/disburse.css'));
    assert.ok(r.text.includes('30.00'));
    // The page's CSV link works with the session, headings in Arabic.
    r = await c.get(`/api/v1/disbursements/${runId}.csv`);
    assert.equal(r.status, 200, r.text);
    assert.ok(r.text.includes('التوقيع'), r.text.slice(0, 200));
    r = await c.get('/static/disburse.css');
    assert.equal(r.status, 200);
    assert.match(r.text, /@media print/);
    r = await c.post(`/sponsorship/disbursements/${runId}/confirm`, { form: { csrf, date: '' } });
    assert.equal(r.status, 303, r.text);
    r = await c.get(`/sponsorship/disbursements/${runId}`);
    const line = /id="line-([0-9a-f-]{36})"/.exec(r.text)[1];
    // No proof: the page again with the message beside the line.
    r = await c.post(`/sponsorship/disbursement-lines/${line}/paid`, { form: { csrf, reference: '', method: 'cash' } });
    assert.equal(r.status, 422, r.text);
    assert.ok(r.text.includes('الصرف يحتاج إثباتًا'), 'proof required, in Arabic');
    const fd = new FormData();
    fd.append('csrf', csrf);
    fd.append('method', 'cash');
    fd.append('photo', new Blob([png()], { type: 'image/png' }), 'sig.png');
    r = await c.post(`/sponsorship/disbursement-lines/${line}/paid`, { body: fd });
    assert.equal(r.status, 303, r.text);
    r = await c.get(`/sponsorship/disbursements/${runId}`);
    assert.ok(r.text.includes(`/sponsorship/disbursement-lines/${line}/proof`));
    r = await c.get(`/sponsorship/disbursement-lines/${line}/proof`);
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('content-type'), 'image/png');
    assert.equal(unbalanced(), '');
    // English.
    r = await c.post('/lang', { form: { csrf, lang: 'en', next: `/sponsorship/disbursements/${runId}` } });
    r = await c.get(`/sponsorship/disbursements/${runId}`);
    assert.match(r.text, /dir="ltr"/);
    assert.ok(r.text.includes('Payout list'), r.text.slice(0, 300));
    assert.ok(r.text.includes('Signature'));

    // In-kind from the page, by file number (sponsorship officer).
    const s = srv.client();
    await pageLogin(s, 'main', 'spo', S.spoUser.password);
    r = await s.get('/sponsorship/inkind');
    assert.equal(r.status, 200, r.text);
    const scsrf = inputValue(r.text, 'csrf');
    r = await s.post('/sponsorship/inkind', {
        form: { csrf: scsrf, file_no: 'NOPE-1', kind: 'food_parcel', quantity: '0', distributed_on: '2026-01-01', value: '', currency: 'USD', fund: '' },
    });
    assert.equal(r.status, 422, r.text);
    assert.ok(r.text.includes('لا يوجد طفل بهذا الرقم'));
    assert.match(r.text, /id="f-quantity-error"/);
    r = await s.post('/sponsorship/inkind', {
        form: {
            csrf: scsrf, file_no: S.kid1.file_no, kind: 'food_parcel', quantity: '3', distributed_on: new Date().toISOString().slice(0, 10),
            value: '25', currency: 'USD', fund: '', donor_no: 'D-000001', description: 'سلة رمضان',
        },
    });
    assert.equal(r.status, 303, r.text);
    r = await s.get(r.headers.get('location'));
    assert.equal(r.status, 200);
    assert.ok(r.text.includes('سلة رمضان'));
    assert.equal(balance('5200', 'unrestricted'), 2500);
    assert.equal(unbalanced(), '');
    // A case worker is not let in.
    const w = srv.client();
    await pageLogin(w, 'main', 'cw', S.cwUser.password);
    r = await w.get('/sponsorship/disbursements');
    assert.equal(r.status, 403);
    r = await w.get('/sponsorship/inkind');
    assert.equal(r.status, 403);
});

test('every money event is audited and the chain verifies', async () => {
    const n = Number(srv.sql(`SELECT COUNT(*) FROM audit_log WHERE org_id = ${q(S.org)}
        AND (action LIKE 'disbursement.%' OR action = 'inkind.record')`).trim());
    assert.ok(n >= 12, `audit entries: ${n}`);
    await srv.stop();
    assert.ok(!/AddressSanitizer|LeakSanitizer|runtime error/.test(srv.stderr), srv.stderrTail());
    const v = srv.auditVerify();
    assert.equal(v.code, 0, v.stdout + v.stderr);
});
