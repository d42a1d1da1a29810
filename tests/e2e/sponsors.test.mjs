// sponsors.test.mjs: donors, agreements, the waiting list and the age-limit
// notice over HTTP: bad input writes nothing, siblings in one group, split by
// purpose, pause/resume, a sponsor change that keeps the history, the
// sponsored flag, case roles and donors refused, the pages in both languages
// with errors next to the fields, and one e-mail notice through a local SMTP sink.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, apiClient, rand, Client, pageLogin, inputValue } from './lib.mjs';
import { startSmtpSink, parseMessage, decodeWords } from './smtp_sink.mjs';

/** Registers a child through the API and makes it active; returns {id, file_no}. */
async function child(server, api, first, birth, status = 'father_deceased') {
    const r = await api.post('/api/v1/children', {
        json: {
            first_name: first, father_name: 'محمد', grandfather_name: 'علي', family_name: 'الخطيب',
            sex: 'F', birth_date: birth, orphan_status: status,
        },
    });
    assert.equal(r.status, 201, r.text);
    server.sql(`UPDATE children SET status = 'active' WHERE id = '${r.json.id}'`);
    return { id: r.json.id, file_no: r.json.file_no };
}

test('donors and agreements through the API', async () => {
    const sink = await startSmtpSink();
    const server = await startServer({ env: { SANAD_SMTP_URL: sink.url, SANAD_SMTP_FROM: 'kafala@example.org' } });
    try {
        const off = server.addUser(server.org, `o${rand(6)}`, 'sponsorship_officer');
        const cw = server.addUser(server.org, `c${rand(6)}`, 'case_worker');
        const dn = server.addUser(server.org, `d${rand(6)}`, 'donor');
        const api = await apiClient(server, server.org, off.username, off.password);
        const cwApi = await apiClient(server, server.org, cw.username, cw.password);
        const dnApi = await apiClient(server, server.org, dn.username, dn.password);
        const reg = await apiClient(server, server.org, cw.username, cw.password);

        // A bad donor: every problem named, nothing written.
        let r = await api.post('/api/v1/donors', { json: { kind: 'alien', name: '', email: 'x' } });
        assert.equal(r.status, 422, r.text);
        const fields = r.json.errors.map((e) => e.field).sort();
        assert.deepEqual(fields, ['email', 'kind', 'name']);
        r = await api.get('/api/v1/donors');
        assert.equal(r.json.total, 0);

        r = await api.post('/api/v1/donors', {
            json: { kind: 'person', name: 'أحمد', email: 'ahmad@example.org', contact_consent: true, preferred_lang: 'ar' },
        });
        assert.equal(r.status, 201, r.text);
        assert.equal(r.json.donor_no, 'D-000001');
        const d1 = r.json.id;
        r = await api.post('/api/v1/donors', { json: { kind: 'company', name: 'Acme' } });
        const d2 = r.json.id;

        // Case roles and donors see no donors nor agreements.
        for (const c of [cwApi, dnApi]) {
            assert.equal((await c.get('/api/v1/donors')).status, 403);
            assert.equal((await c.get(`/api/v1/donors/${d1}`)).status, 403);
            assert.equal((await c.get('/api/v1/sponsorships')).status, 403);
            assert.equal((await c.get('/api/v1/sponsorship/waiting')).status, 403);
        }

        // Siblings: one household, one group.
        const k1 = await child(server, reg, 'مريم', '2014-02-01');
        const k2 = await child(server, reg, 'سارة', '2015-05-01');
        const k3 = await child(server, reg, 'هدى', '2012-06-01', 'both_deceased');
        const hh = await reg.post('/api/v1/households', { json: { name: 'أسرة' } });
        assert.equal(hh.status, 201, hh.text);
        server.sql(`UPDATE children SET household_id = '${hh.json.id}' WHERE id IN ('${k1.id}', '${k2.id}')`);

        const base = { donor_id: 'D-000001', amount: '40', currency: 'USD', frequency: 'monthly', start_date: '2026-01-01' };
        for (const [amount, currency, code] of [['0', 'USD', 'not_positive'], ['1.234', 'USD', 'too_many_decimals'], ['5', 'ABC', 'unknown_currency']]) {
            r = await api.post('/api/v1/sponsorships', { json: { ...base, child_id: k1.file_no, amount, currency } });
            assert.equal(r.status, 422, r.text);
            assert.equal(r.json.errors[0].code, code);
        }
        r = await api.post('/api/v1/sponsorships', { json: { ...base, child_ids: [k1.id, k3.id], status: 'active' } });
        assert.equal(r.status, 422);
        assert.equal((await api.get('/api/v1/sponsorships')).json.total, 0, 'nothing written');
        r = await api.post('/api/v1/sponsorships', { json: { ...base, child_ids: [k1.id, k2.id], status: 'active' } });
        assert.equal(r.status, 201, r.text);
        const [a1, a2] = r.json.items;
        assert.match(a1.agreement_no, /^S-2026-\d{5}$/);
        r = await api.get(`/api/v1/sponsorships/${a1.id}`);
        assert.equal(r.json.group.length, 1);
        assert.equal(r.json.group[0].id, a2.id);
        assert.equal(r.json.amount_text, '40.00');

        // Case workers see only the flag.
        r = await cwApi.get(`/api/v1/children/${k1.id}`);
        assert.equal(r.status, 200);
        assert.ok(!r.text.includes('D-000001') && !r.text.includes('40.00'));

        // Split by purpose.
        r = await api.post('/api/v1/sponsorships', { json: { ...base, donor_id: d2, child_id: k1.id, status: 'active' } });
        assert.equal(r.status, 422);
        assert.equal(r.json.errors[0].code, 'purpose_taken');
        r = await api.post('/api/v1/sponsorships', { json: { ...base, donor_id: d2, child_id: k1.id, purpose: 'education' } });
        assert.equal(r.status, 201, r.text);
        const edu = r.json.items[0].id;
        assert.equal((await api.post(`/api/v1/sponsorships/${edu}/activate`)).status, 204);

        // Pause and resume.
        r = await api.post(`/api/v1/sponsorships/${edu}/pause`, { json: { from_date: '2026-03-01', reason: 'travel' } });
        assert.equal(r.status, 204, r.text);
        r = await api.post(`/api/v1/sponsorships/${edu}/resume`, { json: { on_date: '2026-05-01' } });
        assert.equal(r.status, 204, r.text);
        r = await api.get(`/api/v1/sponsorships/${edu}`);
        assert.equal(r.json.status, 'active');
        assert.equal(r.json.pauses[0].to_date, '2026-04-30');

        // Change k2's sponsor: the old one ended, the new one active, history kept.
        r = await api.post(`/api/v1/sponsorships/${a2.id}/change-sponsor`, { json: { donor_id: d2, start_date: '2026-06-01' } });
        assert.equal(r.status, 201, r.text);
        const a2new = r.json.id;
        r = await api.get(`/api/v1/sponsorships/${a2.id}`);
        assert.equal(r.json.status, 'ended');
        assert.equal(r.json.end_reason, 'sponsor_changed');
        assert.equal(r.json.end_date, '2026-05-31');
        assert.ok(r.json.events.some((e) => e.kind === 'sponsor_changed'));
        assert.equal((await api.get(`/api/v1/sponsorships/${a2new}`)).json.donor_id, d2);

        // The waiting list: k3 only.
        r = await api.get('/api/v1/sponsorship/waiting');
        assert.equal(r.status, 200);
        assert.deepEqual(r.json.items.map((i) => i.child_id), [k3.id]);
        assert.equal(r.json.items[0].need, 40);
        const web = new Client(server.url);
        await pageLogin(web, server.org, off.username, off.password);
        r = await web.get('/sponsorship/waiting');
        assert.equal(r.status, 200);
        assert.match(r.text, /<td>40 \(فقد الوالدين\)<\/td>/, 'the need with its reason');

        // The age-limit notice: a child 18 in a month, its sponsor with an address and consent.
        const soon = new Date();
        soon.setUTCFullYear(soon.getUTCFullYear() - 18);
        soon.setUTCMonth(soon.getUTCMonth() + 1);
        const k4 = await child(server, reg, 'ليلى', soon.toISOString().slice(0, 10));
        r = await api.post('/api/v1/sponsorships', { json: { ...base, child_id: k4.id, status: 'active', start_date: '2025-01-01' } });
        assert.equal(r.status, 201, r.text);
        r = await api.post('/api/v1/sponsorship/age-check');
        assert.equal(r.status, 200, r.text);
        assert.equal(r.json.noticed, 1);
        assert.equal(r.json.mailed, 1);
        r = await api.post('/api/v1/sponsorship/age-check');
        assert.equal(r.json.noticed, 0, 'the notice goes once');
        const mails = sink.messages.filter((m) => m.to.includes('ahmad@example.org'));
        assert.equal(mails.length, 1);
        const { headers, body } = parseMessage(mails[0].data);
        assert.ok(decodeWords(headers.subject).includes('ليلى'));
        assert.ok(body.includes('ليلى') && !body.includes('الخطيب'), body);

        // The home reads.
        r = await api.get('/api/v1/sponsorship/home');
        assert.equal(r.status, 200);
        assert.equal(r.json.waiting.total, 1);
        assert.ok(r.json.endings.some((e) => e.why === 'age_limit'));

        // Donor view is audited; the portal link.
        r = await api.post(`/api/v1/donors/${d1}/user`, { json: { user_id: dn.username } });
        assert.equal(r.status, 204, r.text);
        r = await api.post(`/api/v1/donors/${d2}/user`, { json: { user_id: dn.username } });
        assert.equal(r.status, 409);
        r = await api.get(`/api/v1/donors/${d1}`);
        assert.equal(r.json.username, dn.username);
        assert.ok(r.json.agreements.length >= 3);
        const n = server.sql(`SELECT COUNT(*) FROM audit_log WHERE action = 'donor.view' AND entity_id = '${d1}'`);
        assert.ok(Number(String(n).trim()) >= 1, String(n));
    } finally {
        await server.close();
        await sink.close();
    }
});

test('sponsorship pages in Arabic and English, errors next to fields', async () => {
    const server = await startServer();
    try {
        const off = server.addUser(server.org, `o${rand(6)}`, 'sponsorship_officer');
        const cw = server.addUser(server.org, `c${rand(6)}`, 'case_worker');
        const web = new Client(server.url);
        await pageLogin(web, server.org, off.username, off.password);
        let r = await web.get('/sponsorship');
        assert.equal(r.status, 200);
        assert.match(r.text, /dir="rtl"/);
        assert.ok(r.text.includes('الكفالات'));
        r = await web.get('/sponsorship/donors/new');
        const csrf = inputValue(r.text, 'csrf');
        r = await web.post('/sponsorship/donors', { form: { csrf, kind: 'person', name: 'سعاد', email: 'bad' } });
        assert.equal(r.status, 422);
        assert.match(r.text, /id="f-email-error"/);
        assert.ok(r.text.includes('value="سعاد"'), 'typed values kept');
        r = await web.post('/sponsorship/donors', { form: { csrf, kind: 'person', name: 'سعاد', contact_consent: '1' } });
        assert.equal(r.status, 303);
        const donorPath = r.headers.get('location').split('?')[0];
        r = await web.get(donorPath);
        assert.equal(r.status, 200);
        assert.ok(r.text.includes('D-000001'));
        r = await web.post('/sponsorship/agreements', { form: { csrf, child_ids: 'NOPE-1', donor_id: 'D-000001', amount: '-3', currency: 'USD', frequency: 'monthly', start_date: '2026-01-01', status: 'pending' } });
        assert.equal(r.status, 422);
        assert.match(r.text, /id="f-amount-error"/);
        assert.match(r.text, /id="f-child_ids-error"/);
        // A good agreement through the form, then its steps.
        const reg = await apiClient(server, server.org, cw.username, cw.password);
        const k = await child(server, reg, 'نور', '2016-01-01');
        r = await web.post('/sponsorship/agreements', { form: { csrf, child_ids: k.file_no, donor_id: 'D-000001', amount: '25.5', currency: 'USD', frequency: 'monthly', purpose: 'general', start_date: '2026-01-01', status: 'active' } });
        assert.equal(r.status, 303, r.text);
        const spPath = r.headers.get('location').split('?')[0];
        r = await web.get(spPath);
        assert.ok(r.text.includes('25.50') && r.text.includes('/pause'), 'pause form offered');
        r = await web.post(`${spPath}/pause`, { form: { csrf, pause_from_date: '2025-01-01', pause_reason: 'سفر' } });
        assert.equal(r.status, 422, r.text.slice(0, 200));
        assert.match(r.text, /id="f-pause_from_date-error"/);
        assert.ok(r.text.includes('value="سفر"'), 'typed reason kept');
        r = await web.post(`${spPath}/pause`, { form: { csrf, pause_from_date: '2026-03-01' } });
        assert.equal(r.status, 303);
        r = await web.get(spPath);
        assert.ok(r.text.includes('/resume') && !r.text.includes(`${spPath}/pause"`), 'resume offered, pause not');
        assert.equal(server.sql(`SELECT sponsored FROM children WHERE id = '${k.id}'`).trim(), '1');
        // Linking a portal account by its login name.
        const dn = server.addUser(server.org, `d${rand(6)}`, 'donor');
        r = await web.post(`${donorPath}/user`, { form: { csrf, user_id: cw.username } });
        assert.equal(r.status, 422);
        assert.match(r.text, /id="f-user_id-error"/);
        r = await web.post(`${donorPath}/user`, { form: { csrf, user_id: dn.username } });
        assert.equal(r.status, 303);
        for (const p of ['/sponsorship/donors', '/sponsorship/agreements', '/sponsorship/agreements/new', '/sponsorship/waiting', `${donorPath}/edit`]) {
            assert.equal((await web.get(p)).status, 200, p);
        }
        server.sql(`UPDATE users SET lang = 'en' WHERE id = '${off.id}'`);
        const en2 = new Client(server.url);
        await pageLogin(en2, server.org, off.username, off.password);
        r = await en2.get('/sponsorship');
        assert.ok(r.text.includes('Arrears'), 'English home');
        // A case worker is refused the pages.
        const cwWeb = new Client(server.url);
        await pageLogin(cwWeb, server.org, cw.username, cw.password);
        assert.equal((await cwWeb.get('/sponsorship/donors')).status, 403);
        assert.equal((await cwWeb.get(donorPath)).status, 403);
    } finally {
        await server.close();
    }
});
