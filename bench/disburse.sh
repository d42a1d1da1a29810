#!/usr/bin/env bash
# bench/disburse.sh: producing the month's payout list to guardians on SQLite
# with BENCH_SPONSORSHIPS active sponsorships (default 100,000), generated
# with bulk SQL (issue 6: under 10 s). Also prints, without goals, reading
# the list back with its CSV and approving it. Measures; never fails on a
# missed goal.
set -euo pipefail
cd "$(dirname "$0")/.."

n=${BENCH_SPONSORSHIPS:-100000}
[ -f build/release/libsanad.a ] || make -j"$(nproc)" all >/dev/null

pkgs="libmicrohttpd jansson libsodium sqlite3 libpq libutf8proc inih xlsxwriter libqrencode zlib libcurl pangocairo"
mkdir -p build/release/bench
# shellcheck disable=SC2046
gcc -std=gnu11 -Wall -Wextra -Werror -Wshadow -Wvla -Wformat=2 -Wno-format-nonliteral -Isrc \
    $(pkg-config --cflags $pkgs) -pthread -O2 -g -fstack-protector-strong -D_FORTIFY_SOURCE=2 \
    -fPIE -fstack-clash-protection -pie \
    -o build/release/bench/disburse_bench bench/disburse/disburse_bench.c \
    build/release/libsanad.a $(pkg-config --libs $pkgs) -lm -pthread

echo "disburse: $n sponsorships, SQLite ($(nproc) cores)"
tmp=$(mktemp -d /tmp/sanad-bench-disburse.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
build/release/bench/disburse_bench "$tmp/disburse.db" "$n"
