// billing.test.mjs: what is expected and what is received, over HTTP, on SQLite and on
// PostgreSQL (the harness picks): dues generated month by month (once only), payments with
// receipts numbered without gaps and allocated oldest first, an advance used by the next
// month's due, every bad input refused with nothing written, a transaction id recorded twice
// refused, arrears and the officer's warning, the reconciliation (JSON and CSV), a reversal,
// the trial balance at zero after the simulated months, permissions, and the pages in Arabic
// and English with errors next to the fields.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, apiClient, rand, pageLogin, inputValue } from './lib.mjs';

/** Registers a child through the API and makes it active; returns {id, file_no}. */
async function child(server, api, first) {
    const r = await api.post('/api/v1/children', {
        json: {
            first_name: first, father_name: 'محمد', grandfather_name: 'علي', family_name: 'الخطيب',
            sex: 'F', birth_date: '2015-03-01', orphan_status: 'father_deceased',
        },
    });
    assert.equal(r.status, 201, r.text);
    server.sql(`UPDATE children SET status = 'active' WHERE id = '${r.json.id}'`);
    return r.json;
}

/** What changes when money is written: counts of payments, receipts, allocations, entries. */
async function footprint(api) {
    const p = await api.get('/api/v1/payments?per_page=1');
    const e = await api.get('/api/v1/finance/entries?per_page=1');
    const d = await api.get('/api/v1/sponsorship/dues?per_page=1');
    return `${p.json.total}/${e.json.total}/${d.json.total}`;
}

test('dues, payments, reconciliation and the books over simulated months', async () => {
    const server = await startServer();
    try {
        const offU = server.addUser(server.org, `o${rand(6)}`, 'sponsorship_officer');
        const finU = server.addUser(server.org, `f${rand(6)}`, 'finance_officer');
        const cwU = server.addUser(server.org, `c${rand(6)}`, 'case_worker');
        const off = await apiClient(server, server.org, offU.username, offU.password);
        const fin = await apiClient(server, server.org, finU.username, finU.password);
        const cw = await apiClient(server, server.org, cwU.username, cwU.password);

        let r = await off.post('/api/v1/donors', { json: { kind: 'person', name: 'أمينة الكافلة' } });
        assert.equal(r.status, 201, r.text);
        const d1 = r.json;
        r = await off.post('/api/v1/donors', { json: { kind: 'company', name: 'Late Company' } });
        const d2 = r.json;
        const k1 = await child(server, cw, 'مريم');
        const k2 = await child(server, cw, 'سارة');
        const k3 = await child(server, cw, 'هدى');
        const base = { amount: '50.00', currency: 'USD', frequency: 'monthly', status: 'active' };
        for (const [kid, donor, start, extra] of [
            [k1, d1, '2026-01-01', {}],
            [k2, d1, '2026-01-15', { amount: '90.00', frequency: 'quarterly', purpose: 'education' }],
            [k3, d2, '2026-01-31', {}],
        ]) {
            r = await off.post('/api/v1/sponsorships', {
                json: { ...base, child_id: kid.id, donor_id: donor.id, start_date: start, ...extra },
            });
            assert.equal(r.status, 201, r.text);
        }

        // January's dues; the sponsorship officer may not post them; a second run adds nothing.
        r = await off.post('/api/v1/sponsorship/dues/generate', { json: { through: '2026-01-31' } });
        assert.equal(r.status, 403, r.text);
        r = await fin.post('/api/v1/sponsorship/dues/generate', { json: { through: '2026-01-31' } });
        assert.equal(r.status, 200, r.text);
        assert.equal(r.json.dues, 3);
        r = await fin.post('/api/v1/sponsorship/dues/generate', { json: { through: '2026-01-31' } });
        assert.equal(r.json.dues, 0);
        r = await fin.post('/api/v1/sponsorship/dues/generate', { json: { through: '2026-02-30' } });
        assert.equal(r.status, 422, r.text);
        assert.equal(r.json.errors[0].field, 'through');

        // A payment of 100.00: Jan 1 (50) and 50 of Jan 15 (90), oldest first.
        const pay = { donor_id: d1.donor_no, amount: '100.00', currency: 'USD', method: 'bank_transfer', received_on: '2026-01-20', external_ref: 'BANK-1' };
        r = await fin.post('/api/v1/payments', { json: pay });
        assert.equal(r.status, 201, r.text);
        assert.equal(r.json.receipt_no, 'R-' + new Date().getUTCFullYear() + '-000001');
        assert.equal(r.json.payment_no, 'P-2026-000001');
        assert.equal(r.json.allocations.length, 2);
        assert.equal(r.json.unallocated, 0);
        const p1 = r.json.id;

        // Bad input: a clear error, nothing written.
        const before = await footprint(fin);
        for (const [over, code, field] of [
            [{ amount: '0' }, 'invalid_amount', 'amount'],
            [{ amount: '-3' }, 'invalid_amount', 'amount'],
            [{ amount: '1.001' }, 'too_many_decimals', 'amount'],
            [{ currency: 'ABC' }, 'unknown_currency', 'currency'],
            [{ method: 'gold' }, 'invalid_choice', 'method'],
            [{ received_on: '2099-01-01' }, 'future_date', 'received_on'],
            [{ fee: '100.00' }, 'invalid_amount', 'fee'],
            [{}, 'external_ref_used', 'external_ref'],
            [{ external_ref: 'X2', allocations: [{ due_id: p1 }] }, 'not_found', 'allocations[0].due_id'],
        ]) {
            r = await fin.post('/api/v1/payments', { json: { ...pay, ...over } });
            assert.ok(r.status === 422 || r.status === 409 || r.status === 404, r.text);
            assert.equal(r.json.code === 'validation_failed' ? r.json.errors[0].code : r.json.code, code, r.text);
            const f = r.json.errors?.[0]?.field;
            assert.equal(f, field, r.text);
        }
        r = await fin.post('/api/v1/payments', { json: { ...pay, external_ref: 'X3', colour: 'red' } });
        assert.equal(r.status, 422, r.text);
        assert.equal(await footprint(fin), before);

        // February: the rest of Jan 15 (40) and Feb 1 (50) paid by a second payment with a fee,
        // 10.00 left as an advance that pays March's due when it is generated.
        r = await fin.post('/api/v1/sponsorship/dues/generate', { json: { through: '2026-02-28' } });
        assert.equal(r.json.dues, 2);
        r = await fin.post('/api/v1/payments', { json: { ...pay, amount: '100.00', fee: '1.50', method: 'card', received_on: '2026-02-10', external_ref: 'GW-2' } });
        assert.equal(r.status, 201, r.text);
        assert.equal(r.json.unallocated_text, '10.00');
        const p2 = r.json.id;
        r = await fin.post('/api/v1/sponsorship/dues/generate', { json: { through: '2026-03-31' } });
        assert.equal(r.status, 200, r.text);
        assert.ok(r.json.allocations >= 1, r.text);
        assert.ok(r.json.alerts >= 1, 'the late payer raises an alert: ' + r.text);
        r = await fin.get(`/api/v1/payments/${p2}`);
        assert.equal(r.json.unallocated, 0);

        // Named allocation of another payer's due is refused.
        r = await fin.get(`/api/v1/sponsorship/dues?payer_id=${d2.id}&status=unpaid`);
        assert.equal(r.json.total, 3);
        const lateDue = r.json.items[0].id;
        r = await fin.post(`/api/v1/payments/${p1}/allocate`, { json: { allocations: [{ due_id: lateDue }] } });
        assert.equal(r.status, 409, r.text);
        assert.equal(r.json.code, 'payer_mismatch');

        // Arrears: the company is three periods late and the officer is warned once.
        r = await off.get('/api/v1/sponsorship/arrears?as_of=2026-04-01');
        assert.equal(r.status, 200, r.text);
        const late = r.json.items.find((x) => x.payer_id === d2.id);
        assert.ok(late, r.text);
        assert.equal(late.amount_text, '150.00');
        assert.equal(late.n_periods, 3);
        assert.equal(late.oldest_due, '2026-01-31');
        assert.equal(late.alerted, true);
        assert.equal(Number(server.sql(`SELECT COUNT(*) FROM tasks WHERE kind = 'arrears' AND role = 'sponsorship_officer' AND title LIKE '%Late Company%'`).trim()), 1);
        r = await fin.post('/api/v1/sponsorship/dues/generate', { json: { through: '2026-03-31' } });
        assert.equal(r.json.alerts, 0);

        // Reconciliation per payer and month, with totals and CSV.
        r = await off.get('/api/v1/sponsorship/reconciliation?from=2026-01&to=2026-03&as_of=2026-04-01');
        assert.equal(r.status, 200, r.text);
        const tot = r.json.totals.find((t) => t.currency === 'USD');
        // d1: 50×3 + 90 = 240 expected, 190 received... plus the advance used: 200 in all;
        // d2: 150 expected, nothing received.
        assert.equal(tot.expected_text, '390.00');
        assert.equal(tot.received_text, '200.00');
        assert.equal(tot.arrears_text, '190.00');
        const rowsD2 = r.json.rows.filter((x) => x.payer_id === d2.id);
        assert.equal(rowsD2.length, 3);
        r = await off.get('/api/v1/sponsorship/reconciliation?from=2026-01&to=2026-03&as_of=2026-04-01&format=csv');
        assert.equal(r.status, 200);
        assert.match(r.headers.get('content-type'), /text\/csv/);
        assert.match(r.text, /"payer_no","payer_name","period","currency","expected","received","arrears","overpaid"/);
        assert.match(r.text, /"Late Company","2026-03","USD","50.00","0.00","50.00","0.00"/);
        r = await off.get('/api/v1/sponsorship/reconciliation?from=2026-13');
        assert.equal(r.status, 422);

        // Reversal: receipt voided, dues open again; twice is refused.
        r = await fin.post(`/api/v1/payments/${p1}/reverse`, { json: {} });
        assert.equal(r.status, 422, r.text);
        r = await fin.post(`/api/v1/payments/${p1}/reverse`, { json: { reason: 'cheque bounced' } });
        assert.equal(r.status, 200, r.text);
        assert.equal(r.json.status, 'reversed');
        assert.ok(r.json.receipt.voided_at);
        assert.equal(r.json.allocations.length, 0);
        r = await fin.post(`/api/v1/payments/${p1}/reverse`, { json: { reason: 'again' } });
        assert.equal(r.status, 409);
        assert.equal(r.json.code, 'already_reversed');

        // The books balance in every currency after all of it.
        r = await fin.get('/api/v1/finance/trial-balance');
        assert.equal(r.status, 200, r.text);
        assert.ok(r.json.totals.length >= 1);
        for (const t of r.json.totals) {
            assert.equal(t.balance, 0, JSON.stringify(t));
        }

        // Who may see and do what.
        for (const path of ['/api/v1/payments', '/api/v1/sponsorship/dues', '/api/v1/sponsorship/arrears', '/api/v1/sponsorship/reconciliation']) {
            assert.equal((await cw.get(path)).status, 403, path);
            assert.equal((await off.get(path)).status, 200, path);
        }
        r = await off.post('/api/v1/payments', { json: { ...pay, external_ref: 'X9' } });
        assert.equal(r.status, 403);

        // The pages, Arabic first, then English, with errors next to the fields.
        const page = server.client();
        r = await pageLogin(page, server.org, finU.username, finU.password);
        assert.equal(r.status, 303, r.text);
        r = await page.get('/sponsorship/payments');
        assert.equal(r.status, 200);
        assert.match(r.text, /dir="rtl"/);
        assert.match(r.text, /المدفوعات/);
        assert.match(r.text, /P-2026-000002/);
        r = await page.get('/sponsorship/payments/new');
        assert.equal(r.status, 200);
        const csrf = inputValue(r.text, 'csrf');
        r = await page.post('/sponsorship/payments', {
            form: { csrf, donor: d1.donor_no, amount: '1.234', currency: 'usd', method: 'cash', received_on: '2026-03-05', allocate: '1' },
        });
        assert.equal(r.status, 422, r.text.slice(0, 300));
        assert.match(r.text, /id="p-amount-error"/);
        assert.match(r.text, /value="1.234"/, 'typed values are kept');
        r = await page.post('/sponsorship/payments', {
            form: { csrf, donor: d2.donor_no, amount: '150', currency: 'usd', method: 'cash', received_on: '2026-03-05', allocate: '1' },
        });
        assert.equal(r.status, 303, r.text.slice(0, 300));
        const loc = r.headers.get('location');
        r = await page.get(loc);
        assert.equal(r.status, 200);
        assert.match(r.text, /R-\d{4}-000003/);
        for (const path of ['/sponsorship/dues', '/sponsorship/reconciliation?from=2026-01&to=2026-03', '/sponsorship/arrears']) {
            r = await page.get(path);
            assert.equal(r.status, 200, path);
        }
        r = await page.get('/sponsorship/reconciliation.csv?from=2026-01&to=2026-03');
        assert.equal(r.status, 200);
        assert.match(r.text, /Late Company/);
        server.sql(`UPDATE users SET lang = 'en' WHERE id = '${finU.id}'`);
        r = await page.get('/sponsorship/arrears?as_of=2026-04-01');
        assert.match(r.text, /dir="ltr"/);
        assert.match(r.text, /Arrears/);
        r = await page.post(`${loc.split('?')[0]}/reverse`, { form: { csrf, reason: '' } });
        assert.equal(r.status, 422);
        assert.match(r.text, /id="r-reason-error"/);

        // A case worker does not see the pages.
        const cwPage = server.client();
        await pageLogin(cwPage, server.org, cwU.username, cwU.password);
        r = await cwPage.get('/sponsorship/payments');
        assert.equal(r.status, 403);
    } finally {
        await server.close();
    }
});
