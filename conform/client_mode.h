/* Client mode (`aro-conform client [options] -- COMMAND...`): for each
 * scenario, a fresh aro-server with the scenario's settings, behind a
 * recording proxy, and one run of COMMAND against it; then the client is
 * judged from the server's side. */
#ifndef ARO_CONFORM_CLIENT_MODE_H
#define ARO_CONFORM_CLIENT_MODE_H

#include "report.h"
#include "util.h"

typedef struct {
    char **argv;            /* COMMAND (borrowed) */
    int argc;
    const char *scenarios;  /* "baseline,badnonce", NULL: all */
    const char *aro_server; /* NULL: $ARO_SERVER, else next to self */
    const char *self;       /* argv[0] of aro-conform */
    long timeout;           /* seconds per run of COMMAND */
} client_opts;

/* 0 when every scenario ran (its verdicts in rep); -1 with err when none
 * could start (no aro-server, no challtestsrv, bad scenario name). */
int client_mode(const client_opts *o, report *rep, aro_err *err);
/* Every client-mode check, in report order. */
void report_add_client_catalogue(report *rep);
/* COMMAND as one line, for the report's target. malloc'd. */
char *client_command_line(const client_opts *o);

#endif
