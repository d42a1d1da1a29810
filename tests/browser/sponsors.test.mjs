// sponsors.test.mjs (browser): the sponsorship officer's pages on a 360-pixel
// phone, in Arabic (RTL) and English: nothing scrolls sideways, and a
// sponsor change is done by clicking through the agreement's forms.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { launch, shot, scrollsSideways, loginPage, startServer, apiClient, rand } from './lib.mjs';

test('sponsorship pages fit a phone in both languages', async () => {
    const server = await startServer();
    const browser = await launch();
    try {
        const off = server.addUser(server.org, `o${rand(6)}`, 'sponsorship_officer', undefined, 'مسؤول الكفالات');
        const cw = server.addUser(server.org, `c${rand(6)}`, 'case_worker');
        const api = await apiClient(server, server.org, off.username, off.password);
        const reg = await apiClient(server, server.org, cw.username, cw.password);
        const kids = [];
        for (const [first, birth] of [['مريم', '2014-02-01'], ['سارة', '2015-05-01'], ['هدى', '2012-06-01']]) {
            const r = await reg.post('/api/v1/children', {
                json: {
                    first_name: first, father_name: 'محمد', grandfather_name: 'علي', family_name: 'الخطيب',
                    sex: 'F', birth_date: birth, orphan_status: 'both_deceased',
                },
            });
            assert.equal(r.status, 201, r.text);
            kids.push(r.json);
        }
        server.sql(`UPDATE children SET status = 'active'`);
        let r = await api.post('/api/v1/donors', {
            json: { kind: 'association', name: 'جمعية الخير للتنمية والرعاية الاجتماعية', name_latin: 'Al-Khair Association for Development and Social Care', email: 'info@alkhair.example.org', city: 'عمّان' },
        });
        assert.equal(r.status, 201, r.text);
        await api.post('/api/v1/donors', { json: { kind: 'person', name: 'Beth Longname-Smithson' } });
        r = await api.post('/api/v1/sponsorships', {
            json: { child_id: kids[0].id, donor_id: 'D-000001', amount: '1250.50', currency: 'JOD', frequency: 'half_yearly', purpose: 'education', start_date: '2026-01-01', status: 'active' },
        });
        assert.equal(r.status, 201, r.text);
        const spId = r.json.items[0].id;

        for (const lang of ['ar', 'en']) {
            server.sql(`UPDATE users SET lang = '${lang}' WHERE id = '${off.id}'`);
            const ctx = await browser.newContext({ viewport: { width: 360, height: 740 } });
            const page = await ctx.newPage();
            await loginPage(page, server.url, server.org, off.username, off.password);
            const pages = ['/sponsorship', '/sponsorship/donors', '/sponsorship/donors/new', '/sponsorship/agreements',
                '/sponsorship/agreements/new', `/sponsorship/agreements/${spId}`, '/sponsorship/waiting'];
            for (const p of pages) {
                await page.goto(server.url + p);
                assert.equal(await page.getAttribute('html', 'dir'), lang === 'ar' ? 'rtl' : 'ltr');
                assert.ok(!(await scrollsSideways(page)), `${p} scrolls sideways in ${lang}`);
                await shot(page, `sponsors-${lang}${p.replace(/\//g, '_').replace(/_[0-9a-f-]{36}/, '_id')}`);
            }
            await ctx.close();
        }

        // Change the sponsor by clicking through the form.
        const ctx = await browser.newContext({ viewport: { width: 360, height: 740 } });
        const page = await ctx.newPage();
        await loginPage(page, server.url, server.org, off.username, off.password);
        await page.goto(`${server.url}/sponsorship/agreements/${spId}`);
        await page.fill('#f-change_donor_id', 'D-000002');
        await page.fill('#f-change_start_date', '2026-07-01');
        await Promise.all([page.waitForLoadState('load'), page.click('form[action$="/change"] button[type=submit]')]);
        assert.ok(!page.url().includes(spId), 'now on the new agreement');
        assert.ok((await page.textContent('main')).includes('Beth Longname-Smithson'));
        await ctx.close();
    } finally {
        await browser.close();
        await server.close();
    }
});
