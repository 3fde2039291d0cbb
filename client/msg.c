#include "msg.h"

#include <stdarg.h>
#include <stdio.h>

int msg_verbosity;

static void vmsg(const char *prefix, const char *fmt, va_list ap)
{
    fprintf(stderr, "aro: %s", prefix);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
}

void msg_info(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vmsg("", fmt, ap);
    va_end(ap);
}

void msg_warn(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vmsg("warning: ", fmt, ap);
    va_end(ap);
}

void msg_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vmsg("error: ", fmt, ap);
    va_end(ap);
}

void msg_debug(int level, const char *fmt, ...)
{
    va_list ap;
    if (msg_verbosity < level)
        return;
    va_start(ap, fmt);
    vmsg("", fmt, ap);
    va_end(ap);
}
