// statement.test.mjs: receipts, annual giving statements and "where the money went" end to
// end, on SQLite and on PostgreSQL (the harness picks). A donor's history is written with SQL
// the way billing and disburse write it (dues, a payment with its receipt, an allocation, a
// payout paid with a signature, and the matching journal entries); then the JSON, PDF and
// HTML answers for staff, for the donor themselves (by "me" and by id), for another donor
// (404) and for a case worker (403); pdftotext must find the Arabic and the English; the
// donor's answers never hold the child's family, health or address fields; views are audited.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pageLogin, startServer } from './lib.mjs';
import { q, seedStatement } from './statement_data.mjs';

let srv;
let S = {};
const FROM = '2025-01-01';
const TO = '2025-02-28';

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
    S = await seedStatement(srv);
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
