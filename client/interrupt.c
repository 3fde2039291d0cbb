#include "interrupt.h"

#include <pthread.h>
#include <string.h>

static volatile sig_atomic_t caught, cleaning;

static void on_signal(int sig)
{
    if (caught) {
        /* The second one: the user means it. */
        signal(sig, SIG_DFL);
        raise(sig);
        return;
    }
    caught = sig;
}

void interrupt_install(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0;    /* no SA_RESTART: a sleep or poll returns EINTR */
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

int interrupt_signal(void)
{
    return caught;
}

bool interrupt_stop(void)
{
    return caught && !cleaning;
}

void interrupt_cleanup_begin(void)
{
    cleaning = 1;
}

int interrupt_exit_status(void)
{
    return 128 + (caught ? caught : SIGINT);
}

void interrupt_block(sigset_t *saved)
{
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGINT);
    sigaddset(&s, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &s, saved);
}

void interrupt_restore(const sigset_t *saved)
{
    pthread_sigmask(SIG_SETMASK, saved, NULL);
}
