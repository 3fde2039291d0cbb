#include "client_mode.h"

#include <stdlib.h>
#include <string.h>

void report_add_client_catalogue(report *rep)
{
    (void)rep;
}

char *client_command_line(const client_opts *o)
{
    aro_buf b = {0};
    for (int i = 0; i < o->argc; i++)
        buf_printf(&b, "%s%s", i ? " " : "", o->argv[i]);
    return b.data ? buf_steal(&b) : xstrdup("");
}

int client_mode(const client_opts *o, report *rep, aro_err *err)
{
    (void)o;
    (void)rep;
    aro_err_set(err, "client mode: not yet");
    return -1;
}
