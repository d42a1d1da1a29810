// auth.test.mjs: logging in and out, throttling, CSRF, the admin's second
// factor, users, invitations, API tokens, organizations kept apart,
// permission denials in the audit log, and the audit chain catching
// tampering. One server for the whole file; tests run in order and build on
// each other's state.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import {
    apiClient, apiLogin, csrfOf, enrolTotp, freshTotp, inputValue, pageLogin, problemShape,
    secretOf, startServer, strongPassword, totpAt, totpStep,
} from './lib.mjs';

let srv;
const S = {}; // state shared by the tests, in order

before(async () => {
    srv = await startServer();
    S.cw = srv.addUser('main', 'cw', 'case_worker', undefined, 'Case Worker');
    S.victim = srv.addUser('main', 'victim', 'case_worker');
    S.sup = srv.addUser('main', 'sup', 'supervisor');
    S.aud = srv.addUser('main', 'aud', 'auditor');
    srv.addOrg('other', 'Other Org');
    S.admin2 = srv.addUser('other', 'admin2', 'admin');
    S.cw2 = srv.addUser('other', 'cw2', 'case_worker');
});

after(async () => {
    if (srv) {
        await srv.stop();
        srv.cleanup();
    }
});

/** Asserts r is a problem with status and code. */
function assertProblem(r, status, code) {
    assert.equal(r.status, status, r.text);
    assert.equal(problemShape(r), '');
    assert.equal(r.json.code, code, r.text);
}

test('API login gives a token, the user and an HttpOnly SameSite=Strict sid cookie', async () => {
    const r = await apiLogin(srv, 'main', 'cw', S.cw.password);
    assert.equal(r.status, 200, r.text);
    assert.match(r.json.token, /^[A-Za-z0-9_-]{40,}$/);
    assert.equal(r.json.user.username, 'cw');
    assert.equal(r.json.user.organization, 'main');
    assert.equal(r.json.user.role, 'case_worker');
    assert.ok(!('password_hash' in r.json.user));
    const sid = r.cookies.find((c) => c.name === 'sid');
    assert.ok(sid, 'a sid cookie is set');
    assert.equal(sid.value, r.json.token);
    assert.equal(sid.attrs.httponly, true);
    assert.equal(sid.attrs.samesite, 'Strict');
    assert.equal(sid.attrs.path, '/');
    assert.ok(!sid.attrs.secure, 'no Secure over plain HTTP');
    assert.ok(!r.cookies.some((c) => c.name.startsWith('__Host-')), 'no __Host- prefix over plain HTTP');
    S.cwLogin = r.json;
});

test('wrong password, unknown user and unknown organization get the same 401', async () => {
    const answers = [
        await apiLogin(srv, 'main', 'cw', 'not-the-password-at-all'),
        await apiLogin(srv, 'main', 'nobody-here', S.cw.password),
        await apiLogin(srv, 'no-such-org', 'cw', S.cw.password),
    ];
    for (const r of answers) {
        assertProblem(r, 401, 'invalid_credentials');
        assert.ok(!r.cookies.some((c) => c.name === 'sid' && c.value), 'no session cookie');
    }
    assert.equal(answers[1].json.title, answers[0].json.title);
    assert.equal(answers[2].json.detail, answers[0].json.detail);
});

test('/api/v1/me answers with the bearer token and with the cookie, 401 without', async () => {
    const c = srv.client();
    const bearer = await c.get('/api/v1/me', { bearer: S.cwLogin.token });
    assert.equal(bearer.status, 200, bearer.text);
    assert.equal(bearer.json.username, 'cw');
    assert.equal(bearer.json.display_name, 'Case Worker');
    const cookie = await c.get('/api/v1/me', { headers: { Cookie: `sid=${S.cwLogin.token}` } });
    assert.equal(cookie.status, 200, cookie.text);
    assert.equal(cookie.json.id, bearer.json.id);
    const none = await c.get('/api/v1/me');
    assertProblem(none, 401, 'unauthorized');
    const bad = await c.get('/api/v1/me', { bearer: 'x'.repeat(43) });
    assertProblem(bad, 401, 'invalid_token');
});

test('logout with the cookie needs the CSRF header; afterwards the token gets 401', async () => {
    const r = await apiLogin(srv, 'main', 'cw', S.cw.password);
    const c = srv.client();
    c.cookies.set('sid', r.json.token);
    const noCsrf = await c.post('/api/v1/auth/logout');
    assertProblem(noCsrf, 403, 'csrf_failed');
    assert.equal((await c.get('/api/v1/me')).status, 200, 'still logged in');
    const out = await c.post('/api/v1/auth/logout', { headers: { 'X-CSRF-Token': r.json.csrf } });
    assert.equal(out.status, 204, out.text);
    assertProblem(await c.get('/api/v1/me', { bearer: r.json.token }), 401, 'invalid_token');
    assert.equal((await srv.client().get('/api/v1/me', { headers: { Cookie: `sid=${r.json.token}` } })).status, 401);
});

test('logout with the bearer token ends that session', async () => {
    const r = await apiLogin(srv, 'main', 'cw', S.cw.password);
    const c = srv.client();
    assert.equal((await c.post('/api/v1/auth/logout', { bearer: r.json.token })).status, 204);
    assertProblem(await c.get('/api/v1/me', { bearer: r.json.token }), 401, 'invalid_token');
    // Other sessions of the same user live on.
    assert.equal((await c.get('/api/v1/me', { bearer: S.cwLogin.token })).status, 200);
});

test('after 5 failures the 6th login gets 429 with Retry-After, even with the right password', async () => {
    for (let i = 0; i < 5; i++) {
        assertProblem(await apiLogin(srv, 'main', 'victim', `wrong-password-${i}`), 401, 'invalid_credentials');
    }
    const r = await apiLogin(srv, 'main', 'victim', S.victim.password);
    assertProblem(r, 429, 'too_many_requests');
    const retry = Number(r.headers.get('retry-after'));
    assert.ok(Number.isInteger(retry) && retry > 0, `Retry-After ${r.headers.get('retry-after')}`);
    assert.ok(!r.cookies.some((c) => c.name === 'sid' && c.value));
    // Another account from the same address is not locked out.
    assert.equal((await apiLogin(srv, 'main', 'cw', S.cw.password)).status, 200);
});

test('the login form is refused without its pre-session token', async () => {
    const c = srv.client();
    const none = await c.post('/login', { form: { organization: 'main', username: 'cw', password: S.cw.password } });
    assert.equal(none.status, 403, none.text.slice(0, 200));
    assert.ok(!c.cookies.has('sid'));
    const page = await c.get('/login');
    assert.ok(inputValue(page.text, 'pre'));
    const wrong = await c.post('/login', {
        form: { pre: 'forged-token-value', organization: 'main', username: 'cw', password: S.cw.password },
    });
    assert.equal(wrong.status, 403);
    assert.ok(!c.cookies.has('sid'));
    // The cookie alone, without the field, is not enough either.
    const fieldless = await c.post('/login', { form: { organization: 'main', username: 'cw', password: S.cw.password } });
    assert.equal(fieldless.status, 403);
    const ok = await pageLogin(c, 'main', 'cw', S.cw.password);
    assert.equal(ok.status, 303);
    assert.equal(ok.headers.get('location'), '/');
    assert.ok(c.cookies.has('sid'));
    S.cwPage = c;
});

test('a cookie session POSTing a form without the csrf field gets 403 and nothing changes', async () => {
    const c = S.cwPage;
    const before = await c.get('/api/v1/me');
    assert.equal(before.json.lang, 'ar');
    const r = await c.post('/lang', { form: { lang: 'en', next: '/' } });
    assert.equal(r.status, 403);
    assert.equal((await c.get('/api/v1/me')).json.lang, 'ar', 'language unchanged');
    const wrong = await c.post('/lang', { form: { lang: 'en', next: '/', csrf: 'not-the-token' } });
    assert.equal(wrong.status, 403);
    const csrf = await csrfOf(c, '/');
    assert.ok(csrf);
    const ok = await c.post('/lang', { form: { lang: 'en', next: '/account', csrf } });
    assert.equal(ok.status, 303);
    assert.equal(ok.headers.get('location'), '/account');
    assert.equal((await c.get('/api/v1/me')).json.lang, 'en');
    const back = await c.post('/lang', { form: { lang: 'ar', next: '/', csrf } });
    assert.equal(back.status, 303);
});

test('an admin without a second factor is sent to /account/totp; the API refuses users', async () => {
    const c = srv.client();
    const login = await pageLogin(c, 'main', 'admin', srv.adminPassword);
    assert.equal(login.status, 303);
    const home = await c.get('/');
    assert.equal(home.status, 303);
    assert.equal(home.headers.get('location'), '/account/totp');
    assert.equal((await c.get('/users')).headers.get('location'), '/account/totp');
    const page = await c.get('/account/totp');
    assert.equal(page.status, 200);
    const me = await c.get('/api/v1/me');
    assert.equal(me.status, 200, me.text);
    assert.equal(me.json.totp_enabled, false);
    assertProblem(await c.get('/api/v1/users'), 403, 'totp_enrollment_required');
    S.adminPage = c;
});

test('an admin without a second factor is refused /api/v1/users with the session token as bearer too', async () => {
    // Only API tokens skip enrolment: a session token used as a bearer is still a session.
    const r = await apiLogin(srv, 'main', 'admin', srv.adminPassword);
    assert.equal(r.status, 200, r.text);
    const users = await srv.client().get('/api/v1/users', { bearer: r.json.token });
    assertProblem(users, 403, 'totp_enrollment_required');
});

test('the admin enrols TOTP through the pages; a wrong code is refused', async () => {
    const c = S.adminPage;
    const csrf = await csrfOf(c, '/account/totp');
    assert.equal((await c.post('/account/totp/start', { form: {} })).status, 403, 'start needs csrf');
    const start = await c.post('/account/totp/start', { form: { csrf } });
    assert.equal(start.status, 200);
    const secret = secretOf(start.text);
    assert.match(secret, /^[A-Z2-7]{16,}$/);
    assert.match(start.text, /<img src="data:image\/svg\+xml;base64,/);
    S.adminTotp = { secret, last: -1 };
    const bad = await c.post('/account/totp/confirm', { form: { csrf, code: wrongCode(secret) } });
    assert.match(bad.text, /role="alert"/, 'the error is shown');
    assert.equal(secretOf(bad.text), secret, 'the same pending secret is shown again');
    assert.equal((await c.get('/api/v1/me')).json.totp_enabled, false);
    S.badConfirmStatus = bad.status;
    const ok = await c.post('/account/totp/confirm', { form: { csrf, code: await freshTotp(S.adminTotp) } });
    assert.equal(ok.status, 303, ok.text.slice(0, 300));
    assert.match(ok.headers.get('location'), /^\/account/);
    assert.equal((await c.get('/api/v1/me')).json.totp_enabled, true);
    assert.equal((await c.get('/')).status, 200, 'the dashboard opens now');
});

test('a wrong enrolment code answers 422 like every other refused form', () => {
    // BUG: page_totp_confirm renders the error through totp_page, which always replies 200.
    assert.equal(S.badConfirmStatus, 422);
});

/** A six-digit code that is not valid for secret around now. */
function wrongCode(secret) {
    const now = totpStep();
    const valid = [now - 2, now - 1, now, now + 1, now + 2].map((s) => totpAt(secret, s));
    return ['000000', '111111', '222222'].find((c) => !valid.includes(c));
}

test('API login of a TOTP admin: without code 401, wrong code 401, right code 200, replay 401', async () => {
    assertProblem(await apiLogin(srv, 'main', 'admin', srv.adminPassword), 401, 'totp_required');
    assertProblem(await apiLogin(srv, 'main', 'admin', srv.adminPassword, 'abcdef'), 401, 'invalid_totp');
    const code = await freshTotp(S.adminTotp);
    const r = await apiLogin(srv, 'main', 'admin', srv.adminPassword, code);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.user.totp_enabled, true);
    const replay = await apiLogin(srv, 'main', 'admin', srv.adminPassword, code);
    assertProblem(replay, 401, 'invalid_totp');
    S.admin = srv.client();
    S.admin.bearer = r.json.token;
    const users = await S.admin.get('/api/v1/users');
    assert.equal(users.status, 200, users.text);
    S.usersBefore = users.json.items;
});

test('page login of a TOTP admin stops at /login/mfa until the code is given', async () => {
    const c = srv.client();
    const login = await pageLogin(c, 'main', 'admin', srv.adminPassword);
    assert.equal(login.status, 303);
    assert.match(login.headers.get('location'), /^\/login\/mfa/);
    assert.equal((await c.get('/')).headers.get('location'), '/login/mfa');
    assertProblem(await c.get('/api/v1/me'), 401, 'totp_required');
    const page = await c.get('/login/mfa');
    const csrf = inputValue(page.text, 'csrf');
    const bad = await c.post('/login/mfa', { form: { csrf, code: '12345x', next: '/' } });
    assert.equal(bad.status, 401);
    const ok = await c.post('/login/mfa', { form: { csrf, code: await freshTotp(S.adminTotp), next: '/users' } });
    assert.equal(ok.status, 303, ok.text.slice(0, 300));
    assert.equal(ok.headers.get('location'), '/users');
    assert.equal((await c.get('/users')).status, 200);
    S.adminCookie = c;
    S.adminCsrf = await csrfOf(c, '/users');
});

test('inviting on the users page without the csrf field is refused and changes nothing', async () => {
    const c = S.adminCookie;
    const form = { display_name: 'Sneaky', username: 'sneaky', role: 'admin', lang: 'ar' };
    const r = await c.post('/users', { form });
    assert.equal(r.status, 403);
    const list = await S.admin.get('/api/v1/users');
    assert.deepEqual(list.json.items.map((u) => u.username).sort(), S.usersBefore.map((u) => u.username).sort());
    const ok = await c.post('/users', { form: { ...form, username: 'invited-page', display_name: 'Invited Page', role: 'case_worker', csrf: S.adminCsrf } });
    assert.equal(ok.status, 201, ok.text.slice(0, 300));
    assert.match(ok.text, /http:\/\/127\.0\.0\.1:\d+\/invite\/[A-Za-z0-9_-]+/);
    const after = await S.admin.get('/api/v1/users');
    assert.equal(after.json.items.length, S.usersBefore.length + 1);
    const inv = after.json.items.find((u) => u.username === 'invited-page');
    assert.equal(inv.invited, true);
});

test('users API: create with a password; the new user logs in', async () => {
    const pw = strongPassword();
    const r = await S.admin.post('/api/v1/users', {
        json: { username: 'u1', display_name: 'User One', role: 'case_worker', password: pw, lang: 'en' },
    });
    assert.equal(r.status, 201, r.text);
    assert.match(r.json.id, /^[0-9a-f-]{36}$/);
    assert.equal(r.json.invite_url, undefined);
    S.u1 = { id: r.json.id, password: pw };
    const got = await S.admin.get(`/api/v1/users/${r.json.id}`);
    assert.equal(got.status, 200);
    assert.equal(got.json.username, 'u1');
    assert.equal(got.json.lang, 'en');
    assert.equal(got.json.invited, false);
    const login = await apiLogin(srv, 'main', 'u1', pw);
    assert.equal(login.status, 200, login.text);
});

test('users API: duplicate username 409, bad role 422 naming role, weak password 422', async () => {
    const dup = await S.admin.post('/api/v1/users', {
        json: { username: 'u1', display_name: 'Again', role: 'case_worker', password: strongPassword() },
    });
    assert.equal(dup.status, 409, dup.text);
    assert.equal(problemShape(dup), '');
    const role = await S.admin.post('/api/v1/users', { json: { username: 'u9', display_name: 'X', role: 'emperor' } });
    assertProblem(role, 422, 'invalid_field');
    assert.equal(role.json.errors[0].field, 'role');
    const weak = await S.admin.post('/api/v1/users', {
        json: { username: 'u9', display_name: 'X', role: 'case_worker', password: 'short' },
    });
    assert.equal(weak.status, 422, weak.text);
    assert.equal(weak.json.errors[0].field, 'password');
    const list = await S.admin.get('/api/v1/users');
    assert.ok(!list.json.items.some((u) => u.username === 'u9'));
});

test('users API: an invitation is accepted through the page and then logs in', async () => {
    const r = await S.admin.post('/api/v1/users', { json: { username: 'inv1', display_name: 'Invited One', role: 'case_worker' } });
    assert.equal(r.status, 201, r.text);
    assert.match(r.json.invite_url, /^\/invite\/[A-Za-z0-9_-]{20,}$/);
    S.inv1 = { id: r.json.id };
    assertProblem(await apiLogin(srv, 'main', 'inv1', 'anything-at-all-123'), 401, 'invalid_credentials');
    const c = srv.client();
    const page = await c.get(r.json.invite_url);
    assert.equal(page.status, 200);
    assert.match(page.text, /inv1/);
    const pw = strongPassword();
    const differ = await c.post(r.json.invite_url, { form: { password: pw, password_again: pw + 'x' } });
    assert.equal(differ.status, 422);
    const ok = await c.post(r.json.invite_url, { form: { password: pw, password_again: pw } });
    assert.equal(ok.status, 303, ok.text.slice(0, 300));
    assert.match(ok.headers.get('location'), /^\/login/);
    assert.equal((await c.get(r.json.invite_url)).status, 404, 'an invitation is used once');
    assert.equal((await c.post(r.json.invite_url, { form: { password: pw, password_again: pw } })).status, 404);
    const login = await apiLogin(srv, 'main', 'inv1', pw);
    assert.equal(login.status, 200, login.text);
    S.inv1.password = pw;
    S.inv1.token = login.json.token;
    assert.equal((await S.admin.get(`/api/v1/users/${r.json.id}`)).json.invited, false);
});

test('users API: PATCH changes the role; it ends the user\'s sessions and applies at the next login', async () => {
    const r = await S.admin.patch(`/api/v1/users/${S.inv1.id}`, { json: { role: 'supervisor' } });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.role, 'supervisor');
    assertProblem(await srv.client().get('/api/v1/me', { bearer: S.inv1.token }), 401, 'invalid_token');
    const login = await apiLogin(srv, 'main', 'inv1', S.inv1.password);
    assert.equal(login.status, 200, login.text);
    S.inv1.token = login.json.token;
    const me = await srv.client().get('/api/v1/me', { bearer: S.inv1.token });
    assert.equal(me.json.role, 'supervisor');
    assert.ok(me.json.permissions.includes('users.read'));
    assert.ok(!me.json.permissions.includes('users.manage'));
    const bad = await S.admin.patch(`/api/v1/users/${S.inv1.id}`, { json: { role: 'emperor' } });
    assertProblem(bad, 422, 'invalid_field');
    assert.equal(bad.json.errors[0].field, 'role');
    const badActive = await S.admin.patch(`/api/v1/users/${S.inv1.id}`, { json: { active: 'no' } });
    assert.equal(badActive.status, 422);
    assert.equal(badActive.json.errors[0].field, 'active');
    assert.equal((await S.admin.get(`/api/v1/users/${S.inv1.id}`)).json.role, 'supervisor');
});

test('users API: the admin cannot change their own role or deactivate themselves (409)', async () => {
    const me = (await S.admin.get('/api/v1/me')).json;
    assertProblem(await S.admin.patch(`/api/v1/users/${me.id}`, { json: { role: 'supervisor' } }), 409, 'own_account');
    assertProblem(await S.admin.patch(`/api/v1/users/${me.id}`, { json: { active: false } }), 409, 'own_account');
    assert.equal((await S.admin.get('/api/v1/me')).json.role, 'admin');
});

test('users API: deactivating a user ends their sessions at once and stops logins', async () => {
    const r = await S.admin.patch(`/api/v1/users/${S.inv1.id}`, { json: { active: false } });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.active, false);
    assertProblem(await srv.client().get('/api/v1/me', { bearer: S.inv1.token }), 401, 'invalid_token');
    assertProblem(await apiLogin(srv, 'main', 'inv1', S.inv1.password), 401, 'invalid_credentials');
    const again = await S.admin.patch(`/api/v1/users/${S.inv1.id}`, { json: { active: true } });
    assert.equal(again.json.active, true);
    assertProblem(await srv.client().get('/api/v1/me', { bearer: S.inv1.token }), 401, 'invalid_token');
});

test('API tokens: shown once, work as bearer, listed without the secret, revoked then 401', async () => {
    const r = await S.admin.post('/api/v1/tokens', { json: { user_id: S.u1.id, name: 'nightly export' } });
    assert.equal(r.status, 201, r.text);
    assert.match(r.json.token, /^sanad_[A-Za-z0-9_-]{40,}$/);
    const c = srv.client();
    const me = await c.get('/api/v1/me', { bearer: r.json.token });
    assert.equal(me.status, 200, me.text);
    assert.equal(me.json.username, 'u1');
    const list = await S.admin.get('/api/v1/tokens');
    assert.equal(list.status, 200);
    assert.ok(list.json.items.some((t) => t.id === r.json.id && t.name === 'nightly export'));
    assert.ok(!list.text.includes(r.json.token), 'the secret is not listed');
    assert.ok(!list.text.includes(r.json.token.slice(6, 30)), 'no part of the secret is listed');
    const logout = await c.post('/api/v1/auth/logout', { bearer: r.json.token });
    assert.equal(logout.status, 422, 'an API token is revoked, not logged out');
    const del = await S.admin.del(`/api/v1/tokens/${r.json.id}`);
    assert.equal(del.status, 204, del.text);
    assertProblem(await c.get('/api/v1/me', { bearer: r.json.token }), 401, 'invalid_token');
    const bad = await S.admin.post('/api/v1/tokens', { json: { user_id: S.u1.id } });
    assertProblem(bad, 422, 'required');
    assert.equal(bad.json.errors[0].field, 'name');
    S.tokenMain = (await S.admin.post('/api/v1/tokens', { json: { user_id: S.u1.id, name: 'kept' } })).json;
});

test('a second organization never sees or touches the first one\'s users', async () => {
    const { totp } = await enrolTotp(srv, 'other', 'admin2', S.admin2.password);
    const a2 = await apiClient(srv, 'other', 'admin2', S.admin2.password, await freshTotp(totp));
    const list = await a2.get('/api/v1/users');
    assert.equal(list.status, 200, list.text);
    const names = list.json.items.map((u) => u.username).sort();
    assert.deepEqual(names, ['admin2', 'cw2']);
    const mainUsers = (await S.admin.get('/api/v1/users')).json.items;
    for (const u of mainUsers) {
        assert.ok(!list.text.includes(u.id), `main's user ${u.username} is not listed`);
    }
    assertProblem(await a2.get(`/api/v1/users/${S.u1.id}`), 404, 'not_found');
    assertProblem(await a2.patch(`/api/v1/users/${S.u1.id}`, { json: { role: 'admin' } }), 404, 'not_found');
    assertProblem(await a2.patch(`/api/v1/users/${S.u1.id}`, { json: { active: false } }), 404, 'not_found');
    const u1 = (await S.admin.get(`/api/v1/users/${S.u1.id}`)).json;
    assert.equal(u1.role, 'case_worker');
    assert.equal(u1.active, true);
    // A token for another organization's user is refused exactly as for an id that does not exist.
    const tok = await a2.post('/api/v1/tokens', { json: { user_id: S.u1.id, name: 'steal' } });
    const none = await a2.post('/api/v1/tokens', { json: { user_id: '01900000-0000-7000-8000-000000000000', name: 'steal' } });
    assert.ok([404, 422].includes(tok.status), tok.text);
    assert.equal(tok.status, none.status);
    assert.equal(tok.json.code, none.json.code);
    assert.equal((await a2.del(`/api/v1/tokens/${S.tokenMain.id}`)).status, 404);
    assert.equal((await srv.client().get('/api/v1/me', { bearer: S.tokenMain.token })).status, 200, 'main token still works');
    const tokens = await a2.get('/api/v1/tokens');
    assert.ok(!tokens.text.includes(S.tokenMain.id));
    const audit = await a2.get('/api/v1/audit');
    assert.equal(audit.status, 200);
    for (const e of audit.json.items) {
        assert.ok(!e.actor.startsWith('main/'), `other's audit log shows ${e.actor}`);
    }
    // The same user name in both organizations stays apart.
    const same = await a2.post('/api/v1/users', { json: { username: 'u1', display_name: 'Other U1', role: 'case_worker', password: strongPassword() } });
    assert.equal(same.status, 201, same.text);
    assert.equal((await S.admin.get(`/api/v1/users/${S.u1.id}`)).json.display_name, 'User One');
    // A case worker of org 2 cannot read users at all.
    const cw2 = await apiClient(srv, 'other', 'cw2', S.cw2.password);
    assertProblem(await cw2.get('/api/v1/users'), 403, 'forbidden');
});

test('a supervisor gets 403 creating a user; the denial is in the audit log for the auditor', async () => {
    const sup = await apiClient(srv, 'main', 'sup', S.sup.password);
    assert.equal((await sup.get('/api/v1/users')).status, 200, 'supervisors read users');
    const r = await sup.post('/api/v1/users', { json: { username: 'sup-made', display_name: 'X', role: 'admin', password: strongPassword() } });
    assertProblem(r, 403, 'forbidden');
    assertProblem(await sup.patch(`/api/v1/users/${S.u1.id}`, { json: { role: 'admin' } }), 403, 'forbidden');
    const aud = await apiClient(srv, 'main', 'aud', S.aud.password);
    const log = await aud.get('/api/v1/audit');
    assert.equal(log.status, 200, log.text);
    const denial = log.json.items.find((e) => e.actor === 'main/sup' && e.action === 'permission.denied' && e.outcome === 'denied');
    assert.ok(denial, 'the denial is audited');
    assert.match(denial.detail, /users\.manage/);
    assert.ok(log.json.items.some((e) => e.action === 'auth.login' && e.outcome === 'failed'), 'failed logins are audited');
    assert.ok(!(await S.admin.get('/api/v1/users')).json.items.some((u) => u.username === 'sup-made'));
    const cw = await apiClient(srv, 'main', 'cw', S.cw.password);
    assertProblem(await cw.get('/api/v1/audit'), 403, 'forbidden');
    assert.equal((await cw.get('/audit', { bearer: '', headers: { Cookie: `sid=${cw.token}` } })).status, 403);
});

test('the audit chain verifies while the server runs', () => {
    const r = srv.auditVerify();
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /intact/);
});

test('the server stops cleanly on SIGTERM', async () => {
    const { code, signal } = await srv.stop();
    assert.equal(code, 0, `exit ${code ?? signal}; stderr tail:\n${srv.stderrTail()}`);
});

/** The main organization's chain: {org, seqs}. */
function mainChain(target) {
    const org = srv.sql("SELECT id FROM organizations WHERE slug = 'main'", target).trim();
    const seqs = srv.sql(`SELECT seq FROM audit_log WHERE org_id = '${org}' ORDER BY seq`, target)
        .trim().split('\n').map(Number);
    return { org, seqs };
}

test('audit verify names an entry whose detail was changed', () => {
    const copy = srv.copy('detail');
    assert.equal(srv.auditVerify(copy.dbArgs).code, 0, 'the copy verifies before tampering');
    const { org, seqs } = mainChain(copy.target);
    assert.ok(seqs.length > 10, `main chain has ${seqs.length} entries`);
    const mid = seqs[Math.floor(seqs.length / 2)];
    srv.sql(`UPDATE audit_log SET detail = 'nothing happened' WHERE org_id = '${org}' AND seq = ${mid}`, copy.target);
    const r = srv.auditVerify(copy.dbArgs);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stdout, new RegExp(`entry ${mid}\\b`));
});

test('audit verify catches a removed middle entry', () => {
    const copy = srv.copy('middle');
    const { org, seqs } = mainChain(copy.target);
    const mid = seqs[Math.floor(seqs.length / 2)];
    srv.sql(`DELETE FROM audit_log WHERE org_id = '${org}' AND seq = ${mid}`, copy.target);
    const r = srv.auditVerify(copy.dbArgs);
    assert.equal(r.code, 1, r.stdout + r.stderr);
});

test('audit verify catches a removed last entry', () => {
    const copy = srv.copy('last');
    const { org, seqs } = mainChain(copy.target);
    srv.sql(`DELETE FROM audit_log WHERE org_id = '${org}' AND seq = ${seqs[seqs.length - 1]}`, copy.target);
    const r = srv.auditVerify(copy.dbArgs);
    assert.equal(r.code, 1, r.stdout + r.stderr);
});
