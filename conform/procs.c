#include "procs.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

double now_seconds(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

void nap(double seconds)
{
    if (seconds <= 0)
        return;
    struct timespec ts = {.tv_sec = (time_t)seconds,
                          .tv_nsec = (long)((seconds - (double)(time_t)seconds) * 1e9)};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

static int bind_probe(int type, int port)
{
    int s = socket(AF_INET, type, 0);
    if (s < 0)
        return -1;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    int port_out = -1;
    if (bind(s, (struct sockaddr *)&a, sizeof a) == 0 && getsockname(s, (struct sockaddr *)&a, &len) == 0)
        port_out = ntohs(a.sin_port);
    close(s);
    return port_out;
}

int free_port(bool udp, aro_err *err)
{
    for (int i = 0; i < 50; i++) {
        int p = bind_probe(SOCK_STREAM, 0);
        if (p > 0 && (!udp || bind_probe(SOCK_DGRAM, p) == p))
            return p;
    }
    aro_err_set(err, "no free loopback port");
    return -1;
}

pid_t proc_start(char *const argv[], const char *dir, char *const env[], const char *log, aro_err *err)
{
    int fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0) {
        aro_err_set(err, "%s: %s", log, strerror(errno));
        return -1;
    }
    pid_t pid = fork();
    if (pid < 0) {
        aro_err_set(err, "fork: %s", strerror(errno));
        close(fd);
        return -1;
    }
    if (pid == 0) {
        setpgid(0, 0);
        /* If aro-conform dies (a crash, a kill), its servers go with it. */
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        dup2(fd, STDOUT_FILENO);
        dup2(fd, STDERR_FILENO);
        int devnull = open("/dev/null", O_RDONLY);
        if (devnull >= 0)
            dup2(devnull, STDIN_FILENO);
        if (dir && chdir(dir) != 0)
            _exit(126);
        for (size_t i = 0; env && env[i]; i++)
            putenv(env[i]);
        execvp(argv[0], argv);
        fprintf(stderr, "aro-conform: cannot run %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    setpgid(pid, pid); /* both sides, so that no race leaves it in ours */
    close(fd);
    return pid;
}

static int decode_status(int st)
{
    return WIFEXITED(st) ? WEXITSTATUS(st) : WIFSIGNALED(st) ? 128 + WTERMSIG(st) : -1;
}

int proc_wait(pid_t pid, double seconds)
{
    double end = now_seconds() + seconds;
    for (;;) {
        int st;
        pid_t r = waitpid(pid, &st, WNOHANG);
        if (r == pid)
            return decode_status(st);
        if (r < 0 && errno != EINTR)
            return 255; /* not our child any more */
        if (now_seconds() >= end)
            return -1;
        nap(0.02);
    }
}

int proc_stop(pid_t pid, double grace)
{
    if (pid <= 0)
        return -1;
    int st = proc_wait(pid, 0);
    if (st >= 0)
        return st;
    kill(-pid, SIGTERM);
    st = proc_wait(pid, grace);
    if (st >= 0)
        return st;
    kill(-pid, SIGKILL);
    return proc_wait(pid, 10);
}
