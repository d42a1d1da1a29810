// lib.mjs: the harness of the end-to-end and browser tests.
//
// It starts the real binary (env SANAD_BIN) on a fresh database: SQLite in a
// temporary data folder, or, when env SANAD_TEST_PG holds the URL of a
// PostgreSQL maintenance database, a new database made for the server and
// dropped when it stops. It also has a small HTTP client with a cookie jar,
// RFC 6238 TOTP codes, and helpers to log in through the API and the pages.
import { spawn, spawnSync } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export const BIN = process.env.SANAD_BIN || new URL('../../build/release/sanad', import.meta.url).pathname;
export const PG = process.env.SANAD_TEST_PG || '';
export const SCREENSHOTS = process.env.SANAD_SCREENSHOTS || 'test-output/screenshots';

/** A password that passes the product's policy (long, random, not common). */
export function strongPassword() {
    return 'Pw-' + randomBytes(12).toString('base64url');
}

/** A short random lower-case suffix for names. */
export function rand(n = 8) {
    return randomBytes(n).toString('hex').slice(0, n);
}

/** The same libpq URL with another database name. */
export function pgUrlFor(base, dbname) {
    const u = new URL(base);
    u.pathname = '/' + dbname;
    return u.toString();
}

/** Runs psql on url with one SQL command; throws on failure; returns stdout. */
export function psql(url, sql) {
    const r = spawnSync('psql', [url, '-X', '-v', 'ON_ERROR_STOP=1', '-At', '-c', sql], { encoding: 'utf8' });
    if (r.status !== 0) {
        throw new Error(`psql failed (${r.status}): ${r.stderr}`);
    }
    return r.stdout;
}

/** Runs sqlite3 on a database file with one SQL command; throws on failure; returns stdout. */
export function sqlite(file, sql) {
    const r = spawnSync('sqlite3', [file, sql], { encoding: 'utf8' });
    if (r.status !== 0) {
        throw new Error(`sqlite3 failed (${r.status}): ${r.stderr}`);
    }
    return r.stdout;
}

/** Runs the binary synchronously: returns {code, stdout, stderr}. */
export function runBin(args, { input, env } = {}) {
    const r = spawnSync(BIN, args, {
        input: input ?? '',
        encoding: 'utf8',
        env: { ...process.env, ...(env || {}) },
        timeout: 60000,
    });
    return { code: r.status ?? `${r.signal || ''} ${r.error || ''}`, signal: r.signal, stdout: r.stdout || '', stderr: r.stderr || '' };
}

/** A running server on a fresh database. Use startServer() to make one. */
export class Server {
    constructor() {
        this.dir = '';        // the data folder
        this.dbUrl = '';      // the PostgreSQL URL, '' for SQLite
        this.dbName = '';     // the PostgreSQL database name
        this.url = '';        // http://127.0.0.1:PORT
        this.port = 0;
        this.proc = null;     // the serve child process
        this.stderr = '';     // what serve wrote to stderr so far
        this.stdout = '';
        this.env = {};        // extra environment for serve
        this.adminPassword = '';
        this.org = 'main';
        this.exited = null;   // promise of {code, signal}
        this.extraDbs = [];   // PostgreSQL databases made by copy(), dropped at stop
    }

    /** The --data (and --db) arguments for every command. */
    dbArgs() {
        return this.dbUrl ? ['--data', this.dir, '--db', this.dbUrl] : ['--data', this.dir];
    }

    /** Runs a CLI command against this server's database. */
    cli(args, opts = {}) {
        const [cmd, ...rest] = args;
        // Options go after the sub-command words ("user add --org ...").
        const words = [cmd];
        while (rest.length && !rest[0].startsWith('--')) {
            words.push(rest.shift());
        }
        return runBin([...words, ...this.dbArgs(), ...rest], { ...opts, env: { ...this.env, ...(opts.env || {}) } });
    }

    /** Adds a user with a password through the CLI; returns {username, password, id, org}. */
    addUser(org, username, role, password = strongPassword(), name = undefined) {
        const args = ['user', 'add', '--org', org, '--username', username, '--role', role, '--password-stdin'];
        if (name) {
            args.push('--name', name);
        }
        const r = this.cli(args, { input: password + '\n' });
        if (r.code !== 0) {
            throw new Error(`user add ${username} failed (${r.code}): ${r.stderr}`);
        }
        const m = /\(([0-9a-f-]{36})\)/.exec(r.stdout);
        return { org, username, password, role, id: m ? m[1] : '' };
    }

    /** Adds an organization through the CLI. */
    addOrg(slug, name) {
        const r = this.cli(['org', 'add', '--slug', slug, '--name', name]);
        if (r.code !== 0) {
            throw new Error(`org add ${slug} failed (${r.code}): ${r.stderr}`);
        }
        return slug;
    }

    /** `sanad audit verify` on this server's database (or another given by dbArgs). */
    auditVerify(dbArgs = this.dbArgs()) {
        return runBin(['audit', 'verify', ...dbArgs], { env: this.env });
    }

    /** Runs SQL on this server's database (sqlite3 or psql); returns stdout. */
    sql(statement, target = null) {
        if (this.dbUrl) {
            return psql(target || this.dbUrl, statement);
        }
        return sqlite(target || join(this.dir, 'sanad.db'), statement);
    }

    /** Copies the database (server stopped): returns {dbArgs, target} for auditVerify and sql. */
    copy(tag) {
        if (this.dbUrl) {
            const name = `${this.dbName}_${tag}`;
            psql(PG, `CREATE DATABASE ${name} TEMPLATE ${this.dbName}`);
            this.extraDbs.push(name);
            const url = pgUrlFor(PG, name);
            return { dbArgs: ['--data', this.dir, '--db', url], target: url };
        }
        const dir = join(this.dir, `copy-${tag}`);
        mkdirSync(dir);
        for (const f of ['sanad.db', 'sanad.db-wal', 'sanad.key']) {
            if (existsSync(join(this.dir, f))) {
                spawnSync('cp', [join(this.dir, f), join(dir, f)]);
            }
        }
        return { dbArgs: ['--data', dir], target: join(dir, 'sanad.db') };
    }

    /** The last lines of the server's stderr. */
    stderrTail(n = 30) {
        return this.stderr.split('\n').slice(-n).join('\n');
    }

    /** Stops the server with SIGTERM; throws when it did not exit 0 (ASan findings). */
    async stop() {
        let result = { code: 0, signal: null };
        if (this.proc && this.proc.exitCode === null && this.proc.signalCode === null) {
            this.proc.kill('SIGTERM');
            const timer = setTimeout(() => this.proc.kill('SIGKILL'), 20000);
            result = await this.exited;
            clearTimeout(timer);
        } else if (this.proc) {
            result = await this.exited;
        }
        this.proc = null;
        return result;
    }

    /** Stops the server and removes its data; throws when the exit was not clean. */
    async close() {
        const result = await this.stop();
        this.cleanup();
        if (result.code !== 0) {
            throw new Error(`server exited with ${result.code ?? result.signal}; stderr tail:\n${this.stderrTail()}`);
        }
    }

    /** Removes the data folder and drops the databases. */
    cleanup() {
        if (this.dbUrl) {
            for (const name of [...this.extraDbs, this.dbName]) {
                try {
                    psql(PG, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
                } catch (err) {
                    console.error(String(err));
                }
            }
            this.extraDbs = [];
        }
        if (this.dir && !process.env.SANAD_KEEP_DATA) {
            rmSync(this.dir, { recursive: true, force: true });
        }
    }

    /** A new HTTP client for this server. */
    client(opts = {}) {
        return new Client(this.url, opts);
    }
}

/**
 * Starts a server on a fresh database. Options: env (extra environment for
 * every command), org (slug of the first organization, default "main").
 * Returns a Server whose adminPassword logs in as "admin".
 */
export async function startServer({ env = {}, org = 'main' } = {}) {
    const s = new Server();
    s.env = { ...env };
    s.org = org;
    s.dir = mkdtempSync(join(tmpdir(), 'sanad-e2e-'));
    if (PG) {
        s.dbName = `sanad_e2e_${rand(10)}`;
        psql(PG, `CREATE DATABASE ${s.dbName}`);
        s.dbUrl = pgUrlFor(PG, s.dbName);
    }
    s.adminPassword = strongPassword();
    const init = runBin(['init', ...s.dbArgs(), '--org', org, '--admin-password-stdin'], {
        input: s.adminPassword + '\n',
        env: s.env,
    });
    if (init.code !== 0) {
        s.cleanup();
        throw new Error(`init failed (${init.code}): ${init.stderr}${init.stdout}`);
    }
    const portFile = join(s.dir, 'port');
    s.proc = spawn(BIN, ['serve', ...s.dbArgs(), '--listen', '127.0.0.1:0'], {
        env: { ...process.env, ...s.env, SANAD_PORT_FILE: portFile },
        stdio: ['ignore', 'pipe', 'pipe'],
    });
    s.proc.stderr.setEncoding('utf8');
    s.proc.stdout.setEncoding('utf8');
    s.proc.stderr.on('data', (d) => { s.stderr = (s.stderr + d).slice(-200000); });
    s.proc.stdout.on('data', (d) => { s.stdout = (s.stdout + d).slice(-200000); });
    s.exited = new Promise((resolve) => s.proc.on('exit', (code, signal) => resolve({ code, signal })));
    const deadline = Date.now() + 30000;
    for (;;) {
        if (s.proc.exitCode !== null || s.proc.signalCode !== null) {
            s.cleanup();
            throw new Error(`serve exited early (${s.proc.exitCode ?? s.proc.signalCode}):\n${s.stderrTail()}`);
        }
        if (existsSync(portFile)) {
            const text = readFileSync(portFile, 'utf8').trim();
            if (/^\d+$/.test(text)) {
                s.port = Number(text);
                s.url = `http://127.0.0.1:${s.port}`;
                try {
                    const r = await fetch(s.url + '/healthz');
                    if (r.status === 200) {
                        break;
                    }
                } catch {
                    // not listening yet
                }
            }
        }
        if (Date.now() > deadline) {
            await s.stop();
            s.cleanup();
            throw new Error(`serve did not come up in 30 s:\n${s.stderrTail()}`);
        }
        await sleep(50);
    }
    return s;
}

/** Parses one Set-Cookie header into {name, value, attrs (lower-case keys)}. */
export function parseSetCookie(line) {
    const parts = line.split(';').map((p) => p.trim());
    const [nv, ...rest] = parts;
    const eq = nv.indexOf('=');
    const attrs = {};
    for (const a of rest) {
        const i = a.indexOf('=');
        if (i < 0) {
            attrs[a.toLowerCase()] = true;
        } else {
            attrs[a.slice(0, i).toLowerCase()] = a.slice(i + 1);
        }
    }
    return { name: nv.slice(0, eq), value: nv.slice(eq + 1), attrs };
}

/** An HTTP client with a cookie jar; never follows redirects by itself. */
export class Client {
    constructor(base, { headers = {} } = {}) {
        this.base = base;
        this.cookies = new Map(); // name -> value
        this.headers = { ...headers };
        this.bearer = '';
    }

    /**
     * Sends a request. opts: json (object sent as JSON), form (object sent
     * url-encoded), body + type (raw), headers, bearer (token), cookies
     * (false to send none). Returns {status, headers, text, json, cookies}.
     */
    async req(method, path, opts = {}) {
        const headers = { ...this.headers, ...(opts.headers || {}) };
        let body;
        if (opts.json !== undefined) {
            body = JSON.stringify(opts.json);
            headers['Content-Type'] ??= 'application/json';
        } else if (opts.form !== undefined) {
            body = new URLSearchParams(opts.form).toString();
            headers['Content-Type'] ??= 'application/x-www-form-urlencoded';
        } else if (opts.body !== undefined) {
            body = opts.body;
            if (opts.type) {
                headers['Content-Type'] = opts.type;
            }
        }
        const bearer = opts.bearer ?? this.bearer;
        if (bearer) {
            headers.Authorization = `Bearer ${bearer}`;
        }
        if (opts.cookies !== false && this.cookies.size) {
            headers.Cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
        }
        const res = await fetch(this.base + path, { method, headers, body, redirect: 'manual' });
        const set = res.headers.getSetCookie();
        const cookies = set.map(parseSetCookie);
        for (const c of cookies) {
            if (c.attrs['max-age'] === '0' || c.value === '') {
                this.cookies.delete(c.name);
            } else {
                this.cookies.set(c.name, c.value);
            }
        }
        const buf = Buffer.from(await res.arrayBuffer());
        const text = buf.toString('utf8');
        let json;
        const ct = res.headers.get('content-type') || '';
        if (ct.includes('json') && text) {
            try {
                json = JSON.parse(text);
            } catch {
                json = undefined;
            }
        }
        return { status: res.status, headers: res.headers, text, json, cookies, raw: buf };
    }

    get(path, opts) { return this.req('GET', path, opts); }
    post(path, opts) { return this.req('POST', path, opts); }
    patch(path, opts) { return this.req('PATCH', path, opts); }
    del(path, opts) { return this.req('DELETE', path, opts); }
}

/** The value of <input name=NAME value=...> in html, or null. */
export function inputValue(html, name) {
    const re = new RegExp(`<input[^>]*name="${name}"[^>]*value="([^"]*)"`);
    const m = re.exec(html);
    return m ? decodeHtml(m[1]) : null;
}

/** Undoes the template engine's HTML escaping. */
export function decodeHtml(s) {
    return s.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&#x27;/g, "'").replace(/&lt;/g, '<')
        .replace(/&gt;/g, '>').replace(/&#x2F;/g, '/').replace(/&#47;/g, '/').replace(/&amp;/g, '&');
}

/** Logs in through the API; returns the response (json.token on success). */
export async function apiLogin(server, org, username, password, totp = undefined, headers = {}) {
    const json = { organization: org, username, password };
    if (totp !== undefined) {
        json.totp = totp;
    }
    return new Client(server.url).post('/api/v1/auth/login', { json, headers });
}

/** An API client logged in as the account (throws on failure). */
export async function apiClient(server, org, username, password, totp = undefined) {
    const r = await apiLogin(server, org, username, password, totp);
    if (r.status !== 200) {
        throw new Error(`login of ${org}/${username} failed: ${r.status} ${r.text}`);
    }
    const c = server.client();
    c.bearer = r.json.token;
    c.token = r.json.token;
    c.user = r.json.user;
    return c;
}

/** Logs a cookie client in through the login page; returns the POST /login response. */
export async function pageLogin(client, org, username, password) {
    const form = await client.get('/login');
    const pre = inputValue(form.text, 'pre');
    return client.post('/login', { form: { pre, next: '/', organization: org, username, password } });
}

/** The csrf field of a page fetched by client (from its layout's forms). */
export async function csrfOf(client, path = '/account') {
    const r = await client.get(path);
    return inputValue(r.text, 'csrf');
}

// ---- RFC 6238 TOTP ----

/** Decodes RFC 4648 base32 (spaces and padding ignored). */
export function base32Decode(s) {
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
    const clean = s.replace(/[\s=]/g, '').toUpperCase();
    let bits = 0;
    let value = 0;
    const out = [];
    for (const ch of clean) {
        const v = alphabet.indexOf(ch);
        if (v < 0) {
            throw new Error(`bad base32 character '${ch}'`);
        }
        value = (value << 5) | v;
        bits += 5;
        if (bits >= 8) {
            out.push((value >>> (bits - 8)) & 255);
            bits -= 8;
        }
    }
    return Buffer.from(out);
}

/** The HOTP value (RFC 4226) of key at counter, as a 6-digit string. */
export function hotp(key, counter, digits = 6) {
    const msg = Buffer.alloc(8);
    msg.writeBigUInt64BE(BigInt(counter));
    const h = createHmac('sha1', key).update(msg).digest();
    const off = h[h.length - 1] & 15;
    const bin = ((h[off] & 127) << 24) | (h[off + 1] << 16) | (h[off + 2] << 8) | h[off + 3];
    return String(bin % 10 ** digits).padStart(digits, '0');
}

/** The TOTP code (30 s steps, SHA-1, 6 digits) of a base32 secret at step. */
export function totpAt(secret, step) {
    return hotp(base32Decode(secret), step);
}

/** The current 30-second step. */
export function totpStep(nowMs = Date.now()) {
    return Math.floor(nowMs / 1000 / 30);
}

/**
 * A code the server will accept (one of steps now-1..now+1, newer than
 * state.last), marking it used in state ({secret, last}). Waits for the next
 * step when the window is used up or about to move.
 */
export async function freshTotp(state) {
    for (;;) {
        const now = Date.now();
        const step = totpStep(now);
        const intoStep = (now / 1000) % 30;
        // Near a step boundary, an older step may fall out of the window in transit.
        const low = intoStep > 27 ? step : step - 1;
        const candidate = Math.max(low, (state.last ?? -1) + 1);
        if (candidate <= step + 1 && !(candidate === step + 1 && intoStep < 1)) {
            state.last = candidate;
            return totpAt(state.secret, candidate);
        }
        await sleep(1000);
    }
}

/** Asserts-friendly problem check: returns a string describing what is wrong, or ''. */
export function problemShape(r) {
    const ct = r.headers.get('content-type') || '';
    if (!ct.startsWith('application/problem+json')) {
        return `content-type ${ct}`;
    }
    const j = r.json;
    if (!j || typeof j.type !== 'string' || typeof j.title !== 'string' || j.status !== r.status ||
        typeof j.code !== 'string') {
        return `body ${r.text}`;
    }
    return '';
}

/** The TOTP secret shown on the enrolment page (grouped in fours), without spaces, or null. */
export function secretOf(html) {
    const m = /<code[^>]*class="secret"[^>]*>([A-Z2-7 ]+)<\/code>/.exec(html);
    return m ? m[1].replace(/\s/g, '') : null;
}

/**
 * Enrols a second factor for an account through the pages: logs a cookie
 * client in, starts enrolment, reads the secret and confirms with a code.
 * Returns {client (logged in, second factor done), totp: {secret, last}}.
 */
export async function enrolTotp(server, org, username, password) {
    const c = server.client();
    const login = await pageLogin(c, org, username, password);
    if (login.status !== 303) {
        throw new Error(`page login of ${org}/${username}: ${login.status}`);
    }
    const csrf = await csrfOf(c, '/account/totp');
    const start = await c.post('/account/totp/start', { form: { csrf } });
    const secret = secretOf(start.text);
    if (start.status !== 200 || !secret) {
        throw new Error(`totp start: ${start.status}`);
    }
    const totp = { secret, last: -1 };
    const confirm = await c.post('/account/totp/confirm', { form: { csrf, code: await freshTotp(totp) } });
    if (confirm.status !== 303) {
        throw new Error(`totp confirm: ${confirm.status} ${confirm.text.slice(0, 300)}`);
    }
    return { client: c, totp, csrf };
}
