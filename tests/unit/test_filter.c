/* filter: expressions compile against a job's schema, type-check with a
 * message and column on every mistake, and select rows of whole batches
 * with SQL NULL semantics (a row passes only when the expression is TRUE).
 *
 * Most tests run an expression over one small fixed batch and compare the
 * keep flags as a string of '0'/'1', one character per row. */
#include <CUnit/CUnit.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "err.h"
#include "filter.h"
#include "testrand.h"

/* Schema of every test: i, j integers; d, e doubles; s, zone strings;
 * b boolean; ts timestamp. */
static weir_job_t s_job;

static void s_job_init(void)
{
    static const struct {
        const char *name;
        weir_type_t type;
    } cols[] = {{"i", WEIR_TYPE_INT64},     {"d", WEIR_TYPE_DOUBLE},    {"s", WEIR_TYPE_STRING},
                {"b", WEIR_TYPE_BOOL},      {"j", WEIR_TYPE_INT64},     {"e", WEIR_TYPE_DOUBLE},
                {"zone", WEIR_TYPE_STRING}, {"ts", WEIR_TYPE_TIMESTAMP}};
    memset(&s_job, 0, sizeof s_job);
    s_job.source.n_fields = 8;
    for (int c = 0; c < 8; c++) {
        snprintf(s_job.source.fields[c].name, WEIR_NAME_MAX, "%s", cols[c].name);
        s_job.source.fields[c].type = cols[c].type;
    }
}

static weir_batch_t *s_new_batch(uint32_t cap)
{
    weir_type_t types[WEIR_MAX_COLS];
    for (int c = 0; c < s_job.source.n_fields; c++)
        types[c] = s_job.source.fields[c].type;
    return weir_batch_new(types, s_job.source.n_fields, cap, 16);
}

/* The fixed rows; NULL where the *_null flag (or string pointer) says so. */
typedef struct {
    int i_null;
    int64_t i;
    int d_null;
    double d;
    const char *s;
    int b_null;
    int64_t b;
    int j_null;
    int64_t j;
} s_row_t;

static const s_row_t s_rows[] = {
    {0, 1, 0, 1.5, "a", 0, 1, 0, 0},          {0, -3, 0, -2.0, "it's", 0, 0, 0, 2},
    {1, 0, 1, 0, NULL, 1, 0, 1, 0},           {0, 10, 0, 10.0, "", 0, 1, 0, -1},
    {0, 7, 0, 0.5, "say \"hi\"", 0, 0, 0, 3},
};
#define S_N_ROWS 5

static weir_batch_t *s_fixed_batch(void)
{
    weir_batch_t *b = s_new_batch(S_N_ROWS);
    for (int r = 0; r < S_N_ROWS; r++) {
        const s_row_t *w = &s_rows[r];
        w->i_null ? weir_batch_put_null(b, 0) : weir_batch_put_i64(b, 0, w->i);
        w->d_null ? weir_batch_put_null(b, 1) : weir_batch_put_f64(b, 1, w->d);
        if (w->s)
            weir_batch_put_str(b, 2, w->s, (uint32_t)strlen(w->s));
        else
            weir_batch_put_null(b, 2);
        w->b_null ? weir_batch_put_null(b, 3) : weir_batch_put_i64(b, 3, w->b);
        w->j_null ? weir_batch_put_null(b, 4) : weir_batch_put_i64(b, 4, w->j);
        weir_batch_put_f64(b, 5, 2.0);
        weir_batch_put_str(b, 6, "JFK", 3);
        weir_batch_put_i64(b, 7, 1000 * r);
        weir_batch_commit_row(b, 0);
    }
    return b;
}

/* Runs expr over the fixed rows and compares the keep flags with want. */
static void s_check(const char *expr, const char *want, int line)
{
    weir_filter_t *f = NULL;
    char err[256];
    int col = 0;
    int rc = weir_filter_compile(expr, &s_job, S_N_ROWS, &f, err, sizeof err, &col);
    if (rc != 0) {
        fprintf(stderr, "\nline %d: %s: compile failed at column %d: %s\n", line, expr, col, err);
        CU_FAIL("compile failed");
        return;
    }
    weir_batch_t *b = s_fixed_batch();
    uint8_t keep[S_N_ROWS];
    CU_ASSERT_EQUAL(weir_filter_eval(f, b, keep), 0);
    char got[S_N_ROWS + 1];
    for (int r = 0; r < S_N_ROWS; r++)
        got[r] = keep[r] ? '1' : '0';
    got[S_N_ROWS] = '\0';
    if (strcmp(got, want) != 0) {
        fprintf(stderr, "\nline %d: %s: kept %s, want %s\n", line, expr, got, want);
        CU_FAIL("wrong rows kept");
    }
    weir_batch_destroy(&b);
    weir_filter_destroy(&f);
    CU_ASSERT_PTR_NULL(f);
}
#define CHECK(expr, want) s_check(expr, want, __LINE__)

/* Compiles expr, expecting WEIR_EINVAL with a message containing msg at
 * 1-based column col. */
static void s_bad(const char *expr, const char *msg, int col, int line)
{
    weir_filter_t *f = NULL;
    char err[256] = "";
    int got_col = -1;
    int rc = weir_filter_compile(expr, &s_job, 8, &f, err, sizeof err, &got_col);
    if (rc != WEIR_EINVAL || !strstr(err, msg) || got_col != col || f != NULL ||
        strchr(err, '\n')) {
        fprintf(stderr, "\nline %d: %s: rc %d col %d \"%s\", want col %d \"%s\"\n", line, expr, rc,
                got_col, err, col, msg);
        CU_FAIL("wrong error");
    }
    weir_filter_destroy(&f);
}
#define BAD(expr, msg, col) s_bad(expr, msg, col, __LINE__)

static void comparisons_of_integers_select_the_expected_rows(void)
{
    s_job_init();
    /* i: 1, -3, NULL, 10, 7 */
    CHECK("i = 1", "10000");
    CHECK("i == 1", "10000");
    CHECK("i != 1", "01011");
    CHECK("i <> 1", "01011");
    CHECK("i < 7", "11000");
    CHECK("i <= 7", "11001");
    CHECK("i > 1", "00011");
    CHECK("i >= 1", "10011");
    CHECK("1 < i", "00011");
    CHECK("i = i", "11011");
    CHECK("ts >= 3000", "00011");
}

static void arithmetic_follows_the_usual_precedence(void)
{
    s_job_init();
    CHECK("i + 2 * 3 = 7", "10000");
    CHECK("(i + 2) * 3 = 9", "10000");
    CHECK("i - 1 - 1 = -1", "10000");
    CHECK("20 / i / 2 = 1", "00011");
    CHECK("i * 2 + j = 2", "10000");
    CHECK("-i = 3", "01000");
    CHECK("- -i = 1", "10000");
    CHECK("-i * 2 = 6", "01000");
    CHECK("i % 3 = 1", "10011");
    CHECK("i % 3 = 0", "01000");
    CHECK("7 / 2 = 3", "11111");
    CHECK("-7 / 2 = -3 and -7 % 2 = -1", "11111");
    CHECK("1 + 2 * 3 - 4 / 2 % 3 = 5", "11111");
    CHECK("-9223372036854775808 < 0", "11111");
    CHECK("9223372036854775807 + 1 < 0", "11111");
}

static void integers_and_doubles_mix_as_doubles(void)
{
    s_job_init();
    /* d: 1.5, -2.0, NULL, 10.0, 0.5 */
    CHECK("d > 1", "10010");
    CHECK("d = i", "00010");
    CHECK("i / 2 = 3", "00001");
    CHECK("i / 2.0 = 3.5", "00001");
    CHECK("i + 0.5 = 1.5", "10000");
    CHECK("d * 2 = 3", "10000");
    CHECK("-d = 2", "01000");
    CHECK(".5 = d", "00001");
    CHECK("d < 1e1", "11001");
    CHECK("d >= 1.5E+0", "10010");
    CHECK("d / e = 0.75", "10000");
}

static void division_by_zero_yields_null(void)
{
    s_job_init();
    /* j: 0, 2, NULL, -1, 3 */
    CHECK("i / j = 0", "00000" /* 1/0 NULL, -3/2=-1, -, 10/-1, 7/3=2 */);
    CHECK("i / j is null", "10100");
    CHECK("i % j is null", "10100");
    CHECK("d / j is null", "10100");
    CHECK("d / 0.0 is null", "11111");
    CHECK("not (i / j > 0)", "01010");
    CHECK("i / j = -10", "00010");
    CHECK("i % j = 1", "00001");
}

static void null_logic_follows_sql_truth_tables(void)
{
    s_job_init();
    /* b: true, false, NULL, true, false */
    CHECK("b", "10010");
    CHECK("not b", "01001");
    CHECK("b and true", "10010");
    CHECK("b and false", "00000");
    CHECK("(b and false) is null", "00000");
    CHECK("(b and true) is null", "00100");
    CHECK("b or true", "11111");
    CHECK("b or false", "10010");
    CHECK("(b or false) is null", "00100");
    CHECK("(b or true) is null", "00000");
    CHECK("(not b) is null", "00100");
    CHECK("b is null", "00100");
    CHECK("b is not null", "11011");
    CHECK("not b is null", "11011");
    CHECK("b = true", "10010");
    CHECK("b != true", "01001");
    /* the NULL row drops out of both a condition and its negation */
    CHECK("i > 5", "00011");
    CHECK("not (i > 5)", "11000");
    CHECK("i > 5 or not (i > 5)", "11011");
    CHECK("(i > 5 or not (i > 5)) is null", "00100");
    CHECK("i + 1 is null", "00100");
}

static void and_binds_tighter_than_or_and_not_tighter_than_and(void)
{
    s_job_init();
    CHECK("true or false and false", "11111");
    CHECK("(true or false) and false", "00000");
    CHECK("not false and false", "00000");
    CHECK("not (false and false)", "11111");
    CHECK("i = 1 or i = 10 and b", "10010");
    CHECK("i = 1 OR i = 7 AND NOT b", "10001");
    CHECK("NoT TrUe Or FALSE", "00000");
}

static void strings_compare_bytewise_and_quotes_double_to_escape(void)
{
    s_job_init();
    /* s: "a", "it's", NULL, "", "say \"hi\"" */
    CHECK("s = 'a'", "10000");
    CHECK("s = \"a\"", "10000");
    CHECK("s = 'it''s'", "01000");
    CHECK("s = \"it's\"", "01000");
    CHECK("s = \"say \"\"hi\"\"\"", "00001");
    CHECK("s = 'say \"hi\"'", "00001");
    CHECK("s = ''", "00010");
    CHECK("s != 'a'", "01011");
    CHECK("s <> 'a'", "01011");
    CHECK("s < 'b'", "10010");
    CHECK("s <= 'a'", "10010");
    CHECK("s > 'a'", "01001");
    CHECK("s >= 'it'", "01001");
    CHECK("s is null", "00100");
    CHECK("'b' > s", "10010");
    CHECK("s = zone", "00000");
    CHECK("zone = 'JFK' and s is not null", "11011");
    CHECK("'x' = 'x'", "11111");
    CHECK("'x' is null", "00000");
    CHECK("'x' is not null", "11111");
}

static void malformed_expressions_are_rejected_with_message_and_column(void)
{
    s_job_init();
    BAD("fair_amount > 0", "unknown column 'fair_amount' (columns: i, d, s, b, j, e, zone, ts)", 1);
    BAD("i >= ", "expected a value after '>='", 6);
    BAD("i >= )", "expected a value after '>='", 6);
    BAD("zone > 3", "cannot compare string 'zone' with a number", 6);
    BAD("i = zone", "cannot compare number 'i' with string 'zone'", 3);
    BAD("b = 1", "cannot compare boolean 'b' with a number", 3);
    BAD("(i > 1", "unclosed '('", 1);
    BAD("((i > 1)", "unclosed '('", 1);
    BAD("(i > 1 b", "expected ')' to close the '(' at column 1, got 'b'", 8);
    BAD("i > 1)", "unmatched ')'", 6);
    BAD("", "empty expression", 1);
    BAD("   ", "empty expression", 4);
    BAD("and i", "expected a value, got 'and'", 1);
    BAD("i > 1 j", "unexpected 'j' after '1'", 7);
    BAD("s = 'abc", "unterminated string", 5);
    BAD("s = \"it''s", "unterminated string", 5);
    BAD("i # 1", "unexpected character '#'", 3);
    BAD("i ! 1", "unexpected character '!'", 3);
    BAD("i > 12abc", "malformed number '12a'", 5);
    BAD("i > 1.2.3", "malformed number", 5);
    BAD("i > 99999999999999999999", "out of range", 5);
    BAD("i > 9223372036854775808", "integer 9223372036854775808 is out of range", 5);
    BAD("i + 1", "the filter must be a condition, not a number", 1);
    BAD("zone", "the filter must be a condition, not string 'zone'", 1);
    BAD("d % 2 = 0", "'%' needs integers, got number 'd'", 1);
    BAD("i % 2.5 = 0", "'%' needs integers, got a number", 5);
    BAD("zone + 1 = 2", "cannot apply '+' to string 'zone'", 1);
    BAD("1 * 'a' = 2", "cannot apply '*' to a string", 5);
    BAD("-zone = 1", "cannot negate string 'zone'", 2);
    BAD("-b", "cannot negate boolean 'b'", 2);
    BAD("not i", "'not' needs a condition, got number 'i'", 5);
    BAD("i and b", "'and' needs a condition, got number 'i'", 1);
    BAD("b or (d + 1)", "'or' needs a condition, got a number", 6);
    BAD("i is 3", "expected 'null' or 'not null' after 'is'", 6);
    BAD("i is not", "expected 'null' or 'not null' after 'is'", 9);
    BAD("i < j < 3", "cannot compare a boolean with a number", 7);
    BAD("I = 1", "unknown column 'I'", 1);
    BAD("i = 1 and", "expected a value after 'and'", 10);
    BAD("not", "expected a value after 'not'", 4);
    BAD("()", "expected a value after '('", 2);
    BAD("i = \x01", "unexpected byte 0x01", 5);

    char deep[1200];
    memset(deep, '(', 600);
    snprintf(deep + 600, sizeof deep - 600, "true");
    BAD(deep, "nested too deeply", 201);

    /* the message is truncated, not overrun, and err may be absent */
    weir_filter_t *f = NULL;
    char tiny[8];
    CU_ASSERT_EQUAL(weir_filter_compile("x = 1", &s_job, 4, &f, tiny, sizeof tiny, NULL),
                    WEIR_EINVAL);
    CU_ASSERT_EQUAL(strlen(tiny), 7);
    CU_ASSERT_EQUAL(weir_filter_compile("x = 1", &s_job, 4, &f, NULL, 0, NULL), WEIR_EINVAL);
    CU_ASSERT_PTR_NULL(f);
    CU_ASSERT_EQUAL(weir_filter_compile("i = 1", &s_job, 0, &f, NULL, 0, NULL), WEIR_ERANGE);
}

static void eval_rejects_batches_it_was_not_compiled_for(void)
{
    s_job_init();
    weir_filter_t *f = NULL;
    CU_ASSERT_EQUAL_FATAL(weir_filter_compile("zone = 'x'", &s_job, 2, &f, NULL, 0, NULL), 0);
    weir_batch_t *b = s_fixed_batch();
    uint8_t keep[S_N_ROWS];
    CU_ASSERT_EQUAL(weir_filter_eval(f, b, keep), WEIR_ERANGE);
    weir_type_t types[1] = {WEIR_TYPE_INT64};
    weir_batch_t *narrow = weir_batch_new(types, 1, 2, 0);
    CU_ASSERT_EQUAL(weir_filter_eval(f, narrow, keep), WEIR_EINVAL);
    weir_batch_destroy(&narrow);
    weir_batch_destroy(&b);
    weir_filter_destroy(&f);
    weir_filter_destroy(&f);
}

static void a_batch_of_1024_rows_is_filtered_in_one_call(void)
{
    s_job_init();
    weir_batch_t *b = s_new_batch(1024);
    for (int r = 0; r < 1024; r++) {
        weir_batch_put_i64(b, 0, r);
        weir_batch_put_f64(b, 1, r * 0.5);
        if (r % 7 == 0) {
            weir_batch_put_null(b, 2);
        } else {
            char txt[16];
            int n = snprintf(txt, sizeof txt, "z%d", r % 10);
            weir_batch_put_str(b, 2, txt, (uint32_t)n);
        }
        weir_batch_put_i64(b, 3, r & 1);
        r % 5 ? weir_batch_put_i64(b, 4, r % 4) : weir_batch_put_null(b, 4);
        weir_batch_put_f64(b, 5, 1.0);
        weir_batch_put_str(b, 6, "JFK", 3);
        weir_batch_put_i64(b, 7, r * 1000LL);
        weir_batch_commit_row(b, r);
    }
    weir_filter_t *f = NULL;
    const char *expr = "(i % 3 = 0 and s is not null and d < 400.25) or (b and i / j = 1)";
    CU_ASSERT_EQUAL_FATAL(weir_filter_compile(expr, &s_job, 1024, &f, NULL, 0, NULL), 0);
    uint8_t keep[1024];
    for (int pass = 0; pass < 2; pass++) {
        memset(keep, 7, sizeof keep);
        CU_ASSERT_EQUAL(weir_filter_eval(f, b, keep), 0);
        int wrong = 0, kept = 0;
        for (int r = 0; r < 1024; r++) {
            int j_null = r % 5 == 0, j = r % 4;
            int left = r % 3 == 0 && r % 7 != 0 && r * 0.5 < 400.25;
            int right = (r & 1) && !j_null && j != 0 && r / j == 1;
            wrong += keep[r] != (left || right);
            kept += keep[r];
        }
        CU_ASSERT_EQUAL(wrong, 0);
        CU_ASSERT(kept > 100);
    }
    weir_filter_destroy(&f);
    weir_batch_destroy(&b);
}

/* ---- randomized check against a per-row evaluator ---- */

enum { G_COL, G_LIT, G_NEG, G_ARITH, G_CMP, G_AND, G_OR, G_NOT, G_ISNULL, G_NOTNULL };
enum { GT_INT, GT_DBL, GT_STR, GT_BOOL };

typedef struct {
    int kind, ty, op, a, b; /* op: 0..4 = + - * / %, or 0..5 = = != < <= > >= */
    int col;
    int64_t ival;
    double dval;
    const char *str;
} s_gnode_t;

typedef struct {
    testrand_t r;
    s_gnode_t nodes[256];
    int n;
    char text[8192];
    size_t len;
} s_gen_t;

typedef struct {
    int null;
    int64_t i;
    double d;
    const char *s;
} s_val_t;

static const char *s_strs[] = {"", "a", "b", "ab", "it's", "B"};

static void s_emit(s_gen_t *g, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void s_emit(s_gen_t *g, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(g->text + g->len, sizeof g->text - g->len, fmt, ap);
    va_end(ap);
    if (n > 0)
        g->len += (size_t)n;
    if (g->len >= sizeof g->text)
        g->len = sizeof g->text - 1;
}

static int s_gen_add(s_gen_t *g, s_gnode_t nd)
{
    g->nodes[g->n] = nd;
    return g->n++;
}

static int s_gen(s_gen_t *g, int ty, int depth);

static int s_gen_num(s_gen_t *g, int depth)
{
    return s_gen(g, testrand_below(&g->r, 3) ? GT_INT : GT_DBL, depth);
}

/* A random well-typed expression of type ty (GT_INT means "a number",
 * which may come out as a double when mixing). */
static int s_gen(s_gen_t *g, int ty, int depth)
{
    s_gnode_t nd = {.ty = ty, .a = -1, .b = -1};
    int leaf = depth <= 0 || g->n > 200 || testrand_below(&g->r, 4) == 0;
    if (ty == GT_STR) {
        if (testrand_below(&g->r, 2)) {
            nd.kind = G_COL;
            nd.col = 2;
        } else {
            nd.kind = G_LIT;
            nd.str = s_strs[testrand_below(&g->r, 6)];
        }
        return s_gen_add(g, nd);
    }
    if (ty == GT_INT || ty == GT_DBL) {
        if (leaf) {
            if (testrand_below(&g->r, 2)) {
                nd.kind = G_COL;
                nd.col = ty == GT_INT ? (testrand_below(&g->r, 2) ? 0 : 4)
                                      : (testrand_below(&g->r, 2) ? 1 : 5);
            } else {
                nd.kind = G_LIT;
                nd.ival = (int64_t)testrand_below(&g->r, 11) - 5;
                nd.dval = ((double)testrand_below(&g->r, 17) - 8) / 4;
            }
            return s_gen_add(g, nd);
        }
        if (testrand_below(&g->r, 5) == 0) {
            nd.kind = G_NEG;
            nd.a = s_gen(g, ty, depth - 1);
            nd.ty = g->nodes[nd.a].ty;
            return s_gen_add(g, nd);
        }
        nd.kind = G_ARITH;
        nd.op = (int)testrand_below(&g->r, 5);
        nd.a = s_gen_num(g, depth - 1);
        nd.b = s_gen_num(g, depth - 1);
        int dbl = g->nodes[nd.a].ty == GT_DBL || g->nodes[nd.b].ty == GT_DBL;
        if (dbl && nd.op == 4)
            nd.op = 2;
        nd.ty = dbl ? GT_DBL : GT_INT;
        return s_gen_add(g, nd);
    }
    /* boolean */
    unsigned pick = leaf ? testrand_below(&g->r, 3) : 3 + testrand_below(&g->r, 6);
    switch (pick) {
    case 0:
        nd.kind = G_COL;
        nd.col = 3;
        break;
    case 1:
        nd.kind = G_LIT;
        nd.ival = testrand_below(&g->r, 2);
        break;
    case 2:
    case 3: {
        nd.kind = G_CMP;
        nd.op = (int)testrand_below(&g->r, 6);
        int aty = testrand_below(&g->r, 4) == 0 ? GT_STR : GT_INT;
        nd.a = aty == GT_STR ? s_gen(g, GT_STR, 0) : s_gen_num(g, leaf ? 0 : depth - 1);
        nd.b = aty == GT_STR ? s_gen(g, GT_STR, 0) : s_gen_num(g, leaf ? 0 : depth - 1);
        break;
    }
    case 4:
    case 5:
        nd.kind = pick == 4 ? G_AND : G_OR;
        nd.a = s_gen(g, GT_BOOL, depth - 1);
        nd.b = s_gen(g, GT_BOOL, depth - 1);
        break;
    case 6:
        nd.kind = G_NOT;
        nd.a = s_gen(g, GT_BOOL, depth - 1);
        break;
    default: {
        nd.kind = testrand_below(&g->r, 2) ? G_ISNULL : G_NOTNULL;
        static const int tys[] = {GT_INT, GT_DBL, GT_STR, GT_BOOL};
        nd.a = s_gen(g, tys[testrand_below(&g->r, 4)], depth - 1);
        break;
    }
    }
    return s_gen_add(g, nd);
}

/* Prints node k fully parenthesized, with random keyword case and spacing. */
static void s_print(s_gen_t *g, int k)
{
    static const char *cols[] = {"i", "d", "s", "b", "j", "e"};
    static const char *arith[] = {"+", "-", "*", "/", "%"};
    static const char *cmps[][2] = {{"=", "=="},  {"!=", "<>"}, {"<", "<"},
                                    {"<=", "<="}, {">", ">"},   {">=", ">="}};
    const s_gnode_t *n = &g->nodes[k];
    const char *sp = testrand_below(&g->r, 2) ? " " : "  ";
    int upper = testrand_below(&g->r, 2);
    switch (n->kind) {
    case G_COL: s_emit(g, "%s", cols[n->col]); break;
    case G_LIT:
        if (n->ty == GT_STR) {
            s_emit(g, "'");
            for (const char *c = n->str; *c; c++)
                s_emit(g, *c == '\'' ? "''" : "%c", *c);
            s_emit(g, "'");
        } else if (n->ty == GT_BOOL) {
            s_emit(g, "%s", n->ival ? (upper ? "TRUE" : "true") : (upper ? "False" : "false"));
        } else if (n->ty == GT_DBL) {
            s_emit(g, "(%.2f)", n->dval);
        } else {
            s_emit(g, "(%lld)", (long long)n->ival);
        }
        break;
    case G_NEG:
        s_emit(g, "(-");
        s_print(g, n->a);
        s_emit(g, ")");
        break;
    case G_ARITH:
    case G_CMP:
    case G_AND:
    case G_OR:
        s_emit(g, "(");
        s_print(g, n->a);
        if (n->kind == G_ARITH)
            s_emit(g, "%s%s%s", sp, arith[n->op], sp);
        else if (n->kind == G_CMP)
            s_emit(g, "%s%s%s", sp, cmps[n->op][testrand_below(&g->r, 2)], sp);
        else
            s_emit(g, " %s ", n->kind == G_AND ? (upper ? "AND" : "and") : (upper ? "Or" : "or"));
        s_print(g, n->b);
        s_emit(g, ")");
        break;
    case G_NOT:
        s_emit(g, "(%s ", upper ? "NOT" : "not");
        s_print(g, n->a);
        s_emit(g, ")");
        break;
    default:
        s_emit(g, "(");
        s_print(g, n->a);
        s_emit(g, n->kind == G_ISNULL ? " is null)" : " IS NOT NULL)");
        break;
    }
}

static double s_as_dbl(const s_gnode_t *n, s_val_t v)
{
    return n->ty == GT_DBL ? v.d : (double)v.i;
}

/* The reference: evaluates node k for row r the obvious way. */
static s_val_t s_ref(const s_gen_t *g, int k, const weir_batch_t *bt, uint32_t r)
{
    const s_gnode_t *n = &g->nodes[k];
    s_val_t v = {0}, x, y;
    switch (n->kind) {
    case G_COL: {
        const weir_column_t *c = &bt->cols[n->col];
        v.null = c->null[r];
        if (n->ty == GT_STR) {
            uint32_t len;
            const char *s = weir_batch_str(bt, n->col, r, &len);
            static char buf[8][64];
            static int slot;
            slot = (slot + 1) % 8;
            snprintf(buf[slot], sizeof buf[slot], "%.*s", (int)len, s);
            v.s = buf[slot];
        } else if (n->ty == GT_DBL) {
            v.d = c->f64[r];
        } else {
            v.i = c->i64[r];
        }
        return v;
    }
    case G_LIT:
        v.i = n->ival;
        v.d = n->dval;
        v.s = n->str;
        return v;
    case G_NEG:
        x = s_ref(g, n->a, bt, r);
        v.null = x.null;
        v.i = (int64_t)(0 - (uint64_t)x.i);
        v.d = -x.d;
        return v;
    case G_ARITH: {
        x = s_ref(g, n->a, bt, r);
        y = s_ref(g, n->b, bt, r);
        v.null = x.null || y.null;
        if (v.null)
            return v;
        if (n->ty == GT_DBL) {
            double a = s_as_dbl(&g->nodes[n->a], x), b = s_as_dbl(&g->nodes[n->b], y);
            switch (n->op) {
            case 0: v.d = a + b; break;
            case 1: v.d = a - b; break;
            case 2: v.d = a * b; break;
            default:
                if (b == 0)
                    v.null = 1;
                else
                    v.d = a / b;
                break;
            }
            return v;
        }
        uint64_t a = (uint64_t)x.i, b = (uint64_t)y.i;
        switch (n->op) {
        case 0: v.i = (int64_t)(a + b); break;
        case 1: v.i = (int64_t)(a - b); break;
        case 2: v.i = (int64_t)(a * b); break;
        case 3:
            if (y.i == 0)
                v.null = 1;
            else
                v.i = y.i == -1 ? (int64_t)(0 - a) : x.i / y.i;
            break;
        default:
            if (y.i == 0)
                v.null = 1;
            else
                v.i = y.i == -1 ? 0 : x.i % y.i;
            break;
        }
        return v;
    }
    case G_CMP: {
        x = s_ref(g, n->a, bt, r);
        y = s_ref(g, n->b, bt, r);
        v.null = x.null || y.null;
        if (v.null)
            return v;
        const s_gnode_t *na = &g->nodes[n->a], *nb = &g->nodes[n->b];
        int c;
        if (na->ty == GT_STR) {
            c = strcmp(x.s, y.s);
            c = (c > 0) - (c < 0);
        } else if (na->ty == GT_DBL || nb->ty == GT_DBL) {
            double a = s_as_dbl(na, x), b = s_as_dbl(nb, y);
            c = a < b ? -1 : a > b ? 1 : a == b ? 0 : 99; /* 99: NaN, unordered */
            if (c == 99)
                return (s_val_t){.i = n->op == 1};
        } else {
            c = x.i < y.i ? -1 : x.i > y.i;
        }
        static const int want[6][3] = {{0, 1, 0}, {1, 0, 1}, {1, 0, 0},
                                       {1, 1, 0}, {0, 0, 1}, {0, 1, 1}};
        v.i = want[n->op][c + 1];
        return v;
    }
    case G_AND:
    case G_OR: {
        x = s_ref(g, n->a, bt, r);
        y = s_ref(g, n->b, bt, r);
        int64_t dominant = n->kind == G_OR; /* false decides 'and', true decides 'or' */
        if ((!x.null && (x.i != 0) == dominant) || (!y.null && (y.i != 0) == dominant))
            return (s_val_t){.i = dominant};
        if (x.null || y.null)
            return (s_val_t){.null = 1};
        return (s_val_t){.i = !dominant};
    }
    case G_NOT:
        x = s_ref(g, n->a, bt, r);
        return (s_val_t){.null = x.null, .i = !x.null && x.i == 0};
    default:
        x = s_ref(g, n->a, bt, r);
        return (s_val_t){.i = n->kind == G_ISNULL ? x.null : !x.null};
    }
}

static void s_random_batch(testrand_t *r, weir_batch_t *b)
{
    weir_batch_clear(b);
    for (uint32_t row = 0; row < b->cap_rows; row++) {
        for (int c = 0; c < 8; c++) {
            if (c < 6 && testrand_below(r, 5) == 0) {
                weir_batch_put_null(b, c);
                continue;
            }
            int64_t small = (int64_t)testrand_below(r, 9) - 4;
            switch (s_job.source.fields[c].type) {
            case WEIR_TYPE_DOUBLE: weir_batch_put_f64(b, c, (double)small / 2); break;
            case WEIR_TYPE_STRING: {
                const char *s = s_strs[testrand_below(r, 6)];
                weir_batch_put_str(b, c, s, (uint32_t)strlen(s));
                break;
            }
            case WEIR_TYPE_BOOL: weir_batch_put_i64(b, c, small & 1); break;
            default: weir_batch_put_i64(b, c, small); break;
            }
        }
        weir_batch_commit_row(b, 0);
    }
}

static void random_expressions_agree_with_a_per_row_evaluator(void)
{
    s_job_init();
    weir_batch_t *b = s_new_batch(64);
    static s_gen_t g;
    int n_seeds = testrand_n_seeds(100);
    int failures = 0;
    for (int si = 0; si < n_seeds && failures < 3; si++) {
        uint64_t seed = testrand_seed_at(si);
        testrand_seed(&g.r, seed);
        s_random_batch(&g.r, b);
        for (int e = 0; e < 20 && failures < 3; e++) {
            g.n = 0;
            g.len = 0;
            g.text[0] = '\0';
            int root = s_gen(&g, GT_BOOL, 1 + (int)testrand_below(&g.r, 6));
            s_print(&g, root);
            weir_filter_t *f = NULL;
            char err[256];
            int col = 0;
            int rc = weir_filter_compile(g.text, &s_job, 64, &f, err, sizeof err, &col);
            if (rc != 0) {
                fprintf(stderr, "\nseed %llu: %s: column %d: %s\n", (unsigned long long)seed,
                        g.text, col, err);
                failures++;
                continue;
            }
            uint8_t keep[64];
            CU_ASSERT_EQUAL(weir_filter_eval(f, b, keep), 0);
            for (uint32_t r = 0; r < b->n_rows; r++) {
                s_val_t v = s_ref(&g, root, b, r);
                uint8_t want = !v.null && v.i != 0;
                if (keep[r] != want) {
                    fprintf(stderr, "\nseed %llu (WEIR_TEST_SEED): %s: row %u kept %d want %d\n",
                            (unsigned long long)seed, g.text, r, keep[r], want);
                    failures++;
                    break;
                }
            }
            weir_filter_destroy(&f);
        }
    }
    CU_ASSERT_EQUAL(failures, 0);
    weir_batch_destroy(&b);
}

void test_filter_register(void)
{
    CU_pSuite s = CU_add_suite("filter", NULL, NULL);
    CU_add_test(s, "comparisons of integers select the expected rows",
                comparisons_of_integers_select_the_expected_rows);
    CU_add_test(s, "arithmetic follows the usual precedence",
                arithmetic_follows_the_usual_precedence);
    CU_add_test(s, "integers and doubles mix as doubles", integers_and_doubles_mix_as_doubles);
    CU_add_test(s, "division by zero yields NULL", division_by_zero_yields_null);
    CU_add_test(s, "NULL logic follows the SQL truth tables", null_logic_follows_sql_truth_tables);
    CU_add_test(s, "'and' binds tighter than 'or', and 'not' tighter than 'and'",
                and_binds_tighter_than_or_and_not_tighter_than_and);
    CU_add_test(s, "strings compare bytewise and a doubled quote escapes",
                strings_compare_bytewise_and_quotes_double_to_escape);
    CU_add_test(s, "malformed expressions are rejected with a message and a column",
                malformed_expressions_are_rejected_with_message_and_column);
    CU_add_test(s, "eval rejects batches the filter was not compiled for",
                eval_rejects_batches_it_was_not_compiled_for);
    CU_add_test(s, "a batch of 1024 rows is filtered in one call",
                a_batch_of_1024_rows_is_filtered_in_one_call);
    CU_add_test(s, "random expressions agree with a per-row evaluator",
                random_expressions_agree_with_a_per_row_evaluator);
}
