/* local: `weir local up` and `weir local down`: a whole cluster on this
 * machine, for trying weir out and for tests.
 *
 * up starts weir-coordinator and N weir-node processes (found beside this
 * binary) in the background, each in its own session with its own data
 * directory and log under DIR, records "name pid" lines in DIR/pids, waits
 * until every node has registered, and prints WEIR_COORDINATOR=... last.
 * down stops every process listed in DIR/pids (SIGTERM, then SIGKILL after
 * 5 s), checking first that each pid still is a weir process. */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "fsx.h"

#define LOCAL_MAX_NODES 64

static int s_bin_dir(char *out, size_t cap)
{
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0)
        return -1;
    self[n] = 0;
    snprintf(out, cap, "%s", dirname(self));
    return 0;
}

static pid_t s_spawn(char *const argv[], const char *log)
{
    pid_t pid = fork();
    if (pid != 0)
        return pid;
    setsid();
    int fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    int nul = open("/dev/null", O_RDONLY);
    if (fd >= 0) {
        dup2(fd, 1);
        dup2(fd, 2);
    }
    if (nul >= 0)
        dup2(nul, 0);
    execv(argv[0], argv);
    fprintf(stderr, "cannot run %s: %s\n", argv[0], strerror(errno));
    _exit(127);
}

static bool s_is_weir(pid_t pid)
{
    char path[64], cmd[256] = "";
    snprintf(path, sizeof path, "/proc/%d/cmdline", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return false;
    size_t n = fread(cmd, 1, sizeof cmd - 1, f);
    fclose(f);
    cmd[n] = 0;
    return strstr(cmd, "weir-") != NULL;
}

/* A process listed in a pids file (not necessarily our child): alive and
 * still a weir process (the pid was not reused). */
static bool s_alive(pid_t pid)
{
    int st;
    if (waitpid(pid, &st, WNOHANG) == pid)
        return false; /* our child, exited */
    return kill(pid, 0) == 0 && s_is_weir(pid);
}

/* A child we just forked: alive until waitpid says it exited. Its
 * cmdline may not name weir yet (between fork and exec). */
static bool s_child_alive(pid_t pid)
{
    int st;
    return waitpid(pid, &st, WNOHANG) == 0;
}

static void s_tail(const char *log)
{
    FILE *f = fopen(log, "r");
    if (!f)
        return;
    char line[1024];
    fprintf(stderr, "--- last lines of %s ---\n", log);
    long lines = 0;
    while (fgets(line, sizeof line, f))
        lines++;
    rewind(f);
    long skip = lines > 10 ? lines - 10 : 0;
    while (fgets(line, sizeof line, f))
        if (skip-- <= 0)
            fputs(line, stderr);
    fclose(f);
}

/* True when nothing listens on 127.0.0.1:port (we could bind it). */
static bool s_port_free(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return true;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    bool ok = bind(fd, (struct sockaddr *)&a, sizeof a) == 0;
    close(fd);
    return ok;
}

/* Reads one "name pid" line of a pids file. false at the end or on a
 * malformed line. */
static bool s_read_pid_line(FILE *f, char *name, size_t cap, pid_t *pid)
{
    char line[256];
    if (!fgets(line, sizeof line, f))
        return false;
    char *sp = strchr(line, ' ');
    if (!sp || (size_t)(sp - line) >= cap)
        return false;
    *sp = 0;
    char *end;
    long v = strtol(sp + 1, &end, 10);
    if (end == sp + 1 || v <= 0 || v > 4194304)
        return false;
    snprintf(name, cap, "%s", line);
    *pid = (pid_t)v;
    return true;
}

static int s_down(const char *dir, bool quiet)
{
    char pidfile[PATH_MAX];
    snprintf(pidfile, sizeof pidfile, "%s/pids", dir);
    FILE *f = fopen(pidfile, "r");
    if (!f) {
        if (!quiet)
            fprintf(stderr, "weir local down: no cluster recorded in %s (no %s)\n", dir, pidfile);
        return quiet ? 0 : 1;
    }
    pid_t pids[LOCAL_MAX_NODES + 1];
    char names[LOCAL_MAX_NODES + 1][64];
    int n = 0;
    while (n < LOCAL_MAX_NODES + 1 && s_read_pid_line(f, names[n], sizeof names[n], &pids[n]))
        n++;
    fclose(f);
    for (int i = 0; i < n; i++)
        if (s_alive(pids[i]))
            kill(pids[i], SIGTERM);
    for (int waited = 0; waited < 50; waited++) {
        int left = 0;
        for (int i = 0; i < n; i++)
            if (s_alive(pids[i]))
                left++;
        if (!left)
            break;
        usleep(100 * 1000);
    }
    for (int i = 0; i < n; i++)
        if (s_alive(pids[i])) {
            fprintf(stderr, "weir local down: %s (pid %d) did not stop; killing it\n", names[i],
                    (int)pids[i]);
            kill(pids[i], SIGKILL);
        }
    unlink(pidfile);
    if (!quiet)
        printf("stopped %d processes of the local cluster in %s\n", n, dir);
    return 0;
}

static int s_count_alive_nodes(const char *endpoint)
{
    Weir__V1__Empty em = WEIR__V1__EMPTY__INIT;
    Weir__V1__Request q = WEIR__V1__REQUEST__INIT;
    q.req_case = WEIR__V1__REQUEST__REQ_NODES;
    q.nodes = &em;
    /* Quiet probe: a coordinator still starting is expected. */
    int saved = dup(2), nul = open("/dev/null", O_WRONLY);
    dup2(nul, 2);
    Weir__V1__Reply *rep = cli_request(endpoint, &q, 300);
    dup2(saved, 2);
    close(saved);
    close(nul);
    if (!rep)
        return -1;
    int alive = 0;
    for (size_t i = 0; i < rep->n_nodes; i++)
        alive += rep->nodes[i]->alive;
    cli_reply_free(rep);
    return alive;
}

static int s_up(int nodes, const char *dir_arg, int port)
{
    char dir[PATH_MAX];
    if (weir_fs_mkdirs(dir_arg) != 0 || !realpath(dir_arg, dir)) {
        fprintf(stderr, "weir local up: cannot create %s: %s\n", dir_arg, strerror(errno));
        return 1;
    }
    char pidfile[PATH_MAX];
    snprintf(pidfile, sizeof pidfile, "%s/pids", dir);
    FILE *pf = fopen(pidfile, "r");
    if (pf) {
        char name[64];
        pid_t pid;
        bool running = false;
        while (s_read_pid_line(pf, name, sizeof name, &pid))
            if (s_alive(pid))
                running = true;
        fclose(pf);
        if (running) {
            fprintf(stderr,
                    "weir local up: a local cluster already runs in %s; stop it first with "
                    "`weir local down --dir %s`\n",
                    dir, dir_arg);
            return 1;
        }
    }
    if (!s_port_free(port)) {
        fprintf(stderr,
                "weir local up: port %d on 127.0.0.1 is in use (another cluster or program); "
                "choose another with --port\n",
                port);
        return 1;
    }
    char bin[PATH_MAX];
    if (s_bin_dir(bin, sizeof bin) != 0) {
        fprintf(stderr, "weir local up: cannot find my own binary directory\n");
        return 1;
    }
    char coord_bin[PATH_MAX], node_bin[PATH_MAX];
    snprintf(coord_bin, sizeof coord_bin, "%s/weir-coordinator", bin);
    snprintf(node_bin, sizeof node_bin, "%s/weir-node", bin);
    if (access(coord_bin, X_OK) != 0 || access(node_bin, X_OK) != 0) {
        fprintf(stderr, "weir local up: weir-coordinator and weir-node must be beside %s/weir\n",
                bin);
        return 1;
    }
    char endpoint[64], listen[64];
    snprintf(endpoint, sizeof endpoint, "tcp://127.0.0.1:%d", port);
    snprintf(listen, sizeof listen, "tcp://127.0.0.1:%d", port);
    pf = fopen(pidfile, "w");
    if (!pf) {
        fprintf(stderr, "weir local up: cannot write %s: %s\n", pidfile, strerror(errno));
        return 1;
    }
    char cdata[PATH_MAX], clog[PATH_MAX];
    snprintf(cdata, sizeof cdata, "%s/coordinator", dir);
    snprintf(clog, sizeof clog, "%s/coordinator.log", dir);
    char *cargv[] = {coord_bin, "--listen", listen, "--data-dir", cdata, NULL};
    pid_t cpid = s_spawn(cargv, clog);
    fprintf(pf, "coordinator %d\n", (int)cpid);
    fflush(pf);
    /* Nodes start only once our coordinator answers, so they can never
     * register with another process that holds the port. */
    bool up = false;
    for (int t = 0; t < 100 && !up; t++) {
        if (!s_child_alive(cpid))
            break;
        up = s_count_alive_nodes(endpoint) >= 0;
        if (!up)
            usleep(100 * 1000);
    }
    if (!up) {
        fclose(pf);
        fprintf(stderr, "weir local up: the coordinator did not start listening on port %d\n",
                port);
        s_tail(clog);
        s_down(dir, true);
        return 1;
    }
    char logs[LOCAL_MAX_NODES][PATH_MAX];
    pid_t npids[LOCAL_MAX_NODES];
    for (int i = 0; i < nodes; i++) {
        char ndata[PATH_MAX], id[32];
        snprintf(ndata, sizeof ndata, "%s/node-%d", dir, i + 1);
        snprintf(logs[i], sizeof logs[i], "%s/node-%d.log", dir, i + 1);
        snprintf(id, sizeof id, "node-%d", i + 1);
        char *nargv[] = {node_bin,     "--coordinator", endpoint, "--listen", "tcp://127.0.0.1:0",
                         "--data-dir", ndata,           "--id",   id,         NULL};
        npids[i] = s_spawn(nargv, logs[i]);
        fprintf(pf, "%s %d\n", id, (int)npids[i]);
    }
    fclose(pf);
    /* Wait for every node to register (10 s). */
    int alive = -1;
    for (int t = 0; t < 100; t++) {
        if (!s_child_alive(cpid)) {
            fprintf(stderr, "weir local up: the coordinator exited (port %d in use?)\n", port);
            s_tail(clog);
            s_down(dir, true);
            return 1;
        }
        for (int i = 0; i < nodes; i++)
            if (!s_child_alive(npids[i])) {
                fprintf(stderr, "weir local up: node-%d exited\n", i + 1);
                s_tail(logs[i]);
                s_down(dir, true);
                return 1;
            }
        alive = s_count_alive_nodes(endpoint);
        if (alive == nodes)
            break;
        usleep(100 * 1000);
    }
    if (alive != nodes) {
        fprintf(stderr, "weir local up: only %d of %d nodes registered within 10 s\n",
                alive < 0 ? 0 : alive, nodes);
        s_tail(clog);
        s_down(dir, true);
        return 1;
    }
    printf("local cluster: coordinator (pid %d) and %d nodes; logs and data in %s\n", (int)cpid,
           nodes, dir);
    printf("stop it with: weir local down --dir %s\n", dir_arg);
    printf("WEIR_COORDINATOR=%s\n", endpoint);
    return 0;
}

int cli_local(int argc, char **argv)
{
    if (argc < 1) {
        fprintf(stderr, "usage: weir local up --nodes N --dir DIR [--port P] | "
                        "weir local down --dir DIR\n");
        return 2;
    }
    const char *dir = NULL;
    int nodes = 2, port = 6510;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--dir") == 0 && i + 1 < argc)
            dir = argv[++i];
        else if (strcmp(argv[i], "--nodes") == 0 && i + 1 < argc) {
            char *end;
            long v = strtol(argv[++i], &end, 10);
            if (*end || v < 1 || v > LOCAL_MAX_NODES) {
                fprintf(stderr, "weir local: --nodes must be 1..%d\n", LOCAL_MAX_NODES);
                return 2;
            }
            nodes = (int)v;
        } else if (strcmp(argv[i], "--port") == 0 && i + 1 < argc) {
            char *end;
            long v = strtol(argv[++i], &end, 10);
            if (*end || v < 1 || v > 65535) {
                fprintf(stderr, "weir local: --port must be 1..65535\n");
                return 2;
            }
            port = (int)v;
        } else {
            fprintf(stderr, "weir local: unexpected argument '%s'\n", argv[i]);
            return 2;
        }
    }
    if (!dir) {
        fprintf(stderr, "weir local: --dir DIR is required\n");
        return 2;
    }
    if (strcmp(argv[0], "up") == 0)
        return s_up(nodes, dir, port);
    if (strcmp(argv[0], "down") == 0)
        return s_down(dir, false);
    fprintf(stderr, "weir local: unknown subcommand '%s' (up or down)\n", argv[0]);
    return 2;
}
