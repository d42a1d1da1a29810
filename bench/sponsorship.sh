#!/usr/bin/env bash
# bench/sponsorship.sh: the sponsorship cycle's speed goals (issue 6, "Speed"):
# with BENCH_AGREEMENTS active agreements (default 100,000) on SQLite,
#
#   generating a month's dues               < 10 s   (POST /api/v1/sponsorship/dues/generate)
#   allocating a month's payments           < 10 s   (POST /api/v1/payments/allocate-advances)
#
# The cycle's other two goals are measured by their own benchmarks on data
# shaped for them: the month's disbursement list (< 10 s) by bench/disburse.sh,
# a sponsor's statement (< 50 ms at p95) by bench/statement.sh.
#
# The data is made with bulk SQL through sqlite3 (children, donors, agreements
# starting on every day 1..28 of last month, and, after the dues, one
# payment per agreement left unallocated); the timed work goes through the
# real server's API. Beside each figure it prints a baseline measured in the
# same run on the same database: sqlite3 inserting the same number of rows of
# the same shape with one INSERT ... SELECT (the storage floor of this
# machine), so a slow disk or a busy machine shows in both. It also times
# BENCH_PAYMENTS payments (default 1,000) recorded one by one through the API
# (receipt, entry, allocation each), for the per-payment cost.
#
# Figures are information, never assertions: a missed goal prints "goal
# missed" and the script still exits 0; it exits non-zero only when it cannot
# measure. Environment: SANAD_BIN (default build/release/sanad),
# BENCH_AGREEMENTS, BENCH_PAYMENTS, BENCH_KEEP (1 keeps the folder).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
bin=${SANAD_BIN:-$root/build/release/sanad}
n=${BENCH_AGREEMENTS:-100000}
n_pay=${BENCH_PAYMENTS:-1000}

die() { echo "bench/sponsorship: $*" >&2; exit 1; }

[ -x "$bin" ] || die "no sanad binary at '$bin' (run make, or set SANAD_BIN)"
for tool in sqlite3 curl python3; do
    command -v "$tool" >/dev/null 2>&1 || die "'$tool' is not installed"
done
case "$n" in '' | *[!0-9]*) die "'BENCH_AGREEMENTS' must be a whole number" ;; esac
case "$n_pay" in '' | *[!0-9]*) die "'BENCH_PAYMENTS' must be a whole number" ;; esac

tmp=$(mktemp -d /tmp/sanad-bench-sp.XXXXXX)
sanad_pid=""
cleanup() {
    if [ -n "$sanad_pid" ]; then
        kill "$sanad_pid" 2>/dev/null || true
        wait "$sanad_pid" 2>/dev/null || true
    fi
    if [ "${BENCH_KEEP:-0}" = 1 ]; then
        echo "bench/sponsorship: kept '$tmp'" >&2
    else
        rm -rf "$tmp"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

data=$tmp/data
db=$data/sanad.db

# now_ms: milliseconds since the epoch.
now_ms() { date +%s%3N; }

# secs MS: milliseconds as seconds with two decimals.
secs() { awk -v v="$1" 'BEGIN { printf "%.2f", v / 1000 }'; }

# verdict MS GOAL_MS: "goal met" or "goal missed".
verdict() { if [ "$1" -lt "$2" ]; then echo "goal met"; else echo "goal missed"; fi; }

# print_row WHAT MS BASELINE_MS GOAL_MS: one line of the table.
print_row() {
    local base="-"
    [ "$3" != "-" ] && base="$(secs "$3") s"
    printf '%-46s %10s %16s   < %s s: %s\n' "$1" "$(secs "$2") s" "$base" "$(secs "$4")" \
        "$(verdict "$2" "$4")"
}

# api METHOD PATH [JSON]: calls the API with the bench token; prints the body.
api() {
    curl -fsS -X "$1" -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
        ${3:+--data-binary "$3"} "$base$2"
}

echo "bench/sponsorship: $n agreements, SQLite, $(nproc) cores, $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)"
load=$(cut -d' ' -f1 /proc/loadavg)
if awk -v l="$load" 'BEGIN { exit !(l >= 0.5) }'; then
    echo "bench/sponsorship: note: load average is $load before the run: other work shares the cores"
fi

# ---- the organization and a finance officer ------------------------------
printf 'bench admin password %s\n' "$RANDOM$RANDOM" |
    "$bin" init --data "$data" --admin-password-stdin >"$tmp/init.log" 2>&1 ||
    die "sanad init failed: $(cat "$tmp/init.log")"
pw="bench password $RANDOM$RANDOM"
printf '%s\n' "$pw" |
    "$bin" user add --data "$data" --org main --username fin --role finance_officer \
        --password-stdin >>"$tmp/init.log" 2>&1 || die "user add failed: $(cat "$tmp/init.log")"
org=$(sqlite3 "$db" "SELECT id FROM organizations WHERE slug = 'main'")
[ -n "$org" ] || die "no organization 'main'"

# Last month: agreements start on its days 1..28 (and are billed through its last day).
month=$(date -u -d "$(date -u +%Y-%m-01) -1 month" +%Y-%m)
through=$(date -u -d "$(date -u +%Y-%m-01) -1 day" +%F)
year=${month%-*}

# ---- data: children, donors (one payer for about 1.6 agreements), agreements
t0=$(now_ms)
n_donors=$(( (n * 5 + 7) / 8 ))
sqlite3 "$db" <<SQL >/dev/null || die "could not make the data"
PRAGMA journal_mode = WAL;
PRAGMA synchronous = NORMAL;
BEGIN;
WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < $n)
INSERT INTO children (id, org_id, file_no, first_name, father_name, family_name, sex, birth_date,
    orphan_status, status, sponsored, created_by, created_at, updated_at)
SELECT printf('00000000-0000-7000-8001-%012d', i), '$org', printf('B-%07d', i), 'طفل', 'محمد',
    'الخطيب', CASE i % 2 WHEN 0 THEN 'F' ELSE 'M' END, '2014-05-01', 'father_deceased', 'active',
    1, 'bench', '2025-01-01T00:00:00.000Z', '2025-01-01T00:00:00.000Z' FROM k;
WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < $n_donors)
INSERT INTO donors (id, org_id, donor_no, kind, name, created_by, created_at, updated_at)
SELECT printf('00000000-0000-7000-8002-%012d', i), '$org', printf('D-%06d', i), 'person',
    printf('Sponsor %d', i), 'bench', '2025-01-01T00:00:00.000Z', '2025-01-01T00:00:00.000Z' FROM k;
WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < $n)
INSERT INTO sponsorships (id, org_id, agreement_no, child_id, donor_id, payer_id, amount, currency,
    frequency, purpose, start_date, status, next_due, created_by, created_at, updated_at)
SELECT printf('00000000-0000-7000-8003-%012d', i), '$org', printf('S-$year-%06d', i),
    printf('00000000-0000-7000-8001-%012d', i),
    printf('00000000-0000-7000-8002-%012d', (i % $n_donors) + 1),
    printf('00000000-0000-7000-8002-%012d', (i % $n_donors) + 1),
    5000 + (i % 5) * 1000, 'USD', 'monthly',
    CASE i % 10 WHEN 0 THEN 'education' WHEN 1 THEN 'medical' ELSE 'general' END,
    printf('$month-%02d', (i % 28) + 1), 'active', printf('$month-%02d', (i % 28) + 1),
    'bench', '2025-01-01T00:00:00.000Z', '2025-01-01T00:00:00.000Z' FROM k;
COMMIT;
SQL
echo "data: $n children, $n_donors donors, $n agreements in $(secs $(( $(now_ms) - t0 ))) s"

# ---- the server ------------------------------------------------------------
SANAD_PORT_FILE=$tmp/port "$bin" serve --data "$data" --listen 127.0.0.1:0 2>"$tmp/sanad.log" &
sanad_pid=$!
for _ in $(seq 1 100); do
    [ -s "$tmp/port" ] && break
    kill -0 "$sanad_pid" 2>/dev/null || die "sanad serve exited: $(tail -n 5 "$tmp/sanad.log")"
    sleep 0.1
done
[ -s "$tmp/port" ] || die "sanad serve wrote no port file"
base=http://127.0.0.1:$(cat "$tmp/port")
body=$(python3 -c 'import json, sys; print(json.dumps({"organization": "main",
    "username": "fin", "password": sys.argv[1]}))' "$pw")
token=$(curl -fsS -H 'Content-Type: application/json' --data-binary "$body" \
    "$base/api/v1/auth/login" | python3 -c 'import json, sys; print(json.load(sys.stdin)["token"])') ||
    die "login as 'fin' failed"

# ---- baseline: the storage floor, one INSERT ... SELECT of rows of the same shape
# (a due and its two journal lines per agreement), in a scratch table of the
# same database, then dropped.
baseline() {
    local t
    t=$(now_ms)
    sqlite3 "$db" <<SQL >/dev/null || die "baseline failed"
PRAGMA busy_timeout = 10000;
CREATE TABLE bench_floor AS SELECT * FROM sponsorship_dues WHERE 0;
CREATE TABLE bench_floor_lines AS SELECT * FROM journal_lines WHERE 0;
BEGIN;
INSERT INTO bench_floor SELECT printf('f-%s', id), org_id, id, donor_id, payer_id, child_id,
    next_due, next_due, next_due, amount, currency, 'sponsorship', 0, 'open', NULL, 'x'
    FROM sponsorships WHERE org_id = '$org';
INSERT INTO bench_floor_lines SELECT printf('l1-%s', id), id, org_id, 1, '1100', 'sponsorship',
    currency, amount, amount, next_due, payer_id, child_id, id, NULL FROM sponsorships
    WHERE org_id = '$org';
INSERT INTO bench_floor_lines SELECT printf('l2-%s', id), id, org_id, 2, '4000', 'sponsorship',
    currency, -amount, -amount, next_due, payer_id, child_id, id, NULL FROM sponsorships
    WHERE org_id = '$org';
COMMIT;
DROP TABLE bench_floor;
DROP TABLE bench_floor_lines;
SQL
    echo $(( $(now_ms) - t ))
}

# ---- 1. a month's dues ----------------------------------------------------
base_dues=$(baseline)
t=$(now_ms)
out=$(api POST /api/v1/sponsorship/dues/generate "{\"through\": \"$through\"}") ||
    die "dues generation failed: $(tail -n 5 "$tmp/sanad.log")"
ms_dues=$(( $(now_ms) - t ))
made=$(printf '%s' "$out" | python3 -c 'import json, sys; print(json.load(sys.stdin)["dues"])')
[ "$made" = "$n" ] || die "expected $n dues, the server made $made: $out"
t=$(now_ms)
again=$(api POST /api/v1/sponsorship/dues/generate "{\"through\": \"$through\"}" |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["dues"])')
ms_again=$(( $(now_ms) - t ))
[ "$again" = 0 ] || die "a second run made $again dues"

# ---- 2. a month's payments: one per agreement, recorded by SQL as unallocated
# advances (no receipts or entries: only the allocation is timed), then
# allocated by the server to the month's dues, oldest first.
sqlite3 "$db" <<SQL >/dev/null || die "could not make the payments"
PRAGMA busy_timeout = 10000;
BEGIN;
INSERT INTO payments (id, org_id, payment_no, donor_id, amount, fee, currency, method,
    received_on, unallocated, status, created_by, created_at)
SELECT printf('00000000-0000-7000-8004-%012d', ROW_NUMBER() OVER (ORDER BY id)), org_id,
    printf('P-$year-B%07d', ROW_NUMBER() OVER (ORDER BY id)), payer_id, amount, 0, currency,
    'bank_transfer', '$through', amount, 'recorded', 'bench', '2025-01-01T00:00:00.000Z'
    FROM sponsorships WHERE org_id = '$org';
COMMIT;
SQL
base_alloc=$(baseline)
t=$(now_ms)
out=$(api POST /api/v1/payments/allocate-advances '{}') ||
    die "allocation failed: $(tail -n 5 "$tmp/sanad.log")"
ms_alloc=$(( $(now_ms) - t ))
allocated=$(printf '%s' "$out" | python3 -c 'import json, sys; print(json.load(sys.stdin)["allocations"])')
open=$(sqlite3 "$db" "SELECT COUNT(*) FROM sponsorship_dues WHERE org_id = '$org' AND status <> 'paid'")

# ---- 3. payments one by one through the API (receipt, entry, allocation each)
ms_each=$(python3 - "$base" "$token" "$n_pay" "$n_donors" "$through" <<'PY'
import http.client, json, sys, time, urllib.parse
base, token, n, donors, day = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
u = urllib.parse.urlparse(base)
c = http.client.HTTPConnection(u.hostname, u.port)
h = {"Authorization": "Bearer " + token, "Content-Type": "application/json"}
t = time.monotonic()
for i in range(n):
    body = json.dumps({"donor_id": "D-%06d" % (i % donors + 1), "amount": "10.00", "currency": "USD",
                       "method": "cash", "received_on": day})
    c.request("POST", "/api/v1/payments", body, h)
    r = c.getresponse()
    r.read()
    if r.status != 201:
        sys.exit("payment %d: %d" % (i, r.status))
print(int((time.monotonic() - t) * 1000))
PY
) || die "recording payments through the API failed"

# ---- the table ---------------------------------------------------------------
echo
printf '%-46s %10s %16s   %s\n' "what ($n agreements)" "time" "baseline (floor)" "goal"
print_row "generate a month's dues ($made)" "$ms_dues" "$base_dues" 10000
print_row "generate again (nothing to do)" "$ms_again" - 10000
print_row "allocate a month's payments ($allocated)" "$ms_alloc" "$base_alloc" 10000
per=$(awk -v m="$ms_each" -v k="$n_pay" 'BEGIN { printf "%.2f", m / k }')
echo "record $n_pay payments one by one via the API: $(secs "$ms_each") s ($per ms each; dues left unpaid: $open)"
echo
echo "baseline: sqlite3 writing $n due rows and $((2 * n)) journal lines with one INSERT ... SELECT"
