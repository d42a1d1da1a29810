#!/bin/sh
# bench/match.sh: accuracy and speed of the matching engine (issue 5).
#
# Prints figures; asserts nothing about time. Environment:
#   SANAD_BIN            the binary (default build/release/sanad)
#   SANAD_MATCH_DEV      folder with dev-20k.csv and dev-20k-truth.csv
#                        (default ../shared/data/matching, skipped if absent)
#   MATCH_BENCH_RECORDS  records of the large dedup run (default 1000000)
#   MATCH_BENCH_LINK     records per side of the linkage run (default 100000)
set -eu
BIN=${SANAD_BIN:-build/release/sanad}
DEV=${SANAD_MATCH_DEV:-../shared/data/matching}
BIG=${MATCH_BENCH_RECORDS:-1000000}
LINK=${MATCH_BENCH_LINK:-100000}
PY=/usr/bin/python3
HERE=$(cd "$(dirname "$0")" && pwd)/match
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT INT TERM

say() { printf '\n== %s\n' "$*"; }
# dedup FILE TRUTH LABEL: runs the engine and prints its accuracy and summary
dedup() {
    "$BIN" match dedup "$1" --clusters "$W/c.csv" 2>"$W/err" || { cat "$W/err"; exit 1; }
    $PY "$HERE/eval.py" "$1" "$2" "$W/c.csv" "$3"
    sed -n 's/^sanad match: \([0-9]* records.*\)/  (\1)/p' "$W/err"
}
# baselines FILE TRUTH LABEL
baselines() {
    for m in exact jw; do
        if [ "$m" = jw ] && ! $PY -c 'import jellyfish' 2>/dev/null; then
            echo "baseline jw: python3-jellyfish is not installed, skipped"
            continue
        fi
        $PY -W ignore "$HERE/baseline.py" $m "$1" "$W/b.csv" 2>"$W/berr"
        $PY "$HERE/eval.py" "$1" "$2" "$W/b.csv" "baseline $m $3" >"$W/e"
        head -n 1 "$W/e"
        sed 's/^/  (/; s/$/)/' "$W/berr"
    done
}

say "accuracy: shared development set"
if [ -f "$DEV/dev-20k.csv" ]; then
    dedup "$DEV/dev-20k.csv" "$DEV/dev-20k-truth.csv" "engine dev-20k"
    baselines "$DEV/dev-20k.csv" "$DEV/dev-20k-truth.csv" "dev-20k"
else
    echo "no $DEV/dev-20k.csv, skipped"
fi

say "accuracy: generated sets (unseen seeds, other proportions)"
seed=101
for prof in dev hard latin clean; do
    "$BIN" match gen --records 20000 --seed $seed --profile $prof \
        --out "$W/g.csv" --truth "$W/t.csv" 2>/dev/null
    dedup "$W/g.csv" "$W/t.csv" "engine gen-$prof-20k"
    if [ $prof = hard ]; then
        baselines "$W/g.csv" "$W/t.csv" "gen-hard-20k"
    fi
    seed=$((seed + 1))
done

say "speed: dedup of $BIG records (2 threads)"
"$BIN" match gen --records "$BIG" --seed 7 --profile dev --out "$W/big.csv" --truth "$W/bigt.csv" \
    2>/dev/null
/usr/bin/time -v "$BIN" match dedup "$W/big.csv" --clusters "$W/bigc.csv" 2>"$W/time" \
    || { cat "$W/time"; exit 1; }
grep '^sanad match: [0-9]* records' "$W/time"
grep -E 'Elapsed \(wall clock\)|Maximum resident set size' "$W/time" | sed 's/^[ \t]*/  /'
$PY "$HERE/eval.py" "$W/big.csv" "$W/bigt.csv" "$W/bigc.csv" "engine gen-dev-$BIG"

say "speed: blocking, pair scoring and raw Dice"
head -n 200001 "$W/big.csv" >"$W/b200k.csv"
"$BIN" match bench "$W/b200k.csv"
rm -f "$W/big.csv" "$W/bigc.csv" "$W/bigt.csv" "$W/b200k.csv"

say "privacy-preserving linkage: $LINK x $LINK"
"$BIN" match gen --records $((LINK * 24 / 10)) --seed 9 --profile dev --out "$W/l.csv" \
    --truth "$W/lt.csv" 2>/dev/null
$PY "$HERE/split.py" "$W/l.csv" "$W/lt.csv" "$W/A.csv" "$W/B.csv" "$W/links.csv" "$LINK"
head -c 32 /dev/urandom >"$W/key"
"$BIN" match encode "$W/A.csv" --secret-file "$W/key" --out "$W/EA.csv"
"$BIN" match encode "$W/B.csv" --secret-file "$W/key" --out "$W/EB.csv"
/usr/bin/time -f '  link wall %e s, peak RSS %M KiB' \
    "$BIN" match link "$W/EA.csv" "$W/EB.csv" --pairs "$W/LP.csv"
$PY "$HERE/eval_link.py" "$W/links.csv" "$W/LP.csv" "privacy-preserving (CLK)"
{ head -n 1 "$W/A.csv"; tail -n +2 "$W/A.csv"; tail -n +2 "$W/B.csv"; } >"$W/AB.csv"
"$BIN" match dedup "$W/AB.csv" --clusters "$W/ABc.csv" --pairs "$W/ABp.csv" 2>"$W/err"
$PY "$HERE/eval_link.py" "$W/links.csv" "$W/ABp.csv" "plaintext engine" "$W/A.csv"
