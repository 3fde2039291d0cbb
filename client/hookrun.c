#include "hookrun.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "interrupt.h"
#include "msg.h"
#include "util.h"

extern char **environ;

#define HOOKRUN_FIRST_NOTE_SECONDS 5
#define HOOKRUN_NOTE_EVERY_SECONDS 30
#define HOOKRUN_TERM_GRACE_SECONDS 5

/* environ with env's names replaced by env's values (a new vector of
 * borrowed strings). */
static char **merged_environment(char *const *env)
{
    size_t n = 0, m = 0, k = 0;
    while (environ[n])
        n++;
    while (env && env[m])
        m++;
    char **out = xcalloc(n + m + 1, sizeof *out);
    for (size_t i = 0; i < n; i++) {
        const char *eq = strchr(environ[i], '=');
        size_t nl = eq ? (size_t)(eq - environ[i]) : strlen(environ[i]);
        bool replaced = false;
        for (size_t j = 0; j < m && !replaced; j++)
            replaced = !strncmp(env[j], environ[i], nl) && env[j][nl] == '=';
        if (!replaced)
            out[k++] = environ[i];
    }
    for (size_t j = 0; j < m; j++)
        out[k++] = env[j];
    out[k] = NULL;
    return out;
}

/* End the hook's whole group: SIGTERM, a grace period, SIGKILL. */
static void kill_group(pid_t pid, int *status)
{
    kill(-pid, SIGTERM);
    struct timespec step = {.tv_nsec = 50 * 1000 * 1000};
    for (int i = 0; i < HOOKRUN_TERM_GRACE_SECONDS * 20; i++) {
        if (waitpid(pid, status, WNOHANG) == pid) {
            /* The leader is gone; its children may not be. */
            kill(-pid, SIGKILL);
            return;
        }
        nanosleep(&step, NULL);
    }
    kill(-pid, SIGKILL);
    while (waitpid(pid, status, 0) < 0 && errno == EINTR)
        ;
}

int hookrun(const hookrun_spec *spec)
{
    char **envp = merged_environment(spec->env);
    int ret = HOOKRUN_SIGNALLED;
    pid_t pid;
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t at;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, 2, 1);
    posix_spawnattr_init(&at);
    /* Its own process group; default signal handling and an empty mask
     * (aro ignores SIGPIPE, and an ignored signal would stay ignored). */
    sigset_t none, def;
    sigemptyset(&none);
    sigemptyset(&def);
    sigaddset(&def, SIGPIPE);
    sigaddset(&def, SIGINT);
    sigaddset(&def, SIGTERM);
    posix_spawnattr_setpgroup(&at, 0);
    posix_spawnattr_setsigmask(&at, &none);
    posix_spawnattr_setsigdefault(&at, &def);
    posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
                                      POSIX_SPAWN_SETSIGDEF);
    /* posix_spawn: safe with the solver threads running, and an exec
     * failure comes back as an error instead of a half-copied child. */
    int rc = posix_spawnp(&pid, spec->prog, &fa, &at, spec->argv, envp);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&at);
    free(envp);
    if (rc) {
        msg_warn("%s: cannot run %s: %s", spec->what, spec->prog, strerror(rc));
        return 127;
    }
    time_t start = time(NULL), next_note = start + HOOKRUN_FIRST_NOTE_SECONDS;
    int status = 0;
    for (;;) {
        pid_t w = waitpid(pid, &status, WNOHANG);
        if (w == pid)
            break;
        if (w < 0 && errno != EINTR) {
            msg_warn("%s: waitpid: %s", spec->what, strerror(errno));
            return HOOKRUN_SIGNALLED;
        }
        time_t now = time(NULL);
        if (spec->interruptible && interrupt_stop()) {
            msg_info("%s: interrupted; ending it and what it started", spec->what);
            kill_group(pid, &status);
            return HOOKRUN_INTERRUPTED;
        }
        if (now - start >= spec->timeout) {
            msg_warn("%s: no answer in %ld s (--hook-timeout); ending it and what it started",
                     spec->what, spec->timeout);
            kill_group(pid, &status);
            return HOOKRUN_TIMED_OUT;
        }
        if (now >= next_note) {
            msg_info("%s: still running after %ld s (aro ends it at %ld s, --hook-timeout)", spec->what,
                     (long)(now - start), spec->timeout);
            next_note = now + HOOKRUN_NOTE_EVERY_SECONDS;
        }
        struct timespec ts = {.tv_nsec = 20 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    if (WIFEXITED(status))
        ret = WEXITSTATUS(status);
    return ret;
}

const char *hookrun_describe(int result, long timeout, char *buf, unsigned len)
{
    switch (result) {
    case HOOKRUN_SIGNALLED: snprintf(buf, len, "killed by a signal"); break;
    case HOOKRUN_TIMED_OUT: snprintf(buf, len, "timed out after %ld s", timeout); break;
    case HOOKRUN_INTERRUPTED: snprintf(buf, len, "interrupted"); break;
    case 127: snprintf(buf, len, "could not be run (exit status 127)"); break;
    default: snprintf(buf, len, "exit status %d", result);
    }
    return buf;
}
