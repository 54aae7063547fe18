/* crash: named crash points, so that tests can stop a process at an exact
 * step and then check what recovery makes of the files it left.
 *
 * Recovery code is only as good as the states it has been run from, and a
 * kill -9 at a random moment seldom hits the narrow windows that matter
 * (between two renames of one commit, say). So every step whose effects a
 * crash may leave half done is followed by a call
 *
 *     weir_crash_point("sink.precommitted", ck);
 *
 * and a process whose spec names that point (and that checkpoint, if the
 * spec gives one) writes one line to stderr,
 *
 *     weir: crash injected at sink.precommitted (checkpoint 7)
 *
 * and ends at once with _exit(WEIR_CRASH_EXIT): no atexit handlers, no
 * stdio flush, no cleanup, so the files are left exactly as a kill -9 at
 * that instant would leave them (the kernel still holds what was written;
 * a power loss is a different test).
 *
 * Spec (the environment variable WEIR_CRASH_AT, read by weir_crash_init):
 * comma-separated entries, each POINT (the first time the point is
 * reached) or POINT:N (when it is reached for checkpoint N, decimal). A
 * POINT must be one of the table below, so that a misspelt point is refused
 * instead of letting a test pass because its crash never came.
 *
 *   point              module    reached
 *   sink.precommitted  filesink  pending file renamed, directory fsynced,
 *                                the next in-progress file started
 *   sink.publishing    filesink  first of several pending files of one
 *                                commit published, before the others
 *   sink.published     filesink  every pending file of the commit published
 *   coord.durable      coordinator  the checkpoint's metadata is durable, the
 *                                nodes are not told yet that it completed
 *                                and the directory fsynced
 *
 * N is the checkpoint the step belongs to: the one pre-committed, or the
 * one whose completion is being published (commit; for recovery and
 * publish_dir the checkpoint up to which they publish).
 *
 * Costs: with no spec, weir_crash_point is one load and one branch. Points
 * sit at per-checkpoint steps, never per row.
 *
 * Threads: set the spec (weir_crash_init or weir_crash_set) before starting
 * threads; afterwards any thread may reach a point.
 *
 * Rejected: a compile-time switch (#ifdef) for fault injection: the binary
 * under test would not be the one shipped. raise(SIGKILL): its status (137
 * from a shell) looks like any other kill, while WEIR_CRASH_EXIT tells a
 * test that the process died where it was asked to. A hook that returns to
 * the caller (longjmp): the code after the point would have to be written
 * to be abandoned, which is exactly what a crash does not ask of it.
 */
#ifndef WEIR_CRASH_H
#define WEIR_CRASH_H

#include <stddef.h>
#include <stdint.h>

/* Exit status of an injected crash. */
#define WEIR_CRASH_EXIT 86
/* Entries one spec may hold. */
#define WEIR_CRASH_MAX_ENTRIES 16

/* Arms the points named by the environment variable WEIR_CRASH_AT (unset
 * or empty: none). Returns 0, or WEIR_EINVAL with a message naming the bad
 * entry in err (err_cap bytes; err may be NULL) and nothing armed. Call
 * from main, before threads start. */
int weir_crash_init(char *err, size_t err_cap);

/* As weir_crash_init, from spec instead of the environment (NULL or ""
 * disarms every point). Tests use it. */
int weir_crash_set(const char *spec, char *err, size_t err_cap);

/* 1 when reaching point for checkpoint n would crash, else 0. Any thread
 * once the spec is set. */
int weir_crash_matches(const char *point, uint64_t n);

/* Crashes the process (stderr line, _exit(WEIR_CRASH_EXIT)) when the spec
 * matches point and n; otherwise returns at once. point must be one of the
 * table above (asserted). Any thread once the spec is set. */
void weir_crash_point(const char *point, uint64_t n);

#endif
