/*
 * tmpl.c: the template engine. Each template is parsed once into a tree of
 * nodes held in its own arena; rendering walks that tree against a jansson
 * value and appends to a buffer, with no parsing and no allocation other
 * than the output's growth. After tmpl_init the registry and every tree are
 * read-only, so any number of threads may render at once.
 */
#define _GNU_SOURCE /* memmem */
#include "web/tmpl.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/xalloc.h"
#include "web/assets.h"
#include "web/html.h"
#include "web/i18n.h"
#include "core/banned.h"

/* How deep {{> partial}} may nest at render time. */
#define MAX_PARTIAL_DEPTH 16
/* How deep sections may nest in one template (keeps compile and render
 * recursion bounded whatever the input). */
#define MAX_SECTION_DEPTH 100
/* The languages, as indexes into per-language arrays. */
enum { LANG_AR = 0, LANG_EN = 1, N_LANGS = 2 };

/* Kinds of node in a compiled template. */
enum node_kind {
    N_TEXT,     /* literal text, copied as is */
    N_VAR,      /* {{name}}: a value, escaped */
    N_RAW,      /* {{{name}}}: a value, not escaped */
    N_SECTION,  /* {{#name}}...{{/name}} */
    N_INVERTED, /* {{^name}}...{{/name}} */
    N_TRANS,    /* {{t key}}: catalog text, escaped at compile time */
    N_PARTIAL   /* {{> name}} */
};

/* A name as written in a tag, split at the dots. */
struct name {
    const char *text;   /* the whole name as written, e.g. "user.name" or "." */
    const char **parts; /* the dot-separated parts, each NUL-terminated */
    size_t n_parts;     /* number of parts; 0 for "." (the current context) */
};

struct tmpl;

/* One node of a compiled template; all nodes live in their template's arena. */
struct node {
    enum node_kind kind;    /* what the node does */
    int line;               /* line of the tag (or of the text's start) in the file */
    struct node *next;      /* the following sibling, NULL at the end of a list */
    struct node *children;  /* body of a section or inverted section */
    const char *text;       /* N_TEXT: the bytes (not NUL-terminated) */
    size_t len;             /* N_TEXT: the number of bytes */
    struct name name;       /* N_VAR, N_RAW, N_SECTION, N_INVERTED: what to look up */
    const char *tr[N_LANGS];  /* N_TRANS: the catalog text, already HTML-escaped */
    size_t tr_len[N_LANGS];   /* N_TRANS: lengths of tr */
    struct tmpl *partial;   /* N_PARTIAL: the template slot included */
};

/* A template slot. A slot exists as soon as a template is compiled under its
 * name or named by a partial; it is "defined" once compiled. Slots are never
 * moved or freed before tmpl_shutdown, so partial nodes may point at them. */
struct tmpl {
    char *name;         /* template name, e.g. "layout"; owned */
    bool defined;       /* false while only named by partials */
    struct arena arena; /* holds root, every node and the copy of the source */
    struct node *root;  /* the first top-level node, NULL for an empty template */
    char ref[160];      /* "file:line" of the first partial naming an undefined slot */
};

/* The registry: slots sorted by name. Written only by tmpl_init,
 * tmpl_compile and tmpl_shutdown. */
static struct tmpl **slots;
static size_t n_slots;     /* number of slots in use */
static size_t slots_alloc; /* capacity of slots */

/* Root objects {"lang": ..., "dir": ...} for each language, made once. */
static json_t *lang_roots[N_LANGS];
static pthread_once_t lang_roots_once = PTHREAD_ONCE_INIT;

/* Creates lang_roots (run once by pthread_once). */
static void lang_roots_make(void)
{
    lang_roots[LANG_AR] = json_pack("{s:s, s:s}", "lang", "ar", "dir", "rtl");
    lang_roots[LANG_EN] = json_pack("{s:s, s:s}", "lang", "en", "dir", "ltr");
    if (!lang_roots[LANG_AR] || !lang_roots[LANG_EN]) {
        abort(); /* only out-of-memory makes json_pack fail here */
    }
}

/* Index of slot name in the registry, or where it would go (with *found false). */
static size_t slot_search(const char *name, bool *found)
{
    size_t lo = 0, hi = n_slots;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(slots[mid]->name, name);
        if (c == 0) {
            *found = true;
            return mid;
        }
        if (c < 0) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    *found = false;
    return lo;
}

/* The slot named name, created (undefined) when there is none. Never NULL. */
static struct tmpl *slot_get(const char *name)
{
    bool found;
    size_t at = slot_search(name, &found);
    if (found) {
        return slots[at];
    }
    if (n_slots == slots_alloc) {
        slots_alloc = slots_alloc ? slots_alloc * 2 : 64;
        slots = xrealloc(slots, xmul(slots_alloc, sizeof(*slots)));
    }
    memmove(slots + at + 1, slots + at, (n_slots - at) * sizeof(*slots));
    struct tmpl *t = xcalloc(1, sizeof(*t));
    t->name = xstrdup(name);
    arena_init(&t->arena);
    slots[at] = t;
    n_slots++;
    return t;
}

/* The defined template named name, or NULL. */
static const struct tmpl *slot_find(const char *name)
{
    bool found;
    size_t at = slot_search(name, &found);
    return (found && slots[at]->defined) ? slots[at] : NULL;
}

void tmpl_shutdown(void)
{
    for (size_t i = 0; i < n_slots; i++) {
        arena_release(&slots[i]->arena);
        free(slots[i]->name);
        free(slots[i]);
    }
    free(slots);
    slots = NULL;
    n_slots = slots_alloc = 0;
}

/* ---- compiling ---------------------------------------------------------- */

/* State of one compilation. */
struct parser {
    const char *file;   /* "templates/NAME.html", for messages */
    const char *src;    /* the source, copied into the arena, NUL-terminated */
    size_t len;         /* its length */
    struct arena *a;    /* where nodes go */
    struct err *e;      /* where the first error goes */
    size_t line_pos;    /* position up to which newlines were counted */
    int line;           /* line number at line_pos */
};

/* One open section while parsing. */
struct open_section {
    struct node *node;   /* the section node */
    struct node **tail;  /* where the parent list continues after the section */
};

/* The 1-based line number of position pos (pos never goes backwards). */
static int parser_line(struct parser *p, size_t pos)
{
    while (p->line_pos < pos) {
        const char *nl = memchr(p->src + p->line_pos, '\n', pos - p->line_pos);
        if (!nl) {
            p->line_pos = pos;
            break;
        }
        p->line++;
        p->line_pos = (size_t)(nl - p->src) + 1;
    }
    return p->line;
}

/* Fills p->e with "file:line: message" and returns -1. */
static int parse_error(struct parser *p, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int parse_error(struct parser *p, int line, const char *fmt, ...)
{
    char msg[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    return err_set(p->e, ERR_INVALID, "template_error", "", "%s:%d: %s", p->file, line, msg);
}

/* True for the bytes a name part may hold. */
static bool name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '_' || c == '-';
}

/* True for a template name: [A-Za-z0-9_-] parts separated by single '/'. */
static bool template_name_valid(const char *s, size_t n)
{
    if (n == 0 || n > 100 || s[0] == '/' || s[n - 1] == '/') {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        if (!(name_char(s[i]) || (s[i] == '/' && s[i + 1] != '/'))) {
            return false;
        }
    }
    return true;
}

/* Parses the name s[0..n) of a tag into nm (allocated in p's arena).
 * Returns 0, or -1 with the error reported at line. */
static int parse_name(struct parser *p, const char *s, size_t n, int line, struct name *nm)
{
    nm->text = arena_strndup(p->a, s, n);
    if (n == 1 && s[0] == '.') {
        nm->parts = NULL;
        nm->n_parts = 0;
        return 0;
    }
    size_t n_parts = 1;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '.') {
            n_parts++;
        } else if (!name_char(s[i])) {
            return parse_error(p, line, "invalid name '%.60s'", nm->text);
        }
    }
    nm->parts = arena_alloc(p->a, xmul(n_parts, sizeof(*nm->parts)));
    nm->n_parts = 0;
    size_t start = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i == n || s[i] == '.') {
            if (i == start) {
                return parse_error(p, line, "invalid name '%.60s'", nm->text);
            }
            nm->parts[nm->n_parts++] = arena_strndup(p->a, s + start, i - start);
            start = i + 1;
        }
    }
    return 0;
}

/* A new node of kind at line, zeroed, in p's arena. */
static struct node *node_new(struct parser *p, enum node_kind kind, int line)
{
    struct node *n = arena_zalloc(p->a, sizeof(*n));
    n->kind = kind;
    n->line = line;
    return n;
}

/* Stores the catalog text of key, HTML-escaped, for both languages in n. */
static void node_set_translation(struct parser *p, struct node *n, const char *key)
{
    static const char *const langs[N_LANGS] = {"ar", "en"};
    for (int i = 0; i < N_LANGS; i++) {
        struct buf b = BUF_INIT;
        html_escape(&b, i18n_get(langs[i], key));
        n->tr[i] = arena_strndup(p->a, b.buf, b.len);
        n->tr_len[i] = b.len;
        buf_release(&b);
    }
}

/* True when the tag at [start, end) stands alone on its line (only spaces or
 * tabs around it). Then *line_start is where its line begins and *after is
 * just past its line's end (newline included). lo is the earliest position
 * the line may start at (the end of the previous tag). */
static bool standalone(const struct parser *p, size_t lo, size_t start, size_t end,
                       size_t *line_start, size_t *after)
{
    size_t b = start;
    while (b > lo && (p->src[b - 1] == ' ' || p->src[b - 1] == '\t')) {
        b--;
    }
    if (b > 0 && p->src[b - 1] != '\n') {
        return false;
    }
    size_t f = end;
    while (f < p->len && (p->src[f] == ' ' || p->src[f] == '\t')) {
        f++;
    }
    if (f < p->len && p->src[f] == '\r' && f + 1 < p->len && p->src[f + 1] == '\n') {
        f++;
    }
    if (f < p->len && p->src[f] != '\n') {
        return false;
    }
    *line_start = b;
    *after = f < p->len ? f + 1 : f;
    return true;
}

/* Parses p->src into a node list at *root. Returns 0, or -1 with p->e set. */
static int parse(struct parser *p, const char *self_name, struct node **root)
{
    struct open_section stack[MAX_SECTION_DEPTH];
    size_t depth = 0;
    struct node **tail = root;
    size_t text_start = 0;
    *root = NULL;
    for (;;) {
        const char *open = memmem(p->src + text_start, p->len - text_start, "{{", 2);
        size_t tag_start = open ? (size_t)(open - p->src) : p->len;
        size_t text_end = tag_start;
        if (!open) {
            if (text_end > text_start) {
                struct node *t = node_new(p, N_TEXT, parser_line(p, text_start));
                t->text = p->src + text_start;
                t->len = text_end - text_start;
                *tail = t;
            }
            break;
        }
        int line = parser_line(p, tag_start);
        bool triple = tag_start + 2 < p->len && p->src[tag_start + 2] == '{';
        size_t cstart = tag_start + (triple ? 3 : 2);
        const char *close = memmem(p->src + cstart, p->len - cstart, triple ? "}}}" : "}}",
                                   triple ? 3 : 2);
        if (!close) {
            return parse_error(p, line, "unclosed tag '{{'");
        }
        size_t cend = (size_t)(close - p->src);
        size_t tag_end = cend + (triple ? 3 : 2);
        size_t after = tag_end;

        /* the tag's kind and its argument, without surrounding white space */
        char sigil = 0;
        size_t a0 = cstart, a1 = cend;
        while (a0 < a1 && (p->src[a0] == ' ' || p->src[a0] == '\t')) {
            a0++;
        }
        if (!triple && a0 < a1) {
            char c = p->src[a0];
            if (c == '#' || c == '^' || c == '/' || c == '!' || c == '>') {
                sigil = c;
                a0++;
            } else if (c == 't' && a0 + 1 < a1 &&
                       (p->src[a0 + 1] == ' ' || p->src[a0 + 1] == '\t')) {
                sigil = 't';
                a0++;
            } else if (!name_char(c) && c != '.') {
                return parse_error(p, line, "unknown tag kind '%c'",
                                   (c > 0x20 && c < 0x7f) ? c : '?');
            }
        }
        while (a0 < a1 && (p->src[a0] == ' ' || p->src[a0] == '\t' || p->src[a0] == '\n' ||
                           p->src[a0] == '\r')) {
            a0++;
        }
        while (a1 > a0 && (p->src[a1 - 1] == ' ' || p->src[a1 - 1] == '\t' ||
                           p->src[a1 - 1] == '\n' || p->src[a1 - 1] == '\r')) {
            a1--;
        }
        const char *arg = p->src + a0;
        size_t arg_len = a1 - a0;
        if (arg_len == 0 && sigil != '!') {
            return parse_error(p, line, "empty tag");
        }

        if (sigil && sigil != 't') {
            size_t ls, af;
            if (standalone(p, text_start, tag_start, tag_end, &ls, &af)) {
                text_end = ls;
                after = af;
            }
        }
        if (text_end > text_start) {
            struct node *t = node_new(p, N_TEXT, parser_line(p, text_start));
            t->text = p->src + text_start;
            t->len = text_end - text_start;
            *tail = t;
            tail = &t->next;
        }

        struct node *n = NULL;
        switch (sigil) {
        case '!':
            break;
        case '#':
        case '^':
            if (depth == MAX_SECTION_DEPTH) {
                return parse_error(p, line, "sections nested deeper than %d", MAX_SECTION_DEPTH);
            }
            n = node_new(p, sigil == '#' ? N_SECTION : N_INVERTED, line);
            if (parse_name(p, arg, arg_len, line, &n->name) < 0) {
                return -1;
            }
            *tail = n;
            stack[depth].node = n;
            stack[depth].tail = &n->next;
            depth++;
            tail = &n->children;
            n = NULL;
            break;
        case '/': {
            char *nm = arena_strndup(p->a, arg, arg_len);
            if (depth == 0) {
                return parse_error(p, line, "close tag '%.60s' without an open section", nm);
            }
            struct node *sec = stack[depth - 1].node;
            if (strcmp(sec->name.text, nm) != 0) {
                return parse_error(p, line, "close tag '%.60s' does not match section '%.60s' "
                                   "opened on line %d", nm, sec->name.text, sec->line);
            }
            depth--;
            tail = stack[depth].tail;
            break;
        }
        case '>': {
            if (!template_name_valid(arg, arg_len)) {
                return parse_error(p, line, "invalid template name '%.60s'",
                                   arena_strndup(p->a, arg, arg_len));
            }
            char *pname = arena_strndup(p->a, arg, arg_len);
            n = node_new(p, N_PARTIAL, line);
            n->partial = slot_get(pname);
            if (!n->partial->defined && !n->partial->ref[0] && strcmp(pname, self_name) != 0) {
                snprintf(n->partial->ref, sizeof(n->partial->ref), "%s:%d", p->file, line);
            }
            break;
        }
        case 't': {
            char *key = arena_strndup(p->a, arg, arg_len);
            if (!i18n_has(key)) {
                return parse_error(p, line, "unknown catalog key '%.60s'", key);
            }
            n = node_new(p, N_TRANS, line);
            node_set_translation(p, n, key);
            break;
        }
        default:
            n = node_new(p, triple ? N_RAW : N_VAR, line);
            if (parse_name(p, arg, arg_len, line, &n->name) < 0) {
                return -1;
            }
            break;
        }
        if (n) {
            *tail = n;
            tail = &n->next;
        }
        text_start = after;
    }
    if (depth > 0) {
        struct node *sec = stack[depth - 1].node;
        return parse_error(p, sec->line, "unclosed section '%.60s'", sec->name.text);
    }
    return 0;
}

int tmpl_compile(const char *name, const char *text, size_t len, struct err *e)
{
    if (!name || !template_name_valid(name, strlen(name))) {
        return err_set(e, ERR_INVALID, "template_error", "", "invalid template name '%.60s'",
                       name ? name : "(null)");
    }
    if (!text && len) {
        return err_set(e, ERR_INVALID, "template_error", "", "no text for template '%s'", name);
    }
    char file[128];
    snprintf(file, sizeof(file), "templates/%s.html", name);
    struct arena a;
    arena_init(&a);
    char *src = arena_strndup(&a, text ? text : "", len);
    struct parser p = {file, src, len, &a, e, 0, 1};
    struct node *root = NULL;
    if (parse(&p, name, &root) < 0) {
        arena_release(&a);
        return -1;
    }
    struct tmpl *t = slot_get(name);
    if (t->defined) {
        arena_release(&t->arena);
    }
    t->arena = a;
    t->root = root;
    t->defined = true;
    t->ref[0] = '\0';
    return 0;
}

int tmpl_init(struct err *e)
{
    static const char prefix[] = "templates/";
    static const char suffix[] = ".html";
    tmpl_shutdown();
    for (size_t i = 0; i < n_assets; i++) {
        const char *an = assets[i].name;
        size_t n = strlen(an);
        if (n <= sizeof(prefix) - 1 + sizeof(suffix) - 1 ||
            strncmp(an, prefix, sizeof(prefix) - 1) != 0 ||
            strcmp(an + n - (sizeof(suffix) - 1), suffix) != 0) {
            continue;
        }
        char *name = xstrndup(an + sizeof(prefix) - 1, n - (sizeof(prefix) - 1) - (sizeof(suffix) - 1));
        int rc = tmpl_compile(name, (const char *)assets[i].data, assets[i].len, e);
        free(name);
        if (rc < 0) {
            tmpl_shutdown();
            return -1;
        }
    }
    for (size_t i = 0; i < n_slots; i++) {
        if (!slots[i]->defined) {
            err_set(e, ERR_INVALID, "template_error", "", "%s: partial '%s' names no template",
                    slots[i]->ref[0] ? slots[i]->ref : "templates", slots[i]->name);
            tmpl_shutdown();
            return -1;
        }
    }
    return 0;
}

/* ---- rendering ---------------------------------------------------------- */

/* One level of the context stack; frames live on the C stack. */
struct frame {
    json_t *v;               /* the context value of this level */
    const struct frame *up;  /* the enclosing level, NULL at the bottom */
};

/* State of one render. */
struct render {
    struct buf *out;          /* where output goes */
    int lang;                 /* LANG_AR or LANG_EN */
    int depth;                /* current partial nesting */
    const struct tmpl *tmpl;  /* the template being walked, for messages */
    struct err *e;            /* where a failure is described */
};

/* The element of array v at the decimal index written in part ("0", "12"),
 * or NULL when part is not a plain index or is out of range. */
static json_t *array_index(json_t *v, const char *part)
{
    size_t idx = 0;
    if (!*part || strlen(part) > 9) {
        return NULL;
    }
    for (const char *c = part; *c; c++) {
        if (*c < '0' || *c > '9') {
            return NULL;
        }
        idx = idx * 10 + (size_t)(*c - '0');
    }
    return json_array_get(v, idx);
}

/* Looks nm up through the frames from f outward (Mustache rules: the first
 * part walks outward, the rest descend into objects, or into arrays by index). Returns a borrowed value or NULL. */
static json_t *lookup(const struct frame *f, const struct name *nm)
{
    if (nm->n_parts == 0) {
        return f ? f->v : NULL;
    }
    json_t *v = NULL;
    for (; f && !v; f = f->up) {
        if (json_is_object(f->v)) {
            v = json_object_get(f->v, nm->parts[0]);
        }
    }
    for (size_t i = 1; v && i < nm->n_parts; i++) {
        if (json_is_object(v)) {
            v = json_object_get(v, nm->parts[i]);
        } else if (json_is_array(v)) {
            v = array_index(v, nm->parts[i]);
        } else {
            v = NULL;
        }
    }
    return v;
}

/* True when v makes a section render (see tmpl.h). */
static bool truthy(const json_t *v)
{
    if (!v) {
        return false;
    }
    switch (json_typeof(v)) {
    case JSON_OBJECT:
    case JSON_TRUE:
        return true;
    case JSON_ARRAY:
        return json_array_size(v) > 0;
    case JSON_STRING:
        return json_string_length(v) > 0;
    case JSON_INTEGER:
        return json_integer_value(v) != 0;
    case JSON_REAL:
        return json_real_value(v) != 0.0;
    default:
        return false;
    }
}

/* Appends the text form of scalar v (escaped unless raw); nothing for
 * objects, arrays and null. */
static void emit_value(struct buf *out, const json_t *v, bool raw)
{
    if (!v) {
        return;
    }
    switch (json_typeof(v)) {
    case JSON_STRING:
        if (raw) {
            buf_add(out, json_string_value(v), json_string_length(v));
        } else {
            html_escape_n(out, json_string_value(v), json_string_length(v));
        }
        break;
    case JSON_INTEGER:
        buf_addf(out, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        break;
    case JSON_REAL:
        buf_addf(out, "%g", json_real_value(v));
        break;
    case JSON_TRUE:
        buf_add(out, "true", 4);
        break;
    case JSON_FALSE:
        buf_add(out, "false", 5);
        break;
    default:
        break;
    }
}

/* Renders the node list n against frame f. Returns 0, or -1 with r->e set. */
static int render_nodes(struct render *r, const struct node *n, const struct frame *f)
{
    for (; n; n = n->next) {
        switch (n->kind) {
        case N_TEXT:
            buf_add(r->out, n->text, n->len);
            break;
        case N_TRANS:
            buf_add(r->out, n->tr[r->lang], n->tr_len[r->lang]);
            break;
        case N_VAR:
        case N_RAW:
            emit_value(r->out, lookup(f, &n->name), n->kind == N_RAW);
            break;
        case N_SECTION: {
            json_t *v = lookup(f, &n->name);
            if (json_is_array(v)) {
                size_t size = json_array_size(v);
                for (size_t i = 0; i < size; i++) {
                    struct frame inner = {json_array_get(v, i), f};
                    if (render_nodes(r, n->children, &inner) < 0) {
                        return -1;
                    }
                }
            } else if (v && truthy(v)) {
                struct frame inner = {v, f};
                if (render_nodes(r, n->children, &inner) < 0) {
                    return -1;
                }
            }
            break;
        }
        case N_INVERTED:
            if (!truthy(lookup(f, &n->name)) && render_nodes(r, n->children, f) < 0) {
                return -1;
            }
            break;
        case N_PARTIAL: {
            const struct tmpl *t = n->partial;
            if (!t->defined) {
                return err_set(r->e, ERR_INTERNAL, "template_unknown", "",
                               "templates/%s.html:%d: unknown template '%s'", r->tmpl->name,
                               n->line, t->name);
            }
            if (r->depth >= MAX_PARTIAL_DEPTH) {
                return err_set(r->e, ERR_INTERNAL, "template_recursion", "",
                               "templates/%s.html:%d: partials nested deeper than %d",
                               r->tmpl->name, n->line, MAX_PARTIAL_DEPTH);
            }
            const struct tmpl *saved = r->tmpl;
            r->depth++;
            r->tmpl = t;
            int rc = render_nodes(r, t->root, f);
            r->depth--;
            r->tmpl = saved;
            if (rc < 0) {
                return -1;
            }
            break;
        }
        }
    }
    return 0;
}

int tmpl_render(const char *name, json_t *ctx, const char *lang, struct buf *out, struct err *e)
{
    const struct tmpl *t = name ? slot_find(name) : NULL;
    if (!t) {
        return err_set(e, ERR_INTERNAL, "template_unknown", "", "unknown template '%.60s'",
                       name ? name : "(null)");
    }
    pthread_once(&lang_roots_once, lang_roots_make);
    int li = (lang && strcmp(lang, "en") == 0) ? LANG_EN : LANG_AR;
    /* "lang" and "dir" sit above ctx, as if set in a copy of it */
    struct frame base = {ctx, NULL};
    struct frame root = {lang_roots[li], &base};
    struct render r = {out, li, 0, t, e};
    size_t saved_len = out->len;
    if (render_nodes(&r, t->root, &root) < 0) {
        buf_setlen(out, saved_len);
        return -1;
    }
    return 0;
}
