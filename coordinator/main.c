/* weir-coordinator: membership, scheduling and job lifecycle for a weir
 * cluster. Parses flags and runs the event loop (coordinator/coord.c). */
#include "crash.h"
#include <getopt.h>
#include <stdio.h>

#include "coord.h"

static void s_usage(FILE *f)
{
    fprintf(f, "usage: weir-coordinator --listen tcp://HOST:PORT --data-dir DIR\n");
}

int main(int argc, char **argv)
{
    coord_opts_t o = {0};
    static const struct option opts[] = {{"listen", required_argument, 0, 'l'},
                                         {"data-dir", required_argument, 0, 'd'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'l': o.listen = optarg; break;
        case 'd': o.data_dir = optarg; break;
        case 'h': s_usage(stdout); return 0;
        default: s_usage(stderr); return 2;
        }
    }
    if (optind < argc || !o.listen || !o.data_dir) {
        fprintf(stderr, "weir-coordinator: --listen and --data-dir are required\n");
        s_usage(stderr);
        return 2;
    }
    {
        char cerr[256];
        if (weir_crash_init(cerr, sizeof cerr) != 0) {
            fprintf(stderr, "weir-coordinator: WEIR_CRASH_AT: %s\n", cerr);
            return 2;
        }
    }
    return coord_run(&o);
}
