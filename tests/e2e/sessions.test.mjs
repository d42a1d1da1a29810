// sessions.test.mjs: care sessions through the API and the pages: schedule
// individual and group sessions (in person and remote, a video room per
// session), refusals that name the field and change nothing (a past
// upcoming session, end before start, over eight hours, overlapping
// sessions of one worker, a child of another organization, a held session
// without attendance, unknown mode), outcomes with missed reasons, sealed
// notes that only the psychosocial role reads (and each read audited), a
// sponsorship officer who sees no sessions, another organization that gets
// 404; and the private iCalendar feed: public by token, no child names or
// notes, loaded by Debian's python3-icalendar, revoked and replaced.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { apiClient, csrfOf, inputValue, pageLogin, problemShape, startServer } from './lib.mjs';

let srv;
const S = {}; // state shared by the tests, in order
const NOTE = 'كوابيس متكررة; sealed-' + Math.random().toString(36).slice(2, 10);

before(async () => {
    srv = await startServer();
    S.cwUser = srv.addUser('main', 'cw', 'case_worker', undefined, 'Case Worker');
    S.psUser = srv.addUser('main', 'ps', 'psychosocial_specialist', undefined, 'Psych Specialist');
    S.soUser = srv.addUser('main', 'so', 'sponsorship_officer', undefined, 'Sponsor Officer');
    srv.addOrg('other', 'Other Org');
    S.cw2User = srv.addUser('other', 'cw2', 'case_worker');
    S.cw = await apiClient(srv, 'main', 'cw', S.cwUser.password);
    S.ps = await apiClient(srv, 'main', 'ps', S.psUser.password);
    S.so = await apiClient(srv, 'main', 'so', S.soUser.password);
    S.cw2 = await apiClient(srv, 'other', 'cw2', S.cw2User.password);
    const probe = await S.cw.get('/api/v1/sessions');
    S.registered = probe.status !== 404;
});

after(async () => {
    if (srv) {
        await srv.close();
    }
});

/** The session routes must be served: a 404 at start is a failure, not a skip. */
function needRoutes() {
    assert.ok(S.registered, 'GET /api/v1/sessions answers 404: the routes are not served');
    return true;
}

/** Asserts r is a problem+json with status, code and (when given) the field named. */
function assertProblem(r, status, code, field) {
    assert.equal(r.status, status, r.text);
    assert.equal(problemShape(r), '', r.text);
    assert.equal(r.json.code, code, r.text);
    if (field) {
        assert.ok((r.json.errors || []).some((x) => x.field === field) || r.json.field === field,
            `field ${field} not named: ${r.text}`);
    }
}

/** Registers a child as c (past any duplicate warning); returns its id. */
async function register(c, first) {
    const body = {
        first_name: first, father_name: 'أحمد', grandfather_name: 'علي', family_name: 'الحلبي',
        sex: 'F', birth_date: '2014-05-20', orphan_status: 'father_deceased',
    };
    let r = await c.post('/api/v1/children', { json: body });
    if (r.status === 409 && r.json?.code === 'possible_duplicates') {
        r = await c.post('/api/v1/children', { json: { ...body, different_from: r.json.candidates.map((x) => x.id) } });
    }
    assert.equal(r.status, 201, r.text);
    return r.json.id;
}

/** ISO UTC time minutes from now, rounded to the minute. */
function at(minutes) {
    const now = Math.floor(Date.now() / 60000) * 60000;
    return new Date(now + minutes * 60000).toISOString();
}

/** Sessions that do not collide: each call gets its own hour, days ahead. */
let nextSlot = 60 * 24 * 2;
function slot() {
    nextSlot += 120;
    return nextSlot;
}

/** Counts audit entries of an action for an entity. */
function auditCount(action, id) {
    return Number(srv.sql(`SELECT COUNT(*) FROM audit_log WHERE action = '${action}' AND entity_id = '${id}'`).trim());
}

test('setup: children and a case', async (t) => {
    if (!needRoutes(t)) return;
    S.child1 = await register(S.cw, 'ريم');
    S.child2 = await register(S.cw, 'نور');
    S.child3 = await register(S.cw, 'جنى');
    S.childB = await register(S.cw2, 'سلمى');
    const r = await S.cw.post('/api/v1/cases', { json: { child_id: S.child1, specialist_id: S.psUser.id } });
    assert.equal(r.status, 201, r.text);
    S.case1 = r.json.id;
    S.caseNo = r.json.case_no;
});

test('schedule an individual video session with a meeting room', async (t) => {
    if (!needRoutes(t)) return;
    const start = slot();
    const r = await S.ps.post('/api/v1/sessions', {
        json: { kind: 'individual', mode: 'video', case_id: S.case1, starts_at: at(start), ends_at: at(start + 45), notes: NOTE, topics: 'sleep' },
    });
    assert.equal(r.status, 201, r.text);
    S.video = r.json.id;
    S.videoStart = start;
    const g = await S.ps.get(`/api/v1/sessions/${S.video}`);
    assert.equal(g.status, 200, g.text);
    assert.equal(g.json.status, 'scheduled');
    assert.equal(g.json.case_no, S.caseNo);
    assert.equal(g.json.child.id, S.child1);
    assert.match(g.json.meeting_url, /^https:\/\/meet\.jit\.si\/sanad-[a-z2-7]{32}$/);
    assert.equal(g.json.notes, NOTE);
    // a second video session gets another room
    const s2 = slot();
    const r2 = await S.cw.post('/api/v1/sessions', {
        json: { kind: 'individual', mode: 'video', case_id: S.case1, starts_at: at(s2), ends_at: at(s2 + 30) },
    });
    assert.equal(r2.status, 201, r2.text);
    const g2 = await S.cw.get(`/api/v1/sessions/${r2.json.id}`);
    assert.notEqual(g2.json.meeting_url, g.json.meeting_url);
    S.cwVideo = r2.json.id;
});

test('bad input is refused with the field named and nothing stored', async (t) => {
    if (!needRoutes(t)) return;
    const before = (await S.cw.get(`/api/v1/sessions?case_id=${S.case1}`)).json.items.length;
    const base = slot();
    const ind = (over) => ({ kind: 'individual', mode: 'phone', case_id: S.case1, starts_at: at(base), ends_at: at(base + 30), ...over });
    assertProblem(await S.cw.post('/api/v1/sessions', { json: ind({ starts_at: at(-120), ends_at: at(-90) }) }), 422, 'in_past', 'starts_at');
    assertProblem(await S.cw.post('/api/v1/sessions', { json: ind({ ends_at: at(base - 10) }) }), 422, 'ends_before_start', 'ends_at');
    assertProblem(await S.cw.post('/api/v1/sessions', { json: ind({ ends_at: at(base + 8 * 60 + 1) }) }), 422, 'session_too_long', 'ends_at');
    assertProblem(await S.cw.post('/api/v1/sessions', { json: ind({ mode: 'telepathy' }) }), 422, 'invalid_choice', 'mode');
    assertProblem(await S.cw.post('/api/v1/sessions', { json: ind({ kind: 'family' }) }), 422, 'invalid_choice', 'kind');
    assertProblem(await S.cw.post('/api/v1/sessions', { json: ind({ starts_at: 'soon' }) }), 422, 'invalid_datetime', 'starts_at');
    assertProblem(await S.cw.post('/api/v1/sessions', { json: ind({ extra: 1 }) }), 422, 'unknown_field', 'extra');
    assertProblem(await S.cw.post('/api/v1/sessions', {
        json: { kind: 'group', mode: 'chat', starts_at: at(base), ends_at: at(base + 30), child_ids: [S.child2, S.childB] },
    }), 422, 'unknown_child', 'child_ids');
    // the case worker may not write notes
    assertProblem(await S.cw.post('/api/v1/sessions', { json: ind({ notes: 'x' }) }), 403, 'forbidden');
    // overlapping the specialist's video session: 409 naming its time
    const clash = await S.ps.post('/api/v1/sessions', {
        json: { kind: 'individual', mode: 'in_person', case_id: S.case1, starts_at: at(S.videoStart + 15), ends_at: at(S.videoStart + 75) },
    });
    assertProblem(clash, 409, 'overlap', 'starts_at');
    assert.ok(clash.json.detail.includes(at(S.videoStart).replace('Z', '')), clash.text);
    const after = (await S.cw.get(`/api/v1/sessions?case_id=${S.case1}`)).json.items.length;
    assert.equal(after, before);
});

test('group session, outcome held with attendance, missed with a reason', async (t) => {
    if (!needRoutes(t)) return;
    const base = slot();
    const r = await S.ps.post('/api/v1/sessions', {
        json: { kind: 'group', mode: 'in_person', starts_at: at(base), ends_at: at(base + 60), child_ids: [S.child2, S.child3] },
    });
    assert.equal(r.status, 201, r.text);
    const id = r.json.id;
    // no outcome before it starts
    assertProblem(await S.ps.post(`/api/v1/sessions/${id}/outcome`, { json: { status: 'missed', missed_reason: 'no_device' } }), 422, 'not_started', 'status');
    // time passes
    srv.sql(`UPDATE sessions_care SET starts_at = '${at(-180)}', ends_at = '${at(-120)}' WHERE id = '${id}'`);
    assertProblem(await S.ps.post(`/api/v1/sessions/${id}/outcome`, { json: { status: 'held' } }), 422, 'attendance_required', 'attendance');
    assertProblem(await S.ps.post(`/api/v1/sessions/${id}/outcome`, {
        json: { status: 'held', attendance: { [S.child2]: false, [S.child3]: false } },
    }), 422, 'attendance_required', 'attendance');
    assertProblem(await S.ps.post(`/api/v1/sessions/${id}/outcome`, { json: { status: 'missed', missed_reason: 'rain' } }), 422, 'invalid_choice', 'missed_reason');
    let o = await S.ps.post(`/api/v1/sessions/${id}/outcome`, {
        json: { status: 'held', attendance: { [S.child2]: true, [S.child3]: false }, duration_min: 50, topics: 'grief' },
    });
    assert.equal(o.status, 200, o.text);
    assert.equal(o.json.status, 'held');
    assert.equal(o.json.duration_min, 50);
    const att = Object.fromEntries(o.json.children.map((c) => [c.id, c.attended]));
    assert.deepEqual(att, { [S.child2]: true, [S.child3]: false });
    // the video session is missed for lack of a connection
    srv.sql(`UPDATE sessions_care SET starts_at = '${at(-300)}', ends_at = '${at(-255)}' WHERE id = '${S.cwVideo}'`);
    o = await S.cw.post(`/api/v1/sessions/${S.cwVideo}/outcome`, { json: { status: 'missed', missed_reason: 'no_connection' } });
    assert.equal(o.status, 200, o.text);
    assert.equal(o.json.missed_reason, 'no_connection');
    // a held session cannot be moved
    assertProblem(await S.ps.patch(`/api/v1/sessions/${id}`, { json: { mode: 'phone' } }), 409, 'not_scheduled');
});

test('notes: the psychosocial specialist reads them (audited); the case worker does not; sealed at rest', async (t) => {
    if (!needRoutes(t)) return;
    const n0 = auditCount('session.notes_view', S.video);
    const ps = await S.ps.get(`/api/v1/sessions/${S.video}`);
    assert.equal(ps.json.notes, NOTE);
    assert.equal(auditCount('session.notes_view', S.video), n0 + 1);
    const cw = await S.cw.get(`/api/v1/sessions/${S.video}`);
    assert.equal(cw.status, 200, cw.text);
    assert.equal(cw.json.notes, undefined);
    assert.equal(cw.json.notes_hidden, true);
    assert.equal(auditCount('session.notes_view', S.video), n0 + 1);
    const stored = srv.sql(`SELECT notes FROM sessions_care WHERE id = '${S.video}'`);
    assert.ok(stored.startsWith('v1.'), stored);
    assert.ok(!stored.includes('sealed-'));
    // the session page hides them from the case worker too
    const { Client } = await import('./lib.mjs');
    const web = new Client(srv.url);
    await pageLogin(web, 'main', 'cw', S.cwUser.password);
    const page = await web.get(`/sessions/${S.video}`);
    assert.equal(page.status, 200, page.text.slice(0, 500));
    assert.ok(!page.text.includes(NOTE.split(';')[0]));
    assert.ok(auditCount('session.create', S.video) === 1);
});

test('a sponsorship officer sees no sessions; another organization gets 404', async (t) => {
    if (!needRoutes(t)) return;
    assert.equal((await S.so.get('/api/v1/sessions')).status, 403);
    assert.equal((await S.so.get(`/api/v1/sessions/${S.video}`)).status, 403);
    assert.equal((await S.cw2.get(`/api/v1/sessions/${S.video}`)).status, 404);
    assert.equal((await S.cw2.post(`/api/v1/sessions/${S.video}/outcome`, { json: { status: 'cancelled' } })).status, 404);
    assert.equal((await S.cw2.patch(`/api/v1/sessions/${S.video}`, { json: { mode: 'phone' } })).status, 404);
    const list = await S.cw2.get('/api/v1/sessions');
    assert.equal(list.status, 200);
    assert.equal(list.json.items.length, 0);
    // a case of another organization cannot be used
    const base = slot();
    assertProblem(await S.cw2.post('/api/v1/sessions', {
        json: { kind: 'individual', mode: 'phone', case_id: S.case1, starts_at: at(base), ends_at: at(base + 30) },
    }), 422, 'unknown_case', 'case_id');
});

/** Runs python3-icalendar on the feed text: returns the parsed events (or null when not installed). */
function parseIcs(text) {
    if (!existsSync('/usr/bin/python3')) return null;
    const probe = spawnSync('/usr/bin/python3', ['-c', 'import icalendar'], { encoding: 'utf8' });
    if (probe.status !== 0) return null;
    const py = [
        'import icalendar, json, sys',
        'c = icalendar.Calendar.from_ical(sys.stdin.read())',
        'assert str(c.get("VERSION")) == "2.0"',
        'out = []',
        'for e in c.walk("VEVENT"):',
        '    out.append({"uid": str(e.get("UID")), "summary": str(e.get("SUMMARY")), "status": str(e.get("STATUS")),',
        '        "start": e.decoded("DTSTART").isoformat(), "end": e.decoded("DTEND").isoformat(),',
        '        "seq": int(e.get("SEQUENCE")), "url": str(e.get("URL") or ""), "desc": str(e.get("DESCRIPTION") or ""),',
        '        "stamp": e.decoded("DTSTAMP").isoformat()})',
        'print(json.dumps({"prodid": str(c.get("PRODID")), "calscale": str(c.get("CALSCALE")), "events": out}))',
    ].join('\n');
    const r = spawnSync('/usr/bin/python3', ['-c', py], { input: text, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    return JSON.parse(r.stdout);
}

test('private calendar feed: public by token, no names or notes, standard iCalendar, revocable', async (t) => {
    if (!needRoutes(t)) return;
    // a cancelled session shows as cancelled
    const base = slot();
    const c = await S.ps.post('/api/v1/sessions', {
        json: { kind: 'individual', mode: 'phone', case_id: S.case1, starts_at: at(base), ends_at: at(base + 30) },
    });
    assert.equal(c.status, 201, c.text);
    assert.equal((await S.ps.post(`/api/v1/sessions/${c.json.id}/cancel`, { json: { reason: 'holiday' } })).status, 200);
    const f = await S.ps.post('/api/v1/calendar/feed');
    assert.equal(f.status, 201, f.text);
    assert.match(f.json.url, /\/calendar\/feed\/cal_[A-Za-z0-9_-]+\.ics$/);
    const path = new URL(f.json.url).pathname;
    const anon = srv.client();
    const r = await anon.get(path);
    assert.equal(r.status, 200, r.text);
    assert.match(r.headers.get('content-type'), /^text\/calendar/);
    assert.match(r.headers.get('cache-control'), /no-store/);
    const ics = r.text;
    assert.ok(ics.includes('\r\n'));
    assert.ok(!/[^\r]\n/.test(ics), 'every line ends with CRLF');
    for (const line of ics.split('\r\n')) {
        assert.ok(Buffer.byteLength(line) <= 75, `line over 75 octets: ${line}`);
    }
    for (const bad of ['ريم', 'نور', 'جنى', 'الحلبي', NOTE.split(';')[0], 'sealed-', 'sleep', 'v1.']) {
        assert.ok(!ics.includes(bad), `feed holds ${bad}`);
    }
    assert.ok(ics.includes(S.caseNo));
    const parsed = parseIcs(ics);
    // scripts/install-deps installs python3-icalendar: its absence is a failure.
    assert.ok(parsed !== null, 'python3-icalendar is not installed');
    {
        assert.equal(parsed.calscale, 'GREGORIAN');
        assert.ok(parsed.prodid.includes('Sanad'));
        const byUid = Object.fromEntries(parsed.events.map((e) => [e.uid, e]));
        const v = byUid[`${S.video}@sanad`];
        assert.ok(v, JSON.stringify(parsed.events));
        assert.ok(v.summary.includes(S.caseNo));
        assert.match(v.url, /^https:\/\/meet\.jit\.si\/sanad-/);
        assert.equal(new Date(v.start).toISOString(), at(S.videoStart));
        assert.equal(new Date(v.end).toISOString(), at(S.videoStart + 45));
        assert.ok(v.start.endsWith('+00:00'));
        assert.equal(v.status, 'CONFIRMED');
        assert.equal(byUid[`${c.json.id}@sanad`].status, 'CANCELLED');
        // the group session held by the specialist is there, without names
        assert.ok(parsed.events.every((e) => !e.summary.includes('نور')));
        // the case worker's session is not in the specialist's feed
        assert.equal(byUid[`${S.cwVideo}@sanad`], undefined);
    }
    // unknown tokens, and the old token after replacing: 404
    assert.equal((await anon.get('/calendar/feed/cal_nope.ics')).status, 404);
    assert.equal((await anon.get(path.replace(/\.ics$/, ''))).status, 404);
    const f2 = await S.ps.post('/api/v1/calendar/feed');
    assert.equal(f2.status, 201);
    assert.equal((await anon.get(path)).status, 404);
    const path2 = new URL(f2.json.url).pathname;
    assert.equal((await anon.get(path2)).status, 200);
    assert.equal(srv.sql(`SELECT COUNT(*) FROM calendar_feeds WHERE token_hash LIKE 'cal_%'`).trim(), '0');
    // revoking through the page form
    const { Client } = await import('./lib.mjs');
    const web = new Client(srv.url);
    await pageLogin(web, 'main', 'ps', S.psUser.password);
    const csrf = await csrfOf(web, '/calendar');
    const rv = await web.post('/calendar/feed/revoke', { form: { csrf } });
    assert.equal(rv.status, 303, rv.text);
    assert.equal((await anon.get(path2)).status, 404);
});

test('pages: week calendar, new session form, outcome form, in Arabic and English', async (t) => {
    if (!needRoutes(t)) return;
    const { Client } = await import('./lib.mjs');
    const web = new Client(srv.url);
    await pageLogin(web, 'main', 'ps', S.psUser.password);
    // the week of the video session
    const d = new Date(at(S.videoStart));
    const cal = await web.get(`/calendar?week=${isoWeek(d)}`);
    assert.equal(cal.status, 200, cal.text.slice(0, 300));
    assert.ok(cal.text.includes(`/sessions/${S.video}`));
    assert.ok(cal.text.includes('الاثنين'));
    assert.equal((await web.get('/calendar?week=2025-W99')).status, 422);
    // create through the form (local time at UTC+3)
    const csrf = await csrfOf(web, `/sessions/new?case_id=${S.case1}`);
    const when = new Date(Date.now() + 9 * 86400000 + 3 * 3600000);
    const date = when.toISOString().slice(0, 10);
    const made = await web.post('/sessions', {
        form: { csrf, kind: 'individual', mode: 'phone', case_id: S.case1, date, time: '10:00', duration: '40', utc_offset: '+03:00' },
    });
    assert.equal(made.status, 303, made.text.slice(0, 500));
    const id = made.headers.get('location').split('/').pop();
    const g = await S.ps.get(`/api/v1/sessions/${id}`);
    assert.equal(g.json.starts_at, `${date}T07:00:00.000Z`);
    assert.equal(g.json.ends_at, `${date}T07:40:00.000Z`);
    // the same time again: the form answers 409 with the message, in Arabic
    const again = await web.post('/sessions', {
        form: { csrf, kind: 'individual', mode: 'chat', case_id: S.case1, date, time: '10:20', duration: '30', utc_offset: '+03:00' },
    });
    assert.equal(again.status, 409);
    assert.ok(again.text.includes('لدى الأخصائي جلسة أخرى'), again.text.slice(0, 2000));
    // a past upcoming session from the form names the field
    const past = await web.post('/sessions', {
        form: { csrf, kind: 'individual', mode: 'chat', case_id: S.case1, date: '2020-01-01', time: '10:00', duration: '30' },
    });
    assert.equal(past.status, 422);
    // record a missed outcome through the page form once it has passed
    srv.sql(`UPDATE sessions_care SET starts_at = '${at(-600)}', ends_at = '${at(-560)}' WHERE id = '${id}'`);
    const page = await web.get(`/sessions/${id}`);
    assert.equal(page.status, 200);
    assert.ok(page.text.includes('name="missed_reason"'));
    const out = await web.post(`/sessions/${id}/outcome`, { form: { csrf, status: 'held' } });
    assert.equal(out.status, 422);
    const ok = await web.post(`/sessions/${id}/outcome`, { form: { csrf, status: 'held', [`attended_${S.child1}`]: '1', duration_min: '35' } });
    assert.equal(ok.status, 303, ok.text.slice(0, 500));
    const g2 = await S.ps.get(`/api/v1/sessions/${id}`);
    assert.equal(g2.json.status, 'held');
    assert.equal(g2.json.duration_min, 35);
    // English
    const en = await web.get(`/calendar?week=${isoWeek(d)}`, { headers: { 'Accept-Language': 'en' } });
    assert.equal(en.status, 200);
    assert.ok(inputValue(cal.text, 'csrf'));
});

/** The ISO week ("2025-W05") of date d (UTC+3, as the pages use). */
function isoWeek(d) {
    const t = new Date(d.getTime() + 3 * 3600000);
    const day = (t.getUTCDay() + 6) % 7;
    const thursday = new Date(Date.UTC(t.getUTCFullYear(), t.getUTCMonth(), t.getUTCDate() - day + 3));
    const jan4 = new Date(Date.UTC(thursday.getUTCFullYear(), 0, 4));
    const week1 = new Date(jan4.getTime() - ((jan4.getUTCDay() + 6) % 7) * 86400000);
    const w = Math.floor((thursday - week1) / (7 * 86400000)) + 1;
    return `${thursday.getUTCFullYear()}-W${String(w).padStart(2, '0')}`;
}
