// proxy.test.mjs: a server behind a TLS-terminating proxy
// (SANAD_BEHIND_TLS_PROXY=true): with X-Forwarded-Proto: https the session
// cookie gets the __Host- prefix and Secure and HSTS is sent; the client
// address comes from X-Forwarded-For, so the per-address login throttle can
// be tested without locking out the tests' own address.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { apiLogin, startServer } from './lib.mjs';

let srv;
let users = [];

before(async () => {
    srv = await startServer({ env: { SANAD_BEHIND_TLS_PROXY: 'true' } });
    users = [1, 2, 3, 4, 5].map((i) => srv.addUser('main', `worker${i}`, 'case_worker'));
});

after(async () => {
    if (srv) {
        await srv.close();
    }
});

const https = { 'X-Forwarded-Proto': 'https', 'X-Forwarded-For': '198.51.100.10' };

test('behind a TLS proxy the session cookie is __Host-sid, Secure, HttpOnly, SameSite=Strict', async () => {
    const u = users[0];
    const r = await apiLogin(srv, 'main', u.username, u.password, undefined, https);
    assert.equal(r.status, 200, r.text);
    const sid = r.cookies.find((c) => c.name === '__Host-sid');
    assert.ok(sid, `cookies: ${r.headers.getSetCookie()}`);
    assert.equal(sid.attrs.secure, true);
    assert.equal(sid.attrs.httponly, true);
    assert.equal(sid.attrs.samesite, 'Strict');
    assert.equal(sid.attrs.path, '/');
    assert.equal(sid.attrs.domain, undefined, '__Host- cookies carry no Domain');
    assert.ok(!r.cookies.some((c) => c.name === 'sid'));
    const hsts = r.headers.get('strict-transport-security');
    assert.match(hsts || '', /max-age=\d{6,}/);
    // The prefixed cookie is the one read back; a bare sid is ignored over https.
    const c = srv.client({ headers: https });
    c.cookies.set('__Host-sid', sid.value);
    assert.equal((await c.get('/api/v1/me')).status, 200);
    const bare = srv.client({ headers: https });
    bare.cookies.set('sid', sid.value);
    assert.equal((await bare.get('/api/v1/me')).status, 401);
});

test('behind a TLS proxy a request without X-Forwarded-Proto: https gets no Secure cookie and no HSTS', async () => {
    const u = users[0];
    const r = await apiLogin(srv, 'main', u.username, u.password, undefined, { 'X-Forwarded-For': '198.51.100.10' });
    assert.equal(r.status, 200, r.text);
    const sid = r.cookies.find((c) => c.name === 'sid');
    assert.ok(sid);
    assert.ok(!sid.attrs.secure);
    assert.equal(r.headers.get('strict-transport-security'), null);
    const page = await srv.client().get('/login', { headers: https });
    assert.ok(page.headers.getSetCookie().some((l) => l.startsWith('__Host-pre=') && /;\s*Secure/i.test(l)));
    assert.match(page.headers.get('strict-transport-security') || '', /max-age=/);
});

test('the per-address throttle: 20 failures from one address block its next login, other addresses go on', async () => {
    const addr = { 'X-Forwarded-For': '203.0.113.77' };
    // Four failures on each of five accounts: no account reaches its own limit of five.
    for (const u of users) {
        for (let i = 0; i < 4; i++) {
            const r = await apiLogin(srv, 'main', u.username, `wrong-${i}-password`, undefined, addr);
            assert.equal(r.status, 401, r.text);
        }
    }
    const blocked = await apiLogin(srv, 'main', users[1].username, users[1].password, undefined, addr);
    assert.equal(blocked.status, 429, blocked.text);
    assert.equal(blocked.json.code, 'too_many_requests');
    assert.ok(Number(blocked.headers.get('retry-after')) > 0);
    const elsewhere = await apiLogin(srv, 'main', users[1].username, users[1].password, undefined, { 'X-Forwarded-For': '203.0.113.78' });
    assert.equal(elsewhere.status, 200, elsewhere.text);
});

test('the audit log records the forwarded address', async () => {
    const r = srv.sql("SELECT COUNT(*) FROM audit_log WHERE remote = '203.0.113.77'");
    assert.ok(Number(r.trim()) >= 20, r);
});

test('the server stops cleanly', async () => {
    const { code, signal } = await srv.stop();
    assert.equal(code, 0, `exit ${code ?? signal}; stderr tail:\n${srv.stderrTail()}`);
});
