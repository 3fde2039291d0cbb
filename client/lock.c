#include "lock.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "backoff.h"
#include "interrupt.h"
#include "msg.h"

struct state_lock {
    int fd;
};

/* Who holds the lock, as the holder wrote it: "pid 123: aro issue x". */
static void holder_of(int fd, char *out, size_t n)
{
    ssize_t r = pread(fd, out, n - 1, 0);
    out[r > 0 ? r : 0] = '\0';
    out[strcspn(out, "\n")] = '\0';
    if (!*out)
        snprintf(out, n, "another aro");
}

state_lock *lock_acquire(const char *dir, const char *what, long wait_seconds, aro_err *err)
{
    if (mkdir_p(dir, 0700)) {
        aro_err_set(err, "cannot create the state directory %s: %s", dir, strerror(errno));
        return NULL;
    }
    char *path = xasprintf("%s/lock", dir);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
        aro_err_set(err, "cannot open %s: %s", path, strerror(errno));
        free(path);
        return NULL;
    }
    time_t start = time(NULL), next_note = start;
    char holder[256];
    for (;;) {
        if (flock(fd, LOCK_EX | LOCK_NB) == 0)
            break;
        if (errno != EWOULDBLOCK && errno != EINTR) {
            aro_err_set(err, "cannot lock %s: %s", path, strerror(errno));
            goto fail;
        }
        holder_of(fd, holder, sizeof holder);
        time_t now = time(NULL);
        if (now - start >= wait_seconds) {
            aro_err_set(err, "the state directory %s is in use by %s%s; --lock-wait sets how long "
                        "aro waits", dir, holder, wait_seconds ? " for longer than --lock-wait" : "");
            goto fail;
        }
        if (now >= next_note) {
            msg_info("the state directory %s is in use by %s; waiting for it (at most %ld s more)",
                     dir, holder, wait_seconds - (long)(now - start));
            next_note = now + 30;
        }
        if (sleep_seconds(0.1)) {
            aro_err_set(err, "interrupted while waiting for the state directory %s (in use by %s)",
                        dir, holder);
            goto fail;
        }
    }
    /* Ours: say who we are for the next one. */
    char me[512];
    int n = snprintf(me, sizeof me, "pid %ld: %s\n", (long)getpid(), what ? what : "aro");
    if (ftruncate(fd, 0) || pwrite(fd, me, (size_t)(n < (int)sizeof me ? n : (int)sizeof me - 1), 0) < 0)
        msg_debug(1, "cannot note the lock holder in %s: %s", path, strerror(errno));
    free(path);
    state_lock *l = xcalloc(1, sizeof *l);
    l->fd = fd;
    return l;
fail:
    close(fd);
    free(path);
    return NULL;
}

void lock_release(state_lock *l)
{
    if (!l)
        return;
    /* Leave the file (removing it would race a waiter that has it open);
     * an empty one says nobody holds it. */
    if (ftruncate(l->fd, 0))
        msg_debug(1, "cannot clear the lock file: %s", strerror(errno));
    flock(l->fd, LOCK_UN);
    close(l->fd);
    free(l);
}
