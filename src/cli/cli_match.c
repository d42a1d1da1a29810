/*
 * cli_match.c: `sanad match dedup | encode | link | explain | normalize | gen`.
 *
 * The contract of the first four is fixed by issue 5 (column names, output
 * files, exit codes): see docs/matching.md. Outputs are written to a
 * temporary file in the same directory and renamed, so that an error never
 * leaves a partial file. Exit codes: 0 done, 1 bad input or failure, 2 usage.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/xalloc.h"
#include "core/banned.h"
#include "match/clk.h"
#include "match/csv.h"
#include "match/gen.h"
#include "match/match.h"

/* Exit codes. */
#define EXIT_OK 0
#define EXIT_FAIL 1
#define EXIT_USAGE 2

/* Prints "sanad match: <message>" on stderr. */
static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("sanad match: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

/* Seconds on the monotonic clock. */
static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Progress state: lines are printed only on runs longer than a second. */
struct progress {
    double start; /* when the command started */
    double last;  /* when the last line was printed */
};

/* Progress callback for the library. */
static void progress_cb(void *ctx, const char *stage, size_t done, size_t total)
{
    struct progress *p = ctx;
    double t = now();
    if (t - p->start < 1.0 || t - p->last < 0.5) {
        return;
    }
    p->last = t;
    fprintf(stderr, "sanad match: %s %zu/%zu (%.1f s)\n", stage, done, total, t - p->start);
}

/* An output file written under a temporary name and renamed on success. */
struct out_file {
    char *path; /* final path (owned) */
    char *tmp;  /* temporary path (owned) */
    FILE *f;    /* open stream */
};

/* Opens a temporary file beside path. Returns 0, or -1 after printing why. */
static int out_open(struct out_file *o, const char *path)
{
    memset(o, 0, sizeof(*o));
    struct buf b = BUF_INIT;
    buf_addf(&b, "%s.tmp.XXXXXX", path);
    int fd = mkstemp(b.buf);
    if (fd < 0) {
        say("could not create '%s': %s", path, strerror(errno));
        buf_release(&b);
        return -1;
    }
    o->f = fdopen(fd, "w");
    if (!o->f) {
        say("could not create '%s': %s", path, strerror(errno));
        close(fd);
        unlink(b.buf);
        buf_release(&b);
        return -1;
    }
    setvbuf(o->f, NULL, _IOFBF, 1 << 20);
    o->tmp = buf_detach(&b, NULL);
    o->path = xstrdup(path);
    return 0;
}

/* Removes the temporary file (on error). */
static void out_abort(struct out_file *o)
{
    if (o->f) {
        fclose(o->f);
        unlink(o->tmp);
    }
    free(o->tmp);
    free(o->path);
    memset(o, 0, sizeof(*o));
}

/* Flushes, closes and renames into place. Returns 0, or -1 after printing why. */
static int out_commit(struct out_file *o)
{
    int rc = 0;
    if (fflush(o->f) != 0 || ferror(o->f) || fsync(fileno(o->f)) != 0) {
        say("could not write '%s': %s", o->path, strerror(errno));
        rc = -1;
    }
    if (fclose(o->f) != 0 && rc == 0) {
        say("could not write '%s': %s", o->path, strerror(errno));
        rc = -1;
    }
    o->f = NULL;
    if (rc == 0) {
        if (rename(o->tmp, o->path) != 0) {
            say("could not write '%s': %s", o->path, strerror(errno));
            rc = -1;
        }
    }
    if (rc != 0) {
        unlink(o->tmp);
    }
    free(o->tmp);
    free(o->path);
    memset(o, 0, sizeof(*o));
    return rc;
}

/* Writes one CSV cell, quoted when it needs to be. */
static void csv_put(FILE *f, const char *s)
{
    if (strpbrk(s, ",\"\r\n") == NULL) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"') {
            fputc('"', f);
        }
        fputc(*s, f);
    }
    fputc('"', f);
}

/* An input file loaded as records. */
struct loaded {
    struct match_csv csv;     /* the parsed file */
    struct match_input *in;   /* one input per row (owned) */
    size_t n;                 /* rows */
};

/* Trims ASCII spaces from both ends of s[0..*n), returning the new start. */
static const char *trim(const char *s, size_t *n)
{
    while (*n > 0 && (*s == ' ' || *s == '\t')) {
        s++;
        (*n)--;
    }
    while (*n > 0 && (s[*n - 1] == ' ' || s[*n - 1] == '\t')) {
        (*n)--;
    }
    return s;
}

/* Open-addressing set of record ids, for the duplicate check. */
static int check_unique_ids(const char *name, const struct loaded *l)
{
    size_t size = 16;
    while (size < 2 * l->n + 16) {
        size <<= 1;
    }
    size_t *slot = xcalloc(size, sizeof(size_t)); /* row + 1, 0 = empty */
    int rc = 0;
    for (size_t r = 0; r < l->n && rc == 0; r++) {
        const char *id = l->in[r].val[MATCH_COL_ID];
        size_t n = l->in[r].len[MATCH_COL_ID];
        if (!id) {
            break;
        }
        uint64_t h = 1469598103934665603ULL;
        for (size_t i = 0; i < n; i++) {
            h = (h ^ (unsigned char)id[i]) * 1099511628211ULL;
        }
        size_t k = (size_t)h & (size - 1);
        while (slot[k]) {
            size_t o = slot[k] - 1;
            if (l->in[o].len[MATCH_COL_ID] == n && memcmp(l->in[o].val[MATCH_COL_ID], id, n) == 0) {
                say("'%s' row %zu: duplicate record_id '%.*s' (first seen in row %zu)", name, r + 2,
                    (int)(n > 80 ? 80 : n), id, o + 2);
                rc = -1;
                break;
            }
            k = (k + 1) & (size - 1);
        }
        slot[k] = r + 1;
    }
    free(slot);
    return rc;
}

/* Loads and checks a records CSV. Returns 0, or -1 after printing why. */
static int load_records(const char *path, struct loaded *l)
{
    memset(l, 0, sizeof(*l));
    struct err e;
    err_clear(&e);
    if (match_csv_read_file(&l->csv, path, MATCH_FIELD_MAX, &e) < 0) {
        say("%s", e.msg);
        return -1;
    }
    const char *name = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    int col_of[MATCH_N_COLS];
    for (int c = 0; c < MATCH_N_COLS; c++) {
        col_of[c] = -1;
    }
    int known = 0, names = 0;
    for (size_t h = 0; h < l->csv.n_cols; h++) {
        size_t n = strlen(l->csv.header[h]);
        const char *hs = trim(l->csv.header[h], &n);
        int found = -1;
        for (int c = 0; c < MATCH_N_COLS; c++) {
            if (strlen(match_col_names[c]) == n && strncasecmp(hs, match_col_names[c], n) == 0) {
                found = c;
            }
        }
        if (found < 0) {
            say("note: '%s': ignoring column '%.*s'", name, (int)(n > 80 ? 80 : n), hs);
            continue;
        }
        if (col_of[found] >= 0) {
            say("'%s' row 1: column '%s' appears twice in the header", name,
                match_col_names[found]);
            match_csv_release(&l->csv);
            return -1;
        }
        col_of[found] = (int)h;
        known++;
        if (found >= MATCH_COL_FIRST && found <= MATCH_COL_MOTHER) {
            names++;
        }
    }
    if (known == 0) {
        say("'%s': missing header: row 1 names none of the columns record_id, first_name, "
            "father_name, grandfather_name, family_name, mother_name, sex, birth_date, "
            "birth_place", name);
        match_csv_release(&l->csv);
        return -1;
    }
    if (names == 0) {
        say("'%s': no name column in the header (expected first_name, father_name, "
            "grandfather_name, family_name or mother_name)", name);
        match_csv_release(&l->csv);
        return -1;
    }
    l->n = l->csv.n_rows;
    l->in = xcalloc(l->n ? l->n : 1, sizeof(*l->in));
    for (size_t r = 0; r < l->n; r++) {
        struct match_input *in = &l->in[r];
        for (int c = 0; c < MATCH_N_COLS; c++) {
            if (col_of[c] < 0) {
                continue;
            }
            size_t n;
            const char *v = match_csv_cell(&l->csv, r, (size_t)col_of[c], &n);
            if (c == MATCH_COL_ID) {
                v = trim(v, &n);
            }
            in->val[c] = v;
            in->len[c] = n;
        }
        if (col_of[MATCH_COL_ID] >= 0 && in->len[MATCH_COL_ID] == 0) {
            say("'%s' row %zu: empty value in column 'record_id'", name, r + 2);
            goto fail;
        }
        struct err ce;
        err_clear(&ce);
        if (match_input_check(in, &ce) < 0) {
            say("'%s' row %zu: %s", name, r + 2, ce.msg);
            goto fail;
        }
    }
    if (check_unique_ids(name, l) < 0) {
        goto fail;
    }
    return 0;
fail:
    free(l->in);
    match_csv_release(&l->csv);
    memset(l, 0, sizeof(*l));
    return -1;
}

/* Frees a loaded file. */
static void loaded_release(struct loaded *l)
{
    free(l->in);
    match_csv_release(&l->csv);
}

/* Parses a number option value; returns 0 or -1 after printing why. */
static int parse_double(const char *opt, const char *s, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !isfinite(v)) {
        say("invalid value '%s' for %s", s, opt);
        return -1;
    }
    *out = v;
    return 0;
}

/* Parses a positive integer option value; returns 0 or -1 after printing why. */
static int parse_count(const char *opt, const char *s, long max, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < 1 || v > max) {
        say("invalid value '%s' for %s (expected 1..%ld)", s, opt, max);
        return -1;
    }
    *out = v;
    return 0;
}

/* Prints the usage of all sub-commands. */
static void usage(void)
{
    fputs("usage: sanad match dedup IN.csv --clusters OUT.csv [--pairs PAIRS.csv] "
          "[--threshold T] [--threads N]\n"
          "       sanad match encode IN.csv --secret-file KEY --out ENC.csv\n"
          "       sanad match link A_ENC.csv B_ENC.csv --pairs OUT.csv [--threshold T] "
          "[--threads N]\n"
          "       sanad match explain IN.csv ID_A ID_B\n"
          "       sanad match normalize NAME...\n"
          "       sanad match bench IN.csv [--threads N]\n"
          "       sanad match gen --records N --out DATA.csv --truth TRUTH.csv [--seed S] "
          "[--profile NAME]\n",
          stderr);
}

/* Option table entry: name and whether it takes a value. */
struct opt {
    const char *name; /* "--clusters" */
    const char *val;  /* its value once parsed, NULL when absent */
};

/*
 * Splits argv into positional arguments and the known options. Returns 0,
 * or -1 after printing why (unknown option, missing value).
 */
static int parse_args(int argc, char **argv, struct opt *opts, int n_opts, const char **pos,
                      int max_pos, int *n_pos)
{
    *n_pos = 0;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (a[0] == '-' && a[1] == '-') {
            const char *eq = strchr(a, '=');
            size_t nl = eq ? (size_t)(eq - a) : strlen(a);
            int k;
            for (k = 0; k < n_opts; k++) {
                if (strlen(opts[k].name) == nl && strncmp(opts[k].name, a, nl) == 0) {
                    break;
                }
            }
            if (k == n_opts) {
                say("unknown option '%s'", a);
                return -1;
            }
            if (eq) {
                opts[k].val = eq + 1;
            } else if (i + 1 < argc) {
                opts[k].val = argv[++i];
            } else {
                say("option %s needs a value", opts[k].name);
                return -1;
            }
        } else {
            if (*n_pos == max_pos) {
                say("unexpected argument '%s'", a);
                return -1;
            }
            pos[(*n_pos)++] = a;
        }
    }
    return 0;
}

/* Builds a prepared set from loaded records. */
static void build_set(struct match_set *set, const struct loaded *l, int threads)
{
    match_set_build(set, l->in, l->n, threads);
}

/* `sanad match dedup`. */
static int cmd_dedup(int argc, char **argv)
{
    struct opt opts[] = {{"--clusters", NULL}, {"--pairs", NULL}, {"--threshold", NULL},
                         {"--threads", NULL}, {"--seed", NULL}};
    const char *pos[1];
    int n_pos;
    if (parse_args(argc, argv, opts, 5, pos, 1, &n_pos) < 0 || n_pos != 1 || !opts[0].val) {
        usage();
        return EXIT_USAGE;
    }
    struct match_dedup d;
    match_dedup_init(&d);
    if (opts[2].val && parse_double("--threshold", opts[2].val, &d.threshold) < 0) {
        return EXIT_USAGE;
    }
    long v;
    if (opts[3].val) {
        if (parse_count("--threads", opts[3].val, 256, &v) < 0) {
            return EXIT_USAGE;
        }
        d.n_threads = (int)v;
    }
    if (opts[4].val) {
        if (parse_count("--seed", opts[4].val, 0x7fffffffL, &v) < 0) {
            return EXIT_USAGE;
        }
        d.seed = (uint64_t)v;
    }
    struct progress pr = {now(), 0};
    d.progress = progress_cb;
    d.progress_ctx = &pr;
    struct loaded l;
    if (load_records(pos[0], &l) < 0) {
        return EXIT_FAIL;
    }
    struct out_file oc, op;
    memset(&op, 0, sizeof(op));
    if (out_open(&oc, opts[0].val) < 0) {
        loaded_release(&l);
        return EXIT_FAIL;
    }
    if (opts[1].val && out_open(&op, opts[1].val) < 0) {
        out_abort(&oc);
        loaded_release(&l);
        return EXIT_FAIL;
    }
    double t0 = now();
    struct match_set set;
    build_set(&set, &l, d.n_threads);
    double t_prep = now() - t0;
    match_dedup_run(&d, &set);
    fputs("record_id,cluster_id\n", oc.f);
    size_t n_clusters = 0;
    for (size_t i = 0; i < set.n; i++) {
        csv_put(oc.f, set.ids[i]);
        fputc(',', oc.f);
        csv_put(oc.f, set.ids[d.cluster[i]]);
        fputc('\n', oc.f);
        n_clusters += d.cluster[i] == i;
    }
    if (op.f) {
        fputs("record_id_a,record_id_b,score\n", op.f);
        for (size_t p = 0; p < d.n_pairs; p++) {
            csv_put(op.f, set.ids[d.pairs[p].a]);
            fputc(',', op.f);
            csv_put(op.f, set.ids[d.pairs[p].b]);
            fprintf(op.f, ",%.3f\n", d.pairs[p].score);
        }
    }
    int rc = EXIT_OK;
    if (out_commit(&oc) < 0) {
        rc = EXIT_FAIL;
        if (op.f) {
            out_abort(&op);
        }
    } else if (op.f && out_commit(&op) < 0) {
        rc = EXIT_FAIL;
    }
    if (rc == EXIT_OK) {
        say("%zu records, %zu candidate pairs, %zu matching pairs, %zu clusters in %.2f s "
            "(prepare %.2f, train %.2f, block+score %.2f, cluster %.2f; threshold %.2f, "
            "EM prior %.4f)",
            set.n, d.n_candidates, d.n_pairs, n_clusters, now() - pr.start, t_prep, d.t_train,
            d.t_block, d.t_cluster, d.model.threshold, d.model.lambda);
    }
    match_dedup_release(&d);
    match_set_release(&set);
    loaded_release(&l);
    return rc;
}

/* Finds the row of a record id; returns the index or -1. */
static long find_id(const struct match_set *set, const char *id)
{
    for (size_t i = 0; i < set->n; i++) {
        if (strcmp(set->ids[i], id) == 0) {
            return (long)i;
        }
    }
    return -1;
}

/* `sanad match explain`. */
static int cmd_explain(int argc, char **argv)
{
    struct opt opts[] = {{"--threads", NULL}};
    const char *pos[3];
    int n_pos;
    if (parse_args(argc, argv, opts, 1, pos, 3, &n_pos) < 0 || n_pos != 3) {
        usage();
        return EXIT_USAGE;
    }
    double t0 = now();
    struct loaded l;
    if (load_records(pos[0], &l) < 0) {
        return EXIT_FAIL;
    }
    struct match_set set;
    build_set(&set, &l, 2);
    long a = find_id(&set, pos[1]), b = find_id(&set, pos[2]);
    int rc = EXIT_OK;
    if (a < 0 || b < 0) {
        say("no record with record_id '%s' in '%s'", a < 0 ? pos[1] : pos[2], pos[0]);
        rc = EXIT_FAIL;
    } else {
        struct match_model model;
        match_model_init(&model);
        match_model_train(&model, &set, 0x5a4ad5eedULL);
        match_model_default_threshold(&model);
        struct buf out = BUF_INIT;
        match_explain_text(&model, &set, (size_t)a, (size_t)b, &out);
        fputs(out.buf, stdout);
        buf_release(&out);
        say("%zu records, 1 pair explained in %.2f s", set.n, now() - t0);
    }
    match_set_release(&set);
    loaded_release(&l);
    return rc;
}

/* `sanad match normalize NAME...`: prints each name's normal form and skeleton. */
static int cmd_normalize(int argc, char **argv)
{
    if (argc < 1) {
        usage();
        return EXIT_USAGE;
    }
    struct match_norm *nm = xmalloc(sizeof(*nm));
    for (int i = 0; i < argc; i++) {
        char tmp[4 * MATCH_NAME_MAX + 8];
        match_normalize(argv[i], strlen(argv[i]), MATCH_KIND_FAMILY, false, nm);
        match_norm_to_utf8(nm->norm, nm->n_norm, tmp, sizeof(tmp));
        printf("%s\t%s\t%s\n", argv[i], tmp, nm->skel);
    }
    free(nm);
    return EXIT_OK;
}

/* Default match-probability threshold of `link`. */
#define LINK_THRESHOLD 0.50

/* Reads the secret file into keys. Returns 0, or -1 after printing why. */
static int read_secret(const char *path, struct match_clk_key *key)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        say("could not open secret file '%s': %s", path, strerror(errno));
        return -1;
    }
    unsigned char secret[4096];
    size_t n = fread(secret, 1, sizeof(secret), f);
    bool bad = ferror(f) != 0;
    fclose(f);
    if (bad) {
        say("could not read secret file '%s'", path);
        return -1;
    }
    struct err e;
    err_clear(&e);
    int rc = match_clk_key_init(key, secret, n, &e);
    explicit_bzero(secret, sizeof(secret));
    if (rc < 0) {
        say("secret file '%s' is too short (%zu bytes, at least %d random bytes are needed: "
            "head -c 32 /dev/urandom > KEY)", path, n, MATCH_CLK_SECRET_MIN);
        return -1;
    }
    return 0;
}

/* `sanad match encode`. */
static int cmd_encode(int argc, char **argv)
{
    struct opt opts[] = {{"--secret-file", NULL}, {"--out", NULL}, {"--threads", NULL}};
    const char *pos[1];
    int n_pos;
    if (parse_args(argc, argv, opts, 3, pos, 1, &n_pos) < 0 || n_pos != 1 || !opts[0].val ||
        !opts[1].val) {
        usage();
        return EXIT_USAGE;
    }
    long threads = sysconf(_SC_NPROCESSORS_ONLN);
    if (opts[2].val && parse_count("--threads", opts[2].val, 256, &threads) < 0) {
        return EXIT_USAGE;
    }
    double t0 = now();
    struct match_clk_key *key = xmalloc(sizeof(*key));
    if (read_secret(opts[0].val, key) < 0) {
        free(key);
        return EXIT_FAIL;
    }
    struct loaded l;
    if (load_records(pos[0], &l) < 0) {
        match_clk_key_wipe(key);
        free(key);
        return EXIT_FAIL;
    }
    struct out_file o;
    if (out_open(&o, opts[1].val) < 0) {
        loaded_release(&l);
        match_clk_key_wipe(key);
        free(key);
        return EXIT_FAIL;
    }
    struct match_set set;
    build_set(&set, &l, (int)threads);
    uint64_t *enc = xcalloc(set.n ? set.n * MATCH_CLK_WORDS : 1, sizeof(uint64_t));
    match_clk_encode_all(key, &set, (int)threads, enc);
    match_clk_key_wipe(key);
    free(key);
    fputs("record_id,encoding\n", o.f);
    char b64[MATCH_CLK_B64_LEN + 1];
    long bits = 0;
    for (size_t i = 0; i < set.n; i++) {
        match_clk_to_base64(enc + i * MATCH_CLK_WORDS, b64);
        bits += match_clk_popcount(enc + i * MATCH_CLK_WORDS);
        csv_put(o.f, set.ids[i]);
        fprintf(o.f, ",%s\n", b64);
    }
    int rc = out_commit(&o) < 0 ? EXIT_FAIL : EXIT_OK;
    if (rc == EXIT_OK) {
        say("%zu records encoded (%d bits, %.1f%% set on average) in %.2f s", set.n,
            MATCH_CLK_BITS, set.n ? 100.0 * (double)bits / (double)set.n / MATCH_CLK_BITS : 0.0,
            now() - t0);
    }
    free(enc);
    match_set_release(&set);
    loaded_release(&l);
    return rc;
}

/* Encodings read from a file. */
struct encodings {
    struct match_csv csv; /* the file */
    uint64_t *bits;       /* n encodings (owned) */
    size_t n;             /* count */
    size_t id_col;        /* column of record_id */
};

/* Loads an encodings file. Returns 0, or -1 after printing why. */
static int load_encodings(const char *path, struct encodings *en)
{
    memset(en, 0, sizeof(*en));
    struct err e;
    err_clear(&e);
    if (match_csv_read_file(&en->csv, path, 4096, &e) < 0) {
        say("%s", e.msg);
        return -1;
    }
    const char *name = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    long id = -1, enc = -1;
    for (size_t h = 0; h < en->csv.n_cols; h++) {
        if (strcmp(en->csv.header[h], "record_id") == 0) {
            id = (long)h;
        } else if (strcmp(en->csv.header[h], "encoding") == 0) {
            enc = (long)h;
        }
    }
    if (id < 0 || enc < 0) {
        say("'%s': missing header: expected the columns record_id and encoding", name);
        match_csv_release(&en->csv);
        return -1;
    }
    en->id_col = (size_t)id;
    en->n = en->csv.n_rows;
    en->bits = xcalloc(en->n ? en->n * MATCH_CLK_WORDS : 1, sizeof(uint64_t));
    struct loaded ids;
    memset(&ids, 0, sizeof(ids));
    ids.n = en->n;
    ids.in = xcalloc(en->n ? en->n : 1, sizeof(*ids.in));
    for (size_t r = 0; r < en->n; r++) {
        size_t len;
        const char *v = match_csv_cell(&en->csv, r, (size_t)enc, &len);
        const char *iv = match_csv_cell(&en->csv, r, (size_t)id, &ids.in[r].len[MATCH_COL_ID]);
        ids.in[r].val[MATCH_COL_ID] = iv;
        if (ids.in[r].len[MATCH_COL_ID] == 0) {
            say("'%s' row %zu: empty value in column 'record_id'", name, r + 2);
            goto fail;
        }
        if (match_clk_from_base64(v, len, en->bits + r * MATCH_CLK_WORDS) < 0) {
            say("'%s' row %zu: invalid value in column 'encoding' (expected %d base64 "
                "characters from sanad match encode)", name, r + 2, MATCH_CLK_B64_LEN);
            goto fail;
        }
    }
    if (check_unique_ids(name, &ids) < 0) {
        goto fail;
    }
    free(ids.in);
    return 0;
fail:
    free(ids.in);
    free(en->bits);
    match_csv_release(&en->csv);
    memset(en, 0, sizeof(*en));
    return -1;
}

/* `sanad match link`. */
static int cmd_link(int argc, char **argv)
{
    struct opt opts[] = {{"--pairs", NULL}, {"--threshold", NULL}, {"--threads", NULL}};
    const char *pos[2];
    int n_pos;
    if (parse_args(argc, argv, opts, 3, pos, 2, &n_pos) < 0 || n_pos != 2 || !opts[0].val) {
        usage();
        return EXIT_USAGE;
    }
    struct match_link lk;
    memset(&lk, 0, sizeof(lk));
    lk.threshold = LINK_THRESHOLD;
    long threads = sysconf(_SC_NPROCESSORS_ONLN);
    if ((opts[1].val && parse_double("--threshold", opts[1].val, &lk.threshold) < 0) ||
        (opts[2].val && parse_count("--threads", opts[2].val, 256, &threads) < 0)) {
        return EXIT_USAGE;
    }
    if (lk.threshold <= 0 || lk.threshold > 1) {
        say("invalid value '%s' for --threshold (a match probability in (0, 1])", opts[1].val);
        return EXIT_USAGE;
    }
    lk.n_threads = (int)threads;
    struct progress pr = {now(), 0};
    struct encodings ea, eb;
    if (load_encodings(pos[0], &ea) < 0) {
        return EXIT_FAIL;
    }
    if (load_encodings(pos[1], &eb) < 0) {
        free(ea.bits);
        match_csv_release(&ea.csv);
        return EXIT_FAIL;
    }
    struct out_file o;
    int rc = EXIT_FAIL;
    if (out_open(&o, opts[0].val) == 0) {
        match_link_run(&lk, ea.bits, ea.n, eb.bits, eb.n, progress_cb, &pr);
        fputs("record_id_a,record_id_b,score\n", o.f);
        for (size_t p = 0; p < lk.n_pairs; p++) {
            csv_put(o.f, match_csv_cell(&ea.csv, lk.pairs[p].a, ea.id_col, NULL));
            fputc(',', o.f);
            csv_put(o.f, match_csv_cell(&eb.csv, lk.pairs[p].b, eb.id_col, NULL));
            fprintf(o.f, ",%.4f\n", lk.pairs[p].score);
        }
        rc = out_commit(&o) < 0 ? EXIT_FAIL : EXIT_OK;
        if (rc == EXIT_OK) {
            say("%zu x %zu records, %zu candidate pairs (%zu distinct, compared field by "
                "field), %zu linked pairs in %.2f s (threshold %.2f, %.1f bits; %s)",
                ea.n, eb.n, lk.n_candidates, lk.n_compared, lk.n_pairs, now() - pr.start,
                lk.threshold, lk.threshold_bits,
                lk.em_used ? "m by EM" : "prior weights: too few records for EM");
        }
        match_link_release(&lk);
    }
    free(ea.bits);
    free(eb.bits);
    match_csv_release(&ea.csv);
    match_csv_release(&eb.csv);
    return rc;
}

/* Candidate pairs collected by `bench`, one list per thread. */
struct collect {
    struct match_pair *p[64]; /* per-thread pairs (owned) */
    size_t n[64], cap[64];    /* used, allocated */
};

/* Stores a candidate pair. */
static void collect_pair(void *arg, int thread, uint32_t a, uint32_t b)
{
    struct collect *c = arg;
    if (c->n[thread] == c->cap[thread]) {
        c->cap[thread] = c->cap[thread] ? 2 * c->cap[thread] : 65536;
        c->p[thread] = xrealloc(c->p[thread], c->cap[thread] * sizeof(struct match_pair));
    }
    c->p[thread][c->n[thread]++] = (struct match_pair){a, b, 0};
}

/* Work of one bench scoring thread. */
struct bench_job {
    const struct match_model *model; /* model */
    const struct match_set *set;     /* records */
    const struct match_pair *p;      /* pairs */
    size_t n;                        /* count */
    bool full;                       /* full scores instead of bounded */
    size_t hits;                     /* pairs at or above the threshold */
    const uint64_t *A, *B;           /* Dice: encodings */
    const uint16_t *pb;              /* Dice: popcounts of B */
    size_t na, nb;                   /* Dice: counts */
};

/* Scores a slice of pairs. */
static void *bench_score_thread(void *arg)
{
    struct bench_job *j = arg;
    for (size_t i = 0; i < j->n; i++) {
        double s = j->full ? match_score(j->model, j->set, j->p[i].a, j->p[i].b, NULL)
                           : match_score_bounded(j->model, j->set, j->p[i].a, j->p[i].b,
                                                 j->model->threshold);
        j->hits += s >= j->model->threshold;
    }
    return NULL;
}

/* Scans a slice of A against all of B. */
static void *bench_dice_thread(void *arg)
{
    struct bench_job *j = arg;
    for (size_t i = 0; i < j->na; i++) {
        const uint64_t *a = j->A + i * MATCH_CLK_WORDS;
        j->hits += match_clk_scan(a, match_clk_popcount(a), j->B, j->pb, j->nb, 0.8);
    }
    return NULL;
}

/* Runs fn on nt threads over jobs; returns the seconds taken. */
static double run_jobs(void *(*fn)(void *), struct bench_job *jobs, int nt)
{
    pthread_t tid[64];
    double t0 = now();
    for (int t = 1; t < nt; t++) {
        pthread_create(&tid[t], NULL, fn, &jobs[t]);
    }
    fn(&jobs[0]);
    for (int t = 1; t < nt; t++) {
        pthread_join(tid[t], NULL);
    }
    return now() - t0;
}

/* `sanad match bench IN.csv`: blocking, pair scoring and raw Dice throughput. */
static int cmd_bench(int argc, char **argv)
{
    struct opt opts[] = {{"--threads", NULL}};
    const char *pos[1];
    int n_pos;
    if (parse_args(argc, argv, opts, 1, pos, 1, &n_pos) < 0 || n_pos != 1) {
        usage();
        return EXIT_USAGE;
    }
    long nt = sysconf(_SC_NPROCESSORS_ONLN);
    if (opts[0].val && parse_count("--threads", opts[0].val, 64, &nt) < 0) {
        return EXIT_USAGE;
    }
    struct loaded l;
    if (load_records(pos[0], &l) < 0) {
        return EXIT_FAIL;
    }
    struct match_set set;
    build_set(&set, &l, (int)nt);
    struct match_model model;
    match_model_init(&model);
    match_model_train(&model, &set, 0x5a4ad5eedULL);
    struct collect *c = xcalloc(1, sizeof(*c));
    double t0 = now();
    size_t n = match_block_run(&set, (int)nt, collect_pair, c, NULL, NULL);
    double t_block = now() - t0;
    struct match_pair *all = xcalloc(n ? n : 1, sizeof(*all));
    size_t k = 0;
    for (int t = 0; t < nt; t++) {
        if (c->n[t]) {
            memcpy(all + k, c->p[t], c->n[t] * sizeof(*all));
        }
        k += c->n[t];
        free(c->p[t]);
    }
    free(c);
    printf("records %zu, candidate pairs %zu (%.1f per record), blocking %.2f s\n", set.n, n,
           set.n ? (double)n / (double)set.n : 0.0, t_block);
    for (int full = 0; full <= 1; full++) {
        for (long threads = 1; threads <= nt; threads += nt > 1 ? nt - 1 : 1) {
            struct bench_job jobs[64];
            memset(jobs, 0, sizeof(jobs));
            for (long t = 0; t < threads; t++) {
                size_t from = n * (size_t)t / (size_t)threads;
                size_t to = n * (size_t)(t + 1) / (size_t)threads;
                jobs[t] = (struct bench_job){&model, &set, all + from, to - from, full != 0, 0,
                                             NULL, NULL, NULL, 0, 0};
            }
            double secs = run_jobs(bench_score_thread, jobs, (int)threads);
            size_t hits = 0;
            for (long t = 0; t < threads; t++) {
                hits += jobs[t].hits;
            }
            printf("pair scoring (%s, %ld thread%s): %.2f M pairs/s (%zu matches)\n",
                   full ? "full comparison" : "with early exit", threads,
                   threads > 1 ? "s" : "", (double)n / secs / 1e6, hits);
        }
    }
    free(all);
    /* raw Dice: 1024-bit encodings with about half of the bits set */
    size_t na = 2000, nb = 100000;
    uint64_t *A = xcalloc(na * MATCH_CLK_WORDS, sizeof(uint64_t));
    uint64_t *B = xcalloc(nb * MATCH_CLK_WORDS, sizeof(uint64_t));
    uint16_t *pb = xcalloc(nb, sizeof(uint16_t));
    uint64_t s = 88172645463325252ULL;
    for (size_t i = 0; i < na * MATCH_CLK_WORDS; i++) {
        s ^= s << 13, s ^= s >> 7, s ^= s << 17;
        A[i] = s;
    }
    for (size_t i = 0; i < nb * MATCH_CLK_WORDS; i++) {
        s ^= s << 13, s ^= s >> 7, s ^= s << 17;
        B[i] = s;
    }
    for (size_t i = 0; i < nb; i++) {
        pb[i] = (uint16_t)match_clk_popcount(B + i * MATCH_CLK_WORDS);
    }
    struct bench_job jobs[64];
    memset(jobs, 0, sizeof(jobs));
    for (long t = 0; t < nt; t++) {
        size_t from = na * (size_t)t / (size_t)nt, to = na * (size_t)(t + 1) / (size_t)nt;
        jobs[t].A = A + from * MATCH_CLK_WORDS;
        jobs[t].na = to - from;
        jobs[t].B = B;
        jobs[t].pb = pb;
        jobs[t].nb = nb;
    }
    double secs = run_jobs(bench_dice_thread, jobs, (int)nt);
    printf("raw Dice, %d-bit encodings, %ld threads: %.0f M comparisons/s\n", MATCH_CLK_BITS,
           nt, (double)na * (double)nb / secs / 1e6);
    free(A);
    free(B);
    free(pb);
    match_set_release(&set);
    loaded_release(&l);
    return EXIT_OK;
}

/* `sanad match gen`: writes synthetic records and their truth. */
static int cmd_gen(int argc, char **argv)
{
    struct opt opts[] = {{"--records", NULL}, {"--out", NULL}, {"--truth", NULL},
                         {"--seed", NULL}, {"--profile", NULL}};
    const char *pos[1];
    int n_pos;
    if (parse_args(argc, argv, opts, 5, pos, 0, &n_pos) < 0 || !opts[0].val || !opts[1].val) {
        usage();
        return EXIT_USAGE;
    }
    long n, seed = 1;
    if (parse_count("--records", opts[0].val, 100000000L, &n) < 0 ||
        (opts[3].val && parse_count("--seed", opts[3].val, 0x7fffffffL, &seed) < 0)) {
        return EXIT_USAGE;
    }
    const char *pname = opts[4].val ? opts[4].val : "dev";
    const struct match_gen_profile *prof = match_gen_profile_find(pname);
    if (!prof) {
        say("unknown profile '%s' (expected dev, hard, clean or latin)", pname);
        return EXIT_USAGE;
    }
    struct out_file od, ot;
    memset(&ot, 0, sizeof(ot));
    if (out_open(&od, opts[1].val) < 0) {
        return EXIT_FAIL;
    }
    if (opts[2].val && out_open(&ot, opts[2].val) < 0) {
        out_abort(&od);
        return EXIT_FAIL;
    }
    if (match_gen_write(prof, (size_t)n, (uint64_t)seed, od.f, ot.f) < 0) {
        say("could not write '%s': %s", opts[1].val, strerror(errno));
        out_abort(&od);
        if (ot.f) {
            out_abort(&ot);
        }
        return EXIT_FAIL;
    }
    int rc = out_commit(&od) < 0 ? EXIT_FAIL : EXIT_OK;
    if (ot.f && (rc != EXIT_OK ? (out_abort(&ot), -1) : out_commit(&ot)) < 0) {
        rc = EXIT_FAIL;
    }
    if (rc == EXIT_OK) {
        say("%ld synthetic records (profile %s, seed %ld) written to '%s'", n, pname, seed,
            opts[1].val);
    }
    return rc;
}

/* Entry point of `sanad match`; see cli.h. */
int cli_match(int argc, char **argv)
{
    if (argc < 2) {
        usage();
        return EXIT_USAGE;
    }
    const char *sub = argv[1];
    if (strcmp(sub, "dedup") == 0) {
        return cmd_dedup(argc - 2, argv + 2);
    }
    if (strcmp(sub, "explain") == 0) {
        return cmd_explain(argc - 2, argv + 2);
    }
    if (strcmp(sub, "encode") == 0) {
        return cmd_encode(argc - 2, argv + 2);
    }
    if (strcmp(sub, "link") == 0) {
        return cmd_link(argc - 2, argv + 2);
    }
    if (strcmp(sub, "bench") == 0) {
        return cmd_bench(argc - 2, argv + 2);
    }
    if (strcmp(sub, "gen") == 0) {
        return cmd_gen(argc - 2, argv + 2);
    }
    if (strcmp(sub, "normalize") == 0) {
        return cmd_normalize(argc - 2, argv + 2);
    }
    if (strcmp(sub, "-h") == 0 || strcmp(sub, "--help") == 0 || strcmp(sub, "help") == 0) {
        usage();
        return EXIT_OK;
    }
    say("unknown sub-command '%s'", sub);
    usage();
    return EXIT_USAGE;
}
