/* log: one line per event on stderr: "2026-12-03T12:00:00.123Z weir-node[123] INFO text".
 * Daemons log once, where the context is; lower layers return codes.
 * Thread-safe (one fprintf per line). */
#ifndef WEIR_LOG_H
#define WEIR_LOG_H

#include <stdint.h>

/* Sets the program name shown in every line. */
void weir_log_init(const char *prog);
void weir_log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void weir_log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void weir_log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Wall clock and monotonic clock in milliseconds. */
int64_t weir_wall_ms(void);
int64_t weir_mono_ms(void);

#endif
