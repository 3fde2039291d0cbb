#include "msg.h"

#include <stdarg.h>
#include <stdio.h>

int msg_verbosity;

static void vmsg(int level, const char *prefix, const char *fmt, va_list ap)
{
    if (msg_verbosity < level)
        return;
    fprintf(stderr, "aro: %s", prefix);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
}

#define MSG_FN(fn, level, prefix)                                                              \
    void fn(const char *fmt, ...)                                                               \
    {                                                                                           \
        va_list ap;                                                                             \
        va_start(ap, fmt);                                                                      \
        vmsg(level, prefix, fmt, ap);                                                           \
        va_end(ap);                                                                             \
    }

MSG_FN(msg_info, 0, "")
MSG_FN(msg_note, 0, "note: ")
MSG_FN(msg_warn, -1, "warning: ")
MSG_FN(msg_error, -1, "error: ")

void msg_debug(int level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vmsg(level, "", fmt, ap);
    va_end(ap);
}
