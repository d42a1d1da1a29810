// dedup.test.mjs: duplicates found by the matching engine, through the API:
// the organization's pairs with scores and explanations, a record's
// candidates, "different children" kept and used (by the pairs and by the
// registration warning), the merge (fields chosen, documents and consents
// moved, both histories kept, the absorbed record closed and pointing to the
// kept one), refusals, and organizations kept apart. One server for the
// file; tests run in order and share state. Skipped while `sanad serve` does
// not register the routes yet.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { apiClient, pageLogin, problemShape, startServer } from './lib.mjs';

let srv;
const S = {};

before(async () => {
    srv = await startServer();
    S.cwUser = srv.addUser('main', 'cw', 'case_worker', undefined, 'Case Worker');
    S.soUser = srv.addUser('main', 'so', 'sponsorship_officer', undefined, 'Sponsor Officer');
    srv.addOrg('other', 'Other Org');
    S.cw2User = srv.addUser('other', 'cw2', 'case_worker');
    S.cw = await apiClient(srv, 'main', 'cw', S.cwUser.password);
    S.so = await apiClient(srv, 'main', 'so', S.soUser.password);
    S.cw2 = await apiClient(srv, 'other', 'cw2', S.cw2User.password);
    const probe = await S.cw.get('/api/v1/children/duplicates');
    S.registered = probe.status !== 404;
});

after(async () => {
    if (srv) {
        await srv.close();
    }
});

/** The duplicates routes must be served: a 404 at start is a failure, not a skip. */
function need() {
    assert.ok(S.registered, 'GET /api/v1/children/duplicates answers 404: the routes are not served');
    return true;
}

/** Asserts r is a problem+json with status and code. */
function assertProblem(r, status, code) {
    assert.equal(r.status, status, r.text);
    assert.equal(problemShape(r), '', r.text);
    if (code) {
        assert.equal(r.json.code, code, r.text);
    }
}

/** A valid new child; fields may be overridden. */
function child(over = {}) {
    return {
        first_name: 'يوسف', father_name: 'إبراهيم', grandfather_name: 'سالم', family_name: 'العلي',
        mother_name: 'مريم', sex: 'M', birth_date: '2014-07-07', orphan_status: 'father_deceased',
        ...over,
    };
}

/** Registers a child as c, going past the duplicate warning; returns its id. */
async function register(c, body) {
    let r = await c.post('/api/v1/children', { json: body });
    if (r.status === 409 && r.json?.code === 'possible_duplicates') {
        r = await c.post('/api/v1/children', {
            json: { ...body, different_from: r.json.candidates.map((x) => x.id) },
        });
    }
    assert.equal(r.status, 201, r.text);
    return r.json.id;
}

/** Registers a second record of a child registered already, as a desk that
 * did not see the first would: under other names and another birth year (so
 * the registration warning, which uses the engine, stays quiet and no
 * "different" decision is recorded), then corrected to the real ones. */
async function registerAgain(c, body) {
    const other = { ...body, first_name: 'زكريا', father_name: 'سليمان', grandfather_name: undefined,
                    family_name: 'الهاشمي', mother_name: undefined, birth_date: '2012-03-03' };
    const r0 = await c.post('/api/v1/children', { json: other });
    assert.equal(r0.status, 201, r0.text);
    const id = r0.json.id;
    const patch = {};
    for (const k of ['first_name', 'father_name', 'grandfather_name', 'family_name', 'mother_name', 'birth_date']) {
        patch[k] = body[k] === undefined ? null : body[k];
    }
    const r = await c.patch(`/api/v1/children/${id}`, { json: patch });
    assert.equal(r.status, 200, r.text);
    return id;
}

/** The pair (x, y) in a pairs answer, or undefined. */
function pairOf(res, x, y) {
    return res.pairs.find((p) => (p.a.id === x && p.b.id === y) || (p.a.id === y && p.b.id === x));
}

test('the organization pairs come with scores and explanations', async (t) => {
    if (!need(t)) return;
    S.keep = await register(S.cw, child({ mother_name: undefined }));
    S.dup = await registerAgain(S.cw, child({ first_name: 'يوسُف', father_name: 'ابراهيم', school_name: 'مدرسة النور' }));
    S.third = await registerAgain(S.cw, child({ father_name: 'ابراهيم', grandfather_name: undefined, birth_date: '2014-01-01' }));
    S.sib = await register(S.cw, child({ first_name: 'عمر', birth_date: '2011-02-03' }));
    const r = await S.cw.get('/api/v1/children/duplicates?per_page=50');
    assert.equal(r.status, 200, r.text);
    assert.ok(r.json.records >= 4);
    const p = pairOf(r.json, S.keep, S.dup);
    assert.ok(p, JSON.stringify(r.json));
    assert.ok(p.score >= r.json.threshold);
    assert.equal(p.explain.terms.length, 9);
    assert.ok(p.explain.terms.some((x) => x.field === 'first_name' && x.weight > 0));
    assert.equal(pairOf(r.json, S.keep, S.sib), undefined);
    for (let i = 1; i < r.json.pairs.length; i++) {
        assert.ok(r.json.pairs[i - 1].score >= r.json.pairs[i].score);
    }
    assertProblem(await S.cw.get('/api/v1/children/duplicates?per_page=0'), 422, 'invalid_parameter');
    assertProblem(await S.cw.get('/api/v1/children/duplicates?threshold=abc'), 422, 'invalid_field');
});

test('a record has its candidates, best first', async (t) => {
    if (!need(t)) return;
    const r = await S.cw.get(`/api/v1/children/${S.keep}/duplicates`);
    assert.equal(r.status, 200, r.text);
    const ids = r.json.items.map((x) => x.id);
    assert.ok(ids.includes(S.dup));
    assert.ok(!ids.includes(S.keep));
    assert.ok(r.json.items[0].explain.terms.length === 9);
    assertProblem(await S.cw2.get(`/api/v1/children/${S.keep}/duplicates`), 404);
});

test('"different children" is kept and used next time', async (t) => {
    if (!need(t)) return;
    assertProblem(await S.so.post('/api/v1/children/duplicates/decide', { json: { a: S.keep, b: S.third, decision: 'different' } }), 403);
    assertProblem(await S.cw.post('/api/v1/children/duplicates/decide', { json: { a: S.keep, b: S.third, decision: 'perhaps' } }), 422);
    assertProblem(await S.cw2.post('/api/v1/children/duplicates/decide', { json: { a: S.keep, b: S.third, decision: 'different' } }), 404);
    const r = await S.cw.post('/api/v1/children/duplicates/decide', { json: { a: S.keep, b: S.third, decision: 'different' } });
    assert.equal(r.status, 200, r.text);
    const p = await S.cw.get('/api/v1/children/duplicates?per_page=200');
    assert.equal(pairOf(p.json, S.keep, S.third), undefined);
    const c = await S.cw.get(`/api/v1/children/${S.keep}/duplicates`);
    assert.ok(!c.json.items.map((x) => x.id).includes(S.third));
    const same = await S.cw.post('/api/v1/children/duplicates/decide', { json: { a: S.keep, b: S.dup, decision: 'same' } });
    assert.equal(same.status, 200, same.text);
    assert.equal(same.json.merge, `/api/v1/children/${S.keep}/merge`);
});

test('a merge keeps both records and moves what belongs to the child', async (t) => {
    if (!need(t)) return;
    const consent = await S.cw.post(`/api/v1/children/${S.dup}/consents`, {
        json: { scope: 'sponsor_media', guardian_consent: true, child_assent: true },
    });
    assert.equal(consent.status, 201, consent.text);
    const pv = await S.cw.get(`/api/v1/children/${S.keep}/merge?other=${S.dup}`);
    assert.equal(pv.status, 200, pv.text);
    const mother = pv.json.fields.find((f) => f.name === 'mother_name');
    assert.ok(mother && mother.take_other, JSON.stringify(pv.json.fields));
    // the pages show the same explanation (one shared partial): nine terms and the score
    const web = srv.client();
    assert.equal((await pageLogin(web, 'main', 'cw', S.cwUser.password)).status, 303);
    for (const path of [`/children/${S.keep}/merge?other=${S.dup}`, '/children/duplicates?per_page=200']) {
        const page = await web.get(path);
        assert.equal(page.status, 200, page.text);
        const terms = page.text.match(/<table class="dup-terms">[\s\S]*?<\/table>/);
        assert.ok(terms, `${path}: no explanation table`);
        assert.equal(terms[0].match(/<tr><td>/g).length, 9, terms[0]);
    }
    assertProblem(await S.so.post(`/api/v1/children/${S.keep}/merge`, { json: { other_id: S.dup } }), 403);
    assertProblem(await S.cw.post(`/api/v1/children/${S.keep}/merge`, { json: { other_id: S.keep } }), 422, 'same_child');
    assertProblem(await S.cw.post(`/api/v1/children/${S.keep}/merge`, { json: { other_id: S.dup, take: ['nope'] } }), 422);
    assertProblem(await S.cw2.post(`/api/v1/children/${S.keep}/merge`, { json: { other_id: S.dup } }), 404);
    const m = await S.cw.post(`/api/v1/children/${S.keep}/merge`, {
        json: { other_id: S.dup, take: ['mother_name', 'school_name'] },
    });
    assert.equal(m.status, 200, m.text);
    assert.equal(m.json.consents, 1);
    assert.deepEqual(m.json.filled.sort(), ['mother_name', 'school_name']);
    const kept = await S.cw.get(`/api/v1/children/${S.keep}`);
    assert.equal(kept.json.mother_name, 'مريم');
    assert.equal(kept.json.school_name, 'مدرسة النور');
    assert.equal(kept.json.first_name, 'يوسف');
    const gone = await S.cw.get(`/api/v1/children/${S.dup}`);
    assert.equal(gone.status, 200, gone.text);
    assert.equal(gone.json.status, 'closed');
    assert.equal(gone.json.status_reason, 'duplicate');
    const hk = await S.cw.get(`/api/v1/children/${S.keep}/history`);
    assert.ok(hk.json.status.some((x) => (x.reason || '').startsWith('merged from')), hk.text);
    const hg = await S.cw.get(`/api/v1/children/${S.dup}/history`);
    assert.ok(hg.json.status.some((x) => x.to === 'closed' && x.reason === 'duplicate'), hg.text);
    const cons = await S.cw.get(`/api/v1/children/${S.keep}/consents`);
    assert.equal(cons.json.items.length, 1);
    assertProblem(await S.cw.post(`/api/v1/children/${S.keep}/merge`, { json: { other_id: S.dup } }), 409, 'already_merged');
    const p = await S.cw.get('/api/v1/children/duplicates?per_page=200');
    assert.ok(!p.json.pairs.some((x) => x.a.id === S.dup || x.b.id === S.dup));
});

test('pages: the list of pairs and the merge form', async (t) => {
    if (!need(t)) return;
    const { pageLogin, Client } = await import('./lib.mjs');
    const c = new Client(srv.url);
    await pageLogin(c, 'main', 'cw', S.cwUser.password);
    for (const lang of ['ar', 'en']) {
        const r = await c.get('/children/duplicates', { headers: { 'Accept-Language': lang } });
        assert.equal(r.status, 200, r.text.slice(0, 400));
    }
    const m = await c.get(`/children/${S.keep}/merge?other=${S.third}`);
    assert.equal(m.status, 200, m.text.slice(0, 400));
    assert.match(m.text, /type="radio"/);
});
