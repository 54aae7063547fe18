/* timefmt: text timestamps -> int64 ms since the Unix epoch, UTC.
 *
 * Formats (weir_ts_format_t): ISO-8601 ("2019-01-01 00:16:10",
 * "2023-04-04T15:03:48.180Z", optional fraction of a second of 1-9 digits,
 * optional "Z" or "+hh:mm"/"-hh:mm"/"+hhmm"), epoch_ms (integer), epoch_s
 * (integer or decimal seconds, rounded to ms), or a strftime-style pattern
 * (%Y %m %d %H %M %S %f (fraction) %z (offset) %% and literal characters).
 * A timestamp without a zone is read in the fixed offset tz_offset_ms
 * (0 = UTC). Years outside 0000..9999 are WEIR_ERANGE. Allocation-free;
 * no locale, no libc time zone: any thread, fast enough for the hot path.
 */
#ifndef WEIR_TIMEFMT_H
#define WEIR_TIMEFMT_H

#include <stddef.h>
#include <stdint.h>

#include "job.h"

/* Parses s[0..len). Returns 0 and sets *out_ms, or WEIR_EINVAL (malformed,
 * or no such date or time, e.g. 1900-02-29 or 24:00:00) or WEIR_ERANGE
 * (out of range: every result lies in 0000-01-01T00:00:00.000Z ..
 * 9999-12-31T23:59:59.999Z, epoch formats included); *out_ms is untouched
 * on failure. pattern is used only for WEIR_TS_PATTERN; fields it lacks
 * default to 1970-01-01 00:00:00.000. */
int weir_ts_parse(const char *s, size_t len, weir_ts_format_t fmt, const char *pattern,
                  int32_t tz_offset_ms, int64_t *out_ms);

/* Days since 1970-01-01 of a proleptic Gregorian civil date; m in 1..12,
 * d in 1..31 (not checked), |y| below 10^12. */
int64_t weir_days_from_civil(int64_t y, unsigned m, unsigned d);

/* Writes ts_ms as "YYYY-MM-DDTHH:MM:SS.mmmZ" into buf (>= 32 bytes holds
 * any int64; years outside 0000..9999 are written "+YYYYY" / "-YYYY", as
 * ISO-8601 expanded years); a shorter buf gets a truncated, terminated
 * prefix. */
void weir_ts_format_iso(int64_t ts_ms, char *buf, size_t cap);

#endif
