/* clock: processing-time clocks. See clock.h. */
#include "clock.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

typedef enum { S_SYSTEM, S_MANUAL, S_FILE } s_kind_t;

struct weir_clock {
    s_kind_t kind;
    _Atomic int64_t ms; /* manual: the time; file: the last time read */
    int fd;             /* unused (-1) */
    char *path;         /* file: opened at each read, so a file replaced by rename counts */
};

static struct weir_clock s_system = {.kind = S_SYSTEM, .fd = -1};

const weir_clock_t *weir_clock_system(void)
{
    return &s_system;
}

static int64_t s_file_read(weir_clock_t *c)
{
    char buf[32];
    ssize_t n = -1;
    int fd = open(c->path, O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        n = pread(fd, buf, sizeof buf - 1, 0);
        close(fd);
    }
    if (n > 0) {
        buf[n] = '\0';
        char *end = NULL;
        errno = 0;
        long long v = strtoll(buf, &end, 10);
        if (errno == 0 && end != buf && (*end == '\0' || *end == '\n'))
            atomic_store(&c->ms, (int64_t)v);
    }
    return atomic_load(&c->ms);
}

int64_t weir_clock_now_ms(const weir_clock_t *c)
{
    if (!c || c->kind == S_SYSTEM) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    }
    if (c->kind == S_FILE)
        return s_file_read((weir_clock_t *)c); /* caches the last good value */
    return atomic_load(&((weir_clock_t *)c)->ms);
}

weir_clock_t *weir_clock_manual_new(int64_t start_ms)
{
    weir_clock_t *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->kind = S_MANUAL;
    c->fd = -1;
    atomic_store(&c->ms, start_ms);
    return c;
}

void weir_clock_manual_set(weir_clock_t *c, int64_t ms)
{
    if (c && c->kind == S_MANUAL)
        atomic_store(&c->ms, ms);
}

void weir_clock_manual_advance(weir_clock_t *c, int64_t by_ms)
{
    if (c && c->kind == S_MANUAL)
        atomic_fetch_add(&c->ms, by_ms);
}

int weir_clock_file_new(const char *path, weir_clock_t **out, char *err, size_t err_cap)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        if (err)
            snprintf(err, err_cap, "test clock %s: %s (create it holding a time in ms)", path,
                     strerror(e));
        return -e;
    }
    close(fd);
    weir_clock_t *c = calloc(1, sizeof *c);
    if (c)
        c->path = strdup(path);
    if (!c || !c->path) {
        free(c);
        if (err)
            snprintf(err, err_cap, "out of memory");
        return -ENOMEM;
    }
    c->kind = S_FILE;
    c->fd = -1;
    s_file_read(c);
    *out = c;
    return 0;
}

void weir_clock_destroy(weir_clock_t **p)
{
    if (!p || !*p)
        return;
    weir_clock_t *c = *p;
    *p = NULL;
    if (c == &s_system)
        return;
    free(c->path);
    free(c);
}
