/* weir-node: runs tasks for the coordinator. Parses flags and runs the
 * node's I/O loop (node/node.c). */
#include "crash.h"
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node.h"

static void s_usage(FILE *f)
{
    fprintf(f, "usage: weir-node --coordinator tcp://HOST:PORT --listen tcp://HOST:PORT "
               "--data-dir DIR [--id NAME]\n"
               "  --listen with port 0 picks a free port and tells the coordinator\n");
}

int main(int argc, char **argv)
{
    node_opts_t o = {0};
    static const struct option opts[] = {{"coordinator", required_argument, 0, 'c'},
                                         {"listen", required_argument, 0, 'l'},
                                         {"data-dir", required_argument, 0, 'd'},
                                         {"id", required_argument, 0, 'i'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'c': o.coordinator = optarg; break;
        case 'l': o.listen = optarg; break;
        case 'd': o.data_dir = optarg; break;
        case 'i': o.id = optarg; break;
        case 'h': s_usage(stdout); return 0;
        default: s_usage(stderr); return 2;
        }
    }
    if (optind < argc || !o.coordinator || !o.listen || !o.data_dir) {
        fprintf(stderr, "weir-node: --coordinator, --listen and --data-dir are required\n");
        s_usage(stderr);
        return 2;
    }
    {
        char cerr[256];
        if (weir_crash_init(cerr, sizeof cerr) != 0) {
            fprintf(stderr, "weir-node: WEIR_CRASH_AT: %s\n", cerr);
            return 2;
        }
    }
    return node_run(&o);
}
