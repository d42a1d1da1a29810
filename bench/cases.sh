#!/usr/bin/env bash
# bench/cases.sh: the worker's home and the supervisor's quality dashboard on
# SQLite with BENCH_CASES cases (default 100,000) and BENCH_SESSIONS sessions
# (default 2,000,000), generated with bulk SQL. Times BENCH_RUNS runs
# (default 50) of each and prints p50/p95 with the goal (issue 4: under 100 ms
# at p95 each) marked met or missed. Measures; never fails on a missed goal.
# BENCH_DB_KEEP=PATH keeps the database at PATH; a later run the same day with
# as many cases and sessions migrates and times it without generating again.
set -euo pipefail
cd "$(dirname "$0")/.."

cases=${BENCH_CASES:-100000}
sessions=${BENCH_SESSIONS:-2000000}
runs=${BENCH_RUNS:-50}
[ -f build/release/libsanad.a ] || make -j"$(nproc)" all >/dev/null

pkgs="libmicrohttpd jansson libsodium sqlite3 libpq libutf8proc inih xlsxwriter libqrencode zlib libcurl"
mkdir -p build/release/bench
# shellcheck disable=SC2046
gcc -std=gnu11 -Wall -Wextra -Werror -Wshadow -Wvla -Wformat=2 -Wno-format-nonliteral -Isrc \
    $(pkg-config --cflags $pkgs) -pthread -O2 -g -fstack-protector-strong -D_FORTIFY_SOURCE=2 \
    -fPIE -fstack-clash-protection -pie \
    -o build/release/bench/cases_bench bench/cases/cases_bench.c \
    build/release/libsanad.a $(pkg-config --libs $pkgs) -lm -pthread

echo "cases: $cases cases, $sessions sessions, $runs runs each, SQLite ($(nproc) cores)"
if [ -n "${BENCH_DB_KEEP:-}" ]; then
    build/release/bench/cases_bench "$BENCH_DB_KEEP" "$cases" "$sessions" "$runs"
else
    tmp=$(mktemp -d /tmp/sanad-bench-cases.XXXXXX)
    trap 'rm -rf "$tmp"' EXIT
    build/release/bench/cases_bench "$tmp/cases.db" "$cases" "$sessions" "$runs"
fi
