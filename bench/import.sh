#!/usr/bin/env bash
# bench/import.sh: CSV import of children. Generates IMPORT_ROWS (100,000)
# realistic children with Arabic names (from `sanad match gen`, made younger
# than the age limit, a third of the dates written DD/MM/YYYY in Arabic-Indic
# digits, an orphan status added), then times `sanad import children` on a
# fresh SQLite database: the dry run, then the real import. Prints rows per
# second beside the goal (100,000 rows in under 20 s). Measures; never asserts.
set -euo pipefail
cd "$(dirname "$0")/.."

bin=${SANAD_BIN:-build/release/sanad}
rows=${IMPORT_ROWS:-100000}
work=$(mktemp -d /tmp/sanad-bench-import-XXXXXX)
trap 'rm -rf "$work"' EXIT
export LC_ALL=C.UTF-8
export SANAD_UPLOAD_MAX=1073741824 # the configured limit, raised for a 100,000-row file

"$bin" match gen --records "$rows" --out "$work/gen.csv" --truth "$work/truth.csv" \
    --profile clean --seed 7 >/dev/null
# record_id,first_name,father_name,grandfather_name,family_name,mother_name,sex,birth_date,birth_place
awk -F, -v OFS=, '
BEGIN { split("٠ ١ ٢ ٣ ٤ ٥ ٦ ٧ ٨ ٩", d, " ");
        split("father_deceased mother_deceased both_deceased abandoned other_vulnerable", st, " ") }
function indic(s,   out, i, c) {
    out = ""
    for (i = 1; i <= length(s); i++) { c = substr(s, i, 1); out = out (c ~ /[0-9]/ ? d[c + 1] : c) }
    return out
}
NR == 1 { print "رقم السجل,الاسم الأول,اسم الأب,اسم الجد,اسم العائلة,اسم الأم,الجنس,تاريخ الميلاد,مكان الميلاد,orphan_status"; next }
{
    if ($8 != "") {
        split($8, p, "-"); y = 2009 + (p[1] % 15); m = p[2]; dd = p[3]
        if (m == "02" && dd > 28) dd = 28
        $8 = (NR % 3 == 0) ? indic(dd "/" m "/" y) : sprintf("%04d-%s-%s", y, m, dd)
    }
    $7 = ($7 == "M") ? "ذكر" : ($7 == "F" ? "أنثى" : $7)
    print $0, st[NR % 5 + 1]
}' "$work/gen.csv" >"$work/children.csv"
size=$(stat -c %s "$work/children.csv")
echo "file: $rows rows, $((size / 1024)) KiB"

echo "bench-import-password-$$-long" |
    "$bin" init --data "$work/data" --org bench --admin-password-stdin >/dev/null

# Runs one import; prints its summary line and rows per second.
run() {
    local label=$1
    shift
    local start end
    start=$(date +%s.%N)
    "$bin" import children "$work/children.csv" --org bench --data "$work/data" "$@" \
        >"$work/out.txt" 2>"$work/err.txt" || true
    end=$(date +%s.%N)
    local summary
    summary=$(grep '^rows ' "$work/out.txt" | tail -1 || true)
    if [ -z "$summary" ]; then
        echo "$label: failed: $(tail -3 "$work/err.txt")"
        return 1
    fi
    awk -v s="$start" -v e="$end" -v n="$rows" -v l="$label" -v sum="$summary" 'BEGIN {
        t = e - s; printf "%-10s %7.2f s  %9.0f rows/s  (%s)  goal: %d rows in < 20 s\n",
            l, t, n / t, sum, 100000 }'
}

run "dry run" --dry-run
run "import" --skip-invalid
echo "database: $(du -k "$work/data/sanad.db" | cut -f1) KiB"
