// statement.test.mjs: receipts, annual giving statements and "where the money went" end to
// end, on SQLite and on PostgreSQL (the harness picks). A donor's history is written with SQL
// the way billing and disburse write it (dues, a payment with its receipt, an allocation, a
// payout paid with a signature, and the matching journal entries); then the JSON, PDF and
// HTML answers for staff, for the donor themselves (by "me" and by id), for another donor
// (404) and for a case worker (403); pdftotext must find the Arabic and the English; the
// donor's answers never hold the child's family, health or address fields; views are audited.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { apiClient, pageLogin, startServer } from './lib.mjs';

let srv;
const S = {};
const FROM = '2025-01-01';
const TO = '2025-02-28';

/** Single-quoted SQL literal (or NULL). */
function q(v) {
    return v === null || v === undefined ? 'NULL' : `'${String(v).replace(/'/g, "''")}'`;
}

/** Inserts a journal entry with its lines: lines [[account, fund, amount, donor]]. */
let entryNo = 100000;
function entry(date, kind, sourceId, lines) {
    const id = randomUUID();
    entryNo += 1;
    srv.sql(`INSERT INTO journal_entries (id, org_id, entry_no, entry_date, period, memo, source_kind,
        source_id, base_currency, created_at) VALUES (${q(id)}, ${q(S.org)}, ${entryNo}, ${q(date)},
        ${q(date.slice(0, 7))}, ${q(kind)}, ${q(kind)}, ${q(sourceId)}, 'USD', '2025-01-01T00:00:00Z')`);
    lines.forEach(([account, fund, amount, donor], i) => {
        srv.sql(`INSERT INTO journal_lines (id, entry_id, org_id, line_no, account, fund, currency,
            amount, base_amount, entry_date, donor_id) VALUES (${q(randomUUID())}, ${q(id)}, ${q(S.org)},
            ${i + 1}, ${q(account)}, ${q(fund)}, 'USD', ${amount}, ${amount}, ${q(date)}, ${q(donor)})`);
    });
    return id;
}

/** pdftotext's reading of a PDF, without spaces, line ends and bidi marks (pdftotext splits
 * Arabic words at letters that do not join and wraps right-to-left lines in embeddings). */
function pdfText(buf) {
    const dir = mkdtempSync(join(tmpdir(), 'sanad-st-'));
    try {
        const file = join(dir, 'd.pdf');
        writeFileSync(file, buf);
        const r = spawnSync('pdftotext', ['-enc', 'UTF-8', file, '-'], { encoding: 'utf8' });
        assert.equal(r.status, 0, r.stderr);
        return squeeze(r.stdout);
    } finally {
        rmSync(dir, { recursive: true, force: true });
    }
}

/** s without whitespace and bidi controls. */
function squeeze(s) {
    return s.replace(/[\s\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, '');
}

/** Asserts a PDF answer and returns its squeezed text. */
function pdfOf(r) {
    assert.equal(r.status, 200, r.text.slice(0, 300));
    assert.equal(r.headers.get('content-type'), 'application/pdf');
    assert.match(r.headers.get('cache-control') || '', /no-store/);
    assert.equal(r.raw.subarray(0, 5).toString('latin1'), '%PDF-');
    return pdfText(r.raw);
}

/** Fails when a donor-facing answer holds a field a donor must never see. */
function assertNoChildSecrets(text) {
    for (const bad of ['الخطيب', 'asthma', 'health', 'Hay Nazzal', 'locality', 'father_name',
        'family_name', 'guardian_id', 'birth_date', 'psych', 'Donor street 5']) {
        assert.ok(!text.includes(bad), `the donor sees '${bad}'`);
    }
}

before(async () => {
    srv = await startServer();
    S.offUser = srv.addUser('main', 'off', 'sponsorship_officer', undefined, 'Officer');
    S.cwUser = srv.addUser('main', 'cw', 'case_worker', undefined, 'Case Worker');
    S.d1User = srv.addUser('main', 'donor1', 'donor', undefined, 'Khalid Nasser');
    S.d2User = srv.addUser('main', 'donor2', 'donor', undefined, 'Layla Hasan');
    S.off = await apiClient(srv, 'main', 'off', S.offUser.password);
    S.cw = await apiClient(srv, 'main', 'cw', S.cwUser.password);
    S.d1 = await apiClient(srv, 'main', 'donor1', S.d1User.password);
    S.d2 = await apiClient(srv, 'main', 'donor2', S.d2User.password);
    S.org = srv.sql("SELECT id FROM organizations WHERE slug = 'main'").trim();

    const r = await S.cw.post('/api/v1/children', {
        json: {
            first_name: 'سارة', father_name: 'أحمد', grandfather_name: 'علي', family_name: 'الخطيب',
            sex: 'F', birth_date: '2016-03-10', orphan_status: 'father_deceased',
        },
    });
    assert.equal(r.status, 201, r.text);
    S.child = r.json.id;
    srv.sql(`UPDATE children SET first_name_latin = 'Sara', governorate = 'Amman',
        locality = 'Hay Nazzal', health_conditions = 'asthma' WHERE id = ${q(S.child)}`);

    S.donor1 = randomUUID();
    S.donor2 = randomUUID();
    for (const [id, no, name, user] of [[S.donor1, 'D-000001', 'خالد ناصر', S.d1User.id],
        [S.donor2, 'D-000002', 'ليلى حسن', S.d2User.id]]) {
        srv.sql(`INSERT INTO donors (id, org_id, donor_no, kind, name, name_latin, tax_name, tax_id,
            address, user_id, created_by, created_at, updated_at) VALUES (${q(id)}, ${q(S.org)}, ${q(no)},
            'person', ${q(name)}, 'Khalid Nasser', 'Nasser Trading', 'TX-4455', 'Donor street 5',
            ${q(user)}, 'test', '2025-01-01T00:00:00Z', '2025-01-01T00:00:00Z')`);
    }
    S.sp = randomUUID();
    srv.sql(`INSERT INTO sponsorships (id, org_id, agreement_no, child_id, donor_id, payer_id, amount,
        currency, frequency, purpose, start_date, status, next_due, created_by, created_at, updated_at)
        VALUES (${q(S.sp)}, ${q(S.org)}, 'S-2025-00001', ${q(S.child)}, ${q(S.donor1)}, ${q(S.donor1)},
        5000, 'USD', 'monthly', 'general', '2025-01-01', 'active', '2025-03-01', 'test',
        '2025-01-01T00:00:00Z', '2025-01-01T00:00:00Z')`);
    // Dues for January (paid) and February (not paid: the shortfall).
    S.dues = [];
    for (const [ym, paid, status] of [['2025-01', 5000, 'paid'], ['2025-02', 0, 'open']]) {
        const id = randomUUID();
        S.dues.push(id);
        const e = entry(`${ym}-01`, 'due', id, [['1100', 'sponsorship', 5000, S.donor1],
            ['4000', 'sponsorship', -5000, S.donor1]]);
        srv.sql(`INSERT INTO sponsorship_dues (id, org_id, sponsorship_id, donor_id, payer_id, child_id,
            period_start, period_end, due_date, amount, currency, fund, paid, status, entry_id, created_at)
            VALUES (${q(id)}, ${q(S.org)}, ${q(S.sp)}, ${q(S.donor1)}, ${q(S.donor1)}, ${q(S.child)},
            '${ym}-01', '${ym}-28', '${ym}-01', 5000, 'USD', 'sponsorship', ${paid}, ${q(status)},
            ${q(e)}, '2025-01-01T00:00:00Z')`);
    }
    // The payment of January with its receipt, and its allocation.
    S.pay = randomUUID();
    const pe = entry('2025-01-03', 'payment', S.pay, [['1010', 'sponsorship', 5000, S.donor1],
        ['2100', 'sponsorship', -5000, S.donor1]]);
    srv.sql(`INSERT INTO payments (id, org_id, payment_no, donor_id, amount, fee, currency, method,
        received_on, reference, unallocated, status, entry_id, created_by, created_at) VALUES
        (${q(S.pay)}, ${q(S.org)}, 'P-2025-000001', ${q(S.donor1)}, 5000, 0, 'USD', 'bank_transfer',
        '2025-01-03', 'TRX-77', 0, 'recorded', ${q(pe)}, 'test', '2025-01-03T00:00:00Z')`);
    S.receipt = randomUUID();
    srv.sql(`INSERT INTO receipts (id, org_id, year, seq, receipt_no, payment_id, donor_id, amount,
        currency, issued_on, created_at) VALUES (${q(S.receipt)}, ${q(S.org)}, 2025, 1, 'R-2025-000001',
        ${q(S.pay)}, ${q(S.donor1)}, 5000, 'USD', '2025-01-03', '2025-01-03T00:00:00Z')`);
    const alloc = randomUUID();
    const ae = entry('2025-01-03', 'allocation', alloc, [['2100', 'sponsorship', 5000, S.donor1],
        ['1100', 'sponsorship', -5000, S.donor1]]);
    // Passed on: a payout line paid with a signature.
    const run = randomUUID();
    const line = randomUUID();
    srv.sql(`INSERT INTO disbursement_runs (id, org_id, run_no, period, currency, status, total,
        n_lines, created_by, created_at) VALUES (${q(run)}, ${q(S.org)}, 'DR-2025-0001', '2025-01',
        'USD', 'confirmed', 5000, 1, 'test', '2025-01-04T00:00:00Z')`);
    srv.sql(`INSERT INTO disbursement_lines (id, run_id, org_id, child_id, amount, currency, fund,
        method, status, proof_kind, proof_ref, paid_on) VALUES (${q(line)}, ${q(run)}, ${q(S.org)},
        ${q(S.child)}, 5000, 'USD', 'sponsorship', 'cash', 'paid', 'signature', 'SIG-1', '2025-01-06')`);
    srv.sql(`INSERT INTO payment_allocations (id, org_id, payment_id, due_id, amount, entry_id,
        disbursement_line_id, created_at) VALUES (${q(alloc)}, ${q(S.org)}, ${q(S.pay)}, ${q(S.dues[0])},
        5000, ${q(ae)}, ${q(line)}, '2025-01-03T00:00:00Z')`);
});

after(async () => {
    if (srv) {
        await srv.close();
    }
});

test('staff see where the money went, and it agrees with the ledger', async () => {
    const r = await S.off.get(`/api/v1/donors/${S.donor1}/statement?from=${FROM}&to=${TO}`);
    assert.equal(r.status, 200, r.text);
    const st = r.json;
    assert.equal(st.consistent, true, JSON.stringify(st.checks));
    const t = st.totals.find((x) => x.currency === 'USD');
    assert.equal(t.given, 5000);
    assert.equal(t.given_text, '50.00');
    assert.equal(t.passed_on, 5000);
    assert.equal(t.shortfall, 5000);
    assert.equal(t.advance, 0);
    assert.equal(st.ledger[0].given, 5000);
    assert.equal(st.payments.length, 1);
    const al = st.payments[0].allocations[0];
    assert.equal(al.child.first_name, 'سارة');
    assert.equal(al.child.city, 'Amman');
    assert.equal(al.state, 'passed_on');
    assert.equal(al.payout.proof_kind, 'signature');
    assert.equal(al.payout.paid_on, '2025-01-06');
    assert.equal(st.payments[0].receipt_no, 'R-2025-000001');
    assert.equal(st.shortfall.length, 1);
    assert.equal(st.shortfall[0].period_start, '2025-02-01');
    assertNoChildSecrets(r.text);
});

test('a donor sees their own statement, receipts and annual statement, and nobody else\'s', async () => {
    let r = await S.d1.get(`/api/v1/donors/me/statement?from=${FROM}&to=${TO}`);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.donor.id, S.donor1);
    assertNoChildSecrets(r.text);
    r = await S.d1.get(`/api/v1/donors/${S.donor1}/statement?from=${FROM}&to=${TO}`);
    assert.equal(r.status, 200);
    r = await S.d1.get(`/api/v1/donors/${S.donor2}/statement`);
    assert.equal(r.status, 404);
    r = await S.d2.get(`/api/v1/donors/${S.donor1}/statement`);
    assert.equal(r.status, 404);
    r = await S.d2.get(`/api/v1/receipts/${S.receipt}`);
    assert.equal(r.status, 404);
    r = await S.d2.get('/api/v1/receipts/R-2025-000001.pdf');
    assert.equal(r.status, 404);
    r = await S.d2.get(`/api/v1/donors/${S.donor1}/annual/2025`);
    assert.equal(r.status, 404);
    r = await S.cw.get(`/api/v1/donors/${S.donor1}/statement`);
    assert.equal(r.status, 403);
    r = await S.cw.get(`/api/v1/receipts/${S.receipt}`);
    assert.equal(r.status, 403);
    r = await srv.client().get(`/api/v1/receipts/${S.receipt}`);
    assert.equal(r.status, 401);

    r = await S.d1.get(`/api/v1/receipts/${S.receipt}`);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.receipt_no, 'R-2025-000001');
    assert.equal(r.json.voided, false);
    assert.match(r.json.issued_on_hijri.ar, /1446/);
    assertNoChildSecrets(r.text);
    r = await S.d1.get('/api/v1/donors/me/annual/2025');
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.totals[0].amount, 5000);
    assert.equal(r.json.receipts.length, 1);
});

test('PDFs: the Arabic and the English come out of pdftotext', async () => {
    let text = pdfOf(await S.d1.get('/api/v1/receipts/R-2025-000001.pdf'));
    for (const s of ['إيصال تبرع', 'Donation receipt', 'R-2025-000001', '50.00 USD', 'TX-4455',
        'خالد ناصر', 'تحويل بنكي', 'Bank transfer']) {
        assert.ok(text.includes(squeeze(s)), `receipt PDF lacks '${s}': ${text.slice(0, 400)}`);
    }
    text = pdfOf(await S.d1.get(`/api/v1/donors/me/statement.pdf?from=${FROM}&to=${TO}&lang=ar`));
    for (const s of ['أين ذهب مالك', 'سارة', 'Sara', 'استلمه الولي', 'R-2025-000001', 'DR-2025-0001']) {
        assert.ok(text.includes(squeeze(s)), `Arabic statement PDF lacks '${s}'`);
    }
    assertNoChildSecrets(text);
    text = pdfOf(await S.off.get(`/api/v1/donors/${S.donor1}/statement.pdf?from=${FROM}&to=${TO}&lang=en`));
    for (const s of ['Where your money went', 'Received by the guardian', 'Shortfall', 'the figures agree']) {
        assert.ok(text.includes(squeeze(s)), `English statement PDF lacks '${s}'`);
    }
    text = pdfOf(await S.d1.get('/api/v1/donors/me/annual/2025.pdf?lang=en'));
    assert.ok(text.includes(squeeze('Annual giving statement 2025')));
    assert.ok(text.includes(squeeze('50.00 USD')));
    text = pdfOf(await S.d1.get('/api/v1/donors/me/annual/2025.pdf?lang=ar'));
    assert.ok(text.includes(squeeze('كشف العطاء السنوي')));
});

test('pages: the bilingual receipt, the statement and the annual statement', async () => {
    const c = srv.client();
    let r = await pageLogin(c, 'main', 'donor1', S.d1User.password);
    assert.equal(r.status, 303, r.text);
    r = await c.get(`/sponsorship/receipts/${S.receipt}`);
    assert.equal(r.status, 200, r.text.slice(0, 300));
    for (const s of ['إيصال تبرع', 'Donation receipt', 'R-2025-000001', '/static/statement.css',
        `/api/v1/receipts/${S.receipt}.pdf`]) {
        assert.ok(r.text.includes(s), `receipt page lacks '${s}'`);
    }
    r = await c.get(`/sponsorship/donors/me/statement?from=${FROM}&to=${TO}`);
    assert.equal(r.status, 200);
    assert.ok(r.text.includes('سارة'));
    assert.ok(r.text.includes('R-2025-000001'));
    assertNoChildSecrets(r.text);
    r = await c.get(`/sponsorship/donors/${S.donor2}/statement`);
    assert.equal(r.status, 404);
    r = await c.get('/sponsorship/donors/me/annual/2025');
    assert.equal(r.status, 200);
    assert.ok(r.text.includes('R-2025-000001'));
    r = await c.get('/static/statement.css');
    assert.equal(r.status, 200);
    assert.match(r.text, /@page/);

    const o = srv.client();
    r = await pageLogin(o, 'main', 'off', S.offUser.password);
    assert.equal(r.status, 303);
    r = await o.get(`/sponsorship/donors/${S.donor1}/statement?from=${FROM}&to=${TO}`);
    assert.equal(r.status, 200);
    assert.ok(r.text.includes('50.00'));
});

test('bad input: a clear error naming the field', async () => {
    let r = await S.off.get(`/api/v1/donors/${S.donor1}/statement?from=2025-02-30`);
    assert.ok(r.status === 400 || r.status === 422, String(r.status));
    assert.equal(r.json.code, 'invalid_date');
    assert.ok(JSON.stringify(r.json).includes('from'));
    r = await S.off.get(`/api/v1/donors/${S.donor1}/statement?from=2025-03-01&to=2025-01-01`);
    assert.equal(r.json.code, 'invalid_range');
    r = await S.off.get(`/api/v1/donors/${S.donor1}/annual/1999`);
    assert.equal(r.json.code, 'invalid_parameter');
    r = await S.off.get('/api/v1/receipts/R-1999-000001');
    assert.equal(r.status, 404);
});

test('every view is audited', async () => {
    const n = Number(srv.sql(`SELECT COUNT(*) FROM audit_log WHERE action = 'donor.statement.view'
        AND entity_id = ${q(S.donor1)}`).trim());
    assert.ok(n >= 4, String(n));
    const m = Number(srv.sql(`SELECT COUNT(*) FROM audit_log WHERE action = 'receipt.view'
        AND entity_id = ${q(S.receipt)}`).trim());
    assert.ok(m >= 3, String(m));
    const v = srv.auditVerify();
    assert.equal(v.code, 0, v.stderr + v.stdout);
});
