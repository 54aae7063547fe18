/* clock: the processing-time clock of a node's tasks (DESIGN §6, §10).
 *
 * Processing time decides when a source split counts as idle
 * (watermark.idle_timeout) and when timers of early results are due. Tests
 * of those rules must not sleep, so the clock is a value handed to the
 * dataflow rather than a call to clock_gettime() scattered in the code:
 *
 * - the system clock (NULL or weir_clock_system()): CLOCK_MONOTONIC;
 * - a manual clock for unit tests: set or advanced by the test;
 * - a file clock for tests of whole processes: the node reads the time as a
 *   decimal number of milliseconds from a file the test rewrites (weir-node
 *   uses one when WEIR_TEST_CLOCK names a file). The file is opened and
 *   read at each call (so a test may replace it by rename), and calls happen only where a task waits for input, never
 *   per row. A file that cannot be read or parsed keeps the last time read.
 *
 * Heartbeats, flush timers and timeouts of the protocol stay on the system
 * clock: the test clock moves only the event-time rules that depend on
 * processing time. Thread-safe: any thread may read any clock.
 */
#ifndef WEIR_CLOCK_H
#define WEIR_CLOCK_H

#include <stddef.h>
#include <stdint.h>

typedef struct weir_clock weir_clock_t;

/* The system clock (static; never destroyed). */
const weir_clock_t *weir_clock_system(void);

/* Milliseconds on clock c (NULL: the system clock). Monotonic for the
 * system clock; whatever the test set for the others. */
int64_t weir_clock_now_ms(const weir_clock_t *c);

/* A manual clock at start_ms. NULL when out of memory. */
weir_clock_t *weir_clock_manual_new(int64_t start_ms);
/* Sets / advances a manual clock (no effect on other kinds). */
void weir_clock_manual_set(weir_clock_t *c, int64_t ms);
void weir_clock_manual_advance(weir_clock_t *c, int64_t by_ms);

/* A clock read from the file at path (which must exist; its content may
 * be empty: 0 until it holds a number). Returns 0, or -errno with err
 * filled (err_cap bytes). */
int weir_clock_file_new(const char *path, weir_clock_t **out, char *err, size_t err_cap);

/* Frees a manual or file clock; sets *c = NULL; accepts NULL and ignores
 * the system clock. */
void weir_clock_destroy(weir_clock_t **c);

#endif
