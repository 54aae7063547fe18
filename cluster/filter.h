/* filter: the `filter:` expression of a job (DESIGN §2), compiled once and
 * evaluated over whole batches.
 *
 * weir_filter_compile() parses the text, resolves column names against the
 * job's source schema, type-checks, and lays the expression out as a program
 * of nodes in post-order (children before parents). weir_filter_eval() runs
 * that program node by node over every row of a batch at once: each node
 * writes one scratch column (values plus NULL flags) that its parent reads.
 * Column nodes read the batch's arrays in place; literals are broadcast into
 * their scratch once, at compile time.
 *
 * Invariant: every node is type-checked at compile time, so evaluation
 * never fails on data; a row passes only when the expression is TRUE (SQL
 * three-valued logic: NULL, i.e. unknown, drops the row).
 *
 * Costs: compile allocates one scratch column per non-column node, sized
 * for max_rows (9 bytes per row per int/bool/double node); eval allocates
 * nothing and touches each node's column once. Per-row interpretation of
 * a tree was rejected: a branch per node per row, and no chance for the
 * compiler to vectorize the tight loops.
 *
 * Grammar (lowest to highest precedence; keywords case-insensitive):
 *   or  ->  and ('or' and)*
 *   and ->  not ('and' not)*
 *   not ->  'not' not | cmp
 *   cmp ->  sum ( ('='|'=='|'!='|'<>'|'<'|'<='|'>'|'>=') sum | 'is' ['not'] 'null' )*
 *   sum ->  prod (('+'|'-') prod)*
 *   prod -> unary (('*'|'/'|'%') unary)*
 *   unary -> '-' unary | primary
 *   primary -> column | integer | decimal | 'string' | "string" | true | false | '(' or ')'
 *
 * Types: INT64 and TIMESTAMP columns and integer literals are integers;
 * DOUBLE columns and decimal literals are doubles (an integer mixed with a
 * double becomes a double); BOOL columns, true/false and every comparison
 * are booleans (comparable with booleans only, not usable in arithmetic);
 * strings compare bytewise with the six comparison operators. '%' takes
 * integers only. Division (or '%') by zero yields NULL; integer overflow
 * wraps (two's complement).
 */
#ifndef WEIR_FILTER_H
#define WEIR_FILTER_H

#include <stddef.h>
#include <stdint.h>

#include "batch.h"
#include "job.h"

typedef struct weir_filter weir_filter_t;

/* Compiles `text` against the schema job->source.fields for batches of at
 * most max_rows (>= 1) rows.
 *
 * Returns 0 and sets *out; WEIR_EINVAL when the text is malformed or does
 * not type-check: then a one-line message is written to err (when err and
 * err_cap > 0, truncated and NUL-terminated) and *err_col (when not NULL)
 * receives the 1-based character offset in text where the problem is
 * (strlen(text) + 1 for "at the end"); WEIR_ERANGE when max_rows is 0;
 * -ENOMEM. *out is written only on success.
 *
 * text and job are borrowed for the call only; the filter keeps copies of
 * what it needs (column indexes, types, literal strings). Any thread; the
 * resulting filter belongs to the caller's thread. */
int weir_filter_compile(const char *text, const weir_job_t *job, uint32_t max_rows,
                        weir_filter_t **out, char *err, size_t err_cap, int *err_col);

/* Evaluates f over every row of b and writes keep[i] = 1 when row i passes
 * (the expression is TRUE) and 0 otherwise, for i < b->n_rows.
 *
 * b must have the schema of the job the filter was compiled for; keep has
 * room for b->n_rows flags. Returns 0; WEIR_ERANGE when b->n_rows exceeds
 * the compile-time max_rows; WEIR_EINVAL when a referenced column is
 * missing from b or has another type (programmer errors, checked because
 * they are cheap). Allocates nothing. b is borrowed for the call; f's
 * scratch is reused, so one thread at a time per filter. */
int weir_filter_eval(weir_filter_t *f, const weir_batch_t *b, uint8_t *keep);

/* Frees *f and sets *f = NULL; accepts NULL and *f == NULL. */
void weir_filter_destroy(weir_filter_t **f);

#endif
