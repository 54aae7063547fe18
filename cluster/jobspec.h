/* jobspec: job YAML text -> validated weir_job_t (DESIGN §2), with libyaml.
 *
 * Every field has a default except source and sink. Unknown keys, wrong
 * types, out-of-range values and missing required fields are errors whose
 * message names the file, line and column, and the problem with its fix:
 *   "jobs/x.yaml:7:5: unknown key 'sizee' in window (expected one of: type,
 *    size, slide, gap, offset)"
 * Relative paths (source.path, sink.path, late.path) are resolved against
 * base_dir. Durations: "250ms", "10s", "5m", "1h", "1d", or a bare integer
 * of milliseconds.
 */
#ifndef WEIR_JOBSPEC_H
#define WEIR_JOBSPEC_H

#include <stddef.h>
#include <stdint.h>

#include "job.h"

/* Also check that file sources exist and are readable (what `weir submit`
 * and nodes do; the coordinator may not see the nodes' files). */
#define WEIR_JOBSPEC_CHECK_PATHS 1u

/* Also refuse what the file may say but this version cannot run yet
 * (follow, idleness, alignment,
 * checkpoints, restart strategies), each at its key: what `weir submit`,
 * the coordinator and the nodes use. */
#define WEIR_JOBSPEC_RUNNABLE 2u

/* Also refuse a sink or late directory that already holds part files of an
 * earlier run (what `weir submit` does). */
#define WEIR_JOBSPEC_CHECK_OUTPUT 4u

/* Parses `len` bytes of YAML. file_name is used in messages only; base_dir
 * (absolute) resolves relative paths. On success returns 0 and fills *out.
 * On failure returns WEIR_EINVAL (or -errno for a path check) and writes a
 * one-line message into err (err_cap bytes, always NUL-terminated); *out is
 * then unspecified. Any thread; no global state. */
int weir_jobspec_parse(const char *yaml, size_t len, const char *file_name, const char *base_dir,
                       unsigned flags, weir_job_t *out, char *err, size_t err_cap);

/* Parses a duration ("250ms", "10s", "5m", "1h", "1d", "-8h", "1500").
 * 0 or WEIR_EINVAL (also on overflow). */
int weir_duration_parse(const char *text, int64_t *out_ms);

#endif
