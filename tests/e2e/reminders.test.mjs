// reminders.test.mjs: the daily digest by e-mail, end to end: a real SMTP
// sink on loopback, `sanad remind` (and the serve thread with a 1 s interval)
// sending through it, once per user and day, with an encoded Arabic subject,
// a base64 UTF-8 body, and no child's family name.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { spawn } from 'node:child_process';
import { startServer, apiClient, rand, BIN } from './lib.mjs';
import { startSmtpSink, parseMessage, decodeWords } from './smtp_sink.mjs';


/** Runs `sanad ARGS` without blocking the event loop (the sink lives in this
 * process and must answer while the command sends). Resolves {code, stdout, stderr}. */
function cliAsync(server, args) {
    return new Promise((resolve) => {
        const p = spawn(BIN, [...args, ...server.dbArgs()], { env: { ...process.env, ...server.env } });
        let stdout = '';
        let stderr = '';
        p.stdout.on('data', (d) => { stdout += d; });
        p.stderr.on('data', (d) => { stderr += d; });
        p.on('exit', (code) => resolve({ code, stdout, stderr }));
    });
}

/** A worker with an address, a child, an overdue case and a session today. */
async function seed(server, lang) {
    const w = server.addUser(server.org, `w${rand(6)}`, 'case_worker');
    server.sql(`UPDATE users SET email = '${w.username}@example.org', lang = '${lang}' WHERE id = '${w.id}'`);
    const api = await apiClient(server, server.org, w.username, w.password);
    const r = await api.post('/api/v1/children', {
        json: {
            first_name: 'سارة', father_name: 'محمد', grandfather_name: 'علي', family_name: 'الخطيب',
            sex: 'F', birth_date: '2016-03-10', orphan_status: 'father_deceased',
        },
    });
    assert.equal(r.status, 201, r.text);
    const child = r.json.id;
    const today = new Date().toISOString().slice(0, 10);
    const caseId = `0190${rand(4)}-0000-7000-8000-${rand(12)}`;
    const now = new Date().toISOString();
    server.sql(`INSERT INTO cases (id, org_id, child_id, case_no, worker_id, stage, status, risk_level, urgent,
        next_contact, opened_at, updated_at) SELECT '${caseId}', org_id, '${child}', 'C-2030-00042', '${w.id}',
        'services', 'open', 'medium', 0, '2020-01-01', '${now}', '${now}' FROM users WHERE id = '${w.id}'`);
    server.sql(`INSERT INTO sessions_care (id, org_id, case_id, worker_id, kind, mode, starts_at, ends_at, status,
        created_by, created_at, updated_at) SELECT '${caseId.replace('7000', '7001')}', org_id, '${caseId}', '${w.id}',
        'individual', 'video', '${today}T23:00:00.000Z', '${today}T23:30:00.000Z', 'scheduled', '${w.id}', '${now}',
        '${now}' FROM users WHERE id = '${w.id}'`);
    return { w, today };
}

test('sanad remind sends one digest per worker and day through SMTP', async () => {
    const sink = await startSmtpSink();
    const server = await startServer({ env: { SANAD_SMTP_URL: sink.url, SANAD_SMTP_FROM: 'sanad@example.org' } });
    try {
        const { w, today } = await seed(server, 'ar');
        const dry = await cliAsync(server, ['remind', '--dry-run']);
        assert.equal(dry.code, 0, dry.stderr);
        assert.equal(sink.messages.length, 0, 'a dry run sends nothing');
        const first = await cliAsync(server, ['remind']);
        assert.equal(first.code, 0, first.stderr);
        const mine = () => sink.messages.filter((m) => m.to.includes(`${w.username}@example.org`));
        assert.equal(mine().length, 1);
        const second = await cliAsync(server, ['remind']);
        assert.equal(second.code, 0, second.stderr);
        assert.equal(mine().length, 1, 'sent once per day, even across runs');
        const m = mine()[0];
        assert.equal(m.from, 'sanad@example.org');
        assert.ok(!/[^\r]\n/.test(m.data), 'CRLF line ends only');
        const { headers, body } = parseMessage(m.data);
        assert.match(headers.subject, /^=\?UTF-8\?B\?/);
        const subject = decodeWords(headers.subject);
        assert.ok(subject.includes('سند') && subject.includes(today), subject);
        assert.equal(headers['content-type'], 'text/plain; charset=utf-8');
        assert.equal(headers['mime-version'], '1.0');
        assert.match(headers['message-id'], /^<[^@]+@example\.org>$/);
        assert.ok(headers.date);
        assert.ok(body.includes('C-2030-00042 سارة'), body);
        assert.ok(!body.includes('الخطيب'), 'no family name in e-mail');
        assert.ok(!body.includes('محمد'), 'no father name in e-mail');
    } finally {
        await server.close();
        await sink.close();
    }
});

test('the serve thread sends the digest when the hour has passed', async () => {
    const sink = await startSmtpSink();
    const server = await startServer({
        env: {
            SANAD_SMTP_URL: sink.url, SANAD_SMTP_FROM: 'sanad@example.org',
            SANAD_REMINDER_HOUR: '0', SANAD_REMINDER_INTERVAL_SECONDS: '1',
        },
    });
    try {
        const { w } = await seed(server, 'en');
        const deadline = Date.now() + 15000;
        const mine = () => sink.messages.filter((m) => m.to.includes(`${w.username}@example.org`));
        while (!mine().length && Date.now() < deadline) {
            await sleep(200);
        }
        assert.equal(mine().length, 1, server.stderrTail());
        await sleep(2500); // two more rounds
        assert.equal(mine().length, 1, 'still once');
        const { headers, body } = parseMessage(mine()[0].data);
        assert.match(decodeWords(headers.subject), /^Sanad: your day, \d{4}-\d\d-\d\d$/);
        assert.ok(body.startsWith('Hello '), body);
        assert.ok(!body.includes('الخطيب'));
    } finally {
        await server.close();
        await sink.close();
    }
});
