/* log: timestamped lines on stderr. See log.h. */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

static const char *s_prog = "weir";

void weir_log_init(const char *prog)
{
    s_prog = prog;
}

int64_t weir_wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t weir_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void s_log(const char *level, const char *fmt, va_list ap)
{
    char msg[2048];
    vsnprintf(msg, sizeof msg, fmt, ap);
    int64_t now = weir_wall_ms();
    time_t secs = (time_t)(now / 1000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    fprintf(stderr, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ %s[%d] %s %s\n", tm.tm_year + 1900,
            tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(now % 1000), s_prog,
            (int)getpid(), level, msg);
}

void weir_log_info(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    s_log("INFO", fmt, ap);
    va_end(ap);
}

void weir_log_warn(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    s_log("WARN", fmt, ap);
    va_end(ap);
}

void weir_log_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    s_log("ERROR", fmt, ap);
    va_end(ap);
}
