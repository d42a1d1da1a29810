/*
 * metrics.c: request counters, the duration histogram and gauges, exposed
 * as Prometheus text (format 0.0.4) on GET /metrics, and GET /healthz. The
 * gauges and histogram are atomics; the per-route counters sit in a small
 * fixed table behind a mutex (touched once per request).
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"
#include "db/db.h"
#include "http/http_internal.h"
#include "core/version.h"
#include "core/banned.h"


#define N_COUNTERS 256

/* One requests_total series. */
struct counter {
    char method[8];    /* request method, "OTHER" for unusual ones */
    int status;        /* response status code */
    const char *route; /* route pattern or fixed label (static storage) */
    uint64_t n;        /* requests counted */
};

static const double bucket_le[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                   0.1,   0.25,   0.5,   1.0,  2.5,   5.0};
#define N_BUCKETS (sizeof(bucket_le) / sizeof(bucket_le[0]))

static pthread_mutex_t counters_lock = PTHREAD_MUTEX_INITIALIZER;
static struct counter counters[N_COUNTERS]; /* used entries first */
static size_t n_counters;                   /* entries in use */
static atomic_uint_fast64_t buckets[N_BUCKETS]; /* requests at or under each bound (non-cumulative) */
static atomic_uint_fast64_t duration_count;     /* requests timed */
static atomic_uint_fast64_t duration_sum_us;    /* their total duration, microseconds */
static atomic_int in_flight;                    /* requests being handled */
static atomic_int connections;                  /* open connections */

void http_metrics_begin(void)
{
    atomic_fetch_add(&in_flight, 1);
}

void http_metrics_connection(int delta)
{
    atomic_fetch_add(&connections, delta);
}

/* The method label: known methods as they are, anything else "OTHER" (bounds cardinality). */
static const char *method_label(const char *m)
{
    static const char *known[] = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"};
    for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
        if (m && strcmp(m, known[i]) == 0) {
            return known[i];
        }
    }
    return "OTHER";
}

void http_metrics_end(const char *method, int status, const char *route, int64_t duration_ns)
{
    atomic_fetch_sub(&in_flight, 1);
    double s = (double)duration_ns / 1e9;
    for (size_t i = 0; i < N_BUCKETS; i++) {
        if (s <= bucket_le[i]) {
            atomic_fetch_add(&buckets[i], 1);
            break;
        }
    }
    atomic_fetch_add(&duration_count, 1);
    atomic_fetch_add(&duration_sum_us, (uint64_t)(duration_ns > 0 ? duration_ns / 1000 : 0));
    const char *ml = method_label(method);
    if (!route) {
        route = "none";
    }
    pthread_mutex_lock(&counters_lock);
    size_t i;
    for (i = 0; i < n_counters; i++) {
        struct counter *c = &counters[i];
        if (c->status == status && strcmp(c->method, ml) == 0 && strcmp(c->route, route) == 0) {
            break;
        }
    }
    if (i == n_counters) {
        if (n_counters == N_COUNTERS) {
            i = N_COUNTERS - 1; /* full: the last series absorbs the rest */
            counters[i].route = "other";
        } else {
            n_counters++;
            snprintf(counters[i].method, sizeof(counters[i].method), "%s", ml);
            counters[i].status = status;
            counters[i].route = route;
        }
    }
    counters[i].n++;
    pthread_mutex_unlock(&counters_lock);
}

/* Appends s as a Prometheus label value (escapes \, " and newline). */
static void label_value(struct buf *out, const char *s)
{
    buf_addch(out, '"');
    for (; *s; s++) {
        if (*s == '\\' || *s == '"') {
            buf_addch(out, '\\');
            buf_addch(out, *s);
        } else if (*s == '\n') {
            buf_adds(out, "\\n");
        } else {
            buf_addch(out, *s);
        }
    }
    buf_addch(out, '"');
}

/* Resident memory in bytes from /proc/self/statm, 0 when unreadable. */
static long long resident_bytes(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    long long size = 0, rss = 0;
    if (!f) {
        return 0;
    }
    if (fscanf(f, "%lld %lld", &size, &rss) != 2) {
        rss = 0;
    }
    fclose(f);
    return rss * sysconf(_SC_PAGESIZE);
}

void http_metrics_render(struct buf *out)
{
    buf_adds(out, "# HELP sanad_http_requests_total HTTP requests completed.\n"
                  "# TYPE sanad_http_requests_total counter\n");
    pthread_mutex_lock(&counters_lock);
    for (size_t i = 0; i < n_counters; i++) {
        buf_addf(out, "sanad_http_requests_total{method=\"%s\",code=\"%d\",route=",
                 counters[i].method, counters[i].status);
        label_value(out, counters[i].route);
        buf_addf(out, "} %llu\n", (unsigned long long)counters[i].n);
    }
    pthread_mutex_unlock(&counters_lock);
    buf_adds(out, "# HELP sanad_http_request_duration_seconds Time to handle a request.\n"
                  "# TYPE sanad_http_request_duration_seconds histogram\n");
    uint64_t cum = 0;
    for (size_t i = 0; i < N_BUCKETS; i++) {
        cum += atomic_load(&buckets[i]);
        buf_addf(out, "sanad_http_request_duration_seconds_bucket{le=\"%g\"} %llu\n",
                 bucket_le[i], (unsigned long long)cum);
    }
    uint64_t count = atomic_load(&duration_count);
    buf_addf(out, "sanad_http_request_duration_seconds_bucket{le=\"+Inf\"} %llu\n",
             (unsigned long long)count);
    buf_addf(out, "sanad_http_request_duration_seconds_sum %.6f\n",
             (double)atomic_load(&duration_sum_us) / 1e6);
    buf_addf(out, "sanad_http_request_duration_seconds_count %llu\n", (unsigned long long)count);
    buf_addf(out, "# HELP sanad_http_in_flight Requests being handled.\n"
                  "# TYPE sanad_http_in_flight gauge\nsanad_http_in_flight %d\n",
             atomic_load(&in_flight));
    buf_addf(out, "# HELP sanad_http_connections Open HTTP connections.\n"
                  "# TYPE sanad_http_connections gauge\nsanad_http_connections %d\n",
             atomic_load(&connections));
    buf_addf(out, "# HELP sanad_process_resident_memory_bytes Resident memory.\n"
                  "# TYPE sanad_process_resident_memory_bytes gauge\n"
                  "sanad_process_resident_memory_bytes %lld\n",
             resident_bytes());
    buf_adds(out, "# HELP sanad_build_info Build information.\n"
                  "# TYPE sanad_build_info gauge\nsanad_build_info{version=");
    label_value(out, SANAD_VERSION);
    buf_adds(out, "} 1\n");
}

/* GET /metrics: the Prometheus exposition. */
static void metrics_get(struct http_req *r)
{
    struct buf b = BUF_INIT;
    http_metrics_render(&b);
    http_reply(r, 200, "text/plain; version=0.0.4; charset=utf-8", b.buf, b.len);
    buf_release(&b);
}

/* GET /healthz: 200 when the database answers "SELECT 1", else 503. */
static void healthz_get(struct http_req *r)
{
    struct err e;
    err_clear(&e);
    bool ok = false;
    struct db *db = db_thread(&e);
    if (db) {
        struct db_stmt *s = db_prepare(db, "SELECT 1", &e);
        if (s) {
            ok = db_step(s, &e) == 1 && db_col_int64(s, 0) == 1;
            db_done(s);
        }
    }
    if (!ok) {
        log_warn("health check failed", "code=%s", e.code[0] ? e.code : "unknown");
        http_reply_json(r, 503, json_pack("{s:s, s:s}", "status", "unavailable", "db", "down"));
        return;
    }
    http_reply_json(r, 200, json_pack("{s:s, s:s}", "status", "ok", "db", "ok"));
}

static const struct route builtin_routes[] = {
    {"GET", "/healthz", healthz_get, ROUTE_PUBLIC, NULL},
    {"GET", "/metrics", metrics_get, ROUTE_PUBLIC, NULL},
};

void http_builtin_routes_add(void)
{
    http_routes_add(builtin_routes, sizeof(builtin_routes) / sizeof(builtin_routes[0]));
}
