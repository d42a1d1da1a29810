// registry.test.mjs: the children registry through its API: create, read and
// change with version checks; Arabic-tolerant search; possible duplicates;
// validation that names the field and writes nothing; status moves with
// history; consent; households and guardians; organizations kept apart;
// health fields hidden by role and sealed at rest; every view audited; and
// photos and documents (type by content, metadata stripped, audited
// downloads). One server for the file; tests run in order and share state.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { apiClient, csrfOf, pageLogin, problemShape, startServer } from './lib.mjs';

let srv;
const S = {}; // state shared by the tests, in order
const UPLOAD_MAX = 300000;
const HEALTH_TEXT = 'ربو مزمن سري-' + Math.random().toString(36).slice(2, 10);

before(async () => {
    srv = await startServer({ env: { SANAD_UPLOAD_MAX: String(UPLOAD_MAX) } });
    S.cwUser = srv.addUser('main', 'cw', 'case_worker', undefined, 'Case Worker');
    S.soUser = srv.addUser('main', 'so', 'sponsorship_officer', undefined, 'Sponsor Officer');
    S.audUser = srv.addUser('main', 'aud', 'auditor', undefined, 'Auditor');
    srv.addOrg('other', 'Other Org');
    S.cw2User = srv.addUser('other', 'cw2', 'case_worker');
    S.cw = await apiClient(srv, 'main', 'cw', S.cwUser.password);
    S.so = await apiClient(srv, 'main', 'so', S.soUser.password);
    S.aud = await apiClient(srv, 'main', 'aud', S.audUser.password);
    S.cw2 = await apiClient(srv, 'other', 'cw2', S.cw2User.password);
    const probe = await S.cw.get('/api/v1/children');
    S.registered = probe.status !== 404;
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

/** The registry routes must be served: a 404 at start is a failure, not a skip. */
function needRegistry() {
    assert.ok(S.registered, 'GET /api/v1/children answers 404: the registry routes are not served');
    return true;
}

/** A valid new child; fields may be overridden. */
function child(over = {}) {
    return {
        first_name: 'محمد', father_name: 'أحمد', grandfather_name: 'علي', family_name: 'الخطيب',
        mother_name: 'فاطمة حسن', sex: 'M', birth_date: '2014-05-20', birth_place: 'حلب',
        orphan_status: 'father_deceased', ...over,
    };
}

/** Registers a child as client c (saying it differs from every candidate); returns the 201 JSON. */
async function register(c, body) {
    let r = await c.post('/api/v1/children', { json: body });
    if (r.status === 409 && r.json?.code === 'possible_duplicates') {
        const ids = r.json.candidates.map((x) => x.id);
        r = await c.post('/api/v1/children', { json: { ...body, different_from: ids } });
    }
    assert.equal(r.status, 201, r.text);
    return r.json;
}

/** The total of the organization's children as c sees it. */
async function total(c) {
    const r = await c.get('/api/v1/children?per_page=1');
    assert.equal(r.status, 200, r.text);
    return r.json.total;
}

/** Every audit entry of the organization (all pages), as the auditor reads them. */
async function auditAll() {
    const out = [];
    let before = 0;
    for (;;) {
        const r = await S.aud.get('/api/v1/audit' + (before ? `?before=${before}` : ''));
        assert.equal(r.status, 200, r.text);
        out.push(...r.json.items);
        if (r.json.items.length === 0) {
            return out;
        }
        const min = Math.min(...r.json.items.map((i) => i.seq));
        if (min <= 1 || min === before) {
            return out;
        }
        before = min;
    }
}

/**
 * POSTs with curl (fetch gives up with "fetch failed" when the server answers
 * 413 and closes while a large body is still being sent; curl reads the
 * answer). args are curl's body arguments. Returns {status, json}.
 */
function curlPost(c, path, args) {
    const r = spawnSync('curl', ['-s', '-o', '-', '-w', '\n%{http_code}', '-H', `Authorization: Bearer ${c.token}`, ...args, srv.url + path], { encoding: 'utf8', maxBuffer: 1 << 26 });
    const text = r.stdout || '';
    const nl = text.lastIndexOf('\n');
    let json;
    try {
        json = JSON.parse(text.slice(0, nl));
    } catch {
        json = undefined;
    }
    return { status: Number(text.slice(nl + 1)), json, text: text.slice(0, nl) };
}

// ---------- CRUD ----------

test('POST /api/v1/children answers 201 with the id and a file number {ORG}-{YYYY}-{NNNNNN}', async (t) => {
    if (!needRegistry(t)) return;
    const r = await S.cw.post('/api/v1/children', { json: child({ health_conditions: HEALTH_TEXT, disability: 'لا يوجد', medication: 'بخاخ' }) });
    assert.equal(r.status, 201, r.text);
    assert.match(r.json.id, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    assert.match(r.json.file_no, new RegExp(`^MAIN-${new Date().getUTCFullYear()}-\\d{6}$`));
    S.id = r.json.id;
    S.fileNo = r.json.file_no;
});

test('GET /api/v1/children/{id} uses the matching engine\'s field names', async (t) => {
    if (!needRegistry(t)) return;
    const r = await S.cw.get(`/api/v1/children/${S.id}`);
    assert.equal(r.status, 200, r.text);
    const j = r.json;
    assert.equal(j.id, S.id);
    assert.equal(j.file_no, S.fileNo);
    assert.equal(j.first_name, 'محمد');
    assert.equal(j.father_name, 'أحمد');
    assert.equal(j.grandfather_name, 'علي');
    assert.equal(j.family_name, 'الخطيب');
    assert.equal(j.mother_name, 'فاطمة حسن');
    assert.equal(j.sex, 'M');
    assert.equal(j.birth_date, '2014-05-20');
    assert.equal(j.birth_place, 'حلب');
    assert.equal(j.status, 'registered');
    assert.equal(j.health_conditions, HEALTH_TEXT);
    assert.equal(typeof j.version, 'number');
    S.version = j.version;
});

test('PATCH with the current version changes the record; a stale version gets 409 version_conflict', async (t) => {
    if (!needRegistry(t)) return;
    const ok = await S.cw.patch(`/api/v1/children/${S.id}`, { json: { version: S.version, birth_place: 'إدلب' } });
    assert.equal(ok.status, 200, ok.text);
    assert.equal(ok.json.birth_place, 'إدلب');
    assert.equal(ok.json.version, S.version + 1);
    const stale = await S.cw.patch(`/api/v1/children/${S.id}`, { json: { version: S.version, birth_place: 'حماة' } });
    assertProblem(stale, 409, 'version_conflict');
    const now = await S.cw.get(`/api/v1/children/${S.id}`);
    assert.equal(now.json.birth_place, 'إدلب', 'the stale change was not written');
    S.version = now.json.version;
});

// ---------- search ----------

test('search finds names however they are spelled', async (t) => {
    if (!needRegistry(t)) return;
    const kids = [
        child({ first_name: 'أسامة', father_name: 'مصطفى', grandfather_name: null, family_name: 'الحلبي', birth_date: '2016-01-01', mother_name: null }),
        child({ first_name: 'عبد الله', father_name: 'يوسف', grandfather_name: null, family_name: 'أبو زيد', birth_date: '2017-02-02', mother_name: null }),
        child({ first_name: 'إيمان', father_name: 'عيسى', grandfather_name: null, family_name: 'النجار', sex: 'F', birth_date: '2012-03-03', mother_name: null }),
    ];
    S.search = [];
    for (const k of kids) {
        S.search.push((await register(S.cw, k)).id);
    }
    const cases = [
        ['اسامه', 0, 'hamza and ta marbuta'],
        ['أسامة', 0, 'as written'],
        ['مصطفي', 0, 'alef maqsura written as ya'],
        ['حلبي', 0, 'without the article'],
        ['عبدالله', 1, 'compound joined'],
        ['عبد الله', 1, 'compound split'],
        ['ابوزيد', 1, 'abu compound joined, no hamza'],
        ['ايمان', 2, 'hamza below dropped'],
        ['عيسي', 2, 'alef maqsura'],
        ['إيمَان', 2, 'with a diacritic'],
        ['Usama', 0, 'Latin spelling'],
        ['Abdullah', 1, 'Latin spelling of a compound'],
        ['Mohammed', null, 'Latin spelling of محمد'],
    ];
    for (const [q, idx, why] of cases) {
        const r = await S.cw.get('/api/v1/children?q=' + encodeURIComponent(q));
        assert.equal(r.status, 200, `${q}: ${r.text}`);
        assert.ok(Array.isArray(r.json.items), `${q}: items array`);
        const want = idx === null ? S.id : S.search[idx];
        assert.ok(r.json.items.some((i) => i.id === want), `${why}: '${q}' should find the child; got ${JSON.stringify(r.json.items.map((i) => i.first_name))}`);
    }
    const none = await S.cw.get('/api/v1/children?q=' + encodeURIComponent('زبرجد'));
    assert.equal(none.status, 200);
    assert.equal(none.json.items.length, 0);
    const byFile = await S.cw.get('/api/v1/children?q=' + encodeURIComponent(S.fileNo));
    assert.ok(byFile.json.items.some((i) => i.id === S.id), 'found by file number');
});

// ---------- possible duplicates ----------

test('a second registration of the same child gets 409 possible_duplicates; "different_from" goes on', async (t) => {
    if (!needRegistry(t)) return;
    const body = child({ first_name: 'يحيى', father_name: 'خالد', grandfather_name: 'سعيد', family_name: 'العلي', birth_date: '2013-07-07' });
    const first = await register(S.cw, body);
    const again = await S.cw.post('/api/v1/children', { json: body });
    assertProblem(again, 409, 'possible_duplicates');
    assert.ok(Array.isArray(again.json.candidates));
    assert.ok(again.json.candidates.some((c) => c.id === first.id), again.text);
    const before = await total(S.cw);
    const variant = { ...body, first_name: 'يحيي', birth_date: '2014-01-15' }; // spelling variant, birth year +1
    const v = await S.cw.post('/api/v1/children', { json: variant });
    assertProblem(v, 409, 'possible_duplicates');
    assert.equal(await total(S.cw), before, 'nothing written on 409');
    const second = await S.cw.post('/api/v1/children', { json: { ...body, different_from: [first.id] } });
    assert.equal(second.status, 201, second.text);
    // A third: the pair judged different is not offered back as one of the candidates left.
    const third = await S.cw.post('/api/v1/children', { json: { ...body, different_from: [first.id] } });
    assertProblem(third, 409, 'possible_duplicates');
    const ids = third.json.candidates.map((c) => c.id);
    assert.ok(!ids.includes(first.id), 'a candidate judged different is left out');
    assert.ok(ids.includes(second.json.id), 'the other one is still offered');
    const fourth = await S.cw.post('/api/v1/children', { json: { ...body, different_from: [first.id, second.json.id] } });
    assert.equal(fourth.status, 201, fourth.text);
    const pairs = srv.sql(`SELECT COUNT(*) FROM child_distinct WHERE (child_a = '${first.id}' AND child_b = '${second.json.id}') OR (child_a = '${second.json.id}' AND child_b = '${first.id}')`);
    assert.equal(pairs.trim(), '1', 'the "different child" decision is kept');
});

// ---------- validation ----------

test('bad input gets a 422 naming the field and writes nothing', async (t) => {
    if (!needRegistry(t)) return;
    const before = await total(S.cw);
    const next = new Date(Date.now() + 3 * 86400000).toISOString().slice(0, 10);
    const cases = [
        [{ birth_date: next }, 'birth_date', 'future birth date'],
        [{ birth_date: '2023-02-31' }, 'birth_date', 'impossible date'],
        [{ birth_date: '2000-01-01' }, 'birth_date', 'older than the age limit'],
        [{ first_name: '' }, 'first_name', 'empty first name'],
        [{ first_name: '   ' }, 'first_name', 'blank first name'],
        [{ first_name: 'محمدJohn' }, 'first_name', 'mixed scripts'],
        [{ sex: 'X' }, 'sex', 'unknown sex'],
        [{ nickname: 'حمودة' }, 'nickname', 'unknown field'],
    ];
    for (const [over, field, why] of cases) {
        const r = await S.cw.post('/api/v1/children', { json: child({ first_name: 'سليم', family_name: 'المصري', ...over }) });
        assertProblem(r, 422);
        assert.ok(Array.isArray(r.json.errors), `${why}: errors[] in ${r.text}`);
        const fields = r.json.errors.map((e) => e.field);
        if (!fields.includes(field) && field === 'birth_date' && why.includes('age')) {
            // The age limit may be reported on the record rather than the date.
            assert.ok(r.json.errors.length > 0, `${why}: ${r.text}`);
        } else {
            assert.ok(fields.includes(field), `${why}: '${field}' not in ${r.text}`);
        }
    }
    // A 10 MB name is refused before it is read whole.
    const hugeFile = join(srv.dir, 'huge.json');
    writeFileSync(hugeFile, JSON.stringify(child({ first_name: 'م'.repeat(5 * 1024 * 1024) })));
    const huge = curlPost(S.cw, '/api/v1/children', ['-H', 'Content-Type: application/json', '--data-binary', `@${hugeFile}`]);
    assert.ok(huge.status === 413 || huge.status === 422, `10 MB name: ${huge.status} ${huge.text.slice(0, 200)}`);
    assert.equal(huge.json?.status, huge.status);
    // Invalid UTF-8 inside a name: the body is not UTF-8 text.
    const raw = Buffer.concat([Buffer.from('{"first_name":"'), Buffer.from([0xd9, 0xff, 0xc3]), Buffer.from('","father_name":"أحمد","sex":"M","birth_date":"2014-01-01","orphan_status":"father_deceased"}')]);
    const bad = await S.cw.post('/api/v1/children', { body: raw, type: 'application/json' });
    assert.ok(bad.status === 400 || bad.status === 422, `invalid UTF-8: ${bad.status} ${bad.text}`);
    assert.equal(problemShape(bad), '');
    // Several problems at once are all listed.
    const many = await S.cw.post('/api/v1/children', { json: child({ first_name: '', sex: 'Q', birth_date: 'yesterday' }) });
    assertProblem(many, 422);
    const fields = many.json.errors.map((e) => e.field);
    for (const f of ['first_name', 'sex', 'birth_date']) {
        assert.ok(fields.includes(f), `${f} in ${many.text}`);
    }
    // PATCH validation too, with nothing changed.
    const p = await S.cw.patch(`/api/v1/children/${S.id}`, { json: { birth_date: '2023-02-31' } });
    assertProblem(p, 422);
    assert.ok(p.json.errors.some((e) => e.field === 'birth_date'), p.text);
    const still = await S.cw.get(`/api/v1/children/${S.id}`);
    assert.equal(still.json.birth_date, '2014-05-20');
    assert.equal(await total(S.cw), before, 'the list total is unchanged');
});

// ---------- status ----------

/** The child's status as stored. */
async function statusOf(id) {
    return (await S.cw.get(`/api/v1/children/${id}`)).json.status;
}

test('status moves: registered → active, closed needs a reason, history keeps who and why', async (t) => {
    if (!needRegistry(t)) return;
    const a = await S.cw.post(`/api/v1/children/${S.id}/status`, { json: { status: 'active' } });
    assert.ok(a.status === 200 || a.status === 500, a.text); // 500: see the test below
    assert.equal(await statusOf(S.id), 'active');
    const noReason = await S.cw.post(`/api/v1/children/${S.id}/status`, { json: { status: 'closed' } });
    assertProblem(noReason, 422);
    assert.ok(noReason.json.errors?.some((e) => e.field === 'reason'), noReason.text);
    assert.equal(await statusOf(S.id), 'active', 'nothing changed on 422');
    const closed = await S.cw.post(`/api/v1/children/${S.id}/status`, { json: { status: 'closed', reason: 'moved_away' } });
    assert.ok(closed.status === 200 || closed.status === 500, closed.text);
    assert.equal(await statusOf(S.id), 'closed');
    const wrongReason = await S.cw.post(`/api/v1/children/${S.id}/status`, { json: { status: 'closed', reason: 'bored' } });
    assertProblem(wrongReason, 422);
    const bogus = await S.cw.post(`/api/v1/children/${S.id}/status`, { json: { status: 'flying' } });
    assertProblem(bogus, 422);
    const h = await S.cw.get(`/api/v1/children/${S.id}/history`);
    assert.equal(h.status, 200, h.text);
    const moves = h.json.status;
    assert.deepEqual(moves.map((m) => m.to), ['closed', 'active', 'registered']);
    assert.equal(moves[0].reason, 'moved_away');
    assert.equal(moves[0].from, 'active');
    assert.equal(moves[0].by, 'Case Worker');
    const back = await S.cw.post(`/api/v1/children/${S.id}/status`, { json: { status: 'active' } });
    assert.ok(back.status === 200 || back.status === 500, back.text);
    assert.equal(await statusOf(S.id), 'active');
});

test('POST /api/v1/children/{id}/status answers 200 with the new status', async (t) => {
    if (!needRegistry(t)) return;
    const kid = await register(S.cw, child({ first_name: 'نور', father_name: 'سامر', family_name: 'الحمصي', sex: 'F', birth_date: '2016-06-06' }));
    const r = await S.cw.post(`/api/v1/children/${kid.id}/status`, { json: { status: 'active' } });
    assert.equal(r.status, 200, `${r.status} ${r.text}`);
    assert.deepEqual(r.json, { status: 'active' });
});

// ---------- consent ----------

test('consent is recorded, listed and withdrawn', async (t) => {
    if (!needRegistry(t)) return;
    const r = await S.cw.post(`/api/v1/children/${S.id}/consents`, {
        json: { scope: 'sponsor_media', guardian_consent: true, child_assent: true, given_by: 'فاطمة حسن (الأم)' },
    });
    assert.equal(r.status, 201, r.text);
    const noBasis = await S.cw.post(`/api/v1/children/${S.id}/consents`, { json: { scope: 'services', guardian_consent: false } });
    assertProblem(noBasis, 422);
    const badScope = await S.cw.post(`/api/v1/children/${S.id}/consents`, { json: { scope: 'everything', guardian_consent: true } });
    assertProblem(badScope, 422);
    let list = await S.cw.get(`/api/v1/children/${S.id}/consents`);
    assert.equal(list.status, 200, list.text);
    let c = list.json.items.find((i) => i.id === r.json.id);
    assert.ok(c, list.text);
    assert.equal(c.active, true);
    assert.equal(c.scope, 'sponsor_media');
    assert.equal(c.guardian_consent, true);
    assert.equal(c.child_assent, true);
    const w = await S.cw.post(`/api/v1/consents/${r.json.id}/withdraw`, { json: {} });
    assert.ok(w.status === 204 || w.status === 200, w.text);
    list = await S.cw.get(`/api/v1/children/${S.id}/consents`);
    c = list.json.items.find((i) => i.id === r.json.id);
    assert.equal(c.active, false);
    assert.ok(c.withdrawn_at);
    const foreign = await S.cw2.post(`/api/v1/consents/${r.json.id}/withdraw`, { json: {} });
    assert.ok(foreign.status === 404 || foreign.status === 403, `other org withdraws: ${foreign.status}`);
});

// ---------- households and guardians ----------

test('siblings are listed on their household; a guardian change is kept in the history', async (t) => {
    if (!needRegistry(t)) return;
    const h = await S.cw.post('/api/v1/households', { json: { name: 'أسرة الشامي', governorate: 'حلب' } });
    assert.equal(h.status, 201, h.text);
    S.household = h.json.id;
    const a = await register(S.cw, child({ first_name: 'ليلى', father_name: 'ماهر', family_name: 'الشامي', sex: 'F', birth_date: '2012-09-09', household_id: S.household }));
    const b = await register(S.cw, child({ first_name: 'كريم', father_name: 'ماهر', family_name: 'الشامي', birth_date: '2015-10-10', household_id: S.household }));
    const g = await S.cw.post('/api/v1/guardians', { json: { full_name: 'سعاد الشامي', relation: 'mother', phone: '+963 944 123 456', household_id: S.household } });
    assert.equal(g.status, 201, g.text);
    const badRel = await S.cw.post('/api/v1/guardians', { json: { full_name: 'س', relation: 'wizard' } });
    assertProblem(badRel, 422);
    const set = await S.cw.post(`/api/v1/children/${a.id}/guardian`, { json: { guardian_id: g.json.id, reason: 'الأم ترعى الأطفال' } });
    assert.equal(set.status, 204, set.text);
    const hh = await S.cw.get(`/api/v1/households/${S.household}`);
    assert.equal(hh.status, 200, hh.text);
    const ids = hh.json.children.map((k) => k.id);
    assert.ok(ids.includes(a.id) && ids.includes(b.id), hh.text);
    assert.ok(hh.json.guardians.some((x) => x.id === g.json.id));
    const ch = await S.cw.get(`/api/v1/children/${a.id}`);
    assert.equal(ch.json.guardian?.id, g.json.id, ch.text);
    const hist = await S.cw.get(`/api/v1/children/${a.id}/history`);
    assert.ok(hist.json.guardians.some((x) => x.guardian === 'سعاد الشامي' && x.reason === 'الأم ترعى الأطفال' && x.by === 'Case Worker'), hist.text);
    const other = await S.cw2.get(`/api/v1/households/${S.household}`);
    assertProblem(other, 404);
    // A child cannot be put into another organization's household.
    const h2 = await S.cw2.post('/api/v1/households', { json: { name: 'أسرة أخرى' } });
    assert.equal(h2.status, 201, h2.text);
    const cross = await S.cw.patch(`/api/v1/children/${b.id}`, { json: { household_id: h2.json.id } });
    assert.ok(cross.status === 422 || cross.status === 404, `foreign household: ${cross.status} ${cross.text}`);
});

// ---------- organizations apart ----------

test('another organization gets 404 on the child and does not find it', async (t) => {
    if (!needRegistry(t)) return;
    const r = await S.cw2.get(`/api/v1/children/${S.id}`);
    assertProblem(r, 404);
    const p = await S.cw2.patch(`/api/v1/children/${S.id}`, { json: { birth_place: 'x' } });
    assertProblem(p, 404);
    const st = await S.cw2.post(`/api/v1/children/${S.id}/status`, { json: { status: 'active' } });
    assertProblem(st, 404);
    const hist = await S.cw2.get(`/api/v1/children/${S.id}/history`);
    assert.ok(hist.status === 404 || (hist.status === 200 && hist.json.status.length === 0), `history: ${hist.status} ${hist.text}`);
    for (const q of ['محمد', 'الخطيب', S.fileNo]) {
        const s = await S.cw2.get('/api/v1/children?q=' + encodeURIComponent(q));
        assert.equal(s.status, 200);
        assert.ok(!s.json.items.some((i) => i.id === S.id), `'${q}' finds another organization's child`);
    }
    const all = await S.cw2.get('/api/v1/children?per_page=200');
    assert.ok(!all.json.items.some((i) => i.id === S.id));
    const bad = await S.cw.get('/api/v1/children/not-a-uuid');
    assertProblem(bad, 404);
});

// ---------- roles and health fields ----------

test('a sponsorship officer sees the child without health fields and cannot write them', async (t) => {
    if (!needRegistry(t)) return;
    const r = await S.so.get(`/api/v1/children/${S.id}`);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.first_name, 'محمد');
    for (const f of ['health_conditions', 'disability', 'medication']) {
        assert.ok(!(f in r.json), `${f} shown to a sponsorship officer`);
    }
    assert.ok(!r.text.includes(HEALTH_TEXT));
    const w = await S.so.patch(`/api/v1/children/${S.id}`, { json: { health_conditions: 'x' } });
    assertProblem(w, 403);
    const create = await S.so.post('/api/v1/children', { json: child({ first_name: 'رامي', health_conditions: 'x' }) });
    assertProblem(create, 403);
    const cw = await S.cw.get(`/api/v1/children/${S.id}`);
    assert.equal(cw.json.health_conditions, HEALTH_TEXT);
    assert.equal(cw.json.disability, 'لا يوجد');
    assert.equal(cw.json.medication, 'بخاخ');
    const upd = await S.cw.patch(`/api/v1/children/${S.id}`, { json: { medication: 'لا شيء' } });
    assert.equal(upd.status, 200, upd.text);
    assert.equal(upd.json.medication, 'لا شيء');
    const search = await S.so.get('/api/v1/children?q=' + encodeURIComponent('محمد'));
    assert.ok(!search.text.includes(HEALTH_TEXT), 'search results carry no health text');
});

test('every view of a child is in the audit log as child.view', async (t) => {
    if (!needRegistry(t)) return;
    const count = async () => (await auditAll()).filter((e) => e.action === 'child.view' && e.entity_id === S.id).length;
    const n0 = await count();
    assert.ok(n0 >= 4, `earlier views were audited (${n0})`);
    await S.cw.get(`/api/v1/children/${S.id}`);
    await S.so.get(`/api/v1/children/${S.id}`);
    await S.aud.get(`/api/v1/children/${S.id}`);
    assert.equal(await count(), n0 + 3);
    const entries = (await auditAll()).filter((e) => e.action === 'child.view' && e.entity_id === S.id);
    const actors = new Set(entries.map((e) => e.actor));
    for (const who of ['cw', 'so', 'aud']) {
        assert.ok([...actors].some((a) => a === who || a.endsWith('/' + who) || a.includes(who)), `${who} in ${[...actors]}`);
    }
    // A refused view by another organization is not a view of this child.
    await S.cw2.get(`/api/v1/children/${S.id}`);
    assert.equal(await count(), n0 + 3);
    const verify = srv.auditVerify();
    assert.equal(verify.code, 0, verify.stderr + verify.stdout);
});

test('a database dump holds no health text in clear', async (t) => {
    if (!needRegistry(t)) return;
    if (srv.dbUrl) {
        const v = srv.sql(`SELECT health_conditions FROM children WHERE id = '${S.id}'`).trim();
        assert.match(v, /^v1\./);
        assert.ok(!v.includes(HEALTH_TEXT));
        const dump = srv.sql(`SELECT string_agg(coalesce(health_conditions,'') || coalesce(disability,'') || coalesce(medication,''), '|') FROM children`);
        assert.ok(!dump.includes(HEALTH_TEXT));
        assert.ok(!dump.includes('بخاخ'));
        return;
    }
    const needle = Buffer.from(HEALTH_TEXT, 'utf8');
    for (const f of ['sanad.db', 'sanad.db-wal']) {
        const p = join(srv.dir, f);
        if (existsSync(p)) {
            const bytes = readFileSync(p);
            assert.equal(bytes.indexOf(needle), -1, `${f} holds the health text in clear`);
            assert.equal(bytes.indexOf(Buffer.from('بخاخ', 'utf8')), -1, `${f} holds the medication in clear`);
        }
    }
    const v = srv.sql(`SELECT health_conditions FROM children WHERE id = '${S.id}'`).trim();
    assert.match(v, /^v1\./);
});

// ---------- documents ----------

/** CRC-32 (as PNG uses it). */
function crc32(buf) {
    let c = ~0;
    for (const b of buf) {
        c ^= b;
        for (let k = 0; k < 8; k++) {
            c = (c >>> 1) ^ (0xedb88320 & -(c & 1));
        }
    }
    return (~c) >>> 0;
}

/** A JPEG segment. */
function seg(marker, payload) {
    const p = Buffer.from(payload);
    return Buffer.concat([Buffer.from([0xff, marker, (p.length + 2) >> 8, (p.length + 2) & 255]), p]);
}

/** A small JPEG carrying Exif with a GPS position and an XMP packet. */
function jpegWithGps() {
    return Buffer.concat([
        Buffer.from([0xff, 0xd8]),
        seg(0xe0, Buffer.from('JFIF\0\x01\x01\0\0\x01\0\x01\0\0', 'latin1')),
        seg(0xe1, Buffer.from('Exif\0\0MM\0*GPSLatitude 36.2021 GPSLongitude 37.1343', 'latin1')),
        seg(0xe1, Buffer.from('http://ns.adobe.com/xap/1.0/\0<x:xmpmeta GPSAltitude="400"/>', 'latin1')),
        seg(0xdb, Buffer.alloc(65)),
        seg(0xc0, Buffer.from([8, 0, 8, 0, 8, 1, 1, 0x11, 0])),
        seg(0xda, Buffer.from([1, 1, 0, 0, 0x3f, 0])),
        Buffer.from([0x12, 0x34, 0xff, 0x00, 0x56, 0xff, 0xd9]),
    ]);
}

/** A PNG chunk. */
function chunk(type, data) {
    const d = Buffer.from(data);
    const len = Buffer.alloc(4);
    len.writeUInt32BE(d.length);
    const td = Buffer.concat([Buffer.from(type, 'latin1'), d]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(td));
    return Buffer.concat([len, td, crc]);
}

/** A 1x1 PNG with a text chunk holding a location. */
function pngWithText() {
    return Buffer.concat([
        Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
        chunk('IHDR', Buffer.from([0, 0, 0, 1, 0, 0, 0, 1, 8, 2, 0, 0, 0])),
        chunk('tEXt', Buffer.from('Location\0GPS 36.2,37.1', 'latin1')),
        chunk('IDAT', Buffer.from([0x78, 0x9c, 0x63, 0x60, 0x60, 0x60, 0, 0, 0, 4, 0, 1])),
        chunk('IEND', Buffer.alloc(0)),
    ]);
}

const PDF = Buffer.from('%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n', 'latin1');

/** A multipart body with file (bytes, name, claimed type), kind and extra fields. */
function form(bytes, name, type, kind, extra = {}) {
    const fd = new FormData();
    for (const [k, v] of Object.entries(extra)) {
        fd.append(k, v);
    }
    if (kind !== undefined) {
        fd.append('kind', kind);
    }
    if (bytes !== undefined) {
        fd.append('file', new Blob([bytes], { type }), name);
    }
    return fd;
}

/** Skips t when the document routes are not served yet; true when they are. */
async function needDocuments(t) {
    if (!needRegistry(t)) return false;
    if (S.docs === undefined) {
        const r = await S.cw.get(`/api/v1/children/${S.id}/documents`);
        S.docs = r.status !== 404 || r.json?.code !== 'not_found';
    }
    assert.ok(S.docs, 'GET /api/v1/children/{id}/documents answers 404: the routes are not served');
    return true;
}

test('documents: a photo is uploaded, its location data is gone, and each download is audited', async (t) => {
    if (!(await needDocuments(t))) return;
    const up = await S.cw.post(`/api/v1/children/${S.id}/documents`, { body: form(jpegWithGps(), 'بيت.jpg', 'image/jpeg', 'photo') });
    assert.equal(up.status, 201, up.text);
    S.photo = up.json.id;
    const png = await S.cw.post(`/api/v1/children/${S.id}/documents`, { body: form(pngWithText(), 'p.png', 'image/png', 'photo') });
    assert.equal(png.status, 201, png.text);
    const pdf = await S.cw.post(`/api/v1/children/${S.id}/documents`, { body: form(PDF, 'شهادة.pdf', 'application/pdf', 'birth_certificate') });
    assert.equal(pdf.status, 201, pdf.text);
    S.pdf = pdf.json.id;
    const med = await S.cw.post(`/api/v1/children/${S.id}/documents`, { body: form(PDF, 'تقرير.pdf', 'application/pdf', 'medical') });
    assert.equal(med.status, 201, med.text);
    S.medical = med.json.id;
    const list = await S.cw.get(`/api/v1/children/${S.id}/documents`);
    assert.equal(list.status, 200, list.text);
    const photo = list.json.items.find((i) => i.id === S.photo);
    assert.equal(photo.kind, 'photo');
    assert.equal(photo.filename, 'بيت.jpg');
    assert.equal(photo.content_type, 'image/jpeg');
    assert.match(photo.sha256, /^[0-9a-f]{64}$/);
    assert.equal(list.json.items.length, 4);
    // Downloads go through the page route with the session cookie.
    const c = srv.client();
    assert.equal((await pageLogin(c, 'main', 'cw', S.cwUser.password)).status, 303);
    S.cwPage = c;
    const views0 = (await auditAll()).filter((e) => e.action === 'document.view').length;
    const d = await c.get(`/children/${S.id}/documents/${S.photo}`);
    assert.equal(d.status, 200, d.text.slice(0, 200));
    assert.equal(d.headers.get('content-type'), 'image/jpeg');
    assert.match(d.headers.get('cache-control') || '', /no-store/);
    assert.equal(d.headers.get('x-content-type-options'), 'nosniff');
    assert.equal(d.raw.indexOf(Buffer.from('GPS')), -1, 'no GPS left in the photo');
    assert.equal(d.raw.indexOf(Buffer.from('Exif')), -1, 'no Exif left in the photo');
    assert.equal(d.raw.indexOf(Buffer.from('xmpmeta')), -1, 'no XMP left in the photo');
    assert.deepEqual([...d.raw.subarray(0, 2)], [0xff, 0xd8]);
    assert.deepEqual([...d.raw.subarray(-2)], [0xff, 0xd9]);
    const p = await c.get(`/children/${S.id}/documents/${png.json.id}`);
    assert.equal(p.status, 200);
    assert.equal(p.raw.indexOf(Buffer.from('tEXt')), -1, 'no text chunk left in the PNG');
    const f = await c.get(`/children/${S.id}/documents/${S.pdf}`);
    assert.equal(f.status, 200);
    assert.equal(f.headers.get('content-type'), 'application/pdf');
    assert.match(f.headers.get('content-disposition') || '', /^attachment/);
    assert.ok(f.raw.equals(PDF), 'a PDF is kept as it is');
    const views = (await auditAll()).filter((e) => e.action === 'document.view');
    assert.equal(views.length, views0 + 3);
    assert.ok(views.some((e) => (e.detail || '').includes(S.photo)));
});

test('documents: executables, HTML, SVG, empty and oversized files are refused naming the field', async (t) => {
    if (!(await needDocuments(t))) return;
    const count = async () => (await S.cw.get(`/api/v1/children/${S.id}/documents`)).json.items.length;
    const n0 = await count();
    const files = [
        [Buffer.from('\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0', 'latin1'), 'cat.jpg', 'image/jpeg', 'renamed executable'],
        [Buffer.from('MZ\x90\0\x03\0\0\0', 'latin1'), 'photo.png', 'image/png', 'Windows program'],
        [Buffer.from('<!DOCTYPE html><script>alert(1)</script>'), 'x.jpg', 'image/jpeg', 'HTML'],
        [Buffer.from('<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>'), 'x.svg', 'image/svg+xml', 'SVG'],
        [Buffer.alloc(0), 'empty.jpg', 'image/jpeg', 'empty'],
        [jpegWithGps().subarray(0, 40), 'cut.jpg', 'image/jpeg', 'truncated JPEG'],
    ];
    for (const [bytes, name, type, why] of files) {
        const r = await S.cw.post(`/api/v1/children/${S.id}/documents`, { body: form(bytes, name, type, 'photo') });
        assertProblem(r, 422);
        assert.ok(r.json.errors?.some((e) => e.field === 'file'), `${why}: ${r.text}`);
    }
    const big = Buffer.concat([Buffer.from('%PDF-1.4\n'), Buffer.alloc(UPLOAD_MAX + 10, 0x20), Buffer.from('%%EOF\n')]);
    const bigFile = join(srv.dir, 'big.pdf');
    writeFileSync(bigFile, big);
    const r = curlPost(S.cw, `/api/v1/children/${S.id}/documents`, ['-F', 'kind=other', '-F', `file=@${bigFile};type=application/pdf`]);
    assert.equal(r.status, 413, r.text);
    assert.equal(r.json?.status, 413);
    const noKind = await S.cw.post(`/api/v1/children/${S.id}/documents`, { body: form(PDF, 'a.pdf', 'application/pdf', undefined) });
    assertProblem(noKind, 422);
    assert.ok(noKind.json.errors?.some((e) => e.field === 'kind'), noKind.text);
    const badKind = await S.cw.post(`/api/v1/children/${S.id}/documents`, { body: form(PDF, 'a.pdf', 'application/pdf', 'selfie') });
    assertProblem(badKind, 422);
    const noFile = await S.cw.post(`/api/v1/children/${S.id}/documents`, { body: form(undefined, '', '', 'photo') });
    assertProblem(noFile, 422);
    assert.ok(noFile.json.errors?.some((e) => e.field === 'file'), noFile.text);
    const json = await S.cw.post(`/api/v1/children/${S.id}/documents`, { json: { kind: 'photo', file: 'x' } });
    assert.ok(json.status === 415 || json.status === 422, `JSON instead of a form: ${json.status}`);
    assert.equal(await count(), n0, 'nothing was stored');
});

test('documents: roles, organizations, the page form with CSRF, and deletion', async (t) => {
    if (!(await needDocuments(t))) return;
    // The sponsorship officer neither lists nor opens the medical report, and cannot upload.
    const list = await S.so.get(`/api/v1/children/${S.id}/documents`);
    assert.equal(list.status, 200);
    assert.ok(!list.json.items.some((i) => i.id === S.medical));
    const so = srv.client();
    await pageLogin(so, 'main', 'so', S.soUser.password);
    assert.equal((await so.get(`/children/${S.id}/documents/${S.medical}`)).status, 403);
    assert.equal((await so.get(`/children/${S.id}/documents/${S.photo}`)).status, 200);
    const soUp = await S.so.post(`/api/v1/children/${S.id}/documents`, { body: form(PDF, 'a.pdf', 'application/pdf', 'other') });
    assertProblem(soUp, 403);
    // Another organization sees nothing.
    const other = srv.client();
    await pageLogin(other, 'other', 'cw2', S.cw2User.password);
    assert.equal((await other.get(`/children/${S.id}/documents/${S.photo}`)).status, 404);
    assertProblem(await S.cw2.get(`/api/v1/children/${S.id}/documents`), 404);
    assertProblem(await S.cw2.del(`/api/v1/documents/${S.photo}`), 404);
    // The document id must belong to the child in the URL.
    const sib = (await S.cw.get('/api/v1/children?per_page=5')).json.items.find((i) => i.id !== S.id);
    assert.equal((await S.cwPage.get(`/children/${sib.id}/documents/${S.photo}`)).status, 404);
    // The page lists the documents and its form uploads with the CSRF field.
    const page = await S.cwPage.get(`/children/${S.id}/documents`);
    assert.equal(page.status, 200);
    assert.ok(page.text.includes('enctype="multipart/form-data"'));
    assert.ok(page.text.includes('بيت.jpg'));
    const csrf = await csrfOf(S.cwPage, `/children/${S.id}/documents`);
    assert.ok(csrf);
    const noCsrf = await S.cwPage.post(`/children/${S.id}/documents`, { body: form(PDF, 'b.pdf', 'application/pdf', 'school') });
    assert.equal(noCsrf.status, 403);
    const ok = await S.cwPage.post(`/children/${S.id}/documents`, { body: form(PDF, 'b.pdf', 'application/pdf', 'school', { csrf }) });
    assert.equal(ok.status, 303, ok.text.slice(0, 300));
    const bad = await S.cwPage.post(`/children/${S.id}/documents`, { body: form(Buffer.from('\x7fELF', 'latin1'), 'c.jpg', 'image/jpeg', 'photo', { csrf }) });
    assert.equal(bad.status, 422);
    assert.ok(bad.text.includes('field-error'), 'the message is shown next to the field');
    // Deletion: 204, then the file is gone and the deletion is audited.
    const del = await S.cw.del(`/api/v1/documents/${S.photo}`);
    assert.equal(del.status, 204, del.text);
    assert.equal((await S.cwPage.get(`/children/${S.id}/documents/${S.photo}`)).status, 404);
    assertProblem(await S.cw.del(`/api/v1/documents/${S.photo}`), 404);
    const stored = srv.sql(`SELECT stored_name FROM child_documents WHERE id = '${S.photo}'`).trim();
    assert.match(stored, /^[0-9a-f]{2}\/[0-9a-f]{32}$/);
    assert.ok(!existsSync(join(srv.dir, 'uploads', stored)), 'the file is removed');
    const pdfStored = srv.sql(`SELECT stored_name FROM child_documents WHERE id = '${S.pdf}'`).trim();
    assert.ok(existsSync(join(srv.dir, 'uploads', pdfStored)), 'other files stay');
    assert.ok((await auditAll()).some((e) => e.action === 'document.delete' && (e.detail || '').includes(S.photo)));
});
