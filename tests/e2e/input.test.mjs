// input.test.mjs: bad request bodies are refused with a problem naming the
// field and change nothing; problem titles follow the language; security
// headers, static assets, /healthz and /metrics.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { apiLogin, enrolTotp, freshTotp, problemShape, startServer } from './lib.mjs';

let srv;
let admin; // API client of an admin with a second factor
let usersBefore;

before(async () => {
    srv = await startServer();
    const { totp } = await enrolTotp(srv, 'main', 'admin', srv.adminPassword);
    const r = await apiLogin(srv, 'main', 'admin', srv.adminPassword, await freshTotp(totp));
    assert.equal(r.status, 200, r.text);
    admin = srv.client();
    admin.bearer = r.json.token;
    usersBefore = (await admin.get('/api/v1/users')).json.items;
});

after(async () => {
    if (srv) {
        await srv.close();
    }
});

/** Asserts a problem answer: status, code, and (when given) errors[0].field. */
function assertProblem(r, status, code, field = undefined) {
    assert.equal(r.status, status, r.text);
    assert.equal(problemShape(r), '');
    assert.equal(r.json.code, code, r.text);
    assert.equal(r.json.type, `https://sanad.example/problems/${code}`);
    if (field !== undefined) {
        assert.ok(Array.isArray(r.json.errors), r.text);
        assert.equal(r.json.errors[0].field, field, r.text);
    }
}

/** Asserts that the users list is what it was before the test. */
async function assertUsersUnchanged() {
    const now = (await admin.get('/api/v1/users')).json.items;
    assert.deepEqual(now, usersBefore);
}

const good = { username: 'newbie', display_name: 'New Person', role: 'case_worker' };

test('wrong Content-Type gets 415', async () => {
    assertProblem(await admin.post('/api/v1/users', { body: JSON.stringify(good), type: 'text/plain' }), 415, 'unsupported_media_type');
    assertProblem(await admin.post('/api/v1/users', { body: new URLSearchParams(good).toString(), type: 'application/x-www-form-urlencoded' }), 415, 'unsupported_media_type');
    assertProblem(await admin.post('/api/v1/users', { body: '' }), 415, 'unsupported_media_type');
    await assertUsersUnchanged();
});

test('a body over 1 MiB gets 413', async () => {
    const big = JSON.stringify({ ...good, display_name: 'x'.repeat(1 << 20) });
    assertProblem(await admin.post('/api/v1/users', { body: big, type: 'application/json' }), 413, 'body_too_large');
    await assertUsersUnchanged();
});

test('malformed JSON gets 400 malformed_json with line and column', async () => {
    const r = await admin.post('/api/v1/users', { body: '{"username": "a",\n "role": }', type: 'application/json' });
    assertProblem(r, 400, 'malformed_json');
    assert.equal(r.json.line, 2);
    assert.ok(r.json.column > 0);
    assertProblem(await admin.post('/api/v1/users', { body: '', type: 'application/json' }), 400, 'malformed_json');
    assertProblem(await admin.post('/api/v1/users', { body: '{"a":1} trailing', type: 'application/json' }), 400, 'malformed_json');
    await assertUsersUnchanged();
});

test('invalid UTF-8 gets 400', async () => {
    for (const bytes of [
        Buffer.concat([Buffer.from('{"username":"a'), Buffer.from([0xff]), Buffer.from('","display_name":"x","role":"case_worker"}')]),
        Buffer.concat([Buffer.from('{"username":"ab","display_name":"'), Buffer.from([0xc0, 0xaf]), Buffer.from('","role":"case_worker"}')]),
        Buffer.concat([Buffer.from('{"username":"ab","display_name":"'), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from('","role":"case_worker"}')]),
    ]) {
        const r = await admin.post('/api/v1/users', { body: bytes, type: 'application/json' });
        assert.equal(r.status, 400, r.text);
        assert.equal(problemShape(r), '');
    }
    await assertUsersUnchanged();
});

test('a JSON array or scalar instead of an object gets 400', async () => {
    assertProblem(await admin.post('/api/v1/users', { body: JSON.stringify([good]), type: 'application/json' }), 400, 'not_an_object');
    for (const body of ['"text"', 'null', '42']) {
        const r = await admin.post('/api/v1/users', { body, type: 'application/json' });
        assert.equal(r.status, 400, r.text);
        assert.ok(['not_an_object', 'malformed_json'].includes(r.json.code), r.text);
    }
    await assertUsersUnchanged();
});

test('an unknown field gets 422 naming it', async () => {
    assertProblem(await admin.post('/api/v1/users', { json: { ...good, is_superuser: true } }), 422, 'unknown_field', 'is_superuser');
    assertProblem(await admin.patch(`/api/v1/users/${usersBefore[0].id}`, { json: { username: 'renamed' } }), 422, 'unknown_field', 'username');
    await assertUsersUnchanged();
});

test('over-long username and display_name get 422 naming the field', async () => {
    assertProblem(await admin.post('/api/v1/users', { json: { ...good, username: 'a'.repeat(65) } }), 422, 'too_long', 'username');
    assertProblem(await admin.post('/api/v1/users', { json: { ...good, display_name: 'ن'.repeat(121) } }), 422, 'too_long', 'display_name');
    assertProblem(await admin.post('/api/v1/users', { json: { ...good, email: 'a'.repeat(195) + '@x.org' } }), 422, 'too_long', 'email');
    await assertUsersUnchanged();
});

test('a missing or empty required field gets 422 naming it', async () => {
    for (const field of ['username', 'display_name', 'role']) {
        const body = { ...good };
        delete body[field];
        assertProblem(await admin.post('/api/v1/users', { json: body }), 422, 'required', field);
    }
    const blank = await admin.post('/api/v1/users', { json: { ...good, display_name: '   ' } });
    assert.equal(blank.status, 422, blank.text);
    assert.equal(blank.json.errors[0].field, 'display_name');
    await assertUsersUnchanged();
});

test('wrong JSON types and bad values get 422 naming the field', async () => {
    const num = await admin.post('/api/v1/users', { json: { ...good, username: 42 } });
    assert.equal(num.status, 422, num.text);
    assert.equal(num.json.errors[0].field, 'username');
    const bad = await admin.post('/api/v1/users', { json: { ...good, username: 'Has Space' } });
    assert.equal(bad.status, 422, bad.text);
    assert.equal(bad.json.errors[0].field, 'username');
    const nul = await admin.post('/api/v1/users', { body: '{"username":"ab\\u0000cd","display_name":"x","role":"case_worker"}', type: 'application/json' });
    assert.ok([400, 422].includes(nul.status), nul.text);
    const lang = await admin.post('/api/v1/users', { json: { ...good, lang: 'fr' } });
    assert.equal(lang.status, 422, lang.text);
    assert.equal(lang.json.errors[0].field, 'lang');
    await assertUsersUnchanged();
});

test('problem titles are Arabic by default and English with Accept-Language: en', async () => {
    const c = srv.client();
    const body = { organization: 'main', username: 'admin', password: 'x', extra: 1 };
    const ar = await c.post('/api/v1/auth/login', { json: body });
    assertProblem(ar, 422, 'unknown_field', 'extra');
    assert.match(ar.json.title, /[\u0600-\u06FF]/, ar.json.title);
    const en = await c.post('/api/v1/auth/login', { json: body, headers: { 'Accept-Language': 'en-GB,en;q=0.9' } });
    assertProblem(en, 422, 'unknown_field', 'extra');
    assert.doesNotMatch(en.json.title, /[\u0600-\u06FF]/);
    assert.match(en.json.title, /extra/);
    const fr = await c.post('/api/v1/auth/login', { json: body, headers: { 'Accept-Language': 'fr' } });
    assert.match(fr.json.title, /[\u0600-\u06FF]/, 'an unknown language falls back to Arabic');
    const page = await c.get('/login', { headers: { 'Accept-Language': 'en' } });
    assert.match(page.text, /<html lang="en" dir="ltr">/);
    assert.match((await c.get('/login', { cookies: false })).text, /<html lang="ar" dir="rtl">/);
});

/** Asserts the security headers every response carries. */
function assertSecurityHeaders(r, what) {
    const csp = r.headers.get('content-security-policy');
    assert.ok(csp, `${what}: CSP present`);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/, `${what}: ${csp}`);
    assert.match(csp, /frame-ancestors 'none'/);
    assert.match(csp, /default-src 'self'/);
    assert.equal(r.headers.get('x-content-type-options'), 'nosniff', what);
    assert.ok(r.headers.get('referrer-policy'), `${what}: Referrer-Policy`);
    assert.ok(!r.headers.get('server') || !/\d/.test(r.headers.get('server')), `${what}: no version in Server`);
}

test('security headers on HTML, JSON, problem, redirect and static responses', async () => {
    const c = srv.client();
    const html = await c.get('/login');
    assert.match(html.headers.get('content-type'), /^text\/html; charset=utf-8/);
    assertSecurityHeaders(html, 'html');
    assertSecurityHeaders(await admin.get('/api/v1/me'), 'json');
    assertSecurityHeaders(await c.get('/api/v1/me'), 'problem');
    assertSecurityHeaders(await c.get('/'), 'redirect');
    assertSecurityHeaders(await c.get('/no/such/page'), '404');
    assertSecurityHeaders(await c.get('/static/app.css'), 'static');
    assert.equal(html.headers.get('cache-control'), 'no-store');
    assert.ok(!html.headers.get('strict-transport-security'), 'no HSTS over plain HTTP');
    assert.match(html.headers.get('x-request-id'), /^[0-9a-f]{8,}$/);
});

test('/static/app.css has an ETag and answers 304 to If-None-Match', async () => {
    const c = srv.client();
    const r = await c.get('/static/app.css');
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type'), /^text\/css/);
    const etag = r.headers.get('etag');
    assert.match(etag, /^"[^"]+"$/);
    assert.ok(r.raw.length > 100);
    const again = await c.get('/static/app.css', { headers: { 'If-None-Match': etag } });
    assert.equal(again.status, 304);
    assert.equal(again.raw.length, 0);
    const other = await c.get('/static/app.css', { headers: { 'If-None-Match': '"nope"' } });
    assert.equal(other.status, 200);
    assert.equal((await c.get('/static/../templates/login.html')).status === 200, false);
    assert.equal((await c.get('/static/nope.css')).status, 404);
});

test('/healthz and /metrics', async () => {
    const c = srv.client();
    const h = await c.get('/healthz');
    assert.equal(h.status, 200);
    assert.equal(h.json.status, 'ok');
    const m = await c.get('/metrics');
    assert.equal(m.status, 200);
    assert.match(m.text, /^# TYPE sanad_http_requests_total counter$/m);
    assert.match(m.text, /^sanad_http_requests_total\{[^}]*route="\/api\/v1\/users"[^}]*\} \d+$/m);
});

test('unknown routes and methods', async () => {
    const c = srv.client();
    const api = await c.get('/api/v1/nothing-here');
    assert.equal(api.status, 404);
    assert.equal(problemShape(api), '');
    const method = await admin.req('PUT', '/api/v1/users');
    assert.equal(method.status, 405, method.text);
    assert.ok(method.headers.get('allow'), 'Allow header on 405');
});

test('the server stops cleanly', async () => {
    const { code, signal } = await srv.stop();
    assert.equal(code, 0, `exit ${code ?? signal}; stderr tail:\n${srv.stderrTail()}`);
});
