/* The command line: aro [OPTIONS] COMMAND [ARGS] into an aro_opts, the
 * help texts (aro help [COMMAND], aro COMMAND --help, --version), and the
 * usage errors. One table of options drives the parser, the help and the
 * "did you mean" of a misspelt option.
 *
 * A usage error names the one wrong thing on one line on stderr ("aro:
 * unknown option --htpp-port (did you mean --http-port?)"), never dumps
 * the whole usage, prints {"result": "failed", "error": {"type": "usage",
 * "detail": ...}} on stdout under --json (wherever --json stands), and
 * means exit status 64 (contracts.md). Values are checked here when they
 * can be without the network or the file system: ports, numbers, key
 * types, --deactivate modes, challenge type names. */
#ifndef ARO_CLIENT_CLI_H
#define ARO_CLIENT_CLI_H

#include <stdio.h>

#include "options.h"

typedef enum { CMD_NONE, CMD_ACCOUNT, CMD_ISSUE, CMD_RENEW, CMD_REVOKE, CMD_LIST } cli_command;

typedef struct {
    aro_opts o;
    cli_command command;
    const char *account_sub;    /* account: new, show, update, deactivate, rollover */
    const char *certfile;       /* revoke */
    /* owned */
    char *chall_buf, *default_state, *invocation;
    const char **emails, **challenges;
} cli;

/* Parse argv into c. Returns -1 when c->command should run; otherwise
 * the exit status to end with, after printing what was asked (help,
 * version: 0) or the usage error (64). cli_free follows either way. */
int cli_parse(cli *c, int argc, char **argv);
void cli_free(cli *c);

/* A usage error found later, by a command (a name that is no DNS name, a
 * wildcard without a dns-01 solver, ...): said as cli_parse says its own
 * (stderr, and the JSON object under json). Returns 64. */
int cli_usage_error(bool json, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
