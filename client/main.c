/* aro: an ACME (RFC 8555) client that knows retry-options.
 * This file only reads the command line (cli.h), sets up what every
 * command shares (signals, libcurl) and dispatches to a command
 * (cmd_*.h), which returns the exit status. */
#include <curl/curl.h>
#include <signal.h>

#include "cli.h"
#include "cmd_account.h"
#include "cmd_issue.h"
#include "cmd_list.h"
#include "cmd_renew.h"
#include "cmd_revoke.h"
#include "interrupt.h"

int main(int argc, char **argv)
{
    cli c;
    int ret = cli_parse(&c, argc, argv);
    if (ret >= 0) {
        cli_free(&c);
        return ret;
    }
    signal(SIGPIPE, SIG_IGN);
    interrupt_install();
    /* Once, before any thread (the solvers start some). */
    curl_global_init(CURL_GLOBAL_DEFAULT);
    switch (c.command) {
    case CMD_ACCOUNT: ret = cmd_account(&c.o, c.account_sub); break;
    case CMD_ISSUE: ret = cmd_issue(&c.o); break;
    case CMD_RENEW: ret = cmd_renew(&c.o); break;
    case CMD_REVOKE: ret = cmd_revoke(&c.o, c.certfile); break;
    case CMD_LIST: ret = cmd_list(&c.o); break;
    case CMD_NONE: ret = ARO_EXIT_USAGE; break;
    }
    curl_global_cleanup();
    cli_free(&c);
    return ret;
}
