/*
 * server.c: the libmicrohttpd daemon and one request's life in it:
 * the URI callback creates the request, the access callback reads headers
 * and body (within limits), routes, runs the auth hook and the handler, and
 * queues the reply with the security headers; the completion callback logs,
 * counts, calls the done hook and frees everything.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/config.h"
#include "core/log.h"
#include "core/text.h"
#include "core/time.h"
#include "core/xalloc.h"
#include "http/http_internal.h"
#include "web/i18n.h"
#include "core/banned.h"

#define HEADER_MEMORY_LIMIT (32 * 1024) /* MHD clears this pool per request: keep it small */

static struct MHD_Daemon *daemon_handle; /* the running daemon, NULL when stopped */
static int bound_port;                   /* its port */
static bool serving_tls;                 /* the daemon speaks TLS itself */
static http_auth_hook auth_hook;         /* set by src/auth, may be NULL */
static http_done_hook done_hook;         /* set by src/auth, may be NULL */
static char *tls_key_pem;                /* key file contents while serving (malloc'd) */
static char *tls_cert_pem;               /* certificate file contents while serving */

void http_set_auth_hook(http_auth_hook hook)
{
    auth_hook = hook;
}

void http_set_done_hook(http_done_hook hook)
{
    done_hook = hook;
}

/* Appends s as a logfmt quoted value. */
static void add_quoted(struct buf *b, const char *s)
{
    buf_addch(b, '"');
    for (; s && *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            buf_addch(b, '\\');
            buf_addch(b, c);
        } else if (c < 0x20 || c == 0x7f) {
            buf_addf(b, "\\x%02x", c);
        } else {
            buf_addch(b, c);
        }
    }
    buf_addch(b, '"');
}

/* Routes libmicrohttpd's own messages into the log. */
static void mhd_logger(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    struct buf msg = BUF_INIT;
    struct buf kv = BUF_INIT;
    buf_vaddf(&msg, fmt, ap);
    while (msg.len && (msg.buf[msg.len - 1] == '\n' || msg.buf[msg.len - 1] == '\r')) {
        buf_setlen(&msg, msg.len - 1);
    }
    buf_adds(&kv, "detail=");
    add_quoted(&kv, msg.buf);
    log_warn("libmicrohttpd", "%s", kv.buf);
    buf_release(&msg);
    buf_release(&kv);
}

/* Creates the request when the request line has been read (raw URI). */
static void *uri_cb(void *cls, const char *uri, struct MHD_Connection *conn)
{
    (void)cls;
    struct http_req *r = http_req_new();
    struct http_priv *p = r->priv;
    p->raw_uri = arena_strdup(&r->arena, uri ? uri : "/");
    p->start_ns = time_mono_ns();
    r->conn = conn;
    /* Request ids need to be unique, not secret: a per-thread random prefix and a
     * counter save a getrandom system call per request. */
    static _Thread_local uint32_t prefix, counter;
    if (!prefix) {
        prefix = randombytes_random() | 1;
    }
    snprintf(r->request_id, sizeof(r->request_id), "%08x%08x", prefix, ++counter);
    http_metrics_begin();
    return r;
}

/* Copies one request header into the request's list. */
static enum MHD_Result header_cb(void *cls, enum MHD_ValueKind kind, const char *key,
                                 const char *value)
{
    (void)kind;
    struct http_req *r = cls;
    struct http_priv *p = r->priv;
    if (key) {
        http_kvs_add(&r->arena, &p->headers, arena_strdup(&r->arena, key),
                     arena_strdup(&r->arena, value ? value : ""));
    }
    return MHD_YES;
}

/* The media type of a Content-Type value: lower-case, parameters and spaces removed. */
static const char *media_type(struct arena *a, const char *ct)
{
    if (!ct) {
        return "";
    }
    while (*ct == ' ' || *ct == '\t') {
        ct++;
    }
    size_t n = strcspn(ct, "; \t");
    char *m = arena_strndup(a, ct, n);
    for (char *c = m; *c; c++) {
        if (*c >= 'A' && *c <= 'Z') {
            *c = (char)(*c - 'A' + 'a');
        }
    }
    return m;
}

/* The text form of the client's socket address, "" when unknown. */
static const char *peer_addr(struct http_req *r, struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    char text[INET6_ADDRSTRLEN] = "";
    if (ci && ci->client_addr) {
        const struct sockaddr *sa = ci->client_addr;
        if (sa->sa_family == AF_INET) {
            inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, text,
                      sizeof(text));
        } else if (sa->sa_family == AF_INET6) {
            inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr,
                      text, sizeof(text));
        }
    }
    return arena_strdup(&r->arena, text);
}

/* The last hop of X-Forwarded-For when it is an IP address, else NULL. */
static const char *forwarded_for(struct http_req *r)
{
    const char *xff = http_header(r, "X-Forwarded-For");
    if (!xff) {
        return NULL;
    }
    const char *last = strrchr(xff, ',');
    last = last ? last + 1 : xff;
    char *ip = text_trim(arena_strdup(&r->arena, last));
    unsigned char tmp[sizeof(struct in6_addr)];
    if (inet_pton(AF_INET, ip, tmp) == 1 || inet_pton(AF_INET6, ip, tmp) == 1) {
        return ip;
    }
    return NULL;
}

/* Fills the request from its headers on the first access callback. */
static void request_begin(struct http_req *r, struct MHD_Connection *conn, const char *method)
{
    struct http_priv *p = r->priv;
    p->method_seen = arena_strdup(&r->arena, method);
    r->method = strcmp(method, "HEAD") == 0 ? "GET" : p->method_seen;
    MHD_get_connection_values(conn, MHD_HEADER_KIND, header_cb, r);
    r->content_type = media_type(&r->arena, http_header(r, "Content-Type"));
    r->remote_addr = peer_addr(r, conn);
    r->tls = serving_tls;
    if (g_config.behind_tls_proxy) {
        const char *proto = http_header(r, "X-Forwarded-Proto");
        r->tls = serving_tls || (proto && strcasecmp(proto, "https") == 0);
        const char *fwd = forwarded_for(r);
        if (fwd) {
            r->remote_addr = fwd;
        }
    }
    const char *lang = http_cookie_own(r, "lang");
    if (lang && (strcmp(lang, "ar") == 0 || strcmp(lang, "en") == 0)) {
        r->lang = lang;
    } else {
        const char *fallback = g_config.default_lang ? g_config.default_lang : "ar";
        const char *neg = i18n_negotiate(http_header(r, "Accept-Language"), fallback);
        r->lang = neg && strcmp(neg, "en") == 0 ? "en" : "ar";
    }
    p->body_limit = http_body_limit_for(r->content_type);
}

/* Replies 404 or 405 or 400 for a failed match, as HTML or problem+json. */
static void reply_unrouted(struct http_req *r, const struct http_match *m)
{
    if (m->status == 405) {
        http_add_header(r, "Allow", m->allow);
    }
    const char *code = m->status == 400 ? "invalid_path"
                       : m->status == 405 ? "method_not_allowed"
                                          : "not_found";
    const char *detail = m->status == 400 ? "the path is not valid percent-encoded UTF-8"
                         : m->status == 405 ? "method not allowed for this path"
                                            : "no such path";
    if (http_wants_html(r)) {
        http_reply_error_page(r, m->status, code, detail);
    } else {
        http_reply_problem(r, m->status, code, NULL, detail, NULL);
    }
}

/* Routes r and runs the auth hook and the handler; always leaves a reply. */
static void dispatch(struct http_req *r)
{
    struct http_priv *p = r->priv;
    p->route_label = "none";
    /* the path: the raw URI up to '?' or '#' */
    size_t plen = strcspn(p->raw_uri, "?#");
    const char *raw_path = arena_strndup(&r->arena, p->raw_uri, plen);
    struct http_match m;
    http_router_match(&r->arena, r->method, raw_path, &m);
    r->path = m.path ? m.path : raw_path;
    if (p->body_too_large) {
        http_reply_problem(r, 413, "body_too_large", NULL,
                           arena_printf(&r->arena, "request body is larger than %zu bytes",
                                        p->body_limit),
                           NULL);
        return;
    }
    if (m.status != 400 && strncmp(r->path, "/static/", 8) == 0) {
        if (strcmp(r->method, "GET") != 0) {
            http_add_header(r, "Allow", "GET, HEAD");
            http_reply_problem(r, 405, "method_not_allowed", NULL,
                               "method not allowed for this path", NULL);
            return;
        }
        http_static_serve(r, r->path);
        return;
    }
    if (!m.route) {
        reply_unrouted(r, &m);
        return;
    }
    r->route = m.route;
    p->route_label = m.route->pattern;
    memcpy(r->params, m.params, sizeof(m.params));
    r->n_params = m.n_params;
    if (http_parse_query_or_reply(r) < 0 || http_parse_body_or_reply(r) < 0) {
        return;
    }
    if (auth_hook && auth_hook(r) != 0) {
        if (!r->replied) {
            log_error("auth hook refused without replying", NULL);
            http_reply_problem(r, 500, "internal", NULL, "internal error", NULL);
        }
        return;
    }
    if (r->replied) {
        return;
    }
    m.route->fn(r);
    if (!r->replied) {
        struct buf kv = BUF_INIT;
        buf_adds(&kv, "route=");
        add_quoted(&kv, m.route->pattern);
        log_error("handler returned without replying", "%s", kv.buf);
        buf_release(&kv);
        http_reply_problem(r, 500, "internal", NULL, "internal error", NULL);
    }
}

/* Turns the recorded reply of r into a libmicrohttpd response and queues it. */
static enum MHD_Result queue_reply(struct http_req *r, struct MHD_Connection *conn, bool close)
{
    struct http_priv *p = r->priv;
    struct MHD_Response *resp = MHD_create_response_from_buffer(
        p->reply_len, (void *)p->reply_body,
        p->is_static ? MHD_RESPMEM_PERSISTENT : MHD_RESPMEM_MUST_COPY);
    if (!resp) {
        return MHD_NO;
    }
    struct http_kvs sec = {0};
    http_security_headers(r, &sec);
    for (size_t i = 0; i < sec.n; i++) {
        MHD_add_response_header(resp, sec.items[i].name, sec.items[i].value);
    }
    for (size_t i = 0; i < p->reply_headers.n; i++) {
        MHD_add_response_header(resp, p->reply_headers.items[i].name,
                                p->reply_headers.items[i].value);
    }
    if (p->reply_type && p->status != 304) {
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, p->reply_type);
    }
    if (close) {
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
    }
    enum MHD_Result rc = MHD_queue_response(conn, (unsigned)p->status, resp);
    MHD_destroy_response(resp);
    return rc;
}

/* The access callback: called once with the headers, then per body chunk,
 * then once more with no data. */
static enum MHD_Result access_cb(void *cls, struct MHD_Connection *conn, const char *url,
                                 const char *method, const char *version,
                                 const char *upload_data, size_t *upload_data_size,
                                 void **con_cls)
{
    (void)cls;
    (void)url;
    (void)version;
    struct http_req *r = *con_cls;
    if (!r) {
        r = uri_cb(NULL, url, conn);
        *con_cls = r;
    }
    struct http_priv *p = r->priv;
    log_set_request_id(r->request_id);
    enum MHD_Result rc = MHD_YES;
    if (!p->started) {
        p->started = true;
        request_begin(r, conn, method);
        const char *cl = http_header(r, "Content-Length");
        if (cl) {
            char *end = NULL;
            errno = 0;
            unsigned long long n = strtoull(cl, &end, 10);
            /* A body a little over the limit is read and thrown away, so that the
             * client, still sending, gets to read the 413; a huge one is refused at once. */
            unsigned long long drain = (unsigned long long)p->body_limit * 4;
            if (drain > (64ULL << 20)) {
                drain = 64ULL << 20;
            }
            if (errno != ERANGE && n > p->body_limit && n <= drain) {
                p->body_too_large = true;
            } else if (errno == ERANGE || n > p->body_limit) {
                p->body_too_large = true;
                p->dispatched = true;
                p->route_label = "none";
                r->path = arena_strndup(&r->arena, p->raw_uri, strcspn(p->raw_uri, "?#"));
                http_reply_problem(r, 413, "body_too_large", NULL,
                                   arena_printf(&r->arena,
                                                "request body is larger than %zu bytes",
                                                p->body_limit),
                                   NULL);
                rc = queue_reply(r, conn, true);
            }
        }
    } else if (*upload_data_size > 0) {
        if (!p->dispatched && !p->body_too_large) {
            if (p->body.len + *upload_data_size > p->body_limit) {
                p->body_too_large = true;
                buf_release(&p->body);
            } else {
                buf_add(&p->body, upload_data, *upload_data_size);
            }
        }
        *upload_data_size = 0;
    } else if (!p->dispatched) {
        p->dispatched = true;
        r->body = p->body.buf;
        r->body_len = p->body.len;
        dispatch(r);
        rc = queue_reply(r, conn, p->body_too_large);
    }
    log_set_request_id(NULL);
    return rc;
}

/* The completion callback: access log, metrics, done hook, free. */
static void completed_cb(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)conn;
    struct http_req *r = *con_cls;
    if (!r) {
        return;
    }
    *con_cls = NULL;
    struct http_priv *p = r->priv;
    int64_t dur = time_mono_ns() - p->start_ns;
    log_set_request_id(r->request_id);
    if (p->started && done_hook) {
        done_hook(r);
    }
    int status = p->dispatched ? p->status : 0;
    const char *path = r->path;
    if (!p->started || !p->dispatched) {
        /* never routed: log the raw path without its query string */
        path = arena_strndup(&r->arena, p->raw_uri, strcspn(p->raw_uri, "?#"));
    }
    /* A path that carries a secret (an invitation or a calendar feed token) is
     * logged as its route pattern: logs are kept longer and read more widely. */
    if (p->route_label && strstr(p->route_label, "{token}")) {
        path = p->route_label;
    }
    struct buf kv = BUF_INIT;
    buf_adds(&kv, "method=");
    add_quoted(&kv, p->method_seen);
    buf_adds(&kv, " path=");
    add_quoted(&kv, path);
    buf_adds(&kv, " route=");
    add_quoted(&kv, p->route_label ? p->route_label : "none");
    buf_addf(&kv, " status=%d bytes=%zu duration_ms=%.3f remote=", status,
             p->dispatched ? p->reply_len : 0, (double)dur / 1e6);
    add_quoted(&kv, r->remote_addr);
    if (toe != MHD_REQUEST_TERMINATED_COMPLETED_OK) {
        buf_addf(&kv, " terminated=%d", (int)toe);
    }
    log_info("request", "%s", kv.buf);
    buf_release(&kv);
    log_set_request_id(NULL);
    http_metrics_end(p->method_seen, status, p->route_label, dur);
    http_req_free(r);
}

/* Counts connections for the metrics. */
static void connection_cb(void *cls, struct MHD_Connection *conn, void **socket_context,
                          enum MHD_ConnectionNotificationCode toe)
{
    (void)cls;
    (void)conn;
    (void)socket_context;
    http_metrics_connection(toe == MHD_CONNECTION_NOTIFY_STARTED ? 1 : -1);
}

int http_listen_parse(struct arena *a, const char *listen, const char **host, int *port)
{
    if (!listen || !*listen) {
        return -1;
    }
    const char *colon;
    if (listen[0] == '[') {
        const char *close = strchr(listen, ']');
        if (!close || close[1] != ':') {
            return -1;
        }
        *host = arena_strndup(a, listen + 1, (size_t)(close - listen - 1));
        colon = close + 1;
    } else {
        colon = strrchr(listen, ':');
        if (!colon || colon == listen || memchr(listen, ':', (size_t)(colon - listen))) {
            return -1;
        }
        *host = arena_strndup(a, listen, (size_t)(colon - listen));
    }
    const char *ps = colon + 1;
    if (!*ps || strlen(ps) > 5 || strspn(ps, "0123456789") != strlen(ps)) {
        return -1;
    }
    *port = atoi(ps);
    if (*port > 65535 || !**host) {
        return -1;
    }
    return 0;
}

/* Reads a whole (small) file into a new NUL-terminated string; NULL on failure. */
static char *read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        return NULL;
    }
    struct buf b = BUF_INIT;
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0 && b.len < (1 << 20)) {
        buf_add(&b, chunk, n);
    }
    fclose(f);
    return buf_detach(&b, NULL);
}

/* Writes the bound port to $SANAD_PORT_FILE when it is set. */
static void write_port_file(int port)
{
    const char *pf = getenv("SANAD_PORT_FILE");
    if (!pf || !*pf) {
        return;
    }
    struct buf tmp = BUF_INIT;
    buf_addf(&tmp, "%s.tmp", pf);
    FILE *f = fopen(tmp.buf, "w");
    if (f) {
        fprintf(f, "%d\n", port);
        if (fclose(f) == 0 && rename(tmp.buf, pf) == 0) {
            buf_release(&tmp);
            return;
        }
    }
    log_warn("could not write the port file", "errno=%d", errno);
    buf_release(&tmp);
}

int http_server_start(struct err *e)
{
    if (daemon_handle) {
        return err_set(e, ERR_INTERNAL, "already_running", NULL, "the server is already running");
    }
    if (sodium_init() < 0) {
        return err_set(e, ERR_INTERNAL, "sodium_init", NULL, "could not initialise libsodium");
    }
    http_static_init();
    http_builtin_routes_add();
    struct arena a;
    arena_init(&a);
    const char *host;
    int port;
    if (http_listen_parse(&a, g_config.listen, &host, &port) < 0) {
        arena_release(&a);
        return err_set(e, ERR_INVALID, "bad_listen", "listen",
                       "'listen' must be ADDR:PORT or [ADDR]:PORT, not '%s'",
                       g_config.listen ? g_config.listen : "");
    }
    struct addrinfo hints = {0}, *res = NULL;
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    char portstr[8];
    snprintf(portstr, sizeof(portstr), "%d", port);
    int gai = getaddrinfo(host, portstr, &hints, &res);
    if (gai != 0 || !res) {
        err_set(e, ERR_INVALID, "bad_listen", "listen", "could not resolve '%s': %s", host,
                gai_strerror(gai));
        arena_release(&a);
        return -1;
    }
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof(ss));
    memcpy(&ss, res->ai_addr, res->ai_addrlen);
    freeaddrinfo(res);
    bool v6 = ss.ss_family == AF_INET6;

    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG;
    flags |= MHD_is_feature_supported(MHD_FEATURE_EPOLL) == MHD_YES ? MHD_USE_EPOLL : MHD_USE_AUTO;
    if (v6) {
        flags |= MHD_USE_IPv6;
    }
    struct MHD_OptionItem opts[20];
    int n = 0;
    int threads = g_config.threads > 0 ? g_config.threads : (int)sysconf(_SC_NPROCESSORS_ONLN);
    if (threads < 1) {
        threads = 1;
    }
    serving_tls = false;
    if (g_config.tls_cert && *g_config.tls_cert && g_config.tls_key && *g_config.tls_key) {
        if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
            arena_release(&a);
            return err_set(e, ERR_INTERNAL, "no_tls", "tls_cert",
                           "libmicrohttpd was built without TLS support");
        }
        tls_cert_pem = read_file(g_config.tls_cert);
        tls_key_pem = read_file(g_config.tls_key);
        if (!tls_cert_pem || !tls_key_pem) {
            err_set(e, ERR_INVALID, "bad_tls", tls_cert_pem ? "tls_key" : "tls_cert",
                    "could not read '%s'", tls_cert_pem ? g_config.tls_key : g_config.tls_cert);
            free(tls_cert_pem);
            free(tls_key_pem);
            tls_cert_pem = tls_key_pem = NULL;
            arena_release(&a);
            return -1;
        }
        flags |= MHD_USE_TLS;
        opts[n++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_KEY, 0, tls_key_pem};
        opts[n++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_CERT, 0, tls_cert_pem};
        serving_tls = true;
    }
    if (threads > 1) {
        opts[n++] = (struct MHD_OptionItem){MHD_OPTION_THREAD_POOL_SIZE, threads, NULL};
    }
    int max_conn = g_config.max_connections > 0 ? g_config.max_connections : 1024;
    int timeout = g_config.request_timeout > 0 ? g_config.request_timeout : 30;
    opts[n++] = (struct MHD_OptionItem){MHD_OPTION_CONNECTION_LIMIT, max_conn, NULL};
    opts[n++] = (struct MHD_OptionItem){MHD_OPTION_CONNECTION_TIMEOUT, timeout, NULL};
    opts[n++] = (struct MHD_OptionItem){MHD_OPTION_CONNECTION_MEMORY_LIMIT,
                                        HEADER_MEMORY_LIMIT, NULL};
    opts[n++] = (struct MHD_OptionItem){MHD_OPTION_SOCK_ADDR, 0, &ss};
    opts[n++] = (struct MHD_OptionItem){MHD_OPTION_LISTENING_ADDRESS_REUSE, 1, NULL};
    opts[n++] = (struct MHD_OptionItem){MHD_OPTION_END, 0, NULL};

    daemon_handle = MHD_start_daemon(
        flags, (uint16_t)port, NULL, NULL, access_cb, NULL, MHD_OPTION_EXTERNAL_LOGGER,
        mhd_logger, NULL, MHD_OPTION_URI_LOG_CALLBACK, uri_cb, NULL, MHD_OPTION_NOTIFY_COMPLETED,
        completed_cb, NULL, MHD_OPTION_NOTIFY_CONNECTION, connection_cb, NULL, MHD_OPTION_ARRAY,
        opts, MHD_OPTION_END);
    if (!daemon_handle) {
        err_set(e, ERR_UNAVAILABLE, "listen_failed", "listen", "could not listen on '%s'",
                g_config.listen);
        free(tls_cert_pem);
        free(tls_key_pem);
        tls_cert_pem = tls_key_pem = NULL;
        arena_release(&a);
        return -1;
    }
    const union MHD_DaemonInfo *info =
        MHD_get_daemon_info(daemon_handle, MHD_DAEMON_INFO_BIND_PORT);
    bound_port = info && info->port ? info->port : port;
    char *url = arena_printf(&a, "listening on %s://%s%s%s:%d", serving_tls ? "https" : "http",
                             v6 ? "[" : "", host, v6 ? "]" : "", bound_port);
    log_info(url, "threads=%d", threads);
    write_port_file(bound_port);
    arena_release(&a);
    return 0;
}

int http_server_port(void)
{
    return daemon_handle ? bound_port : 0;
}

void http_server_stop(void)
{
    if (!daemon_handle) {
        return;
    }
    MHD_stop_daemon(daemon_handle);
    daemon_handle = NULL;
    bound_port = 0;
    free(tls_cert_pem);
    free(tls_key_pem);
    tls_cert_pem = tls_key_pem = NULL;
}

int http_serve(struct err *e)
{
    sigset_t set, old;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    signal(SIGPIPE, SIG_IGN);
    /* blocked before the daemon's threads exist, so they inherit the mask
     * and the signals wait for sigwait below */
    pthread_sigmask(SIG_BLOCK, &set, &old);
    if (http_server_start(e) < 0) {
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        return -1;
    }
    int sig = 0;
    while (sigwait(&set, &sig) != 0) {
    }
    log_info("stopping", "signal=%d", sig);
    http_server_stop();
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return 0;
}
