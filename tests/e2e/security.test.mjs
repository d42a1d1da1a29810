// security.test.mjs: regression tests of the security review before release.
// Each test is one finding that was reproduced against a running server and
// fixed; the test fails on the code before its fix. One server for the file.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { apiLogin, enrolTotp, freshTotp, startServer } from './lib.mjs';

let srv;
const S = {}; // state shared by the tests

before(async () => {
    srv = await startServer();
});

after(async () => {
    if (srv) {
        await srv.close();
    }
});

test('a second-factor code is accepted once, even by logins racing each other', async () => {
    const u = srv.addUser('main', 'racer', 'case_worker');
    const { totp } = await enrolTotp(srv, 'main', 'racer', u.password);
    const code = await freshTotp(totp);
    // The step is read before argon2 runs and written after it: logins sent
    // together all read the old step unless the write is conditional.
    const tries = await Promise.all(
        Array.from({ length: 6 }, () => apiLogin(srv, 'main', 'racer', u.password, code)));
    const ok = tries.filter((r) => r.status === 200).length;
    assert.equal(ok, 1, tries.map((r) => `${r.status} ${r.json?.code ?? ''}`).join(', '));
    for (const r of tries.filter((x) => x.status !== 200)) {
        assert.equal(r.json.code, 'invalid_totp', r.text);
    }
    S.racer = u;
});

test('secret tokens in paths are not written to the access log', async () => {
    const c = srv.client();
    const token = 'inv_' + 'Q'.repeat(43);
    const r = await c.get(`/invite/${token}`);
    assert.equal(r.status, 404, r.text);
    const feed = 'F'.repeat(52);
    assert.equal((await c.get(`/calendar/feed/${feed}.ics`)).status, 404);
    // The access line is written when the request completes: give it a moment.
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.ok(srv.stderr.includes('route="/invite/{token}"'), 'the invite request was logged');
    assert.ok(!srv.stderr.includes(token), 'the invitation token is in the log');
    assert.ok(!srv.stderr.includes(feed), 'the feed token is in the log');
});
