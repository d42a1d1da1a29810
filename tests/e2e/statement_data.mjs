// statement_data.mjs: the donor history the statement tests share (end-to-end and browser),
// written with SQL the way billing and disburse write it: a child (through the API, with a
// family name, a health condition and a locality the donor must never see), two donors tied
// to donor logins, an agreement, dues for January (paid) and February (not paid), January's
// payment with its receipt R-2025-000001, its allocation, a payout paid with a signature, and
// the matching journal entries.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { apiClient } from './lib.mjs';

/** Single-quoted SQL literal (or NULL). */
export function q(v) {
    return v === null || v === undefined ? 'NULL' : `'${String(v).replace(/'/g, "''")}'`;
}

/** Inserts a journal entry with its lines: lines [[account, fund, amount, donor]]. */
let entryNo = 100000;
function entry(srv, S, date, kind, sourceId, lines) {
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

/**
 * Seeds srv (a started server) and returns S: users (offUser, cwUser, d1User, d2User), API
 * clients (off, cw, d1, d2), org, child, donor1, donor2, sp, dues, pay, receipt.
 */
export async function seedStatement(srv) {
    const S = {};

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
        const e = entry(srv, S, `${ym}-01`, 'due', id, [['1100', 'sponsorship', 5000, S.donor1],
            ['4000', 'sponsorship', -5000, S.donor1]]);
        srv.sql(`INSERT INTO sponsorship_dues (id, org_id, sponsorship_id, donor_id, payer_id, child_id,
            period_start, period_end, due_date, amount, currency, fund, paid, status, entry_id, created_at)
            VALUES (${q(id)}, ${q(S.org)}, ${q(S.sp)}, ${q(S.donor1)}, ${q(S.donor1)}, ${q(S.child)},
            '${ym}-01', '${ym}-28', '${ym}-01', 5000, 'USD', 'sponsorship', ${paid}, ${q(status)},
            ${q(e)}, '2025-01-01T00:00:00Z')`);
    }
    // The payment of January with its receipt, and its allocation.
    S.pay = randomUUID();
    const pe = entry(srv, S, '2025-01-03', 'payment', S.pay, [['1010', 'sponsorship', 5000, S.donor1],
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
    const ae = entry(srv, S, '2025-01-03', 'allocation', alloc, [['2100', 'sponsorship', 5000, S.donor1],
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
    return S;
}
