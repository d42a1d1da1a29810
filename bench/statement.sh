#!/usr/bin/env bash
# bench/statement.sh: "where the money went" (issue 6: a sponsor's statement
# renders in under 50 ms at p95) on SQLite with BENCH_SPONSORSHIPS agreements
# (default 100,000; two per donor, three months of history each, twenty
# donors with five years), generated with bulk SQL. Times BENCH_RUNS
# (default 100) statements (JSON with the ledger check and the audit write)
# and their PDFs, and prints p50/p95 with the goal marked met or missed.
# Measures; never fails on a missed goal. BENCH_DB_KEEP=PATH keeps the
# database for a later run.
set -euo pipefail
cd "$(dirname "$0")/.."

n=${BENCH_SPONSORSHIPS:-100000}
runs=${BENCH_RUNS:-100}
[ -f build/release/libsanad.a ] || make -j"$(nproc)" all >/dev/null

pkgs="libmicrohttpd jansson libsodium sqlite3 libpq libutf8proc inih xlsxwriter libqrencode zlib libcurl pangocairo"
mkdir -p build/release/bench
# shellcheck disable=SC2046
gcc -std=gnu11 -Wall -Wextra -Werror -Wshadow -Wvla -Wformat=2 -Wno-format-nonliteral -Isrc \
    $(pkg-config --cflags $pkgs) -pthread -O2 -g -fstack-protector-strong -D_FORTIFY_SOURCE=2 \
    -fPIE -fstack-clash-protection -pie \
    -o build/release/bench/statement_bench bench/statement/statement_bench.c \
    build/release/libsanad.a $(pkg-config --libs $pkgs) -lm -pthread

echo "statement: $n sponsorships, $runs runs, SQLite ($(nproc) cores)"
if [ -n "${BENCH_DB_KEEP:-}" ]; then
    build/release/bench/statement_bench "$BENCH_DB_KEEP" "$n" "$runs"
else
    tmp=$(mktemp -d /tmp/sanad-bench-statement.XXXXXX)
    trap 'rm -rf "$tmp"' EXIT
    build/release/bench/statement_bench "$tmp/statement.db" "$n" "$runs"
fi
