#!/usr/bin/env bash
# bench/http.sh: the foundation's speed and size goals (issue 2, "Speed and size").
#
# Starts sanad (SQLite, and PostgreSQL too when BENCH_PG=1) and nginx serving a
# small static file on loopback, loads each with wrk (64 connections, 2 threads,
# BENCH_SECONDS seconds, default 10) and prints requests per second, p99
# latency, resident memory and the binary's size beside the goals:
#
#   authenticated GET /api/v1/me  >= 1/3 of nginx's static-file rate
#   p99 latency                   <  10 ms at 64 connections
#   idle resident memory          <  20 MiB
#   binary size                   <  10 MiB
#
# The goals are information, never assertions: a missed goal is printed as
# "goal missed" and the script still exits 0. It exits non-zero only when it
# cannot measure (a server does not start, wrk is missing, login fails).
#
# Environment: SANAD_BIN (default build/release/sanad), BENCH_SECONDS (10),
# BENCH_CONNECTIONS (64), BENCH_THREADS (2), BENCH_PG (1 to add PostgreSQL),
# BENCH_KEEP (1 to keep the temporary folder and its logs).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
bin=${SANAD_BIN:-$root/build/release/sanad}
seconds=${BENCH_SECONDS:-10}
conns=${BENCH_CONNECTIONS:-64}
threads=${BENCH_THREADS:-2}

die() { echo "bench/http: $*" >&2; exit 1; }

[ -x "$bin" ] || die "no sanad binary at '$bin' (run make, or set SANAD_BIN)"
for tool in wrk nginx curl python3; do
    command -v "$tool" >/dev/null 2>&1 || die "'$tool' is not installed (scripts/install-deps)"
done
case "$seconds" in '' | *[!0-9]*) die "'BENCH_SECONDS' must be a whole number" ;; esac

# Kept short: PostgreSQL's unix socket path DIR/pg/.s.PGSQL.NNNNN must fit in 107 bytes.
tmp=$(mktemp -d /tmp/sanad-bench.XXXXXX)
pids=()
pg_dir=""

cleanup() {
    local pid
    for pid in "${pids[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    for pid in "${pids[@]}"; do
        wait "$pid" 2>/dev/null || true
    done
    if [ -n "$pg_dir" ]; then
        "$root/scripts/pg-test" stop "$pg_dir" >/dev/null 2>&1 || true
    fi
    if [ "${BENCH_KEEP:-0}" = 1 ]; then
        echo "bench/http: kept '$tmp'" >&2
    else
        rm -rf "$tmp"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# free_port: prints a TCP port on 127.0.0.1 that nothing listens on now.
free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# wait_http URL: waits up to 10 s for URL to answer 200.
wait_http() {
    local i
    for i in $(seq 1 100); do
        if curl -fsS -o /dev/null "$1" 2>/dev/null; then
            return 0
        fi
        sleep 0.1
    done
    return 1
}

# rss_kib PID: the process's resident memory in KiB (VmRSS).
rss_kib() {
    awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"
}

# mib KIB_OR_BYTES DIVISOR: prints the value in MiB with one decimal.
mib() {
    awk -v v="$1" -v d="$2" 'BEGIN { printf "%.1f", v / d }'
}

# verdict OK: "goal met" when OK is 1, else "goal missed".
verdict() {
    if [ "$1" = 1 ]; then echo "goal met"; else echo "goal missed"; fi
}

# run_wrk NAME URL [LUA]: loads URL and sets rps_NAME and p99_NAME (ms).
# Also saves wrk's whole output as $tmp/wrk-NAME.txt. Errors (non-2xx, socket
# errors) are counted and reported, since a fast error is not a served request.
declare -A rps p99 errs
run_wrk() {
    local name=$1 url=$2 lua=${3:-}
    local out=$tmp/wrk-$name.txt
    local args=(-t"$threads" -c"$conns" -d"${seconds}s" --latency)
    if [ -n "$lua" ]; then
        args+=(-s "$lua")
    fi
    wrk "${args[@]}" "$url" >"$out" 2>&1 || die "wrk failed on '$url': $(tail -n 3 "$out")"
    rps[$name]=$(awk '/^Requests\/sec:/ { printf "%.0f", $2 }' "$out")
    # "     99%    7.72ms": the value carries its unit (us, ms or s)
    p99[$name]=$(awk '$1 == "99%" {
        v = $2; u = v; sub(/[0-9.]+/, "", u); sub(/[a-z]+$/, "", v);
        if (u == "us") v /= 1000; else if (u == "s") v *= 1000; else if (u == "m") v *= 60000;
        printf "%.2f", v }' "$out")
    local bad
    bad=$(awk '/Non-2xx or 3xx responses:/ { n += $NF }
               /Socket errors:/ { gsub(/,/, ""); n += $4 + $6 + $8 + $10 }
               END { print n + 0 }' "$out")
    errs[$name]=$bad
    [ -n "${rps[$name]}" ] && [ -n "${p99[$name]}" ] || die "could not read wrk's output for '$url'"
}

# start_nginx: serves $tmp/www/small.html on a free port; sets nginx_url.
start_nginx() {
    local port dir=$tmp/nginx
    port=$(free_port)
    mkdir -p "$dir/www" "$dir/tmp"
    # run as root, nginx's workers drop to an unprivileged user: let it reach the file
    chmod 711 "$tmp" "$dir"
    chmod 755 "$dir/www"
    # about 200 bytes, the size of a small API answer
    cat >"$dir/www/small.html" <<'EOF'
<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>ceiling</title></head>
<body><p>nginx serves this small static file as the ceiling the sanad figures are compared to.</p></body></html>
EOF
    chmod 644 "$dir/www/small.html"
    cat >"$dir/nginx.conf" <<EOF
worker_processes 2;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 100000;
    client_body_temp_path $dir/tmp/body;
    proxy_temp_path $dir/tmp/proxy;
    fastcgi_temp_path $dir/tmp/fastcgi;
    uwsgi_temp_path $dir/tmp/uwsgi;
    scgi_temp_path $dir/tmp/scgi;
    default_type text/html;
    server {
        listen 127.0.0.1:$port;
        root $dir/www;
    }
}
EOF
    nginx -e "$dir/error.log" -c "$dir/nginx.conf" -p "$dir" -g 'daemon off;' \
        >"$dir/stdout.log" 2>&1 &
    pids+=($!)
    nginx_url=http://127.0.0.1:$port/small.html
    wait_http "$nginx_url" || die "nginx did not start: $(tail -n 5 "$dir/error.log" 2>/dev/null)"
}

# start_sanad NAME [DB_URL]: a fresh data folder, a supervisor 'bench', the
# server on a free port, a bearer token and its wrk script. Sets sanad_pid,
# sanad_base and me_lua.
start_sanad() {
    local name=$1 db=${2:-}
    local dir=$tmp/$name
    local dbargs=()
    if [ -n "$db" ]; then
        dbargs=(--db "$db")
    fi
    mkdir -p "$dir"
    printf 'bench admin password %s\n' "$RANDOM$RANDOM" |
        "$bin" init --data "$dir/data" "${dbargs[@]}" --admin-password-stdin >"$dir/init.log" 2>&1 ||
        die "sanad init failed: $(cat "$dir/init.log")"
    local pw="bench password $RANDOM$RANDOM"
    printf '%s\n' "$pw" |
        "$bin" user add --data "$dir/data" "${dbargs[@]}" --org main --username bench \
            --role supervisor --password-stdin >>"$dir/init.log" 2>&1 ||
        die "sanad user add failed: $(cat "$dir/init.log")"
    # The server runs as configured in production: info-level access log, one
    # line per request, here into a file.
    SANAD_PORT_FILE=$dir/port "$bin" serve --data "$dir/data" "${dbargs[@]}" \
        --listen 127.0.0.1:0 2>"$dir/sanad.log" &
    sanad_pid=$!
    pids+=("$sanad_pid")
    local i
    for i in $(seq 1 100); do
        [ -s "$dir/port" ] && break
        kill -0 "$sanad_pid" 2>/dev/null || die "sanad serve exited: $(tail -n 5 "$dir/sanad.log")"
        sleep 0.1
    done
    [ -s "$dir/port" ] || die "sanad serve wrote no port file"
    sanad_base=http://127.0.0.1:$(cat "$dir/port")
    wait_http "$sanad_base/healthz" || die "sanad does not answer: $(tail -n 5 "$dir/sanad.log")"
    local body token
    body=$(python3 -c 'import json, sys; print(json.dumps({"organization": "main",
        "username": "bench", "password": sys.argv[1]}))' "$pw")
    token=$(curl -fsS -H 'Content-Type: application/json' --data-binary "$body" \
        "$sanad_base/api/v1/auth/login" |
        python3 -c 'import json, sys; print(json.load(sys.stdin)["token"])') ||
        die "login as 'bench' failed"
    curl -fsS -o /dev/null -H "Authorization: Bearer $token" "$sanad_base/api/v1/me" ||
        die "GET /api/v1/me with the bearer token failed"
    me_lua=$dir/me.lua
    printf 'wrk.headers["Authorization"] = "Bearer %s"\n' "$token" >"$me_lua"
}

# bench_sanad LABEL [DB_URL]: the whole sanad measurement for one backend.
bench_sanad() {
    local label=$1 db=${2:-}
    start_sanad "$label" "$db"
    sleep 1
    rss_idle[$label]=$(rss_kib "$sanad_pid")
    run_wrk "$label-healthz" "$sanad_base/healthz"
    run_wrk "$label-me" "$sanad_base/api/v1/me" "$me_lua"
    sleep 2
    rss_after[$label]=$(rss_kib "$sanad_pid")
    kill "$sanad_pid" 2>/dev/null || true
    wait "$sanad_pid" 2>/dev/null || true
}

declare -A rss_idle rss_after
labels=(sqlite)

echo "bench/http: $(nproc) cores, $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)"
echo "bench/http: wrk -t$threads -c$conns -d${seconds}s --latency; sanad $("$bin" version | awk '{ print $2 }') at $bin"

# wrk, nginx and sanad share the cores: anything else running skews the figures.
load=$(cut -d' ' -f1 /proc/loadavg)
if awk -v l="$load" 'BEGIN { exit !(l >= 0.5) }'; then
    echo "bench/http: note: load average is $load before the run: other work shares the cores"
fi

start_nginx
run_wrk nginx "$nginx_url"
bench_sanad sqlite
if [ "${BENCH_PG:-0}" = 1 ]; then
    pg_dir=$tmp/pg
    pg_url=$("$root/scripts/pg-test" start "$pg_dir" 2>"$tmp/pg-test.log") ||
        die "could not start PostgreSQL: $(tail -n 5 "$tmp/pg-test.log")"
    bench_sanad postgres "$pg_url"
    labels+=(postgres)
fi

# The table. A row: what, requests/s, p99, errors, and the goals beside them.
echo
printf '%-38s %12s %10s %8s   %s\n' "target" "requests/s" "p99 ms" "errors" "goal"
printf '%-38s %12s %10s %8s   %s\n' "nginx static file (ceiling)" "${rps[nginx]}" \
    "${p99[nginx]}" "${errs[nginx]}" "-"
for l in "${labels[@]}"; do
    for what in healthz me; do
        k=$l-$what
        path=/healthz
        if [ "$what" = me ]; then path="/api/v1/me (bearer)"; fi
        ok=$(awk -v p="${p99[$k]}" 'BEGIN { print (p < 10) ? 1 : 0 }')
        printf '%-38s %12s %10s %8s   p99 < 10 ms: %s\n' "sanad/$l GET $path" "${rps[$k]}" \
            "${p99[$k]}" "${errs[$k]}" "$(verdict "$ok")"
    done
done
echo
for l in "${labels[@]}"; do
    k=$l-me
    ratio=$(awk -v a="${rps[$k]}" -v b="${rps[nginx]}" 'BEGIN { printf "%.3f", a / b }')
    ok=$(awk -v r="$ratio" 'BEGIN { print (r * 3 >= 1) ? 1 : 0 }')
    printf '%-38s %12s   >= 0.333: %s\n' "sanad/$l /api/v1/me / nginx" "$ratio" "$(verdict "$ok")"
done
for l in "${labels[@]}"; do
    ok=$(awk -v k="${rss_idle[$l]}" 'BEGIN { print (k < 20 * 1024) ? 1 : 0 }')
    printf '%-38s %8s MiB   < 20 MiB: %s\n' "sanad/$l idle RSS after start" \
        "$(mib "${rss_idle[$l]}" 1024)" "$(verdict "$ok")"
    ok=$(awk -v k="${rss_after[$l]}" 'BEGIN { print (k < 20 * 1024) ? 1 : 0 }')
    printf '%-38s %8s MiB   < 20 MiB: %s\n' "sanad/$l idle RSS after the load" \
        "$(mib "${rss_after[$l]}" 1024)" "$(verdict "$ok")"
done
size=$(stat -c %s "$bin")
strip -o "$tmp/sanad.stripped" "$bin"
stripped=$(stat -c %s "$tmp/sanad.stripped")
ok=$(awk -v s="$size" 'BEGIN { print (s < 10 * 1048576) ? 1 : 0 }')
printf '%-38s %8s MiB   < 10 MiB: %s\n' "binary size ($(basename "$bin"))" \
    "$(mib "$size" 1048576)" "$(verdict "$ok")"
printf '%-38s %8s MiB\n' "binary size, stripped" "$(mib "$stripped" 1048576)"
for k in "${!errs[@]}"; do
    if [ "${errs[$k]}" != 0 ]; then
        echo "bench/http: note: $k had ${errs[$k]} failed requests (see wrk's output)"
    fi
done
