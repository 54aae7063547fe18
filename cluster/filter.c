/* filter: compiles a filter expression into a post-order program of typed
 * nodes and runs it column-at-a-time over batches.
 *
 * Compilation is three steps over one token array: a lexer (keywords,
 * numbers, quoted strings decoded into a pool owned by the filter), a
 * recursive-descent parser that type-checks as it builds each node (so an
 * error can name the operand and point at it), and a finishing pass that
 * allocates each node's scratch column and broadcasts literals.
 *
 * Invariant: nodes[] is in post-order, so evaluating nodes[0..n) in index
 * order always finds a node's children already computed; the last node is
 * the root and has type boolean.
 *
 * A value that is NULL keeps a defined (but meaningless) number in its
 * slot: batches zero their values on put_null and every node writes all
 * rows, so the loops can compute unconditionally and mask with the NULL
 * flags afterwards (branch-free, vectorizable), except where computing
 * would be undefined behaviour (division by zero, INT64_MIN / -1).
 */
#include "filter.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "err.h"

/* Nesting bound of parentheses, 'not' and unary minus: keeps the recursive
 * parser's stack small whatever the text. */
#define S_MAX_DEPTH 200

typedef enum { TY_INT = 1, TY_DBL, TY_STR, TY_BOOL } s_ty_t;

typedef enum {
    OP_COL,
    OP_LIT,
    OP_CAST, /* integer -> double */
    OP_NEG,
    OP_ADD,
    OP_SUB,
    OP_MUL,
    OP_DIV,
    OP_MOD,
    OP_EQ,
    OP_NE,
    OP_LT,
    OP_LE,
    OP_GT,
    OP_GE,
    OP_AND,
    OP_OR,
    OP_NOT,
    OP_ISNULL,
    OP_NOTNULL,
} s_op_t;

typedef struct {
    s_op_t op;
    s_ty_t ty;           /* type of this node's value */
    s_ty_t arg_ty;       /* comparisons: common type of both operands */
    int a, b;            /* child node indexes, -1 when absent; always < own index */
    int pos;             /* 0-based offset of the operator or primary token */
    int start;           /* 0-based offset of the first token of the subexpression */
    int col;             /* OP_COL: index into source.fields and batch columns */
    weir_type_t wty;     /* OP_COL: the schema type the batch column must have */
    int64_t ival;        /* OP_LIT integer or boolean (0/1) */
    double dval;         /* OP_LIT double */
    uint32_t soff, slen; /* OP_LIT string: bytes pool[soff, soff + slen) */
    int64_t *wi;         /* owned scratch, max_rows values (int and bool nodes) */
    double *wd;          /* owned scratch, max_rows values (double nodes) */
    uint8_t *wn;         /* owned scratch, max_rows NULL flags */
    const int64_t *ri;   /* where eval reads this node's values: wi or a batch column */
    const double *rd;
    const uint8_t *rn;
} s_node_t;

struct weir_filter {
    uint32_t max_rows; /* >= 1, rows a batch may have */
    int n_nodes;       /* >= 1 after compile */
    int cap_nodes;
    s_node_t *nodes; /* post-order; nodes[n_nodes - 1] is the boolean root */
    char *pool;      /* decoded string literals; not NUL-terminated */
};

typedef enum {
    T_END,
    T_IDENT,
    T_INT,
    T_DEC,
    T_STR,
    T_LP,
    T_RP,
    T_OP, /* arithmetic or comparison operator, in tok.op */
    K_AND,
    K_OR,
    K_NOT,
    K_IS,
    K_NULL,
    K_TRUE,
    K_FALSE,
} s_tk_t;

typedef struct {
    s_tk_t kind;
    s_op_t op;           /* T_OP */
    int pos, len;        /* 0-based offset and length in the text */
    uint64_t mag;        /* T_INT: magnitude, <= 2^63 */
    double d;            /* T_DEC */
    uint32_t soff, slen; /* T_STR: decoded bytes in the pool */
} s_tok_t;

typedef struct {
    const char *text;
    int text_len;
    const weir_job_t *job;
    weir_filter_t *f;
    s_tok_t *toks;
    int n_toks;
    int i;     /* current token */
    int depth; /* current nesting, <= S_MAX_DEPTH */
    int rc;    /* first error: WEIR_EINVAL or -ENOMEM */
    char *err;
    size_t err_cap;
    int err_col; /* 1-based */
} s_parser_t;

static int s_fail(s_parser_t *p, int pos, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int s_fail(s_parser_t *p, int pos, const char *fmt, ...)
{
    if (p->rc)
        return -1;
    p->rc = WEIR_EINVAL;
    p->err_col = pos + 1;
    if (p->err && p->err_cap > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(p->err, p->err_cap, fmt, ap);
        va_end(ap);
    }
    return -1;
}

static int s_nomem(s_parser_t *p)
{
    if (!p->rc)
        p->rc = -ENOMEM;
    return -1;
}

/* ---- lexer ---- */

static int s_is_ident_start(int c)
{
    return isalpha(c) || c == '_';
}

static int s_is_ident(int c)
{
    return isalnum(c) || c == '_';
}

static s_tk_t s_keyword(const char *s, int len)
{
    static const struct {
        const char *word;
        s_tk_t kind;
    } kw[] = {{"and", K_AND},   {"or", K_OR},     {"not", K_NOT},    {"is", K_IS},
              {"null", K_NULL}, {"true", K_TRUE}, {"false", K_FALSE}};
    for (size_t k = 0; k < sizeof kw / sizeof kw[0]; k++)
        if ((int)strlen(kw[k].word) == len && strncasecmp(s, kw[k].word, (size_t)len) == 0)
            return kw[k].kind;
    return T_IDENT;
}

/* Lexes a number at s[pos]: digits with an optional fraction and exponent. */
static int s_lex_number(s_parser_t *p, s_tok_t *t)
{
    const char *s = p->text;
    int i = t->pos, is_dec = 0;
    while (isdigit((unsigned char)s[i]))
        i++;
    if (s[i] == '.') {
        is_dec = 1;
        i++;
        while (isdigit((unsigned char)s[i]))
            i++;
    }
    if ((s[i] == 'e' || s[i] == 'E') &&
        (isdigit((unsigned char)s[i + 1]) ||
         ((s[i + 1] == '+' || s[i + 1] == '-') && isdigit((unsigned char)s[i + 2])))) {
        is_dec = 1;
        i += 2;
        while (isdigit((unsigned char)s[i]))
            i++;
    }
    t->len = i - t->pos;
    if (s_is_ident((unsigned char)s[i]) || s[i] == '.')
        return s_fail(p, t->pos, "malformed number '%.*s'", t->len + 1, s + t->pos);
    if (t->len == 1 && s[t->pos] == '.')
        return s_fail(p, t->pos, "unexpected character '.'");
    if (is_dec) {
        char buf[64];
        if (t->len >= (int)sizeof buf)
            return s_fail(p, t->pos, "number '%.*s' is too long", t->len, s + t->pos);
        memcpy(buf, s + t->pos, (size_t)t->len);
        buf[t->len] = '\0';
        t->kind = T_DEC;
        t->d = strtod(buf, NULL);
        return 0;
    }
    t->kind = T_INT;
    t->mag = 0;
    for (int k = t->pos; k < i; k++) {
        uint64_t digit = (uint64_t)(s[k] - '0');
        if (t->mag > ((1ull << 63) - digit) / 10)
            return s_fail(p, t->pos, "integer %.*s is out of range", t->len, s + t->pos);
        t->mag = t->mag * 10 + digit;
    }
    return 0;
}

/* Lexes a quoted string at s[pos]; a doubled quote stands for one. */
static int s_lex_string(s_parser_t *p, s_tok_t *t, uint32_t *pool_len)
{
    const char *s = p->text;
    char q = s[t->pos];
    int i = t->pos + 1;
    t->kind = T_STR;
    t->soff = *pool_len;
    for (;;) {
        if (i >= p->text_len)
            return s_fail(p, t->pos, "unterminated string (missing closing %c)", q);
        if (s[i] == q) {
            if (s[i + 1] != q)
                break;
            i++;
        }
        p->f->pool[(*pool_len)++] = s[i++];
    }
    t->slen = *pool_len - t->soff;
    t->len = i + 1 - t->pos;
    return 0;
}

static const struct {
    const char *text;
    s_op_t op;
} s_ops[] = {
    {"==", OP_EQ}, {"!=", OP_NE}, {"<>", OP_NE}, {"<=", OP_LE}, {">=", OP_GE},
    {"=", OP_EQ},  {"<", OP_LT},  {">", OP_GT},  {"+", OP_ADD}, {"-", OP_SUB},
    {"*", OP_MUL}, {"/", OP_DIV}, {"%", OP_MOD},
};

static int s_lex(s_parser_t *p)
{
    const char *s = p->text;
    uint32_t pool_len = 0;
    p->toks = calloc((size_t)p->text_len + 1, sizeof *p->toks);
    p->f->pool = malloc((size_t)p->text_len + 1);
    if (!p->toks || !p->f->pool)
        return s_nomem(p);
    int i = 0;
    for (;;) {
        while (i < p->text_len && isspace((unsigned char)s[i]))
            i++;
        s_tok_t *t = &p->toks[p->n_toks];
        t->pos = i;
        t->len = 1;
        if (i >= p->text_len) {
            t->kind = T_END;
            t->len = 0;
            p->n_toks++;
            return 0;
        }
        unsigned char c = (unsigned char)s[i];
        if (s_is_ident_start(c)) {
            while (s_is_ident((unsigned char)s[i + t->len]))
                t->len++;
            t->kind = s_keyword(s + i, t->len);
        } else if (isdigit(c) || (c == '.' && isdigit((unsigned char)s[i + 1]))) {
            if (s_lex_number(p, t) < 0)
                return -1;
        } else if (c == '\'' || c == '"') {
            if (s_lex_string(p, t, &pool_len) < 0)
                return -1;
        } else if (c == '(') {
            t->kind = T_LP;
        } else if (c == ')') {
            t->kind = T_RP;
        } else {
            size_t k;
            for (k = 0; k < sizeof s_ops / sizeof s_ops[0]; k++) {
                size_t n = strlen(s_ops[k].text);
                if (strncmp(s + i, s_ops[k].text, n) == 0) {
                    t->kind = T_OP;
                    t->op = s_ops[k].op;
                    t->len = (int)n;
                    break;
                }
            }
            if (k == sizeof s_ops / sizeof s_ops[0]) {
                if (isprint(c))
                    return s_fail(p, i, "unexpected character '%c'", c);
                return s_fail(p, i, "unexpected byte 0x%02x", c);
            }
        }
        i += t->len;
        p->n_toks++;
    }
}

/* ---- parser and type checker ---- */

static s_tok_t *s_cur(s_parser_t *p)
{
    return &p->toks[p->i];
}

static int s_node(s_parser_t *p, s_op_t op, s_ty_t ty, int pos, int start)
{
    weir_filter_t *f = p->f;
    if (f->n_nodes == f->cap_nodes) {
        int cap = f->cap_nodes ? 2 * f->cap_nodes : 16;
        s_node_t *n = realloc(f->nodes, (size_t)cap * sizeof *n);
        if (!n)
            return s_nomem(p);
        f->nodes = n;
        f->cap_nodes = cap;
    }
    s_node_t *n = &f->nodes[f->n_nodes];
    memset(n, 0, sizeof *n);
    n->op = op;
    n->ty = ty;
    n->a = n->b = -1;
    n->pos = pos;
    n->start = start;
    return f->n_nodes++;
}

static int s_is_num(s_ty_t t)
{
    return t == TY_INT || t == TY_DBL;
}

/* Names an operand for a message: "string 'zone'" for a column, else
 * "a string", "a number", "a boolean". */
static const char *s_describe(s_parser_t *p, int k, char *buf, size_t cap)
{
    const s_node_t *n = &p->f->nodes[k];
    if (n->op == OP_CAST)
        n = &p->f->nodes[n->a];
    const char *tn = n->ty == TY_STR ? "string" : n->ty == TY_BOOL ? "boolean" : "number";
    if (n->op == OP_COL)
        snprintf(buf, cap, "%s '%s'", tn, p->job->source.fields[n->col].name);
    else
        snprintf(buf, cap, "a %s", tn);
    return buf;
}

static const char *s_optext(s_op_t op)
{
    for (size_t k = 0; k < sizeof s_ops / sizeof s_ops[0]; k++)
        if (s_ops[k].op == op)
            return s_ops[k].text;
    return "?";
}

/* Makes node k a double: folds a literal, else wraps it in a cast. */
static int s_to_dbl(s_parser_t *p, int k)
{
    s_node_t *n = &p->f->nodes[k];
    if (n->ty != TY_INT)
        return k;
    if (n->op == OP_LIT) {
        n->ty = TY_DBL;
        n->dval = (double)n->ival;
        return k;
    }
    int pos = n->pos, start = n->start;
    int c = s_node(p, OP_CAST, TY_DBL, pos, start);
    if (c >= 0)
        p->f->nodes[c].a = k;
    return c;
}

static int s_parse_or(s_parser_t *p);

static int s_column(s_parser_t *p, const s_tok_t *t)
{
    const weir_source_t *src = &p->job->source;
    for (int c = 0; c < src->n_fields; c++) {
        const char *name = src->fields[c].name;
        if ((int)strlen(name) == t->len && strncmp(name, p->text + t->pos, (size_t)t->len) == 0) {
            s_ty_t ty;
            switch (src->fields[c].type) {
            case WEIR_TYPE_DOUBLE: ty = TY_DBL; break;
            case WEIR_TYPE_STRING: ty = TY_STR; break;
            case WEIR_TYPE_BOOL: ty = TY_BOOL; break;
            default: ty = TY_INT; break;
            }
            int k = s_node(p, OP_COL, ty, t->pos, t->pos);
            if (k >= 0) {
                p->f->nodes[k].col = c;
                p->f->nodes[k].wty = src->fields[c].type;
            }
            return k;
        }
    }
    char list[512];
    size_t used = 0;
    list[0] = '\0';
    for (int c = 0; c < src->n_fields && used < sizeof list; c++)
        used += (size_t)snprintf(list + used, sizeof list - used, "%s%s", c ? ", " : "",
                                 src->fields[c].name);
    return s_fail(p, t->pos, "unknown column '%.*s' (columns: %s)", t->len, p->text + t->pos, list);
}

static int s_parse_primary(s_parser_t *p)
{
    s_tok_t *t = s_cur(p);
    int k;
    switch (t->kind) {
    case T_INT:
        if (t->mag > (uint64_t)INT64_MAX)
            return s_fail(p, t->pos, "integer %.*s is out of range", t->len, p->text + t->pos);
        k = s_node(p, OP_LIT, TY_INT, t->pos, t->pos);
        if (k >= 0)
            p->f->nodes[k].ival = (int64_t)t->mag;
        break;
    case T_DEC:
        k = s_node(p, OP_LIT, TY_DBL, t->pos, t->pos);
        if (k >= 0)
            p->f->nodes[k].dval = t->d;
        break;
    case T_STR:
        k = s_node(p, OP_LIT, TY_STR, t->pos, t->pos);
        if (k >= 0) {
            p->f->nodes[k].soff = t->soff;
            p->f->nodes[k].slen = t->slen;
        }
        break;
    case K_TRUE:
    case K_FALSE:
        k = s_node(p, OP_LIT, TY_BOOL, t->pos, t->pos);
        if (k >= 0)
            p->f->nodes[k].ival = t->kind == K_TRUE;
        break;
    case T_IDENT: k = s_column(p, t); break;
    case T_LP: {
        int lp = t->pos;
        if (++p->depth > S_MAX_DEPTH)
            return s_fail(p, lp, "expression nested too deeply");
        p->i++;
        k = s_parse_or(p);
        if (k < 0)
            return -1;
        p->depth--;
        t = s_cur(p);
        if (t->kind == T_END)
            return s_fail(p, lp, "unclosed '('");
        if (t->kind != T_RP)
            return s_fail(p, t->pos, "expected ')' to close the '(' at column %d, got '%.*s'",
                          lp + 1, t->len, p->text + t->pos);
        p->f->nodes[k].start = lp;
        break;
    }
    default:
        if (p->i == 0) {
            if (t->kind == T_END)
                return s_fail(p, t->pos, "empty expression");
            return s_fail(p, t->pos, "expected a value, got '%.*s'", t->len, p->text + t->pos);
        }
        const s_tok_t *prev = &p->toks[p->i - 1];
        return s_fail(p, t->pos, "expected a value after '%.*s'", prev->len, p->text + prev->pos);
    }
    if (k >= 0)
        p->i++;
    return k;
}

static int s_parse_unary(s_parser_t *p)
{
    s_tok_t *t = s_cur(p);
    if (t->kind != T_OP || t->op != OP_SUB)
        return s_parse_primary(p);
    int pos = t->pos;
    s_tok_t *next = &p->toks[p->i + 1];
    if (next->kind == T_INT && next->mag == (1ull << 63)) {
        /* -9223372036854775808 is representable though its magnitude is not */
        p->i += 2;
        int k = s_node(p, OP_LIT, TY_INT, pos, pos);
        if (k >= 0)
            p->f->nodes[k].ival = INT64_MIN;
        return k;
    }
    if (++p->depth > S_MAX_DEPTH)
        return s_fail(p, pos, "expression nested too deeply");
    p->i++;
    int a = s_parse_unary(p);
    if (a < 0)
        return -1;
    p->depth--;
    s_node_t *n = &p->f->nodes[a];
    char d[160];
    if (!s_is_num(n->ty))
        return s_fail(p, n->start, "cannot negate %s", s_describe(p, a, d, sizeof d));
    if (n->op == OP_LIT) {
        n->ival = (int64_t)(0 - (uint64_t)n->ival);
        n->dval = -n->dval;
        n->start = pos;
        return a;
    }
    int k = s_node(p, OP_NEG, n->ty, pos, pos);
    if (k >= 0)
        p->f->nodes[k].a = a;
    return k;
}

/* Builds an arithmetic node after checking and unifying operand types. */
static int s_arith(s_parser_t *p, s_op_t op, int pos, int a, int b)
{
    char d[160];
    s_node_t *na = &p->f->nodes[a], *nb = &p->f->nodes[b];
    if (!s_is_num(na->ty))
        return s_fail(p, na->start, "cannot apply '%s' to %s", s_optext(op),
                      s_describe(p, a, d, sizeof d));
    if (!s_is_num(nb->ty))
        return s_fail(p, nb->start, "cannot apply '%s' to %s", s_optext(op),
                      s_describe(p, b, d, sizeof d));
    if (op == OP_MOD && (na->ty == TY_DBL || nb->ty == TY_DBL))
        return s_fail(p, na->ty == TY_DBL ? na->start : nb->start, "'%%' needs integers, got %s",
                      s_describe(p, na->ty == TY_DBL ? a : b, d, sizeof d));
    s_ty_t ty = TY_INT;
    if (na->ty == TY_DBL || nb->ty == TY_DBL) {
        ty = TY_DBL;
        if ((a = s_to_dbl(p, a)) < 0 || (b = s_to_dbl(p, b)) < 0)
            return -1;
    }
    int k = s_node(p, op, ty, pos, p->f->nodes[a].start);
    if (k >= 0) {
        p->f->nodes[k].a = a;
        p->f->nodes[k].b = b;
    }
    return k;
}

static int s_parse_prod(s_parser_t *p)
{
    int a = s_parse_unary(p);
    while (a >= 0) {
        s_tok_t *t = s_cur(p);
        if (t->kind != T_OP || (t->op != OP_MUL && t->op != OP_DIV && t->op != OP_MOD))
            break;
        s_op_t op = t->op;
        int pos = t->pos;
        p->i++;
        int b = s_parse_unary(p);
        if (b < 0)
            return -1;
        a = s_arith(p, op, pos, a, b);
    }
    return a;
}

static int s_parse_sum(s_parser_t *p)
{
    int a = s_parse_prod(p);
    while (a >= 0) {
        s_tok_t *t = s_cur(p);
        if (t->kind != T_OP || (t->op != OP_ADD && t->op != OP_SUB))
            break;
        s_op_t op = t->op;
        int pos = t->pos;
        p->i++;
        int b = s_parse_prod(p);
        if (b < 0)
            return -1;
        a = s_arith(p, op, pos, a, b);
    }
    return a;
}

static int s_is_cmp(s_op_t op)
{
    return op >= OP_EQ && op <= OP_GE;
}

static int s_parse_cmp(s_parser_t *p)
{
    int a = s_parse_sum(p);
    while (a >= 0) {
        s_tok_t *t = s_cur(p);
        int pos = t->pos, start = p->f->nodes[a].start;
        if (t->kind == K_IS) {
            s_op_t op = OP_ISNULL;
            p->i++;
            if (s_cur(p)->kind == K_NOT) {
                op = OP_NOTNULL;
                p->i++;
            }
            t = s_cur(p);
            if (t->kind != K_NULL)
                return s_fail(p, t->pos, "expected 'null' or 'not null' after 'is'");
            p->i++;
            int k = s_node(p, op, TY_BOOL, pos, start);
            if (k >= 0)
                p->f->nodes[k].a = a;
            a = k;
            continue;
        }
        if (t->kind != T_OP || !s_is_cmp(t->op))
            break;
        s_op_t op = t->op;
        p->i++;
        int b = s_parse_sum(p);
        if (b < 0)
            return -1;
        s_ty_t ta = p->f->nodes[a].ty, tb = p->f->nodes[b].ty;
        s_ty_t ty = ta;
        if (s_is_num(ta) && s_is_num(tb)) {
            if (ta != tb) {
                ty = TY_DBL;
                if ((a = s_to_dbl(p, a)) < 0 || (b = s_to_dbl(p, b)) < 0)
                    return -1;
            }
        } else if (ta != tb) {
            char da[160], db[160];
            return s_fail(p, pos, "cannot compare %s with %s", s_describe(p, a, da, sizeof da),
                          s_describe(p, b, db, sizeof db));
        }
        int k = s_node(p, op, TY_BOOL, pos, start);
        if (k >= 0) {
            p->f->nodes[k].a = a;
            p->f->nodes[k].b = b;
            p->f->nodes[k].arg_ty = ty;
        }
        a = k;
    }
    return a;
}

static int s_need_bool(s_parser_t *p, const char *what, int k)
{
    char d[160];
    if (p->f->nodes[k].ty == TY_BOOL)
        return 0;
    return s_fail(p, p->f->nodes[k].start, "'%s' needs a condition, got %s", what,
                  s_describe(p, k, d, sizeof d));
}

static int s_parse_not(s_parser_t *p)
{
    s_tok_t *t = s_cur(p);
    if (t->kind != K_NOT)
        return s_parse_cmp(p);
    int pos = t->pos;
    if (++p->depth > S_MAX_DEPTH)
        return s_fail(p, pos, "expression nested too deeply");
    p->i++;
    int a = s_parse_not(p);
    if (a < 0 || s_need_bool(p, "not", a) < 0)
        return -1;
    p->depth--;
    int k = s_node(p, OP_NOT, TY_BOOL, pos, pos);
    if (k >= 0)
        p->f->nodes[k].a = a;
    return k;
}

static int s_parse_logic(s_parser_t *p, s_tk_t kw, s_op_t op, const char *name,
                         int (*sub)(s_parser_t *))
{
    int a = sub(p);
    while (a >= 0 && s_cur(p)->kind == kw) {
        int pos = s_cur(p)->pos;
        p->i++;
        int b = sub(p);
        if (b < 0 || s_need_bool(p, name, a) < 0 || s_need_bool(p, name, b) < 0)
            return -1;
        int k = s_node(p, op, TY_BOOL, pos, p->f->nodes[a].start);
        if (k >= 0) {
            p->f->nodes[k].a = a;
            p->f->nodes[k].b = b;
        }
        a = k;
    }
    return a;
}

static int s_parse_and(s_parser_t *p)
{
    return s_parse_logic(p, K_AND, OP_AND, "and", s_parse_not);
}

static int s_parse_or(s_parser_t *p)
{
    return s_parse_logic(p, K_OR, OP_OR, "or", s_parse_and);
}

/* Allocates every node's scratch and points its read side at it; literals
 * are broadcast here, once. */
static int s_finish(weir_filter_t *f)
{
    size_t n = f->max_rows;
    for (int k = 0; k < f->n_nodes; k++) {
        s_node_t *nd = &f->nodes[k];
        if (nd->op == OP_COL || nd->ty == TY_STR)
            continue;
        nd->wn = calloc(n, 1);
        if (nd->ty == TY_DBL)
            nd->wd = calloc(n, sizeof *nd->wd);
        else
            nd->wi = calloc(n, sizeof *nd->wi);
        if (!nd->wn || (!nd->wd && !nd->wi))
            return -ENOMEM;
        nd->ri = nd->wi;
        nd->rd = nd->wd;
        nd->rn = nd->wn;
        if (nd->op != OP_LIT)
            continue;
        for (size_t i = 0; i < n; i++) {
            if (nd->wd)
                nd->wd[i] = nd->dval;
            else
                nd->wi[i] = nd->ival;
        }
    }
    return 0;
}

void weir_filter_destroy(weir_filter_t **fp)
{
    if (!fp || !*fp)
        return;
    weir_filter_t *f = *fp;
    for (int k = 0; k < f->n_nodes; k++) {
        free(f->nodes[k].wi);
        free(f->nodes[k].wd);
        free(f->nodes[k].wn);
    }
    free(f->nodes);
    free(f->pool);
    free(f);
    *fp = NULL;
}

int weir_filter_compile(const char *text, const weir_job_t *job, uint32_t max_rows,
                        weir_filter_t **out, char *err, size_t err_cap, int *err_col)
{
    if (err && err_cap > 0)
        err[0] = '\0';
    if (max_rows == 0)
        return WEIR_ERANGE;
    size_t len = strlen(text);
    if (len > (size_t)INT32_MAX / 2)
        return WEIR_ERANGE;
    s_parser_t p = {.text = text, .text_len = (int)len, .job = job, .err = err, .err_cap = err_cap};
    p.f = calloc(1, sizeof *p.f);
    if (!p.f)
        return -ENOMEM;
    p.f->max_rows = max_rows;
    if (s_lex(&p) < 0)
        goto fail;
    int root = s_parse_or(&p);
    if (root < 0)
        goto fail;
    s_tok_t *t = s_cur(&p);
    if (t->kind != T_END) {
        if (t->kind == T_RP)
            s_fail(&p, t->pos, "unmatched ')'");
        else
            s_fail(&p, t->pos, "unexpected '%.*s' after '%.*s'", t->len, text + t->pos,
                   p.toks[p.i - 1].len, text + p.toks[p.i - 1].pos);
        goto fail;
    }
    if (p.f->nodes[root].ty != TY_BOOL) {
        char d[160];
        s_fail(&p, p.f->nodes[root].start, "the filter must be a condition, not %s",
               s_describe(&p, root, d, sizeof d));
        goto fail;
    }
    if ((p.rc = s_finish(p.f)) < 0)
        goto fail;
    free(p.toks);
    *out = p.f;
    return 0;
fail:
    if (err_col && p.rc == WEIR_EINVAL)
        *err_col = p.err_col;
    free(p.toks);
    weir_filter_destroy(&p.f);
    return p.rc ? p.rc : WEIR_EINVAL;
}

/* ---- evaluation ---- */

static int s_str_cmp(const char *a, uint32_t la, const char *b, uint32_t lb)
{
    int c = memcmp(a, b, la < lb ? la : lb);
    if (c)
        return c;
    return la < lb ? -1 : la > lb;
}

static int64_t s_cmp_result(s_op_t op, int c)
{
    switch (op) {
    case OP_EQ: return c == 0;
    case OP_NE: return c != 0;
    case OP_LT: return c < 0;
    case OP_LE: return c <= 0;
    case OP_GT: return c > 0;
    default: return c >= 0;
    }
}

static void s_eval_strcmp(const weir_filter_t *f, s_node_t *n, const weir_batch_t *b)
{
    const s_node_t *x = &f->nodes[n->a], *y = &f->nodes[n->b];
    for (uint32_t i = 0; i < b->n_rows; i++) {
        const char *sa, *sb;
        uint32_t la, lb;
        uint8_t null = 0;
        if (x->op == OP_COL) {
            sa = weir_batch_str(b, x->col, i, &la);
            null |= b->cols[x->col].null[i];
        } else {
            sa = f->pool + x->soff;
            la = x->slen;
        }
        if (y->op == OP_COL) {
            sb = weir_batch_str(b, y->col, i, &lb);
            null |= b->cols[y->col].null[i];
        } else {
            sb = f->pool + y->soff;
            lb = y->slen;
        }
        n->wn[i] = null;
        n->wi[i] = null ? 0 : s_cmp_result(n->op, s_str_cmp(sa, la, sb, lb));
    }
}

/* Comparison loops, one per operand representation; macros keep the six
 * operators as six tight loops the compiler can vectorize. */
#define S_CMP_LOOP(A, B, OPER)                                                                     \
    for (uint32_t i = 0; i < rows; i++)                                                            \
        n->wi[i] = (A)[i] OPER(B)[i];

#define S_CMP_SWITCH(A, B)                                                                         \
    switch (n->op) {                                                                               \
    case OP_EQ: S_CMP_LOOP(A, B, ==) break;                                                        \
    case OP_NE: S_CMP_LOOP(A, B, !=) break;                                                        \
    case OP_LT: S_CMP_LOOP(A, B, <) break;                                                         \
    case OP_LE: S_CMP_LOOP(A, B, <=) break;                                                        \
    case OP_GT: S_CMP_LOOP(A, B, >) break;                                                         \
    default: S_CMP_LOOP(A, B, >=) break;                                                           \
    }

static void s_eval_node(const weir_filter_t *f, s_node_t *n, const weir_batch_t *b)
{
    uint32_t rows = b->n_rows;
    const s_node_t *x = n->a >= 0 ? &f->nodes[n->a] : NULL;
    const s_node_t *y = n->b >= 0 ? &f->nodes[n->b] : NULL;
    switch (n->op) {
    case OP_COL: {
        const weir_column_t *c = &b->cols[n->col];
        n->ri = c->i64;
        n->rd = c->f64;
        n->rn = c->null;
        return;
    }
    case OP_LIT: return;
    case OP_CAST:
        for (uint32_t i = 0; i < rows; i++) {
            n->wd[i] = (double)x->ri[i];
            n->wn[i] = x->rn[i];
        }
        return;
    case OP_NEG:
        for (uint32_t i = 0; i < rows; i++)
            n->wn[i] = x->rn[i];
        if (n->ty == TY_DBL)
            for (uint32_t i = 0; i < rows; i++)
                n->wd[i] = -x->rd[i];
        else
            for (uint32_t i = 0; i < rows; i++)
                n->wi[i] = (int64_t)(0 - (uint64_t)x->ri[i]);
        return;
    case OP_NOT:
        for (uint32_t i = 0; i < rows; i++) {
            n->wn[i] = x->rn[i];
            n->wi[i] = (x->rn[i] == 0) & (x->ri[i] == 0);
        }
        return;
    case OP_ISNULL:
    case OP_NOTNULL:
        if (x->op == OP_LIT && x->ty == TY_STR) {
            memset(n->wi, 0, rows * sizeof *n->wi);
            if (n->op == OP_NOTNULL)
                for (uint32_t i = 0; i < rows; i++)
                    n->wi[i] = 1;
        } else {
            const uint8_t *xn = x->op == OP_COL ? b->cols[x->col].null : x->rn;
            for (uint32_t i = 0; i < rows; i++)
                n->wi[i] = (xn[i] != 0) == (n->op == OP_ISNULL);
        }
        memset(n->wn, 0, rows);
        return;
    case OP_AND:
        for (uint32_t i = 0; i < rows; i++) {
            int any_false =
                ((x->rn[i] == 0) & (x->ri[i] == 0)) | ((y->rn[i] == 0) & (y->ri[i] == 0));
            int any_null = x->rn[i] | y->rn[i];
            n->wn[i] = (uint8_t)((any_false == 0) & any_null);
            n->wi[i] = (any_false | any_null) == 0;
        }
        return;
    case OP_OR:
        for (uint32_t i = 0; i < rows; i++) {
            int any_true =
                ((x->rn[i] == 0) & (x->ri[i] != 0)) | ((y->rn[i] == 0) & (y->ri[i] != 0));
            int any_null = x->rn[i] | y->rn[i];
            n->wn[i] = (uint8_t)((any_true == 0) & any_null);
            n->wi[i] = any_true;
        }
        return;
    default: break;
    }
    if (s_is_cmp(n->op) && n->arg_ty == TY_STR) {
        s_eval_strcmp(f, n, b);
        return;
    }
    for (uint32_t i = 0; i < rows; i++)
        n->wn[i] = x->rn[i] | y->rn[i];
    if (s_is_cmp(n->op)) {
        if (n->arg_ty == TY_DBL)
            S_CMP_SWITCH(x->rd, y->rd)
        else
            S_CMP_SWITCH(x->ri, y->ri)
        return;
    }
    if (n->ty == TY_DBL) {
        const double *u = x->rd, *v = y->rd;
        switch (n->op) {
        case OP_ADD:
            for (uint32_t i = 0; i < rows; i++)
                n->wd[i] = u[i] + v[i];
            break;
        case OP_SUB:
            for (uint32_t i = 0; i < rows; i++)
                n->wd[i] = u[i] - v[i];
            break;
        case OP_MUL:
            for (uint32_t i = 0; i < rows; i++)
                n->wd[i] = u[i] * v[i];
            break;
        default:
            for (uint32_t i = 0; i < rows; i++) {
                int zero = v[i] == 0.0;
                n->wn[i] |= (uint8_t)zero;
                n->wd[i] = zero ? 0.0 : u[i] / v[i];
            }
            break;
        }
        return;
    }
    const int64_t *u = x->ri, *v = y->ri;
    switch (n->op) {
    case OP_ADD:
        for (uint32_t i = 0; i < rows; i++)
            n->wi[i] = (int64_t)((uint64_t)u[i] + (uint64_t)v[i]);
        break;
    case OP_SUB:
        for (uint32_t i = 0; i < rows; i++)
            n->wi[i] = (int64_t)((uint64_t)u[i] - (uint64_t)v[i]);
        break;
    case OP_MUL:
        for (uint32_t i = 0; i < rows; i++)
            n->wi[i] = (int64_t)((uint64_t)u[i] * (uint64_t)v[i]);
        break;
    case OP_DIV:
        for (uint32_t i = 0; i < rows; i++) {
            int64_t d = v[i];
            n->wn[i] |= (uint8_t)(d == 0);
            /* INT64_MIN / -1 overflows; -1 divides as a (wrapping) negation */
            n->wi[i] = d == 0 ? 0 : d == -1 ? (int64_t)(0 - (uint64_t)u[i]) : u[i] / d;
        }
        break;
    default:
        for (uint32_t i = 0; i < rows; i++) {
            int64_t d = v[i];
            n->wn[i] |= (uint8_t)(d == 0);
            n->wi[i] = d == 0 || d == -1 ? 0 : u[i] % d;
        }
        break;
    }
}

int weir_filter_eval(weir_filter_t *f, const weir_batch_t *b, uint8_t *keep)
{
    if (b->n_rows > f->max_rows)
        return WEIR_ERANGE;
    for (int k = 0; k < f->n_nodes; k++) {
        const s_node_t *n = &f->nodes[k];
        if (n->op == OP_COL && (n->col >= b->n_cols || b->cols[n->col].type != n->wty))
            return WEIR_EINVAL;
    }
    for (int k = 0; k < f->n_nodes; k++)
        s_eval_node(f, &f->nodes[k], b);
    const s_node_t *root = &f->nodes[f->n_nodes - 1];
    for (uint32_t i = 0; i < b->n_rows; i++)
        keep[i] = (root->rn[i] == 0) & (root->ri[i] != 0);
    return 0;
}
