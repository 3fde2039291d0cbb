/* The processes client mode starts (pebble-challtestsrv, aro-server, the
 * client's COMMAND): each in a process group of its own, its output to a
 * file, stopped by its id (SIGTERM to the group, then SIGKILL after a
 * grace period), and sent SIGTERM if aro-conform dies first (Linux
 * PR_SET_PDEATHSIG; start them from the main thread). Every wait is
 * bounded. Loopback only: ports come from
 * binding 127.0.0.1:0. Returns: int 0/-1 with err; pids > 0. */
#ifndef ARO_CONFORM_PROCS_H
#define ARO_CONFORM_PROCS_H

#include <stdbool.h>
#include <sys/types.h>

#include "util.h"

/* A TCP port on 127.0.0.1 free just now (and free for UDP too when udp). */
int free_port(bool udp, aro_err *err);

/* Start argv (argv[0] looked up in PATH) in dir (NULL: here), with extra
 * environment entries ("K=V", NULL-terminated, may be NULL), stdout and
 * stderr appended to log. */
pid_t proc_start(char *const argv[], const char *dir, char *const env[], const char *log, aro_err *err);
/* Wait up to seconds for the process to exit: its exit status (128 +
 * signal when killed), or -1 when it still runs. */
int proc_wait(pid_t pid, double seconds);
/* SIGTERM to its group, SIGKILL after grace seconds; returns the status. */
int proc_stop(pid_t pid, double grace);

/* Seconds on the monotonic clock. */
double now_seconds(void);
/* Sleep (fractions of a second allowed). */
void nap(double seconds);

#endif
