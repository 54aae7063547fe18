/* coord: weir-coordinator's event loop (coordinator/coord.c). */
#ifndef WEIR_COORD_H
#define WEIR_COORD_H

typedef struct {
    const char *listen; /* tcp://HOST:PORT */
    const char *data_dir;
} coord_opts_t;

/* Runs until SIGINT/SIGTERM; returns the process exit status. */
int coord_run(const coord_opts_t *o);

#endif
