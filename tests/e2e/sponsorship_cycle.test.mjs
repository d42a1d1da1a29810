// sponsorship_cycle.test.mjs: the whole sponsorship cycle over six simulated months, through the
// API only, on SQLite and PostgreSQL: donors (one a group paid for by a company), agreements in
// two currencies (siblings together, a second sponsor for education), monthly dues, payments by
// several methods (late, missed, in advance, with a gateway fee, one reversed), payout lists
// confirmed and paid with proof, an in-kind gift, a closed month. Afterwards the trial balance
// is zero in every currency and in the base currency, every fund balances, and each sponsor's
// "where the money went" statement agrees with the ledger and with what the test paid in.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { apiClient, startServer } from './lib.mjs';

let srv;
const S = {};

/** YYYY-MM-DD of the first day of the month `back` months before this one, plus `day - 1`. */
function monthDay(back, day = 1) {
    const now = new Date();
    const d = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - back, day));
    return d.toISOString().slice(0, 10);
}

async function child(c, over) {
    const body = {
        first_name: 'سارة', father_name: 'محمود', grandfather_name: 'علي', family_name: 'النجار',
        mother_name: 'هدى حسن', sex: 'F', birth_date: '2014-05-02', birth_place: 'غزة',
        orphan_status: 'father_deceased', ...over,
    };
    let r = await c.post('/api/v1/children', { json: body });
    if (r.status === 409 && r.json?.code === 'possible_duplicates') {
        r = await c.post('/api/v1/children', {
            json: { ...body, different_from: r.json.candidates.map((x) => x.id) },
        });
    }
    assert.equal(r.status, 201, r.text);
    return r.json.id;
}

async function ok(promise, status = 200) {
    const r = await promise;
    assert.equal(r.status, status, r.text);
    return r.json;
}

before(async () => {
    srv = await startServer();
    const cw = srv.addUser('main', 'cw', 'case_worker');
    const spo = srv.addUser('main', 'spo', 'sponsorship_officer');
    const fin = srv.addUser('main', 'fin', 'finance_officer');
    S.cw = await apiClient(srv, 'main', 'cw', cw.password);
    S.spo = await apiClient(srv, 'main', 'spo', spo.password);
    S.fin = await apiClient(srv, 'main', 'fin', fin.password);
});

after(async () => {
    if (srv) {
        await srv.close();
    }
});

test('six months of sponsorship end with balanced books and statements equal to the ledger', async () => {
    const { cw, spo, fin } = S;
    const start = monthDay(6);

    // A household of two siblings and two more children.
    const hh = await ok(cw.post('/api/v1/households', { json: { name: 'أسرة النجار', governorate: 'غزة' } }), 201);
    const sara = await child(cw, { household_id: hh.id });
    const omar = await child(cw, { household_id: hh.id, first_name: 'عمر', sex: 'M', birth_date: '2016-01-20' });
    const lina = await child(cw, { first_name: 'لينا', family_name: 'حداد', birth_date: '2012-09-09' });
    const yusuf = await child(cw, { first_name: 'يوسف', family_name: 'السعدي', sex: 'M', birth_date: '2015-02-28' });

    // Donors: a person, a company, a group the company pays for, a sponsor paying in dinars.
    const person = await ok(spo.post('/api/v1/donors', { json: { kind: 'person', name: 'مريم الحسيني', email: 'maryam@example.org', contact_consent: true } }), 201);
    const company = await ok(spo.post('/api/v1/donors', { json: { kind: 'company', name: 'شركة النور', tax_name: 'Al-Noor Co.', tax_id: 'TX-1' } }), 201);
    const group = await ok(spo.post('/api/v1/donors', { json: { kind: 'group', name: 'مجموعة أهل الخير', payer_id: company.id } }), 201);
    const dinar = await ok(spo.post('/api/v1/donors', { json: { kind: 'person', name: 'خالد المصري' } }), 201);

    // Dinars need a rate to the base currency (US dollars).
    await ok(fin.post('/api/v1/finance/rates', { json: { currency: 'JOD', day: monthDay(8), rate: '1.410437' } }), 201);

    // Agreements: the siblings together by the person, a second (education) sponsor for Sara
    // from the group (paid by the company), Lina in dinars, Yusuf quarterly.
    await ok(spo.post('/api/v1/sponsorships', { json: { child_ids: [sara, omar], donor_id: person.id, amount: '50.00', currency: 'USD', frequency: 'monthly', purpose: 'general', start_date: start, status: 'active' } }), 201);
    await ok(spo.post('/api/v1/sponsorships', { json: { child_id: sara, donor_id: group.id, amount: '20.00', currency: 'USD', frequency: 'monthly', purpose: 'education', start_date: start, status: 'active' } }), 201);
    await ok(spo.post('/api/v1/sponsorships', { json: { child_id: lina, donor_id: dinar.id, amount: '35.000', currency: 'JOD', frequency: 'monthly', start_date: start, status: 'active' } }), 201);
    await ok(spo.post('/api/v1/sponsorships', { json: { child_id: yusuf, donor_id: person.id, amount: '150.00', currency: 'USD', frequency: 'quarterly', start_date: start, status: 'active' } }), 201);

    const paid = { [person.id]: 0, [company.id]: 0, [dinar.id]: 0 };
    let fees = 0;
    let n = 0;
    const pay = async (donor, amount, currency, method, on, extra = {}) => {
        n += 1;
        const body = { donor_id: donor, amount, currency, method, received_on: on, ...extra };
        if (method === 'card' || method === 'mobile_money') {
            body.external_ref = `GW-${n}-${Date.now()}`;
        }
        return ok(fin.post('/api/v1/payments', { json: body }), 201);
    };

    for (let back = 6; back >= 1; back--) {
        // The month's dues, then the payments.
        await ok(fin.post('/api/v1/sponsorship/dues/generate', { json: { through: monthDay(back) } }));
        const on = monthDay(back, 5);
        // The person pays the siblings each month (two dues of 50), by transfer, twice over in
        // month 4 (an advance, used by the next month's dues) and not at all in the last two
        // months (the advance covers one of them; the other is a shortfall).
        if (back > 2) {
            const amount = back === 4 ? '200.00' : '100.00';
            await pay(person.id, amount, 'USD', 'bank_transfer', on);
            paid[person.id] += back === 4 ? 20000 : 10000;
        }
        // Yusuf's quarter, by card with a 3% gateway fee, in the first month of each quarter.
        if (back === 6 || back === 3) {
            await pay(person.id, '150.00', 'USD', 'card', monthDay(back, 6), { fee: '4.50' });
            paid[person.id] += 15000;
            fees += 450;
        }
        // The company pays for its group by mobile money.
        await pay(company.id, '20.00', 'USD', 'mobile_money', monthDay(back, 7));
        paid[company.id] += 2000;
        // Dinars in cash.
        await pay(dinar.id, '35.000', 'JOD', 'cash', monthDay(back, 8));
        paid[dinar.id] += 35000;
    }

    // A payment recorded by mistake and reversed (its receipt voided): it must not count.
    const wrong = await pay(company.id, '99.00', 'USD', 'bank_transfer', monthDay(1, 9), { allocate: false });
    await ok(fin.post(`/api/v1/payments/${wrong.id}/reverse`, { json: { reason: 'recorded twice' } }));
    const receipt = await ok(fin.get(`/api/v1/receipts/${wrong.receipt.id}`));
    assert.equal(receipt.voided, true, 'the reversed payment\'s receipt is voided');
    assert.match(receipt.voided_at, /^\d{4}-\d{2}-\d{2}/);
    assert.equal(receipt.void_reason, 'recorded twice');

    // Payout lists for each past month, confirmed and paid with a reference.
    for (let back = 6; back >= 1; back--) {
        const period = monthDay(back).slice(0, 7);
        for (const currency of ['USD', 'JOD']) {
            const r = await fin.post('/api/v1/disbursements', { json: { period, currency, method: 'cash' } });
            if (r.status === 409 && r.json?.code === 'nothing_to_disburse') {
                continue;
            }
            assert.equal(r.status, 201, r.text);
            const date = monthDay(back, 25);
            await ok(fin.post(`/api/v1/disbursements/${r.json.id}/confirm`, { json: { date } }));
            const run = await ok(fin.get(`/api/v1/disbursements/${r.json.id}`));
            for (const line of run.lines) {
                await ok(fin.post(`/api/v1/disbursement-lines/${line.id}/paid`, { json: { reference: `${run.run_no}-${line.child_file_no}`, paid_on: date } }));
            }
            // Paying a line twice is refused and posts nothing.
            const again = await fin.post(`/api/v1/disbursement-lines/${run.lines[0].id}/paid`, { json: { reference: 'again', paid_on: date } });
            assert.equal(again.status, 409, again.text);
        }
    }

    // A school kit with a value, given by the company.
    await ok(spo.post('/api/v1/inkind', { json: { child_id: sara, kind: 'school_kit', quantity: 1, distributed_on: monthDay(2, 3), value: '15.00', currency: 'USD', fund: 'education', donor_id: company.id } }), 201);

    // The oldest month is closed: nothing more is posted into it.
    const closed = monthDay(6).slice(0, 7);
    await ok(fin.post('/api/v1/finance/periods', { json: { period: closed } }), 201);
    const before = await ok(fin.get('/api/v1/finance/entries?per_page=1'));
    const late = await fin.post('/api/v1/payments', { json: { donor_id: person.id, amount: '10.00', currency: 'USD', method: 'cash', received_on: monthDay(6, 20) } });
    assert.equal(late.status, 409, late.text);
    assert.equal(late.json.code, 'period_closed');
    const afterRefusal = await ok(fin.get('/api/v1/finance/entries?per_page=1'));
    assert.equal(afterRefusal.total, before.total, 'a refused payment posts nothing');

    // The books balance: every currency, the base currency, and fund by fund.
    const tb = await ok(fin.get('/api/v1/finance/trial-balance'));
    const currencies = tb.totals.map((t) => t.currency).sort();
    assert.deepEqual(currencies, ['JOD', 'USD']);
    for (const t of tb.totals) {
        assert.equal(t.balance, 0, `trial balance in ${t.currency}`);
        assert.equal(t.debit, t.credit);
    }
    assert.equal(tb.base_balance, 0, 'trial balance in the base currency');
    for (const fund of ['sponsorship', 'education', 'unrestricted']) {
        const f = await ok(fin.get(`/api/v1/finance/trial-balance?fund=${fund}`));
        for (const t of f.totals) {
            assert.equal(t.balance, 0, `fund ${fund} balances in ${t.currency}`);
        }
    }

    // Each payer's statement agrees with the ledger and with what was paid in.
    const from = monthDay(7);
    for (const [donor, expected] of Object.entries(paid)) {
        const st = await ok(fin.get(`/api/v1/donors/${donor}/statement?from=${from}`));
        assert.equal(st.consistent, true, JSON.stringify(st.checks));
        assert.ok(st.checks.length > 0);
        for (const c of st.checks) {
            assert.equal(c.statement, c.ledger, `${c.item} in ${c.currency}`);
        }
        const given = st.totals.reduce((s, t) => s + t.given, 0);
        assert.equal(given, expected, `given by ${donor}`);
        // Money given and allocated reached a guardian or waits on a list: nothing is lost.
        for (const t of st.totals) {
            assert.equal(t.passed_on + t.in_payout + t.waiting, t.allocated, `allocated by ${donor} in ${t.currency}`);
            assert.equal(t.allocated + t.advance, t.given, `given by ${donor} in ${t.currency}`);
        }
    }
    const personSt = await ok(fin.get(`/api/v1/donors/${person.id}/statement?from=${from}`));
    assert.equal(personSt.totals.find((t) => t.currency === 'USD').fees, fees, 'gateway fees are shown');
    assert.ok(personSt.shortfall.length > 0, 'the missed month shows as a shortfall');
    assert.ok(personSt.totals.find((t) => t.currency === 'USD').passed_on > 0, 'money reached the guardians');
    const companySt = await ok(fin.get(`/api/v1/donors/${company.id}/statement?from=${from}`));
    assert.equal(companySt.totals.find((t) => t.currency === 'USD').reversed, 9900, 'the reversed payment is shown apart');
});
