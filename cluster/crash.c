/* crash: the spec of armed crash points and the check at each point. See
 * crash.h.
 *
 * The spec is a small array written before threads start and only read
 * afterwards, so reaching a point takes no lock.
 */
#include "crash.h"
#include "err.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Every crash point of the code base; crash.h says where each is. */
static const char *const s_points[] = {
    "sink.precommitted",
    "sink.publishing",
    "sink.published",
    "coord.durable",
};

typedef struct {
    const char *point; /* an entry of s_points */
    int any_n;         /* 1: every checkpoint; 0: only n */
    uint64_t n;        /* checkpoint id when !any_n */
} s_entry_t;

static s_entry_t s_entries[WEIR_CRASH_MAX_ENTRIES];
static int s_n_entries; /* 0: disarmed */

static const char *s_known(const char *name, size_t len)
{
    for (size_t i = 0; i < sizeof s_points / sizeof s_points[0]; i++)
        if (strlen(s_points[i]) == len && memcmp(s_points[i], name, len) == 0)
            return s_points[i];
    return NULL;
}

static int s_fail(char *err, size_t err_cap, const char *entry, size_t len, const char *why)
{
    if (err && err_cap)
        snprintf(err, err_cap, "crash point \"%.*s\": %s", (int)len, entry, why);
    return WEIR_EINVAL;
}

/* Parses N of POINT:N: decimal digits only, no sign, no overflow. */
static int s_parse_n(const char *p, size_t len, uint64_t *out)
{
    if (len == 0 || len > 20)
        return -1;
    uint64_t v = 0;
    for (size_t i = 0; i < len; i++) {
        if (p[i] < '0' || p[i] > '9')
            return -1;
        unsigned d = (unsigned)(p[i] - '0');
        if (v > (UINT64_MAX - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}

int weir_crash_set(const char *spec, char *err, size_t err_cap)
{
    s_n_entries = 0;
    if (!spec || !spec[0])
        return 0;
    s_entry_t parsed[WEIR_CRASH_MAX_ENTRIES];
    int n = 0;
    const char *p = spec;
    for (;;) {
        size_t len = strcspn(p, ",");
        if (n == WEIR_CRASH_MAX_ENTRIES)
            return s_fail(err, err_cap, p, len, "one entry too many (WEIR_CRASH_MAX_ENTRIES)");
        const char *colon = memchr(p, ':', len);
        size_t name_len = colon ? (size_t)(colon - p) : len;
        s_entry_t *e = &parsed[n];
        e->point = s_known(p, name_len);
        if (!e->point)
            return s_fail(err, err_cap, p, len,
                          "unknown point (known: sink.precommitted, sink.publishing, "
                          "sink.published)");
        e->any_n = colon == NULL;
        e->n = 0;
        if (colon && s_parse_n(colon + 1, len - name_len - 1, &e->n) != 0)
            return s_fail(err, err_cap, p, len, "expected POINT:N with N a checkpoint id");
        n++;
        if (p[len] == '\0')
            break;
        p += len + 1;
    }
    memcpy(s_entries, parsed, sizeof parsed[0] * (size_t)n);
    s_n_entries = n;
    return 0;
}

int weir_crash_init(char *err, size_t err_cap)
{
    return weir_crash_set(getenv("WEIR_CRASH_AT"), err, err_cap);
}

int weir_crash_matches(const char *point, uint64_t n)
{
    for (int i = 0; i < s_n_entries; i++) {
        const s_entry_t *e = &s_entries[i];
        if (strcmp(e->point, point) == 0 && (e->any_n || e->n == n))
            return 1;
    }
    return 0;
}

void weir_crash_point(const char *point, uint64_t n)
{
    if (!s_n_entries)
        return;
    assert(s_known(point, strlen(point)));
    if (!weir_crash_matches(point, n))
        return;
    char line[160];
    int len = snprintf(line, sizeof line, "weir: crash injected at %s (checkpoint %llu)\n", point,
                       (unsigned long long)n);
    if (len > 0) {
        ssize_t w = write(STDERR_FILENO, line, (size_t)len); /* nothing to do if it fails */
        (void)w;
    }
    _exit(WEIR_CRASH_EXIT);
}
