/* Running a hook program: the challenge hook (uacme's protocol,
 * solvers.h) and the deploy hook (cmd_issue.h).
 *
 *  - Environment: aro's own, with the spec's variables added; where both
 *    set a name, the spec's value wins. Everything else passes through
 *    (UACME_CHALLENGE_PATH for uacme's uacme.sh, a DNS provider's token).
 *  - Output: the hook's stdout goes to aro's stderr (stdout carries the
 *    result); stdin is /dev/null.
 *  - Process group: the hook leads a group of its own, so that on timeout
 *    or interrupt the hook and everything it started is ended together
 *    (SIGTERM, then SIGKILL 5 s later).
 *  - Time: at most spec->timeout seconds; while it runs, a progress line
 *    every 30 s (the first after 5) says what aro waits for.
 * SIGINT/SIGTERM end the wait when spec->interruptible (a "begin"), and
 * never a cleanup's hook ("failed" after an interrupt). */
#ifndef ARO_CLIENT_HOOKRUN_H
#define ARO_CLIENT_HOOKRUN_H

#include <stdbool.h>

/* Results besides an exit status 0..255 (127: the program could not be
 * started, as a shell says). */
#define HOOKRUN_SIGNALLED (-1)      /* died by a signal of its own */
#define HOOKRUN_TIMED_OUT (-2)      /* ran longer than the timeout: its group was killed */
#define HOOKRUN_INTERRUPTED (-3)    /* aro got SIGINT/SIGTERM: its group was killed */

typedef struct {
    const char *prog;           /* searched in PATH when it has no '/' */
    char *const *argv;          /* argv[0] is prog */
    char *const *env;           /* "NAME=value" to add, NULL-terminated, or NULL */
    long timeout;               /* seconds */
    bool interruptible;
    const char *what;           /* for messages: "hook ./h begin dns-01 a.example" */
} hookrun_spec;

int hookrun(const hookrun_spec *spec);

/* A result of hookrun in words ("exit status 3", "timed out after 5 s"),
 * into buf. */
const char *hookrun_describe(int result, long timeout, char *buf, unsigned len);

#endif
