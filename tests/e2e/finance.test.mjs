// finance.test.mjs: the books end to end over the API and the pages, on SQLite and on
// PostgreSQL (the harness picks): permissions (case workers see nothing, auditors read and
// cannot post), rates, manual entries with every kind of bad input refused with the line
// named and nothing posted, reversals (never twice, never of a reversal), the reports (trial
// balance zero per currency, balance sheet, income statement, CSV downloads), closing a
// period (then posting and reversing into it refused), and the pages in Arabic and English
// without JavaScript, including the manual entry form and the reverse button.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { apiClient, csrfOf, pageLogin, problemShape, startServer } from './lib.mjs';

let srv;
const S = {};

/** YYYY-MM-DD of today shifted by months (day 15). */
function monthDay(shift) {
    const d = new Date();
    const idx = d.getUTCFullYear() * 12 + d.getUTCMonth() + shift;
    return `${Math.floor(idx / 12)}-${String((idx % 12) + 1).padStart(2, '0')}-15`;
}
const TODAY = new Date().toISOString().slice(0, 10);
const LAST = monthDay(-1);

before(async () => {
    srv = await startServer();
    S.finUser = srv.addUser('main', 'fin', 'finance_officer', undefined, 'Finance Officer');
    S.audUser = srv.addUser('main', 'aud', 'auditor', undefined, 'Auditor');
    S.cwUser = srv.addUser('main', 'cw', 'case_worker', undefined, 'Case Worker');
    srv.addOrg('other', 'Other Org');
    S.otherUser = srv.addUser('other', 'ofin', 'finance_officer', undefined, 'Other Finance');
    S.fin = await apiClient(srv, 'main', 'fin', S.finUser.password);
    S.aud = await apiClient(srv, 'main', 'aud', S.audUser.password);
    S.cw = await apiClient(srv, 'main', 'cw', S.cwUser.password);
    S.other = await apiClient(srv, 'other', 'ofin', S.otherUser.password);
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

/** A balanced two-line entry body. */
function entry(amount, { currency = 'USD', debit = '1010', credit = '4900', date = TODAY, fund } = {}) {
    const l = (account, side) => ({ account, currency, [side]: amount, ...(fund ? { fund } : {}) });
    return { date, memo: `test ${amount} ${currency}`, lines: [l(debit, 'debit'), l(credit, 'credit')] };
}

/** The number of entries main has. */
async function entryCount() {
    const r = await S.fin.get('/api/v1/finance/entries?per_page=1');
    assert.equal(r.status, 200, r.text);
    return r.json.total;
}

test('permissions: case workers see nothing, auditors read but cannot post', async () => {
    assertProblem(await S.cw.get('/api/v1/finance/trial-balance'), 403);
    assertProblem(await S.cw.get('/api/v1/finance/entries'), 403);
    assert.equal((await S.aud.get('/api/v1/finance/trial-balance')).status, 200);
    assertProblem(await S.aud.post('/api/v1/finance/entries', { json: entry('1.00') }), 403);
    assertProblem(await S.aud.post('/api/v1/finance/rates',
        { json: { currency: 'EUR', day: TODAY, rate: '1.1' } }), 403);
    const s = await S.fin.get('/api/v1/finance/settings');
    assert.equal(s.status, 200, s.text);
    assert.equal(s.json.base_currency, 'USD');
});

test('rates, manual entries and their refusals', async () => {
    let r = await S.fin.post('/api/v1/finance/rates', { json: { currency: 'EUR', day: LAST, rate: '1.08' } });
    assert.equal(r.status, 201, r.text);
    r = await S.fin.post('/api/v1/finance/rates', { json: { currency: 'JOD', day: LAST, rate: '1.41' } });
    assert.equal(r.status, 201, r.text);
    for (const [body, code] of [
        [{ currency: 'EUR', day: TODAY, rate: '0' }, 'invalid_rate'],
        [{ currency: 'EUR', day: TODAY, rate: '1.1234567890' }, 'invalid_rate'],
        [{ currency: 'XYZ', day: TODAY, rate: '1' }, 'invalid_currency'],
        [{ currency: 'USD', day: TODAY, rate: '1' }, 'base_currency'],
        [{ currency: 'EUR', day: '2026-02-30', rate: '1' }, 'invalid_date'],
    ]) {
        assertProblem(await S.fin.post('/api/v1/finance/rates', { json: body }), 422, code);
    }
    r = await S.fin.get('/api/v1/finance/rates');
    assert.equal(r.json.items.length, 2);

    const before = await entryCount();
    const bad = [
        [{ ...entry('10.00'), lines: [entry('10.00').lines[0], { ...entry('10.00').lines[1], credit: '9.99' }] },
            null, 'unbalanced'],
        [entry('10.001'), 'lines[0].debit', 'too_many_decimals'],
        [entry('10.00', { currency: 'ABC' }), 'lines[0].currency', 'invalid_currency'],
        [entry('-5'), 'lines[0].debit', 'invalid_amount'],
        [entry('0'), 'lines[0].debit', 'invalid_amount'],
        [entry('5', { credit: '4999' }), 'lines[1].account', 'unknown_account'],
        [entry('5', { fund: 'holiday' }), 'lines[0].fund', 'unknown_fund'],
        [entry('5', { currency: 'SAR' }), null, 'rate_missing'],
        [entry('5', { date: '2026-13-01' }), 'date', 'invalid_date'],
        [{ memo: 'one line', lines: [entry('5').lines[0]] }, 'lines', 'too_few_lines'],
    ];
    for (const [body, field, code] of bad) {
        r = await S.fin.post('/api/v1/finance/entries', { json: body });
        assert.ok(r.status === 422 || r.status === 409, r.text);
        assert.equal(problemShape(r), '', r.text);
        if (field) {
            const e = r.json.errors.find((x) => x.field === field);
            assert.ok(e, `${field} not named: ${r.text}`);
            assert.equal(e.code, code, r.text);
            assert.ok(e.message.length > 0);
        } else {
            assert.equal(r.json.code, code, r.text);
        }
    }
    assert.equal(await entryCount(), before, 'nothing was posted');

    r = await S.fin.post('/api/v1/finance/entries', { json: entry('100.00') });
    assert.equal(r.status, 201, r.text);
    assert.match(r.headers.get('location'), /\/api\/v1\/finance\/entries\//);
    S.usdEntry = r.json.id;
    r = await S.fin.post('/api/v1/finance/entries', { json: entry('50.00', { currency: 'EUR' }) });
    assert.equal(r.status, 201, r.text);
    r = await S.fin.get(`/api/v1/finance/entries/${r.json.id}`);
    assert.equal(r.json.rate, 'EUR=1.08');
    assert.equal(r.json.lines[0].base_amount, 5400);
    // Two funds in one entry: the ledger adds the interfund lines.
    r = await S.fin.post('/api/v1/finance/entries', {
        json: {
            date: TODAY, memo: 'allocation across funds', lines: [
                { account: '2100', fund: 'sponsorship', currency: 'JOD', debit: '7.500' },
                { account: '1100', fund: 'education', currency: 'JOD', credit: '7.500' },
            ],
        },
    });
    assert.equal(r.status, 201, r.text);
    r = await S.fin.get(`/api/v1/finance/entries/${r.json.id}`);
    assert.equal(r.json.lines.length, 4);
    assert.equal(r.json.lines.filter((l) => l.account === '1950').length, 2);
    // Another organization does not see main's entries.
    assertProblem(await S.other.get(`/api/v1/finance/entries/${S.usdEntry}`), 404);
});

test('reversals: once, never of a reversal', async () => {
    let r = await S.fin.post(`/api/v1/finance/entries/${S.usdEntry}/reverse`, { json: { memo: 'typed twice' } });
    assert.equal(r.status, 201, r.text);
    const rev = r.json.id;
    r = await S.fin.get(`/api/v1/finance/entries/${rev}`);
    assert.equal(r.json.reverses_id, S.usdEntry);
    assert.equal(r.json.lines[0].amount, -10000);
    r = await S.fin.get(`/api/v1/finance/entries/${S.usdEntry}`);
    assert.equal(r.json.reversed_by, rev);
    assertProblem(await S.fin.post(`/api/v1/finance/entries/${S.usdEntry}/reverse`, { json: {} }), 409,
        'already_reversed');
    assertProblem(await S.fin.post(`/api/v1/finance/entries/${rev}/reverse`, { json: {} }), 409, 'is_reversal');
    assertProblem(await S.aud.post(`/api/v1/finance/entries/${rev}/reverse`, { json: {} }), 403);
});

test('reports: trial balance zero per currency, balance sheet and income statement', async () => {
    let r = await S.aud.get('/api/v1/finance/trial-balance');
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.json.totals.map((t) => t.currency).sort(), ['EUR', 'JOD', 'USD']);
    for (const t of r.json.totals) {
        assert.equal(t.balance, 0, JSON.stringify(t));
    }
    assert.equal(r.json.base_balance, 0);
    r = await S.fin.get('/api/v1/finance/trial-balance?fund=education');
    for (const t of r.json.totals) {
        assert.equal(t.balance, 0, JSON.stringify(t));
    }
    assertProblem(await S.fin.get('/api/v1/finance/trial-balance?as_of=yesterday'), 422, 'invalid_date');
    r = await S.fin.get('/api/v1/finance/balance-sheet');
    assert.equal(r.status, 200, r.text);
    for (const f of r.json.funds) {
        assert.equal(f.total_assets, f.total_liabilities + f.total_net_assets, JSON.stringify(f));
    }
    r = await S.fin.get(`/api/v1/finance/income-statement?from=${LAST}&to=${TODAY}`);
    assert.equal(r.status, 200, r.text);
    const un = r.json.funds.find((f) => f.fund === 'unrestricted');
    assert.equal(un.total_income, 5400); // 50 EUR at 1.08; the USD entry was reversed
    assert.equal(un.income[0].account, '4900');
    r = await S.fin.get('/api/v1/finance/entries?account=4900&per_page=2');
    assert.equal(r.json.total, 3);
    assert.equal(r.json.items.length, 2);
    assert.ok(r.json.items[0].entry_no > r.json.items[1].entry_no);
    for (const q of ['per_page=500', 'per_page=2x', 'page=0']) {
        const bad = await S.fin.get(`/api/v1/finance/entries?${q}`);
        assertProblem(bad, 422, 'invalid_parameter');
        assert.equal(bad.json.errors[0].field, q.split('=')[0], q);
    }
});

test('periods: closing refuses posting and reversing into the month', async () => {
    let r = await S.fin.post('/api/v1/finance/entries', { json: entry('20.00', { date: LAST }) });
    assert.equal(r.status, 201, r.text);
    const lastEntry = r.json.id;
    assertProblem(await S.fin.post('/api/v1/finance/periods', { json: { period: TODAY.slice(0, 7) } }), 409,
        'period_not_over');
    assertProblem(await S.fin.post('/api/v1/finance/periods', { json: { period: '2026-13' } }), 422, 'invalid_month');
    assertProblem(await S.aud.post('/api/v1/finance/periods', { json: { period: LAST.slice(0, 7) } }), 403);
    r = await S.fin.post('/api/v1/finance/periods', { json: { period: LAST.slice(0, 7) } });
    assert.equal(r.status, 201, r.text);
    assertProblem(await S.fin.post('/api/v1/finance/periods', { json: { period: LAST.slice(0, 7) } }), 409,
        'already_closed');
    assertProblem(await S.fin.post('/api/v1/finance/entries', { json: entry('1.00', { date: LAST }) }), 409,
        'period_closed');
    // Reversals are dated today, so an entry of a closed month can still be reversed.
    r = await S.fin.post(`/api/v1/finance/entries/${lastEntry}/reverse`, { json: {} });
    assert.equal(r.status, 201, r.text);
    r = await S.fin.get('/api/v1/finance/periods');
    assert.equal(r.json.items[0].period, LAST.slice(0, 7));
    assert.ok(!r.json.closable.includes(LAST.slice(0, 7)));
    assert.equal(srv.auditVerify().code, 0);
});

test('pages: Arabic first, English, the entry form, reversal and CSV', async () => {
    const c = srv.client();
    let r = await pageLogin(c, 'main', 'fin', S.finUser.password);
    assert.equal(r.status, 303, r.text);
    r = await c.get('/finance');
    assert.equal(r.status, 200, r.text);
    assert.match(r.text, /<html lang="ar" dir="rtl">/);
    assert.match(r.text, /الدفاتر متوازنة في كل عملة/);
    for (const path of ['/finance/journal', '/finance/trial-balance', '/finance/balance-sheet',
        '/finance/income-statement', '/finance/periods', '/finance/rates', '/finance/entries/new',
        `/finance/entries/${S.usdEntry}`, '/finance/journal?account=4900&fund=unrestricted&page=1']) {
        r = await c.get(path);
        assert.equal(r.status, 200, `${path}: ${r.text.slice(0, 300)}`);
        assert.doesNotMatch(r.text, /\{\{|fin\.[a-z_]+\.|err\./, path);
    }
    const csrf = await csrfOf(c, '/finance/entries/new');
    // An unbalanced form: 422, the message in Arabic, nothing posted.
    const before = await entryCount();
    const form = {
        csrf, n_rows: '4', date: TODAY, memo: 'قيد من النموذج',
        account_0: '1000', fund_0: 'unrestricted', currency_0: 'USD', debit_0: '12.50', credit_0: '', memo_0: '',
        account_1: '4900', fund_1: 'unrestricted', currency_1: 'USD', debit_1: '', credit_1: '12.00', memo_1: '',
        account_2: '', fund_2: 'unrestricted', currency_2: 'USD', debit_2: '', credit_2: '', memo_2: '',
        account_3: '', fund_3: 'unrestricted', currency_3: 'USD', debit_3: '', credit_3: '', memo_3: '',
    };
    r = await c.post('/finance/entries', { form });
    assert.equal(r.status, 422, r.text.slice(0, 500));
    assert.match(r.text, /القيد غير متوازن/);
    assert.match(r.text, /value="12.50"/, 'the typed values are kept');
    r = await c.post('/finance/entries', { form: { ...form, debit_0: '12.505' } });
    assert.equal(r.status, 422);
    assert.match(r.text, /id="row-0-error"/);
    assert.equal(await entryCount(), before);
    r = await c.post('/finance/entries', { form: { ...form, more: '1' } });
    assert.equal(r.status, 200);
    assert.match(r.text, /name="account_5"/);
    r = await c.post('/finance/entries', { form: { ...form, credit_1: '12.50' } });
    assert.equal(r.status, 303, r.text.slice(0, 500));
    const loc = r.headers.get('location');
    assert.match(loc, /^\/finance\/entries\/[0-9a-f-]{36}\?ok=flash.fin_posted$/);
    r = await c.get(loc);
    assert.match(r.text, /رُحِّل القيد/);
    assert.match(r.text, /action="\/finance\/entries\/[0-9a-f-]{36}\/reverse"/);
    const id = /\/finance\/entries\/([0-9a-f-]{36})/.exec(loc)[1];
    r = await c.post(`/finance/entries/${id}/reverse`, { form: { csrf, memo: 'خطأ' } });
    assert.equal(r.status, 303, r.text.slice(0, 500));
    r = await c.post(`/finance/entries/${id}/reverse`, { form: { csrf, memo: '' } });
    assert.equal(r.status, 409);
    assert.match(r.text, /هذا القيد معكوس من قبل/);
    // Rates and periods through the forms.
    r = await c.post('/finance/rates', { form: { csrf, currency: 'gbp', day: TODAY, rate: 'abc' } });
    assert.equal(r.status, 422);
    r = await c.post('/finance/rates', { form: { csrf, currency: 'gbp', day: TODAY, rate: '1.27' } });
    assert.equal(r.status, 303);
    r = await c.get('/finance/rates');
    assert.match(r.text, /GBP/);
    r = await c.post('/finance/periods', { form: { csrf, period: TODAY.slice(0, 7) } });
    assert.equal(r.status, 409);
    // CSV downloads with the totals.
    r = await c.get('/finance/trial-balance?format=csv');
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type'), /text\/csv/);
    assert.match(r.text, /^account,name,kind,fund,currency,debit,credit,balance\r\n/);
    assert.match(r.text, /\r\ntotal,,,,USD,[0-9.]+,[0-9.]+,0\.00\r\n/);
    r = await c.get(`/finance/income-statement?from=${LAST}&to=${TODAY}&format=csv`);
    assert.match(r.text, /^fund,section,account,name,currency,amount,base_amount\r\n/);
    r = await c.get('/finance/balance-sheet?format=csv');
    assert.match(r.text, /unrestricted,assets,1010,/);
    // English.
    r = await c.post('/lang', { form: { csrf, lang: 'en', next: '/finance' } });
    assert.equal(r.status, 303);
    r = await c.get('/finance/trial-balance');
    assert.match(r.text, /<html lang="en" dir="ltr">/);
    assert.match(r.text, /Trial balance/);
    assert.match(r.text, /1010 · Bank accounts/);
    // A case worker is refused the pages.
    const w = srv.client();
    await pageLogin(w, 'main', 'cw', S.cwUser.password);
    r = await w.get('/finance');
    assert.equal(r.status, 403);
});
