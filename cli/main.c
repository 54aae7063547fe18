/* weir: the command-line tool. Parses the global options and dispatches to
 * a command group. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "endpoint.h"

static void s_usage(FILE *f)
{
    fprintf(f,
            "usage: weir [--coordinator ENDPOINT] COMMAND ...\n"
            "\n"
            "  submit JOB.yaml [--wait] [--from-savepoint ID]\n"
            "                             submit a job (from a savepoint); prints its id\n"
            "  list                       list jobs\n"
            "  status JOB                 state, tasks, where they run, rows, watermark\n"
            "  cancel JOB                 cancel a job (nothing is published)\n"
            "  stop JOB [--wait]          end a job's input now: windows fire, results are published\n"
            "  savepoint JOB [--stop]     take a savepoint (and stop the job); prints its id\n"
            "  savepoint --delete ID      delete a savepoint\n"
            "  checkpoints JOB            checkpoints and savepoints of a job\n"
            "  rebalance JOB              savepoint, then restart over every live node\n"
            "  nodes                      list nodes and whether they are alive\n"
            "  watermarks JOB             watermark per task and input; who holds the minimum\n"
            "  local up --nodes N --dir DIR [--port P]\n"
            "                             start a coordinator and N nodes on this machine\n"
            "  local down --dir DIR       stop them\n"
            "\n"
            "ENDPOINT defaults to $WEIR_COORDINATOR, then %s.\n",
            CLI_DEFAULT_ENDPOINT);
}

int main(int argc, char **argv)
{
    const char *endpoint = getenv("WEIR_COORDINATOR");
    if (!endpoint || !*endpoint)
        endpoint = CLI_DEFAULT_ENDPOINT;
    int i = 1, endpoint_from_flag = 0;
    while (i < argc && argv[i][0] == '-') {
        if (strcmp(argv[i], "--coordinator") == 0 && i + 1 < argc) {
            endpoint = argv[i + 1];
            endpoint_from_flag = 1;
            i += 2;
        } else if (strncmp(argv[i], "--coordinator=", 14) == 0) {
            endpoint = argv[i] + 14;
            endpoint_from_flag = 1;
            i++;
        } else if (strcmp(argv[i], "--coordinator") == 0) {
            fprintf(stderr, "weir: --coordinator needs a value, e.g. --coordinator %s\n",
                    CLI_DEFAULT_ENDPOINT);
            return 2;
        } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            s_usage(stdout);
            return 0;
        } else {
            fprintf(stderr, "weir: unknown option '%s'\n", argv[i]);
            s_usage(stderr);
            return 2;
        }
    }
    if (i >= argc) {
        s_usage(stderr);
        return 2;
    }
    const char *cmd = argv[i];
    int sub_argc = argc - i - 1;
    char **sub_argv = argv + i + 1;
    if (strcmp(cmd, "local") == 0)
        return cli_local(sub_argc, sub_argv);
    char err[256];
    if (weir_endpoint_check(endpoint, err, sizeof err) != 0) {
        fprintf(stderr, "weir: coordinator endpoint (from %s): %s\n",
                endpoint_from_flag ? "--coordinator" : "$WEIR_COORDINATOR", err);
        return 2;
    }
    if (strcmp(cmd, "submit") == 0)
        return cli_submit(endpoint, sub_argc, sub_argv);
    if (strcmp(cmd, "list") == 0)
        return cli_list(endpoint, sub_argc, sub_argv);
    if (strcmp(cmd, "status") == 0)
        return cli_status(endpoint, sub_argc, sub_argv);
    if (strcmp(cmd, "cancel") == 0)
        return cli_cancel(endpoint, sub_argc, sub_argv);
    if (strcmp(cmd, "stop") == 0)
        return cli_stop(endpoint, sub_argc, sub_argv);
    if (strcmp(cmd, "savepoint") == 0)
        return cli_savepoint(endpoint, sub_argc, sub_argv);
    if (strcmp(cmd, "rebalance") == 0)
        return cli_rebalance(endpoint, sub_argc, sub_argv);
    if (strcmp(cmd, "checkpoints") == 0)
        return cli_checkpoints(endpoint, sub_argc, sub_argv);
    if (strcmp(cmd, "nodes") == 0)
        return cli_nodes(endpoint, sub_argc, sub_argv);
    if (strcmp(cmd, "watermarks") == 0)
        return cli_watermarks(endpoint, sub_argc, sub_argv);
    fprintf(stderr, "weir: unknown command '%s'\n", cmd);
    s_usage(stderr);
    return 2;
}
