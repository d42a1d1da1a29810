// End-to-end tests of `sanad match dedup | encode | link | explain` on small
// files: the exact CLI contract of issue 5 (columns, files, exit codes,
// errors that name the row and leave no partial output behind).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, readFileSync, existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const BIN = process.env.SANAD_BIN || 'build/release/sanad';
const HEADER = 'record_id,first_name,father_name,grandfather_name,family_name,mother_name,sex,birth_date,birth_place';
const ROWS = [
  'a1,أحمد,محمد,علي,الخطيب,فاطمة,M,2012-03-04,حلب',
  'a2,أحمـد,مُحمد,علي,خطيب,فاطمه الحسن,M,2012-04-03,',
  'a3,محمد,احمد,علي,الخطيب,فاطمة,M,2012-03-04,حلب',
  'b1,يوسف,محمد,علي,الخطيب,فاطمة,M,2014-08-10,حلب',
  'c1,مريم,محمد,علي,الخطيب,فاطمة,F,2012-03-04,حلب',
  'd1,Sara,Khaled,Omar,Al-Masri,Huda,F,2010-01-01,Amman',
];

function dir() {
  return mkdtempSync(join(tmpdir(), 'sanad-match-'));
}

function run(args) {
  const r = spawnSync(BIN, ['match', ...args], { encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

function readCsv(path) {
  const lines = readFileSync(path, 'utf8').trim().split('\n');
  return { header: lines[0], rows: lines.slice(1).map((l) => l.split(',')) };
}

function write(d, name, text) {
  const p = join(d, name);
  writeFileSync(p, text);
  return p;
}

test('dedup writes one cluster row per record and keeps siblings and twins apart', () => {
  const d = dir();
  const input = write(d, 'in.csv', [HEADER, ...ROWS].join('\n') + '\n');
  const r = run(['dedup', input, '--clusters', join(d, 'clusters.csv'), '--pairs', join(d, 'pairs.csv'), '--threads', '2']);
  assert.equal(r.code, 0, r.err);
  assert.match(r.err, /6 records, \d+ candidate pairs/);
  const c = readCsv(join(d, 'clusters.csv'));
  assert.equal(c.header, 'record_id,cluster_id');
  assert.equal(c.rows.length, 6);
  const cl = Object.fromEntries(c.rows);
  assert.equal(cl.a1, cl.a2);
  assert.equal(cl.a1, cl.a3);
  assert.notEqual(cl.a1, cl.b1);
  assert.notEqual(cl.a1, cl.c1);
  assert.equal(cl.d1, 'd1');
  const p = readCsv(join(d, 'pairs.csv'));
  assert.equal(p.header, 'record_id_a,record_id_b,score');
  assert.ok(p.rows.some(([x, y]) => (x === 'a1' && y === 'a2') || (x === 'a2' && y === 'a1')));
  for (const [, , s] of p.rows) assert.ok(Number.isFinite(Number(s)));
});

test('dedup ignores unknown columns with a note and accepts a partial header', () => {
  const d = dir();
  const input = write(d, 'in.csv', 'record_id,first_name,family_name,notes\n1,سارة,الخطيب,x\n2,ساره,خطيب,y\n');
  const r = run(['dedup', input, '--clusters', join(d, 'c.csv')]);
  assert.equal(r.code, 0, r.err);
  assert.match(r.err, /ignoring column 'notes'/);
  assert.equal(readCsv(join(d, 'c.csv')).rows.length, 2);
});

const BAD = [
  ['an empty file', '', /empty file/],
  ['a missing header', 'x,y\n1,2\n', /missing header/],
  ['no name column', 'record_id,sex\n1,M\n', /no name column/],
  ['a ragged row', `${HEADER}\n${ROWS[0]}\n1,2,3\n`, /row 3: 3 fields, the header has 9/],
  ['invalid UTF-8', Buffer.concat([Buffer.from(`${HEADER}\nx1,`), Buffer.from([0xff, 0xfe]), Buffer.from(',a,b,c,d,M,,\n')]), /row 2: invalid UTF-8 in column 'first_name'/],
  ['a 1 MB name', `${HEADER}\nx1,${'م'.repeat(512 * 1024)},a,b,c,d,M,,\n`, /row 2: value too long in column 'first_name'/],
  ['duplicate record ids', `${HEADER}\n${ROWS[0]}\n${ROWS[0]}\n`, /row 3: duplicate record_id 'a1'/],
  ['a bad date', `${HEADER}\nx1,a,b,c,d,e,M,2012-02-30,\n`, /row 2: .*birth_date/],
];

for (const [what, text, msg] of BAD) {
  test(`dedup refuses ${what}, exits non-zero and leaves no output`, () => {
    const d = dir();
    const input = write(d, 'in.csv', text);
    const out = join(d, 'clusters.csv');
    const r = run(['dedup', input, '--clusters', out, '--pairs', join(d, 'pairs.csv')]);
    assert.notEqual(r.code, 0);
    assert.match(r.err, msg);
    assert.match(r.err, /^sanad match: [a-z'"]/);
    assert.ok(!r.err.trim().endsWith('.'), 'no full stop');
    assert.ok(!existsSync(out));
    assert.deepEqual(readdirSync(d).sort(), ['in.csv']);
  });
}

test('dedup usage errors exit 2', () => {
  assert.equal(run(['dedup']).code, 2);
  assert.equal(run(['dedup', 'x.csv']).code, 2);
  assert.equal(run(['nosuch']).code, 2);
});

test('encode writes only record_id and a base64 encoding; link pairs across files', () => {
  const d = dir();
  const key = write(d, 'key', Buffer.alloc(32, 7));
  const a = write(d, 'a.csv', [HEADER, ROWS[0], ROWS[3], ROWS[5]].join('\n') + '\n');
  const b = write(d, 'b.csv', [HEADER, ROWS[1].replace('a2', 'x2'), ROWS[4].replace('c1', 'y4')].join('\n') + '\n');
  let r = run(['encode', a, '--secret-file', key, '--out', join(d, 'ea.csv')]);
  assert.equal(r.code, 0, r.err);
  r = run(['encode', b, '--secret-file', key, '--out', join(d, 'eb.csv')]);
  assert.equal(r.code, 0, r.err);
  const ea = readCsv(join(d, 'ea.csv'));
  assert.equal(ea.header, 'record_id,encoding');
  assert.equal(ea.rows.length, 3);
  for (const row of ea.rows) {
    assert.equal(row.length, 2);
    assert.match(row[1], /^[A-Za-z0-9+/]{171}=$/);
  }
  const text = readFileSync(join(d, 'ea.csv'), 'utf8');
  assert.ok(!/[\u0600-\u06ff]|Sara|Khaled/.test(text), 'no plaintext leaves the encoding step');
  // same input and key: the same encoding
  r = run(['encode', a, '--secret-file', key, '--out', join(d, 'ea2.csv')]);
  assert.equal(readFileSync(join(d, 'ea2.csv'), 'utf8'), text);
  // another key: another encoding
  const key2 = write(d, 'key2', Buffer.alloc(32, 9));
  r = run(['encode', a, '--secret-file', key2, '--out', join(d, 'ea3.csv')]);
  assert.notEqual(readFileSync(join(d, 'ea3.csv'), 'utf8'), text);
  r = run(['link', join(d, 'ea.csv'), join(d, 'eb.csv'), '--pairs', join(d, 'links.csv'), '--threshold', '0.7']);
  assert.equal(r.code, 0, r.err);
  const l = readCsv(join(d, 'links.csv'));
  assert.equal(l.header, 'record_id_a,record_id_b,score');
  assert.ok(l.rows.some(([x, y]) => x === 'a1' && y === 'x2'), JSON.stringify(l.rows));
  const seenA = new Set(l.rows.map((x) => x[0]));
  const seenB = new Set(l.rows.map((x) => x[1]));
  assert.equal(seenA.size, l.rows.length);
  assert.equal(seenB.size, l.rows.length);
});

test('encode refuses a short secret and leaves no output', () => {
  const d = dir();
  const key = write(d, 'key', Buffer.alloc(16, 1));
  const a = write(d, 'a.csv', [HEADER, ROWS[0]].join('\n') + '\n');
  const r = run(['encode', a, '--secret-file', key, '--out', join(d, 'ea.csv')]);
  assert.notEqual(r.code, 0);
  assert.match(r.err, /too short \(16 bytes/);
  assert.ok(!existsSync(join(d, 'ea.csv')));
});

test('link refuses a broken encoding naming the row', () => {
  const d = dir();
  const e = write(d, 'e.csv', 'record_id,encoding\n1,abc\n');
  const r = run(['link', e, e, '--pairs', join(d, 'p.csv')]);
  assert.notEqual(r.code, 0);
  assert.match(r.err, /'e.csv' row 2: invalid value in column 'encoding'/);
  assert.ok(!existsSync(join(d, 'p.csv')));
});

test('explain prints the field-by-field reasoning', () => {
  const d = dir();
  const input = write(d, 'in.csv', [HEADER, ...ROWS].join('\n') + '\n');
  let r = run(['explain', input, 'a1', 'c1']);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /first_name/);
  assert.match(r.out, /birth_date/);
  assert.match(r.out, /different children/);
  r = run(['explain', input, 'a1', 'a3']);
  assert.match(r.out, /swapped/);
  assert.match(r.out, /same child/);
  r = run(['explain', input, 'a1', 'zz']);
  assert.notEqual(r.code, 0);
  assert.match(r.err, /no record with record_id 'zz'/);
});

test('link finds the same children across two organizations from encodings alone', () => {
  const d = dir();
  let r = run(['gen', '--records', '3000', '--seed', '21', '--out', join(d, 'g.csv'), '--truth', join(d, 't.csv')]);
  assert.equal(r.code, 0, r.err);
  const g = readFileSync(join(d, 'g.csv'), 'utf8').trim().split('\n');
  const ent = new Map(readCsv(join(d, 't.csv')).rows.map(([id, e]) => [id, e]));
  // one record of each child to A, another (if any) to B
  const seen = new Map();
  const a = [g[0]];
  const b = [g[0]];
  const truth = new Set();
  for (const line of g.slice(1)) {
    const id = line.slice(0, line.indexOf(','));
    const e = ent.get(id);
    if (!seen.has(e)) {
      seen.set(e, id);
      a.push(line);
    } else if (seen.get(e) !== null) {
      b.push(line);
      truth.add(`${seen.get(e)} ${id}`);
      seen.set(e, null);
    }
  }
  write(d, 'a.csv', a.join('\n') + '\n');
  write(d, 'b.csv', b.join('\n') + '\n');
  const key = write(d, 'key', Buffer.alloc(32, 3));
  for (const side of ['a', 'b']) {
    r = run(['encode', join(d, `${side}.csv`), '--secret-file', key, '--out', join(d, `e${side}.csv`)]);
    assert.equal(r.code, 0, r.err);
  }
  r = run(['link', join(d, 'ea.csv'), join(d, 'eb.csv'), '--pairs', join(d, 'p.csv')]);
  assert.equal(r.code, 0, r.err);
  assert.match(r.err, /candidate pairs/);
  const p = readCsv(join(d, 'p.csv'));
  assert.equal(p.header, 'record_id_a,record_id_b,score');
  let correct = 0;
  for (const [x, y, s] of p.rows) {
    const score = Number(s);
    assert.ok(score >= 0.5 && score <= 1, `score ${s} is a probability at or above the threshold`);
    correct += truth.has(`${x} ${y}`) ? 1 : 0;
  }
  const precision = correct / p.rows.length;
  const recall = correct / truth.size;
  assert.ok(precision > 0.97, `precision ${precision}`);
  assert.ok(recall > 0.85, `recall ${recall}`);
  // a stricter threshold keeps fewer pairs
  r = run(['link', join(d, 'ea.csv'), join(d, 'eb.csv'), '--pairs', join(d, 'p2.csv'), '--threshold', '0.999']);
  assert.equal(r.code, 0, r.err);
  assert.ok(readCsv(join(d, 'p2.csv')).rows.length <= p.rows.length);
  // the threshold is a probability
  r = run(['link', join(d, 'ea.csv'), join(d, 'eb.csv'), '--pairs', join(d, 'p3.csv'), '--threshold', '1.5']);
  assert.equal(r.code, 2);
  assert.ok(!existsSync(join(d, 'p3.csv')));
});
