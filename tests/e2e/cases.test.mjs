// cases.test.mjs: case management end to end over the API (and the pages when `sanad serve`
// registers them), on SQLite and on PostgreSQL (the harness picks): a case opened for a child
// (a second one refused), the assessment with every kind of bad input, the supervisor's
// decisions (refused for the case's own worker and for a case worker), the plan with its
// refusals, sending back and resubmitting, services and follow-up, closure and reopening, the
// urgent flag that needs a recorded action, sealed notes readable only with psych.notes and
// audited, another organization's case hidden, and stages switched off per organization.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import {
    apiClient, csrfOf, enrolTotp, freshTotp, inputValue, pageLogin, problemShape, startServer,
} from './lib.mjs';

let srv;
const S = {};

const NOTES = 'ملاحظة سرية: الطفل يخاف من العودة إلى البيت ' + Date.now();

before(async () => {
    srv = await startServer();
    S.cwUser = srv.addUser('main', 'cw', 'case_worker', undefined, 'Case Worker');
    S.supUser = srv.addUser('main', 'sup', 'supervisor', undefined, 'Supervisor One');
    S.sup2User = srv.addUser('main', 'sup2', 'supervisor', undefined, 'Supervisor Two');
    S.psyUser = srv.addUser('main', 'psy', 'psychosocial_specialist', undefined, 'Specialist');
    S.audUser = srv.addUser('main', 'aud', 'auditor', undefined, 'Auditor');
    srv.addOrg('other', 'Other Org');
    S.otherUser = srv.addUser('other', 'ocw', 'case_worker', undefined, 'Other Worker');
    S.cw = await apiClient(srv, 'main', 'cw', S.cwUser.password);
    S.sup = await apiClient(srv, 'main', 'sup', S.supUser.password);
    S.sup2 = await apiClient(srv, 'main', 'sup2', S.sup2User.password);
    S.psy = await apiClient(srv, 'main', 'psy', S.psyUser.password);
    S.aud = await apiClient(srv, 'main', 'aud', S.audUser.password);
    S.other = await apiClient(srv, 'other', 'ocw', S.otherUser.password);
    S.child = await registerChild(S.cw, { first_name: 'سامي', family_name: 'العلي' });
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

/** The fields named by a 422's errors list. */
function fieldsOf(r) {
    return (r.json?.errors || []).map((e) => e.field);
}

/** Registers a child (differing from every candidate); returns {id, file_no}. */
async function registerChild(c, over = {}) {
    const body = {
        first_name: 'محمد', father_name: 'أحمد', grandfather_name: 'علي', family_name: 'الخطيب',
        mother_name: 'فاطمة حسن', sex: 'M', birth_date: '2013-03-11', birth_place: 'حمص',
        orphan_status: 'father_deceased', ...over,
    };
    let r = await c.post('/api/v1/children', { json: body });
    if (r.status === 409 && r.json?.code === 'possible_duplicates') {
        r = await c.post('/api/v1/children', { json: { ...body, different_from: r.json.candidates.map((x) => x.id) } });
    }
    assert.equal(r.status, 201, r.text);
    return r.json;
}

/** A complete, valid assessment; members may be overridden. */
function assessment(over = {}) {
    return {
        ratings: {
            basic_needs: 2, education: 3, health: 1, protection: 4, psychosocial: 3, family: 2, digital_access: 4,
        },
        risks: ['violence', 'child_labour'],
        digital: { device: false, connection: false, electricity: true, skills: true },
        overall_risk: 'high',
        ...over,
    };
}

/** YYYY-MM-DD days after today (UTC). */
function day(days) {
    return new Date(Date.now() + days * 86400000).toISOString().slice(0, 10);
}

/** The case as c sees it (asserting 200). */
async function getCase(c, id) {
    const r = await c.get(`/api/v1/cases/${id}`);
    assert.equal(r.status, 200, r.text);
    return r.json;
}

/** Every audit entry of the organization, as the auditor reads them. */
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

test('a case is opened for a child; a second open case for the same child is refused', async () => {
    assertProblem(await S.cw.post('/api/v1/cases', { json: {} }), 422, 'required');
    assertProblem(await S.cw.post('/api/v1/cases', { json: { child_id: 'nope' } }), 422);
    assertProblem(await S.aud.post('/api/v1/cases', { json: { child_id: S.child.id } }), 403);
    const r = await S.cw.post('/api/v1/cases', { json: { child_id: S.child.id, specialist_id: S.psyUser.id } });
    assert.equal(r.status, 201, r.text);
    assert.match(r.json.case_no, new RegExp(`^C-${new Date().getUTCFullYear()}-\\d{5}$`));
    S.caseId = r.json.id;
    const again = await S.cw.post('/api/v1/cases', { json: { child_id: S.child.id } });
    assertProblem(again, 409, 'case_open');
    const c = await getCase(S.cw, S.caseId);
    assert.equal(c.stage, 'assessment');
    assert.equal(c.status, 'open');
    assert.equal(c.risk_level, 'medium');
    assert.equal(c.worker_id, S.cwUser.id);
    assert.equal(c.specialist_id, S.psyUser.id);
    assert.equal(c.next_contact, day(14));
    const list = await S.cw.get('/api/v1/cases?worker_id=me&status=open');
    assert.equal(list.status, 200, list.text);
    assert.ok(list.json.items.some((x) => x.id === S.caseId));
    assertProblem(await S.cw.get('/api/v1/cases?risk=extreme'), 422);
});

test('an assessment with bad input is refused naming the field, and nothing is saved', async () => {
    const path = `/api/v1/cases/${S.caseId}/assessment`;
    const missing = assessment();
    delete missing.ratings.education;
    let r = await S.cw.post(path, { json: missing });
    assertProblem(r, 422, 'validation_failed');
    assert.ok(fieldsOf(r).includes('ratings.education'), r.text);
    r = await S.cw.post(path, { json: assessment({ ratings: { ...assessment().ratings, health: 5 } }) });
    assertProblem(r, 422);
    assert.ok(fieldsOf(r).includes('ratings.health'), r.text);
    assert.equal(r.json.errors.find((e) => e.field === 'ratings.health').code, 'out_of_scale');
    r = await S.cw.post(path, { json: assessment({ ratings: { ...assessment().ratings, health: 0 } }) });
    assert.ok(fieldsOf(r).includes('ratings.health'), r.text);
    r = await S.cw.post(path, { json: assessment({ risks: ['violence', 'kidnapping'] }) });
    assertProblem(r, 422);
    assert.ok(fieldsOf(r).includes('risks'), r.text);
    r = await S.cw.post(path, { json: assessment({ overall_risk: 'extreme' }) });
    assert.ok(fieldsOf(r).includes('overall_risk'), r.text);
    r = await S.cw.post(path, { json: assessment({ digital: { device: 'yes' } }) });
    assert.ok(fieldsOf(r).includes('digital'), r.text);
    r = await S.cw.post(path, { json: assessment({ colour: 'blue' }) });
    assert.ok(fieldsOf(r).includes('colour'), r.text);
    assert.equal((await getCase(S.cw, S.caseId)).assessment, undefined, 'nothing saved');
    // Submitting with no draft is refused.
    assertProblem(await S.cw.post(`/api/v1/cases/${S.caseId}/submit`, { json: { what: 'assessment' } }), 409, 'nothing_to_submit');
});

test('the assessment is saved with sealed notes and submitted', async () => {
    let r = await S.cw.post(`/api/v1/cases/${S.caseId}/assessment`, { json: assessment({ notes: NOTES }) });
    assert.equal(r.status, 200, r.text);
    S.assessmentId = r.json.id;
    r = await S.cw.post(`/api/v1/cases/${S.caseId}/submit`, { json: { what: 'assessment' } });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.pending, 'assessment');
    assert.equal(r.json.assessment.status, 'submitted');
    assert.equal(r.json.assessment.notes, undefined, 'notes are not in the case');
    assert.ok(!r.text.includes('سرية'), 'the notes text is not in the case');
    assertProblem(await S.cw.post(`/api/v1/cases/${S.caseId}/submit`, { json: { what: 'assessment' } }), 409, 'already_pending');
});

test('the notes are sealed in the database and readable only with psych.notes, each view audited', async () => {
    const stored = srv.sql(`SELECT notes FROM assessments WHERE id = '${S.assessmentId}'`).trim();
    assert.ok(stored.length > 0, 'notes stored');
    assert.ok(!stored.includes('سرية') && !stored.includes(String(NOTES.slice(-8))), 'sealed at rest');
    const all = srv.sql('SELECT ratings, risks, digital FROM assessments').trim();
    assert.ok(!all.includes('سرية'));
    assertProblem(await S.cw.get(`/api/v1/assessments/${S.assessmentId}/notes`), 403);
    assertProblem(await S.aud.get(`/api/v1/assessments/${S.assessmentId}/notes`), 403);
    const before = (await auditAll()).filter((e) => e.action === 'assessment.notes_view').length;
    const r = await S.psy.get(`/api/v1/assessments/${S.assessmentId}/notes`);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.notes, NOTES);
    const r2 = await S.sup.get(`/api/v1/assessments/${S.assessmentId}/notes`);
    assert.equal(r2.status, 200, r2.text);
    const views = (await auditAll()).filter((e) => e.action === 'assessment.notes_view');
    assert.equal(views.length, before + 2);
    assert.ok(views.every((e) => e.entity_id === S.assessmentId));
    assertProblem(await S.other.get(`/api/v1/assessments/${S.assessmentId}/notes`), 403);
});

test('approval is refused for the case\'s own worker and for a case worker, and given by a supervisor', async () => {
    // A supervisor who works a case cannot approve it: sup2 is made the case's specialist.
    let r = await S.cw.post(`/api/v1/cases/${S.caseId}/assign`, { json: { specialist_id: S.sup2User.id, reason: 'cover' } });
    assert.equal(r.status, 200, r.text);
    assertProblem(await S.sup2.post(`/api/v1/cases/${S.caseId}/decide`, { json: { approve: true } }), 403, 'own_case');
    assertProblem(await S.cw.post(`/api/v1/cases/${S.caseId}/decide`, { json: { approve: true } }), 403);
    assertProblem(await S.sup.post(`/api/v1/cases/${S.caseId}/decide`, { json: { comment: 'x' } }), 422, 'required');
    r = await S.sup.post(`/api/v1/cases/${S.caseId}/decide`, { json: { approve: true, comment: 'good' } });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.stage, 'plan');
    assert.equal(r.json.pending, null);
    assert.equal(r.json.risk_level, 'high', 'the risk comes from the assessment');
    assert.equal(r.json.next_contact, day(7), 'next contact moved by the risk');
    assert.equal(r.json.assessment.status, 'approved');
    assertProblem(await S.sup.post(`/api/v1/cases/${S.caseId}/decide`, { json: { approve: true } }), 409, 'nothing_pending');
    // The history keeps the reassignment.
    assert.ok(r.json.events.some((e) => e.kind === 'assigned' && e.comment === 'cover'));
    r = await S.cw.post(`/api/v1/cases/${S.caseId}/assign`, { json: { specialist_id: S.psyUser.id } });
    assert.equal(r.status, 200, r.text);
    assertProblem(await S.cw.post(`/api/v1/cases/${S.caseId}/assign`, { json: { worker_id: S.audUser.id } }), 422);
});

test('a plan without a goal, with an empty goal or with a past due date is refused', async () => {
    const path = `/api/v1/cases/${S.caseId}/plan`;
    let r = await S.cw.post(path, { json: { goals: [] } });
    assertProblem(r, 422);
    assert.deepEqual(r.json.errors.map((e) => [e.field, e.code]), [['goals', 'plan_without_goal']]);
    r = await S.cw.post(path, { json: {} });
    assert.ok(fieldsOf(r).includes('goals'));
    r = await S.cw.post(path, { json: { goals: [{ goal: '   ', actions: [] }] } });
    assert.ok(fieldsOf(r).includes('goals[0].goal'), r.text);
    r = await S.cw.post(path, { json: { goals: [{ goal: 'school', actions: [{ action: 'enrol', due_date: day(-1) }] }] } });
    assert.ok(fieldsOf(r).includes('goals[0].actions[0].due_date'), r.text);
    assert.equal(r.json.errors[0].code, 'past_date');
    r = await S.cw.post(path, { json: { goals: [{ goal: 'school', actions: [{ action: 'enrol', due_date: '2025-02-30' }] }] } });
    assert.ok(fieldsOf(r).includes('goals[0].actions[0].due_date'), r.text);
    assert.equal((await getCase(S.cw, S.caseId)).plan, undefined, 'nothing saved');
});

test('the plan is saved, sent back with a comment, resubmitted and approved', async (t) => {
    let r = await S.cw.post('/api/v1/providers', { json: { name: 'مركز النور', kind: 'external', phone: '+963 11 000' } });
    assert.equal(r.status, 201, r.text);
    S.providerId = r.json.id;
    assertProblem(await S.cw.post('/api/v1/providers', { json: { name: 'x', kind: 'secret' } }), 422);
    const plan = {
        goals: [
            { goal: 'العودة إلى المدرسة', actions: [{ action: 'تسجيل', responsible: 'cw', provider_id: S.providerId, due_date: day(10) }] },
            { goal: 'دعم نفسي', actions: [{ action: 'جلسات أسبوعية', due_date: day(3) }] },
        ],
        submit: true,
    };
    r = await S.cw.post(`/api/v1/cases/${S.caseId}/plan`, { json: plan });
    assert.equal(r.status, 200, r.text);
    let c = await getCase(S.cw, S.caseId);
    assert.equal(c.pending, 'plan');
    assert.equal(c.plan.goals.length, 2);
    assert.equal(c.plan.goals[0].actions[0].provider, 'مركز النور');
    assertProblem(await S.sup.post(`/api/v1/cases/${S.caseId}/decide`, { json: { approve: false } }), 422, 'required');
    assertProblem(await S.sup.post(`/api/v1/cases/${S.caseId}/decide`, { json: { approve: false, comment: '  ' } }), 422, 'required');
    r = await S.sup.post(`/api/v1/cases/${S.caseId}/decide`, { json: { approve: false, comment: 'أضف موعداً للهدف الثاني' } });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.pending, null);
    assert.equal(r.json.stage, 'plan');
    assert.equal(r.json.plan.status, 'sent_back');
    assert.equal(r.json.plan.comment, 'أضف موعداً للهدف الثاني');
    assert.ok(r.json.events.some((e) => e.kind === 'sent_back' && e.comment === 'أضف موعداً للهدف الثاني'));
    r = await S.cw.post(`/api/v1/cases/${S.caseId}/plan`, { json: plan });
    assert.equal(r.status, 200, r.text);
    r = await S.sup.post(`/api/v1/cases/${S.caseId}/decide`, { json: { approve: true } });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.stage, 'services');
    assert.equal(r.json.plan.status, 'approved');
    assert.ok(r.json.plan_approved_at);
    const action = r.json.plan.goals[0].actions[0];
    assertProblem(await S.cw.post(`/api/v1/plan-actions/${action.id}`, { json: { status: 'finished' } }), 422);
    r = await S.cw.post(`/api/v1/plan-actions/${action.id}`, { json: { status: 'done', outcome: 'سُجّل في الصف الخامس' } });
    assert.equal(r.status, 204, r.text);
    c = await getCase(S.cw, S.caseId);
    assert.equal(c.plan.goals[0].actions[0].status, 'done');
    assert.equal(c.plan.goals[0].actions[0].outcome, 'سُجّل في الصف الخامس');
});

test('services move to follow-up; closure needs a reason and a note; approval closes', async () => {
    assertProblem(await S.cw.post(`/api/v1/cases/${S.caseId}/move`, { json: { stage: 'closed' } }), 422);
    let r = await S.cw.post(`/api/v1/cases/${S.caseId}/move`, { json: { stage: 'follow_up' } });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.stage, 'follow_up');
    const submit = `/api/v1/cases/${S.caseId}/submit`;
    assertProblem(await S.cw.post(submit, { json: { what: 'closure', note: 'done' } }), 422);
    assertProblem(await S.cw.post(submit, { json: { what: 'closure', reason: 'bored', note: 'done' } }), 422);
    assertProblem(await S.cw.post(submit, { json: { what: 'closure', reason: 'goals_met' } }), 422, 'required');
    r = await S.cw.post(submit, { json: { what: 'closure', reason: 'goals_met', note: 'تحققت أهداف الخطة' } });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.pending, 'closure');
    assertProblem(await S.cw.post(`/api/v1/cases/${S.caseId}/move`, { json: { stage: 'services' } }), 409);
    r = await S.sup.post(`/api/v1/cases/${S.caseId}/decide`, { json: { approve: true } });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.status, 'closed');
    assert.equal(r.json.stage, 'closed');
    assert.equal(r.json.close_reason, 'goals_met');
    assert.ok(r.json.closed_at);
});

test('reopening needs a reason', async () => {
    const path = `/api/v1/cases/${S.caseId}/reopen`;
    assertProblem(await S.cw.post(path, { json: {} }), 422, 'required');
    assertProblem(await S.cw.post(path, { json: { reason: ' ' } }), 422, 'required');
    const r = await S.cw.post(path, { json: { reason: 'عاد الطفل إلى المنطقة' } });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.status, 'open');
    assert.equal(r.json.stage, 'assessment');
    assert.ok(r.json.events.some((e) => e.kind === 'reopened' && e.comment === 'عاد الطفل إلى المنطقة'));
    assertProblem(await S.cw.post(path, { json: { reason: 'again' } }), 409, 'case_open');
});

test('an urgent flag cannot be lowered without a recorded action', async () => {
    // Raised the way an instrument's critical item raises it: the flag and a supervisor's task.
    const now = new Date().toISOString();
    srv.sql(`UPDATE cases SET urgent = 1, risk_level = 'urgent', next_contact = '${day(0)}' WHERE id = '${S.caseId}'`);
    srv.sql(`INSERT INTO tasks (id, org_id, case_id, role, kind, title, due_date, urgent, created_at)
             SELECT '0190f000-0000-7000-8000-000000000001', org_id, id, 'supervisor', 'urgent', 'critical item', '${day(0)}', 1, '${now}'
             FROM cases WHERE id = '${S.caseId}'`);
    let c = await getCase(S.cw, S.caseId);
    assert.equal(c.urgent, true);
    const path = `/api/v1/cases/${S.caseId}/urgent/resolve`;
    assertProblem(await S.cw.post(path, { json: {} }), 422, 'action_required');
    assertProblem(await S.cw.post(path, { json: { action: '   ' } }), 422, 'action_required');
    // The urgent task cannot be closed without an outcome either.
    assertProblem(await S.sup.post('/api/v1/tasks/0190f000-0000-7000-8000-000000000001/done', { json: {} }), 422, 'action_required');
    const tasks = await S.sup.get('/api/v1/tasks');
    assert.ok(tasks.json.items.some((t) => t.id === '0190f000-0000-7000-8000-000000000001'), tasks.text);
    c = await getCase(S.cw, S.caseId);
    assert.equal(c.urgent, true, 'still urgent');
    const r = await S.cw.post(path, { json: { action: 'زيارة منزلية فورية وإحالة إلى الأخصائي' } });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.urgent, false);
    assert.equal(r.json.risk_level, 'high');
    assert.ok(r.json.events.some((e) => e.kind === 'urgent_resolved' && e.comment.startsWith('زيارة منزلية')));
    const done = srv.sql(`SELECT outcome FROM tasks WHERE id = '0190f000-0000-7000-8000-000000000001'`).trim();
    assert.equal(done, 'زيارة منزلية فورية وإحالة إلى الأخصائي');
    assertProblem(await S.cw.post(path, { json: { action: 'again' } }), 409, 'not_urgent');
});

test('another organization\'s case is not found', async () => {
    assertProblem(await S.other.get(`/api/v1/cases/${S.caseId}`), 404);
    assertProblem(await S.other.post(`/api/v1/cases/${S.caseId}/move`, { json: { stage: 'services' } }), 404);
    const list = await S.other.get('/api/v1/cases');
    assert.equal(list.status, 200, list.text);
    assert.equal(list.json.items.length, 0);
    assertProblem(await S.other.post('/api/v1/cases', { json: { child_id: S.child.id } }), 422);
});

test('stages switched off per organization: a new case starts at the plan', async () => {
    const { totp } = await enrolTotp(srv, 'main', 'admin', srv.adminPassword);
    const admin = await apiClient(srv, 'main', 'admin', srv.adminPassword, await freshTotp(totp));
    assertProblem(await S.sup.patch('/api/v1/case-settings', { json: { stages: 'plan' } }), 403);
    assertProblem(await admin.patch('/api/v1/case-settings', { json: { stages: 'plan triage' } }), 422);
    let r = await admin.patch('/api/v1/case-settings', { json: { stages: 'plan services follow_up' } });
    assert.equal(r.status, 204, r.text);
    const kid = await registerChild(S.cw, { first_name: 'ليلى', sex: 'F', family_name: 'الحسن', birth_date: '2016-07-01' });
    r = await S.cw.post('/api/v1/cases', { json: { child_id: kid.id } });
    assert.equal(r.status, 201, r.text);
    const c = await getCase(S.cw, r.json.id);
    assert.equal(c.stage, 'plan');
    assertProblem(await S.cw.post(`/api/v1/cases/${r.json.id}/assessment`, { json: assessment() }), 409, 'wrong_stage');
    S.planCaseId = r.json.id;
    r = await admin.patch('/api/v1/case-settings', { json: { stages: 'assessment plan services follow_up' } });
    assert.equal(r.status, 204, r.text);
});

// ---- pages ----

/** A cookie client logged in through the login page. */
async function pageClient(user) {
    const c = srv.client();
    const r = await pageLogin(c, 'main', user.username, user.password);
    assert.equal(r.status, 303, r.text);
    return c;
}

test('pages: open a case by file number, errors next to the fields, the assessment form', async (t) => {
    const cw = await pageClient(S.cwUser);
    const list = await cw.get('/cases');
    assert.equal(list.status, 200, 'GET /cases must be served');
    assert.match(list.text, /<html lang="ar" dir="rtl">/);
    const csrf = await csrfOf(cw, '/cases/new');
    let r = await cw.post('/cases', { form: { csrf, file_no: 'NO-SUCH-FILE' } });
    assert.equal(r.status, 422);
    assert.match(r.text, /id="f-file_no-error"/);
    assert.match(r.text, /aria-describedby="f-file_no-hint f-file_no-error"/);
    const kid = await registerChild(S.cw, { first_name: 'هدى', sex: 'F', family_name: 'الشامي', birth_date: '2012-01-09' });
    const form = await cw.get(`/cases/new?child_id=${kid.id}`);
    assert.equal(form.status, 200);
    assert.equal(inputValue(form.text, 'child_id'), kid.id);
    r = await cw.post('/cases', { form: { csrf, file_no: kid.file_no } });
    assert.equal(r.status, 303, r.text);
    const loc = r.headers.get('location');
    assert.match(loc, /^\/cases\/[0-9a-f-]{36}\?ok=flash\.case_opened$/);
    const id = loc.split('/')[2].split('?')[0];
    r = await cw.post('/cases', { form: { csrf, child_id: kid.id } });
    assert.equal(r.status, 409);
    assert.match(r.text, /child_id-error/);
    const page = await cw.get(`/cases/${id}`);
    assert.equal(page.status, 200);
    assert.match(page.text, /aria-current="step"/);
    assert.match(page.text, new RegExp(`href="/cases/${id}/assessment"`));
    assert.match(page.text, new RegExp(`href="/children/${kid.id}"`));
    // An assessment without the education rating and with a score out of the scale.
    const body = new URLSearchParams({ csrf, r_basic_needs: '2', r_health: '7', r_protection: '1', r_psychosocial: '2', r_family: '1', r_digital_access: '3', overall_risk: 'low', submit: '0' });
    body.append('risks', 'violence');
    body.append('risks', 'neglect');
    r = await cw.post(`/cases/${id}/assessment`, { body: body.toString(), type: 'application/x-www-form-urlencoded' });
    assert.equal(r.status, 422);
    assert.match(r.text, /id="f-r_education-error"/);
    assert.match(r.text, /id="f-r_health-error"/);
    assert.match(r.text, /value="neglect" checked/);
    body.set('r_education', '2');
    body.set('r_health', '1');
    body.set('notes', 'ملاحظات الزيارة');
    body.set('submit', '1');
    r = await cw.post(`/cases/${id}/assessment`, { body: body.toString(), type: 'application/x-www-form-urlencoded' });
    assert.equal(r.status, 303, r.text);
    const sup = await pageClient(S.supUser);
    const supCsrf = await csrfOf(sup, `/cases/${id}`);
    r = await sup.post(`/cases/${id}/decide`, { form: { csrf: supCsrf, decision: 'send_back', comment: '' } });
    assert.equal(r.status, 422);
    assert.match(r.text, /id="decide-error"/);
    r = await sup.post(`/cases/${id}/decide`, { form: { csrf: supCsrf, decision: 'approve' } });
    assert.equal(r.status, 303, r.text);
    // The plan form: without a goal the error stands at the goals.
    r = await cw.post(`/cases/${id}/plan`, { form: { csrf, g0_goal: '', submit: '1' } });
    assert.equal(r.status, 422);
    assert.match(r.text, /id="f-goals-error"/);
    r = await cw.post(`/cases/${id}/plan`, { form: { csrf, g1_goal: 'الانتظام في المدرسة', g1_a0_action: 'زيارة المدرسة', g1_a0_due: day(-3), submit: '1' } });
    assert.equal(r.status, 422);
    assert.match(r.text, /id="g0_a0_due-error"/, 'the row kept is shown first with its error');
    assert.match(r.text, /value="الانتظام في المدرسة"/);
    r = await cw.post(`/cases/${id}/plan`, { form: { csrf, g1_goal: 'الانتظام في المدرسة', g1_a0_action: 'زيارة المدرسة', g1_a0_due: day(3), submit: '1' } });
    assert.equal(r.status, 303, r.text);
    const notes = await cw.get(`/assessments/${'0'.repeat(8)}-0000-7000-8000-000000000000/notes`);
    assert.equal(notes.status, 403, 'a case worker cannot reach the notes page');
    const other = await cw.get('/cases/0190f000-0000-7000-8000-00000000ffff');
    assert.equal(other.status, 404);
    const tasks = await cw.get('/tasks');
    assert.equal(tasks.status, 200);
    const prov = await cw.post('/providers', { form: { csrf, name: '', kind: 'external' } });
    assert.equal(prov.status, 422);
    assert.match(prov.text, /id="p-name-error"/);
});
