#include "backoff.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "interrupt.h"
#include "random.h"
#include "util.h"

double backoff_delay(const backoff_policy *p, unsigned attempt, uint32_t rnd)
{
    double d = p->base;
    for (unsigned i = 0; i < attempt && d < p->cap; i++)
        d *= 2;
    if (d > p->cap)
        d = p->cap;
    double u = (double)rnd / 4294967296.0;
    double j = p->jitter < 0 ? 0 : p->jitter > 1 ? 1 : p->jitter;
    return d * (1.0 - j * u);
}

double backoff_next(const backoff_policy *p, unsigned attempt)
{
    uint32_t r;
    random_bytes(&r, sizeof r);
    return backoff_delay(p, attempt, r);
}

long retry_after_parse(const char *value, time_t now)
{
    if (!value)
        return -1;
    while (*value == ' ' || *value == '\t')
        value++;
    if (isdigit((unsigned char)*value)) {
        char *end;
        errno = 0;
        long long v = strtoll(value, &end, 10);
        while (*end == ' ' || *end == '\t' || *end == '\r' || *end == '\n')
            end++;
        if (errno || *end || v < 0)
            return -1;
        return v > 86400L * 365 ? 86400L * 365 : (long)v;
    }
    /* IMF-fixdate, the only HTTP-date form senders may generate. */
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    const char *end = strptime(value, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    if (!end)
        return -1;
    time_t t = timegm(&tm);
    if (t == (time_t)-1)
        return -1;
    return t > now ? (long)(t - now) : 0;
}

int sleep_seconds(double seconds)
{
    if (interrupt_stop())
        return -1;
    if (seconds <= 0)
        return 0;
    struct timespec ts = {.tv_sec = (time_t)seconds,
                          .tv_nsec = (long)((seconds - (double)(time_t)seconds) * 1e9)};
    while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
        if (interrupt_stop())
            return -1;
    return 0;
}
