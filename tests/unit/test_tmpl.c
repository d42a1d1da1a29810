/*
 * test_tmpl.c: the template engine: escaping, sections, lookups, partials,
 * the raw tag, compile errors with their lines, and the real layout.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/err.h"
#include "web/html.h"
#include "web/i18n.h"
#include "web/svg.h"
#include "web/tmpl.h"
#include "core/banned.h"

/* Loads the real catalogs once for every test (templates check {{t}} keys). */
static int setup(void **state)
{
    (void)state;
    struct err e;
    err_clear(&e);
    if (i18n_init(&e) < 0) {
        fprintf(stderr, "i18n_init: %s\n", e.msg);
        return -1;
    }
    return 0;
}

/* Frees templates and catalogs. */
static int teardown(void **state)
{
    (void)state;
    tmpl_shutdown();
    i18n_shutdown();
    return 0;
}

/* Compiles text as name, failing the test on error. */
static void compile_ok(const char *name, const char *text)
{
    struct err e;
    err_clear(&e);
    int rc = tmpl_compile(name, text, strlen(text), &e);
    if (rc < 0) {
        fail_msg("compile '%s': %s", name, e.msg);
    }
}

/* Compiles text as "t", renders it with the JSON ctx (text, may be NULL for
 * {}) in lang and returns the output (caller frees). */
static char *render_str(const char *text, const char *ctx_json, const char *lang)
{
    compile_ok("t", text);
    json_error_t je;
    json_t *ctx = json_loads(ctx_json ? ctx_json : "{}", JSON_DECODE_ANY | JSON_ALLOW_NUL, &je);
    if (!ctx) {
        fail_msg("bad test json: %s", je.text);
    }
    struct buf out = BUF_INIT;
    struct err e;
    err_clear(&e);
    if (tmpl_render("t", ctx, lang, &out, &e) < 0) {
        fail_msg("render: %s", e.msg);
    }
    json_decref(ctx);
    return buf_detach(&out, NULL);
}

/* Asserts that rendering text with ctx in Arabic gives want. */
static void check(const char *text, const char *ctx, const char *want)
{
    char *got = render_str(text, ctx, "ar");
    assert_string_equal(got, want);
    free(got);
}

/* Asserts that compiling text fails with a message containing want. */
static void check_compile_error(const char *text, const char *want)
{
    struct err e;
    err_clear(&e);
    assert_int_equal(tmpl_compile("bad", text, strlen(text), &e), -1);
    if (!strstr(e.msg, want)) {
        fail_msg("error '%s' does not contain '%s'", e.msg, want);
    }
}

/* Escapes s with html_escape_n over n bytes and returns the result. */
static char *escape_n(const char *s, size_t n)
{
    struct buf b = BUF_INIT;
    html_escape_n(&b, s, n);
    return buf_detach(&b, NULL);
}

static void test_escape_specials(void **state)
{
    (void)state;
    struct buf b = BUF_INIT;
    html_escape(&b, "&<>\"'`");
    assert_string_equal(b.buf, "&amp;&lt;&gt;&quot;&#39;&#96;");
    buf_reset(&b);
    html_escape(&b, "a & b <c> \"d\" 'e' `f` g");
    assert_string_equal(b.buf, "a &amp; b &lt;c&gt; &quot;d&quot; &#39;e&#39; &#96;f&#96; g");
    buf_reset(&b);
    html_escape(&b, "");
    assert_string_equal(b.buf, "");
    html_escape(&b, NULL);
    assert_string_equal(b.buf, "");
    html_escape(&b, "&amp;");
    assert_string_equal(b.buf, "&amp;amp;");
    buf_release(&b);
}

static void test_escape_utf8(void **state)
{
    (void)state;
    /* valid Arabic, accents, an emoji and the tab/LF/CR stay as they are */
    const char *ok = "سند — café 🙂\t\n\r";
    char *s = escape_n(ok, strlen(ok));
    assert_string_equal(s, ok);
    free(s);
    /* ill-formed sequences become U+FFFD, one per bad byte */
    s = escape_n("a\xff" "b", 3);
    assert_string_equal(s, "a\xef\xbf\xbd" "b");
    free(s);
    s = escape_n("\xc0\xaf", 2); /* overlong '/' */
    assert_string_equal(s, "\xef\xbf\xbd\xef\xbf\xbd");
    free(s);
    s = escape_n("\xed\xa0\x80", 3); /* a surrogate */
    assert_string_equal(s, "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
    free(s);
    s = escape_n("x\xd8", 2); /* cut short at the end */
    assert_string_equal(s, "x\xef\xbf\xbd");
    free(s);
    s = escape_n("\xf4\x90\x80\x80", 4); /* above U+10FFFF */
    assert_string_equal(s, "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
    free(s);
    /* a NUL and other controls */
    s = escape_n("a\0b\x01\x1b", 5);
    assert_string_equal(s, "a\xef\xbf\xbd" "b\xef\xbf\xbd\xef\xbf\xbd");
    free(s);
}

static void test_escape_huge(void **state)
{
    (void)state;
    size_t n = 1 << 20;
    char *in = malloc(n + 1);
    for (size_t i = 0; i < n; i++) {
        in[i] = (i % 7 == 0) ? '<' : 'x';
    }
    in[n] = '\0';
    struct buf b = BUF_INIT;
    html_escape(&b, in);
    size_t lt = (n + 6) / 7;
    assert_int_equal(b.len, n + lt * 3);
    assert_null(strchr(b.buf, '<'));
    buf_release(&b);
    free(in);
}

static void test_variables(void **state)
{
    (void)state;
    check("Hi {{name}}!", "{\"name\":\"<b>Ali</b> & 'Sara'\"}",
          "Hi &lt;b&gt;Ali&lt;/b&gt; &amp; &#39;Sara&#39;!");
    check("{{ name }}", "{\"name\":\"x\"}", "x");
    check("[{{missing}}]", "{}", "[]");
    check("{{i}} {{n}} {{r}} {{big}} {{t}} {{f}} [{{z}}] [{{o}}] [{{a}}]",
          "{\"i\":42,\"n\":-7,\"r\":1.5,\"big\":1e20,\"t\":true,\"f\":false,\"z\":null,"
          "\"o\":{\"x\":1},\"a\":[1]}",
          "42 -7 1.5 1e+20 true false [] [] []");
    check("{{i}}", "{\"i\":9007199254740993}", "9007199254740993");
    check("{{s}}", "{\"s\":\"اسم الطفل\"}", "اسم الطفل");
    /* a string holding a NUL (jansson allows it) */
    check("{{s}}", "{\"s\":\"a\\u0000b\"}", "a\xef\xbf\xbd" "b");
    check("", "{}", "");
    check("plain text only", "{}", "plain text only");
    check("}} and } alone", "{}", "}} and } alone");
}

static void test_raw(void **state)
{
    (void)state;
    check("<main>{{{content}}}</main>", "{\"content\":\"<p class=\\\"x\\\">&amp;</p>\"}",
          "<main><p class=\"x\">&amp;</p></main>");
    check("{{{ content }}}", "{\"content\":7}", "7");
    check("{{{missing}}}", "{}", "");
}

static void test_sections(void **state)
{
    (void)state;
    const char *ctx = "{\"items\":[{\"n\":\"a\"},{\"n\":\"b<\"}],\"obj\":{\"n\":\"o\"},"
                      "\"f\":false,\"t\":true,\"empty\":[],\"es\":\"\",\"zero\":0,\"zr\":0.0,"
                      "\"s\":\"str\",\"one\":1,\"nul\":null,\"eo\":{}}";
    check("{{#items}}[{{n}}]{{/items}}", ctx, "[a][b&lt;]");
    check("{{#obj}}{{n}}{{/obj}}", ctx, "o");
    check("{{#f}}no{{/f}}", ctx, "");
    check("{{#t}}yes{{/t}}", ctx, "yes");
    check("{{#empty}}no{{/empty}}", ctx, "");
    check("{{#es}}no{{/es}}", ctx, "");
    check("{{#zero}}no{{/zero}}{{#zr}}no{{/zr}}", ctx, "");
    check("{{#nul}}no{{/nul}}{{#missing}}no{{/missing}}", ctx, "");
    check("{{#s}}<{{.}}>{{/s}}", ctx, "<str>");
    check("{{#one}}{{.}}{{/one}}", ctx, "1");
    check("{{#eo}}obj{{/eo}}", ctx, "obj");
    check("{{#items}}{{#obj}}{{n}}{{/obj}}{{/items}}", ctx, "oo");
    check("{{#list}}{{.}},{{/list}}", "{\"list\":[1,\"<\",true,2.5]}", "1,&lt;,true,2.5,");
    check("{{#list}}{{#.}}[{{.}}]{{/.}}{{/list}}", "{\"list\":[[1,2],[3]]}", "[1][2][3]");
}

static void test_inverted(void **state)
{
    (void)state;
    const char *ctx = "{\"f\":false,\"t\":true,\"empty\":[],\"es\":\"\",\"zero\":0,\"nul\":null,"
                      "\"items\":[1],\"obj\":{}}";
    check("{{^f}}a{{/f}}{{^empty}}b{{/empty}}{{^es}}c{{/es}}{{^zero}}d{{/zero}}"
          "{{^nul}}e{{/nul}}{{^missing}}f{{/missing}}",
          ctx, "abcdef");
    check("{{^t}}x{{/t}}{{^items}}x{{/items}}{{^obj}}x{{/obj}}", ctx, "");
    check("{{#items}}has{{/items}}{{^items}}none{{/items}}", "{\"items\":[]}", "none");
}

static void test_context_lookup(void **state)
{
    (void)state;
    /* names walk outward through the section contexts */
    check("{{#a}}{{#b}}{{x}}{{y}}{{z}}{{/b}}{{/a}}",
          "{\"z\":\"3\",\"a\":{\"y\":\"2\",\"b\":{\"x\":\"1\"}}}", "123");
    /* an inner value shadows an outer one */
    check("{{x}}{{#a}}{{x}}{{/a}}{{x}}", "{\"x\":\"o\",\"a\":{\"x\":\"i\"}}", "oio");
    /* array elements see the enclosing context */
    check("{{#rows}}{{name}}@{{org}} {{/rows}}",
          "{\"org\":\"main\",\"rows\":[{\"name\":\"a\"},{\"name\":\"b\"}]}", "a@main b@main ");
    /* a scalar element does not hide outer names */
    check("{{#l}}{{.}}{{sep}}{{/l}}", "{\"sep\":\";\",\"l\":[\"x\",\"y\"]}", "x;y;");
}

static void test_dotted_names(void **state)
{
    (void)state;
    const char *ctx = "{\"a\":{\"b\":{\"c\":\"deep\"}},\"b\":\"outer\",\"user\":{\"name\":\"N\"},"
                      "\"items\":[{\"name\":\"first\"},{\"name\":\"second\"}]}";
    check("{{a.b.c}}", ctx, "deep");
    check("{{user.name}}", ctx, "N");
    check("{{#a.b}}{{c}}{{/a.b}}", ctx, "deep");
    /* only the first part walks outward: a.b.missing does not find b */
    check("[{{a.b.b}}]", ctx, "[]");
    check("{{#a}}{{b.c}}{{/a}}", ctx, "deep");
    check("[{{a.x.y}}][{{b.c}}]", ctx, "[][]");
    check("{{items.1.name}}", ctx, "second");
    check("[{{items.2.name}}][{{items.x}}]", ctx, "[][]");
    check("{{#items.0}}has{{/items.0}}", ctx, "has");
    check("{{#items.0}}has{{/items.0}}{{^items.0}}none{{/items.0}}", "{\"items\":[]}", "none");
}

static void test_lang_and_dir(void **state)
{
    (void)state;
    char *s = render_str("{{lang}} {{dir}}", NULL, "ar");
    assert_string_equal(s, "ar rtl");
    free(s);
    s = render_str("{{lang}} {{dir}}", NULL, "en");
    assert_string_equal(s, "en ltr");
    free(s);
    s = render_str("{{lang}} {{dir}}", NULL, "fr");
    assert_string_equal(s, "ar rtl");
    free(s);
    s = render_str("{{lang}} {{dir}}", NULL, NULL);
    assert_string_equal(s, "ar rtl");
    free(s);
    /* the context's own lang and dir are overridden, as in a copy */
    s = render_str("{{lang}} {{dir}} {{#o}}{{lang}}{{/o}}",
                   "{\"lang\":\"<x>\",\"dir\":\"up\",\"o\":{\"lang\":\"in\"}}", "en");
    assert_string_equal(s, "en ltr in");
    free(s);
}

static void test_translation(void **state)
{
    (void)state;
    char *s = render_str("{{t app.name}}|{{t  action.save }}", NULL, "ar");
    assert_string_equal(s, "سند|حفظ");
    free(s);
    s = render_str("{{t app.name}}|{{t action.save}}", NULL, "en");
    assert_string_equal(s, "Sanad|Save");
    free(s);
    /* catalog text is escaped: err.invalid_field holds quotes in English */
    s = render_str("{{t err.invalid_field}}", NULL, "en");
    assert_non_null(strstr(s, "&quot;{field}&quot;"));
    free(s);
    /* a variable called t is still a variable */
    s = render_str("{{t}}", "{\"t\":\"v\"}", "ar");
    assert_string_equal(s, "v");
    free(s);
}

static void test_comments_and_standalone(void **state)
{
    (void)state;
    check("a{{! a comment with {{ braces }}b", "{}", "ab");
    check("a {{! multi\nline }} b", "{}", "a  b");
    /* section tags alone on their lines leave no blank lines behind */
    check("<ul>\n  {{#l}}\n  <li>{{.}}</li>\n  {{/l}}\n</ul>\n", "{\"l\":[1,2]}",
          "<ul>\n  <li>1</li>\n  <li>2</li>\n</ul>\n");
    check("x\r\n{{#t}}\r\ny\r\n{{/t}}\r\nz", "{\"t\":true}", "x\r\ny\r\nz");
    check("{{! only }}\nnext", "{}", "next");
    check("  {{#t}}  \nbody\n{{/t}}", "{\"t\":1}", "body\n");
    /* variables are never standalone */
    check("  {{v}}  \n", "{\"v\":\"x\"}", "  x  \n");
    check("a {{#t}}b{{/t}} c\n", "{\"t\":1}", "a b c\n");
}

static void test_partials(void **state)
{
    (void)state;
    compile_ok("item", "<li>{{name}}</li>");
    compile_ok("list", "<ul>{{#items}}{{> item}}{{/items}}</ul>");
    json_t *ctx = json_pack("{s:[{s:s},{s:s}]}", "items", "name", "a&b", "name", "c");
    struct buf out = BUF_INIT;
    struct err e;
    err_clear(&e);
    assert_int_equal(tmpl_render("list", ctx, "ar", &out, &e), 0);
    assert_string_equal(out.buf, "<ul><li>a&amp;b</li><li>c</li></ul>");
    /* replacing a partial takes effect in templates that include it */
    compile_ok("item", "<li class=\"i\">{{name}}</li>");
    buf_reset(&out);
    assert_int_equal(tmpl_render("list", ctx, "ar", &out, &e), 0);
    assert_string_equal(out.buf, "<ul><li class=\"i\">a&amp;b</li><li class=\"i\">c</li></ul>");
    json_decref(ctx);

    /* recursion over data that ends */
    compile_ok("tree", "({{name}}{{#kids}}{{> tree}}{{/kids}})");
    ctx = json_loads("{\"name\":\"r\",\"kids\":[{\"name\":\"a\",\"kids\":[{\"name\":\"b\"}]}]}",
                     0, NULL);
    buf_reset(&out);
    assert_int_equal(tmpl_render("tree", ctx, "ar", &out, &e), -1);
    /* "kids" walks outward from b (which has none) to a's kids: Mustache's
     * rules make this recurse until the depth guard */
    json_decref(ctx);
    ctx = json_loads("{\"name\":\"r\",\"kids\":[{\"name\":\"a\",\"kids\":[{\"name\":\"b\","
                     "\"kids\":[]}]}]}", 0, NULL);
    buf_reset(&out);
    assert_int_equal(tmpl_render("tree", ctx, "ar", &out, &e), 0);
    assert_string_equal(out.buf, "(r(a(b)))");
    json_decref(ctx);
    buf_release(&out);
}

static void test_partial_errors(void **state)
{
    (void)state;
    struct buf out = BUF_INIT;
    buf_adds(&out, "kept");
    struct err e;
    err_clear(&e);
    /* endless recursion stops at the depth guard, and the output is rolled back */
    compile_ok("loop", "x{{> loop}}");
    assert_int_equal(tmpl_render("loop", NULL, "ar", &out, &e), -1);
    assert_non_null(strstr(e.msg, "deeper than 16"));
    assert_string_equal(out.buf, "kept");
    /* mutual recursion too */
    compile_ok("ping", "{{> pong}}");
    compile_ok("pong", "{{> ping}}");
    assert_int_equal(tmpl_render("ping", NULL, "ar", &out, &e), -1);
    assert_non_null(strstr(e.msg, "deeper than 16"));
    /* exactly 16 levels are allowed */
    for (int i = 0; i < 16; i++) {
        char name[16], text[32];
        snprintf(name, sizeof(name), "lv%d", i);
        if (i == 15) {
            snprintf(text, sizeof(text), "end");
        } else {
            snprintf(text, sizeof(text), "{{> lv%d}}", i + 1);
        }
        compile_ok(name, text);
    }
    compile_ok("lvtop", "{{> lv0}}");
    buf_reset(&out);
    assert_int_equal(tmpl_render("lv0", NULL, "ar", &out, &e), 0);
    assert_string_equal(out.buf, "end");
    buf_reset(&out);
    assert_int_equal(tmpl_render("lvtop", NULL, "ar", &out, &e), 0); /* 16 nested partials */
    compile_ok("lvtop2", "{{> lvtop}}");
    assert_int_equal(tmpl_render("lvtop2", NULL, "ar", &out, &e), -1); /* 17 */
    assert_string_equal(e.msg, "templates/lv14.html:1: partials nested deeper than 16");
    /* a partial naming no template fails at render time, naming it */
    compile_ok("orphan", "a{{> nowhere}}b");
    err_clear(&e);
    buf_reset(&out);
    assert_int_equal(tmpl_render("orphan", NULL, "ar", &out, &e), -1);
    assert_non_null(strstr(e.msg, "'nowhere'"));
    assert_non_null(strstr(e.msg, "templates/orphan.html:1"));
    assert_int_equal(out.len, 0);
    buf_release(&out);
}

static void test_unknown_template(void **state)
{
    (void)state;
    struct buf out = BUF_INIT;
    struct err e;
    err_clear(&e);
    assert_int_equal(tmpl_render("no-such-template", NULL, "ar", &out, &e), -1);
    assert_non_null(strstr(e.msg, "unknown template 'no-such-template'"));
    assert_int_equal(tmpl_render(NULL, NULL, "ar", &out, &e), -1);
    /* a name only mentioned by a partial is not a template */
    compile_ok("mentions", "{{> mentioned}}");
    assert_int_equal(tmpl_render("mentioned", NULL, "ar", &out, &e), -1);
    assert_int_equal(out.len, 0);
    buf_release(&out);
}

static void test_compile_errors(void **state)
{
    (void)state;
    check_compile_error("a\nb\n{{#items}}\nx\n", "templates/bad.html:3: unclosed section 'items'");
    check_compile_error("{{#a}}\n{{#b}}\n{{/a}}\n", "templates/bad.html:3: close tag 'a' does "
                        "not match section 'b' opened on line 2");
    check_compile_error("ok\n\n{{/x}}", "templates/bad.html:3: close tag 'x' without an open");
    check_compile_error("\n{{=<% %>=}}", "templates/bad.html:2: unknown tag kind '='");
    check_compile_error("{{&raw}}", "templates/bad.html:1: unknown tag kind '&'");
    check_compile_error("{{@x}}", "unknown tag kind '@'");
    check_compile_error("x\ny {{name", "templates/bad.html:2: unclosed tag");
    check_compile_error("{{{name}}", "unclosed tag");
    check_compile_error("{{}}", "empty tag");
    check_compile_error("{{#}}{{/}}", "empty tag");
    check_compile_error("{{a b}}", "invalid name 'a b'");
    check_compile_error("{{a..b}}", "invalid name 'a..b'");
    check_compile_error("{{.a}}", "invalid name '.a'");
    check_compile_error("{{a.}}", "invalid name 'a.'");
    check_compile_error("\n\n\n{{t no.such.key}}", "templates/bad.html:4: unknown catalog key "
                        "'no.such.key'");
    check_compile_error("{{> ../etc/passwd}}", "invalid template name");
    check_compile_error("{{>}}", "empty tag");
    /* line numbers count across multi-line tags and comments */
    check_compile_error("{{! one\ntwo\nthree }}\n{{x y}}", "templates/bad.html:4:");
    /* nesting is bounded */
    struct buf deep = BUF_INIT;
    for (int i = 0; i < 101; i++) {
        buf_adds(&deep, "{{#a}}");
    }
    check_compile_error(deep.buf, "nested deeper than 100");
    buf_release(&deep);
    /* a bad template name */
    struct err e;
    err_clear(&e);
    assert_int_equal(tmpl_compile("", "x", 1, &e), -1);
    assert_int_equal(tmpl_compile("a b", "x", 1, &e), -1);
    assert_int_equal(tmpl_compile(NULL, "x", 1, &e), -1);
    assert_int_equal(tmpl_compile("x", NULL, 3, &e), -1);
    assert_int_equal(tmpl_compile("x", NULL, 0, &e), 0);
}

static void test_failed_compile_keeps_old(void **state)
{
    (void)state;
    compile_ok("keep", "old {{v}}");
    struct err e;
    err_clear(&e);
    assert_int_equal(tmpl_compile("keep", "{{#open}}", 9, &e), -1);
    json_t *ctx = json_pack("{s:s}", "v", "ok");
    struct buf out = BUF_INIT;
    assert_int_equal(tmpl_render("keep", ctx, "en", &out, &e), 0);
    assert_string_equal(out.buf, "old ok");
    json_decref(ctx);
    buf_release(&out);
}

static void test_huge_template(void **state)
{
    (void)state;
    struct buf src = BUF_INIT;
    for (int i = 0; i < 20000; i++) {
        buf_addf(&src, "<p>{{#rows}}{{name}}{{/rows}}{{^none}}-{{/none}}</p>\n");
    }
    compile_ok("big", src.buf);
    json_t *ctx = json_pack("{s:[{s:s}]}", "rows", "name", "<");
    struct buf out = BUF_INIT;
    struct err e;
    err_clear(&e);
    assert_int_equal(tmpl_render("big", ctx, "ar", &out, &e), 0);
    assert_int_equal(out.len, 20000 * strlen("<p>&lt;-</p>\n"));
    json_decref(ctx);
    buf_release(&out);
    buf_release(&src);
}

/* The real templates, as tmpl_init compiles them. */
static void test_init_real_templates(void **state)
{
    (void)state;
    struct err e;
    err_clear(&e);
    if (tmpl_init(&e) < 0) {
        fail_msg("tmpl_init: %s", e.msg);
    }
    json_t *ctx = json_pack("{s:i, s:s}", "status", 404, "message", "<gone>");
    struct buf out = BUF_INIT;
    assert_int_equal(tmpl_render("error", ctx, "en", &out, &e), 0);
    assert_non_null(strstr(out.buf, "Something went wrong"));
    assert_non_null(strstr(out.buf, "(404)"));
    assert_non_null(strstr(out.buf, "&lt;gone&gt;"));
    assert_null(strstr(out.buf, "<gone>"));
    json_decref(ctx);
    buf_release(&out);
}

/* Renders the layout with a hostile sample context and returns the page. */
static char *render_layout(const char *lang, bool with_session)
{
    const char *evil = "<script>alert(1)</script>\"'`&";
    json_t *ctx = json_pack("{s:s, s:s, s:s, s:{s:s, s:s}}", "title", evil, "content",
                            "<p id=\"page\">page body</p>", "path", "/children?q=\"><x>",
                            "flash", "kind", "error", "text", evil);
    if (with_session) {
        json_object_set_new(ctx, "csrf", json_string("tok\"en<"));
        json_object_set_new(ctx, "user", json_pack("{s:s, s:s, s:s}", "name", evil, "username",
                                                   "u<1>", "role", "admin"));
        json_object_set_new(ctx, "nav",
                            json_pack("[{s:s, s:s, s:b}, {s:s, s:s, s:b}]", "href", "/a",
                                      "label", evil, "active", 1, "href", "/b\"", "label", "B",
                                      "active", 0));
    }
    struct buf out = BUF_INIT;
    struct err e;
    err_clear(&e);
    if (tmpl_render("layout", ctx, lang, &out, &e) < 0) {
        fail_msg("render layout: %s", e.msg);
    }
    json_decref(ctx);
    return buf_detach(&out, NULL);
}

/* Counts the occurrences of needle in hay. */
static int count(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle)) {
        n++;
    }
    return n;
}

static void test_layout(void **state)
{
    (void)state;
    struct err e;
    err_clear(&e);
    if (tmpl_init(&e) < 0) {
        fail_msg("tmpl_init: %s", e.msg);
    }
    for (int session = 0; session < 2; session++) {
        for (int l = 0; l < 2; l++) {
            const char *lang = l ? "en" : "ar";
            char *page = render_layout(lang, session);
            assert_true(strncmp(page, "<!doctype html>", 15) == 0);
            if (l) {
                assert_non_null(strstr(page, "<html lang=\"en\" dir=\"ltr\">"));
                assert_non_null(strstr(page, ">العربية</button>"));
                assert_non_null(strstr(page, "name=\"lang\" value=\"ar\""));
            } else {
                assert_non_null(strstr(page, "<html lang=\"ar\" dir=\"rtl\">"));
                assert_non_null(strstr(page, ">English</button>"));
                assert_non_null(strstr(page, "name=\"lang\" value=\"en\""));
            }
            /* no user input comes through unescaped */
            assert_null(strstr(page, "<script>"));
            assert_null(strstr(page, "<x>"));
            assert_null(strstr(page, "u<1>"));
            assert_null(strstr(page, "tok\"en<"));
            assert_null(strstr(page, "/b\""));
            assert_non_null(strstr(page, "&lt;script&gt;alert(1)&lt;/script&gt;&quot;&#39;&#96;&amp;"));
            /* no inline script or style */
            assert_int_equal(count(page, "<script"), 1);
            assert_non_null(strstr(page, "<script src=\"/static/app.js\" defer></script>"));
            assert_null(strstr(page, "style="));
            assert_null(strstr(page, "<style"));
            /* the shell */
            assert_non_null(strstr(page, "name=\"viewport\""));
            assert_non_null(strstr(page, "href=\"/static/app.css\""));
            assert_non_null(strstr(page, "href=\"#main\""));
            assert_non_null(strstr(page, "<main id=\"main\" tabindex=\"-1\"><p id=\"page\">page "
                                         "body</p></main>"));
            assert_non_null(strstr(page, "role=\"status\""));
            assert_non_null(strstr(page, "name=\"next\" value=\"/children?q=&quot;&gt;&lt;x&gt;\""));
            assert_non_null(strstr(page, "<footer"));
            if (session) {
                assert_non_null(strstr(page, "action=\"/logout\""));
                assert_int_equal(count(page, "name=\"csrf\" value=\"tok&quot;en&lt;\""), 2);
                assert_non_null(strstr(page, "method=\"post\" action=\"/lang\""));
                assert_null(strstr(page, "method=\"get\" action=\"/lang\""));
                assert_int_equal(count(page, "aria-current=\"page\""), 2); /* wide and narrow */
                assert_non_null(strstr(page, "<details"));
                assert_non_null(strstr(page, "title=\"u&lt;1&gt;\""));
            } else {
                assert_null(strstr(page, "action=\"/logout\""));
                assert_null(strstr(page, "name=\"csrf\""));
                assert_non_null(strstr(page, "method=\"get\" action=\"/lang\""));
                assert_null(strstr(page, "<nav"));
                assert_null(strstr(page, "<details"));
            }
            free(page);
        }
    }
}

/* Arguments and result of one rendering thread. */
struct thread_job {
    const char *want; /* the expected page */
    int failures;     /* renders that differed */
};

/* Renders the layout many times and counts differences from job->want. */
static void *render_thread(void *arg)
{
    struct thread_job *job = arg;
    for (int i = 0; i < 200; i++) {
        char *page = render_layout("ar", true);
        if (strcmp(page, job->want) != 0) {
            job->failures++;
        }
        free(page);
    }
    return NULL;
}

static void test_threads(void **state)
{
    (void)state;
    struct err e;
    err_clear(&e);
    assert_int_equal(tmpl_init(&e), 0);
    char *want = render_layout("ar", true);
    pthread_t th[4];
    struct thread_job jobs[4];
    for (int i = 0; i < 4; i++) {
        jobs[i] = (struct thread_job){want, 0};
        assert_int_equal(pthread_create(&th[i], NULL, render_thread, &jobs[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(jobs[i].failures, 0);
    }
    free(want);
}

/* The marks svg.c puts around drawn labels and before drawn values. */
#define LRM "\xe2\x80\x8e"
#define FSI "\xe2\x81\xa8"
#define PDI "\xe2\x81\xa9"

static void test_svg_bar(void **state)
{
    (void)state;
    struct svg_point pts[] = {
        {"<script>alert('x')</script>", 12, NULL},
        {"دار الأيتام & \"الأمل\"", 3.5, NULL},
        {NULL, NAN, NULL},
        {"neg", -4, "−4 JOD <b>"},
        {"\xff\xfe bad utf-8", 0, NULL},
        {"a label that is much longer than thirty characters in all", 1, NULL},
    };
    struct buf out = BUF_INIT;
    svg_bar_chart(&out, "Children <by> region", pts, 6, true);
    const char *s = out.buf;
    assert_true(strncmp(s, "<svg ", 5) == 0);
    assert_non_null(strstr(s, "role=\"img\""));
    assert_non_null(strstr(s, "direction=\"rtl\""));
    assert_non_null(strstr(s, "<title>Children &lt;by&gt; region</title>"));
    assert_null(strstr(s, "<script"));
    assert_null(strstr(s, "<b>"));
    assert_non_null(strstr(s, "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"));
    assert_non_null(strstr(s, "دار الأيتام &amp; &quot;الأمل&quot;"));
    assert_non_null(strstr(s, ">" LRM "12</text>"));
    assert_non_null(strstr(s, ">" LRM "3.50</text>"));
    assert_non_null(strstr(s, ">" LRM "0</text>"));
    assert_non_null(strstr(s, "−4 JOD &lt;b&gt;"));
    assert_non_null(strstr(s, "chart-bar-negative"));
    assert_non_null(strstr(s, "\xef\xbf\xbd\xef\xbf\xbd bad utf-8"));
    /* the long label is shortened on the drawing, whole in its title */
    assert_non_null(strstr(s, ">" FSI "a label that is much \xe2\x80\xa6" PDI "</text>"));
    assert_non_null(strstr(s, "<title>a label that is much longer than thirty characters in "
                              "all: 1</title>"));
    assert_null(strstr(s, ">nan"));
    assert_null(strstr(s, "\"nan"));
    assert_null(strstr(s, "inf"));
    assert_null(strstr(s, "style"));
    assert_int_equal(count(s, "<rect"), 6);
    assert_true(strcmp(s + out.len - 6, "</svg>") == 0);
    /* left to right: the label column is on the left, bars start at 208 */
    buf_reset(&out);
    svg_bar_chart(&out, "t", pts, 1, false);
    assert_non_null(strstr(out.buf, "direction=\"ltr\""));
    assert_non_null(strstr(out.buf, "<rect class=\"chart-bar\" x=\"208.0\""));
    /* right to left: the same bar ends at 640 - 208 */
    buf_reset(&out);
    svg_bar_chart(&out, "t", pts, 1, true);
    assert_non_null(strstr(out.buf, "width=\"336.0\""));
    assert_non_null(strstr(out.buf, "<rect class=\"chart-bar\" x=\"96.0\""));
    /* no points, NULL title */
    buf_reset(&out);
    svg_bar_chart(&out, NULL, NULL, 0, false);
    assert_non_null(strstr(out.buf, "<title></title></svg>"));
    buf_release(&out);
}

static void test_svg_line(void **state)
{
    (void)state;
    struct svg_point pts[30];
    char labels[30][16];
    for (int i = 0; i < 30; i++) {
        snprintf(labels[i], sizeof(labels[i]), "m<%d>", i);
        pts[i] = (struct svg_point){labels[i], i * 10 - 50, NULL};
    }
    struct buf out = BUF_INIT;
    svg_line_chart(&out, "Monthly \"totals\"", pts, 30, true);
    const char *s = out.buf;
    assert_non_null(strstr(s, "<title>Monthly &quot;totals&quot;</title>"));
    assert_non_null(strstr(s, "<polyline"));
    assert_int_equal(count(s, "<circle"), 30);
    /* every third x label (0, 3, ..., 27) and the last */
    assert_int_equal(count(s, "class=\"chart-label\""), 11);
    assert_null(strstr(s, "m<"));
    assert_non_null(strstr(s, "<title>m&lt;29&gt;: 240</title>"));
    assert_non_null(strstr(s, ">" LRM "-50</text>"));
    /* rtl: the first point is at the right */
    assert_non_null(strstr(s, "points=\"624.0,"));
    buf_reset(&out);
    svg_line_chart(&out, "one", pts, 1, false);
    assert_null(strstr(out.buf, "<polyline"));
    assert_int_equal(count(out.buf, "<circle"), 1);
    buf_reset(&out);
    svg_line_chart(&out, "none", NULL, 0, false);
    assert_int_equal(count(out.buf, "<circle"), 0);
    assert_true(strcmp(out.buf + out.len - 6, "</svg>") == 0);
    buf_release(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_escape_specials),
        cmocka_unit_test(test_escape_utf8),
        cmocka_unit_test(test_escape_huge),
        cmocka_unit_test(test_variables),
        cmocka_unit_test(test_raw),
        cmocka_unit_test(test_sections),
        cmocka_unit_test(test_inverted),
        cmocka_unit_test(test_context_lookup),
        cmocka_unit_test(test_dotted_names),
        cmocka_unit_test(test_lang_and_dir),
        cmocka_unit_test(test_translation),
        cmocka_unit_test(test_comments_and_standalone),
        cmocka_unit_test(test_partials),
        cmocka_unit_test(test_partial_errors),
        cmocka_unit_test(test_unknown_template),
        cmocka_unit_test(test_compile_errors),
        cmocka_unit_test(test_failed_compile_keeps_old),
        cmocka_unit_test(test_huge_template),
        cmocka_unit_test(test_init_real_templates),
        cmocka_unit_test(test_layout),
        cmocka_unit_test(test_threads),
        cmocka_unit_test(test_svg_bar),
        cmocka_unit_test(test_svg_line),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
