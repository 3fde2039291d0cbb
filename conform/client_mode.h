/* Client mode (`aro-conform client [options] -- COMMAND...`): one
 * pebble-challtestsrv for DNS; for each scenario (scenarios.h) a fresh
 * aro-server with the scenario's settings behind the recording proxy
 * (proxy.h), one run of COMMAND with the substitutions {directory}
 * {ca_bundle} {http_port} {tls_port} {dns} {challtestsrv} {workdir}
 * {scenario} (also exported as ARO_CONFORM_DIRECTORY, ...), then the
 * verdicts of client_judge.c from what the server saw and its /metrics.
 * {http_port} and {tls_port} are where aro-server validates http-01 and
 * tls-alpn-01: the client serves its answers there; dns-01 answers go to
 * pebble-challtestsrv's management API at {challtestsrv}, whose DNS at
 * {dns} is the server's resolver. */
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
    bool keep;              /* keep the work directories (their path is in the notes) */
} client_opts;

/* 0 when every scenario ran (its verdicts in rep); -1 with err when none
 * could start (no aro-server, no challtestsrv, bad scenario name). */
int client_mode(const client_opts *o, report *rep, aro_err *err);
/* Every client-mode check, in report order. */
void report_add_client_catalogue(report *rep);
/* COMMAND as one line, for the report's target. malloc'd. */
char *client_command_line(const client_opts *o);

#endif
