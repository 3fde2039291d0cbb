/* aro: an ACME (RFC 8555) client that knows retry-options.
 * This file only reads the command line and dispatches to a command
 * (cmd_*.h), which returns the exit status. */
#include <curl/curl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd_account.h"
#include "cmd_issue.h"
#include "cmd_list.h"
#include "cmd_renew.h"
#include "cmd_revoke.h"
#include "msg.h"
#include "state.h"

#define DEFAULT_SERVER "https://127.0.0.1:14000/directory"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: aro [options] COMMAND\n"
            "commands:\n"
            "  account new|show|update|deactivate|rollover\n"
            "  issue NAME...          get a certificate (exit 0 issued, 2 failed)\n"
            "  renew [NAME...]        renew when due: ARI, else 2/3 of the lifetime (1: not due)\n"
            "  revoke CERTFILE [--reason N]\n"
            "  list\n"
            "options:\n"
            "  --server URL           ACME directory (default " DEFAULT_SERVER ")\n"
            "  --ca-bundle FILE       trust FILE for the CA's HTTPS\n"
            "  --state DIR            keys, certificates, store (default ~/.local/share/aro)\n"
            "  --email ADDR           account contact (repeatable)\n"
            "  --agree-tos            agree to the CA's terms of service\n"
            "  --eab KID:HMAC         external account binding\n"
            "  --account-key-type T   rsa2048 rsa3072 rsa4096 ec256 ec384 ed25519 (default ec256)\n"
            "  --key-type T           certificate key type (default ec256)\n"
            "  --profile NAME         certificate profile\n"
            "  --preferred-chain CN   prefer the chain whose top issuer CN is CN\n"
            "  --challenges LIST      preference order (default http-01,dns-01,tls-alpn-01)\n"
            "  --http-port N          built-in http-01 server on port N\n"
            "  --webroot DIR          write http-01 files under DIR/.well-known/acme-challenge\n"
            "  --tls-alpn-port N      built-in tls-alpn-01 responder on port N\n"
            "  --bind ADDR            address for the built-in servers (default all)\n"
            "  --hook PROG            uacme-compatible hook: PROG begin|done|failed TYPE IDENT TOKEN AUTH\n"
            "  --deactivate MODE      after a failed order: none, pending (default), all\n"
            "  --max-orders N         legacy fallback bound (default 3)\n"
            "  --max-wait SECONDS     longest Retry-After/notBefore wait accepted (default 300)\n"
            "  --reason N             revocation reason code (RFC 5280 5.3.1)\n"
            "  --force                renew even when not due\n"
            "  --json                 print one JSON result on stdout\n"
            "  -v                     more progress (repeat for HTTP and bodies)\n");
}

/* Split a comma list in place into a vector of pointers into s. */
static const char **split_list(char *s, size_t *n)
{
    const char **v = NULL;
    *n = 0;
    for (char *save = NULL, *t = strtok_r(s, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        v = realloc(v, (*n + 1) * sizeof *v);
        if (!v)
            abort();
        v[(*n)++] = t;
    }
    return v;
}

static int parse_port(const char *s, int *out)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (*end || v <= 0 || v > 65535)
        return -1;
    *out = (int)v;
    return 0;
}

enum {
    OPT_SERVER = 256, OPT_CA_BUNDLE, OPT_STATE, OPT_EMAIL, OPT_AGREE_TOS, OPT_EAB, OPT_AKT, OPT_KT,
    OPT_PROFILE, OPT_CHAIN, OPT_CHALLENGES, OPT_HTTP_PORT, OPT_WEBROOT, OPT_ALPN_PORT, OPT_HOOK,
    OPT_JSON, OPT_DEACTIVATE, OPT_REASON, OPT_MAX_WAIT, OPT_MAX_ORDERS, OPT_FORCE, OPT_BIND,
};

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"server", required_argument, 0, OPT_SERVER},
        {"ca-bundle", required_argument, 0, OPT_CA_BUNDLE},
        {"state", required_argument, 0, OPT_STATE},
        {"email", required_argument, 0, OPT_EMAIL},
        {"agree-tos", no_argument, 0, OPT_AGREE_TOS},
        {"eab", required_argument, 0, OPT_EAB},
        {"account-key-type", required_argument, 0, OPT_AKT},
        {"key-type", required_argument, 0, OPT_KT},
        {"profile", required_argument, 0, OPT_PROFILE},
        {"preferred-chain", required_argument, 0, OPT_CHAIN},
        {"challenges", required_argument, 0, OPT_CHALLENGES},
        {"http-port", required_argument, 0, OPT_HTTP_PORT},
        {"webroot", required_argument, 0, OPT_WEBROOT},
        {"tls-alpn-port", required_argument, 0, OPT_ALPN_PORT},
        {"bind", required_argument, 0, OPT_BIND},
        {"hook", required_argument, 0, OPT_HOOK},
        {"json", no_argument, 0, OPT_JSON},
        {"deactivate", required_argument, 0, OPT_DEACTIVATE},
        {"reason", required_argument, 0, OPT_REASON},
        {"max-wait", required_argument, 0, OPT_MAX_WAIT},
        {"max-orders", required_argument, 0, OPT_MAX_ORDERS},
        {"force", no_argument, 0, OPT_FORCE},
        {"verbose", no_argument, 0, 'v'},
        {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0},
    };
    aro_opts o = {
        .server = DEFAULT_SERVER, .account_key_type = KEY_EC256, .cert_key_type = KEY_EC256,
        .deactivate = DEACTIVATE_PENDING, .reason = -1, .max_wait = 300, .max_orders = 3,
    };
    char *default_state = NULL, *chall_buf = NULL;
    const char **emails = NULL;
    int ret = 2, c;
    bool http_port_set = false;

    while ((c = getopt_long(argc, argv, "vh", longopts, NULL)) != -1) {
        switch (c) {
        case OPT_SERVER: o.server = optarg; break;
        case OPT_CA_BUNDLE: o.ca_bundle = optarg; break;
        case OPT_STATE: o.state_dir = optarg; break;
        case OPT_EMAIL:
            emails = realloc(emails, (o.nemails + 1) * sizeof *emails);
            if (!emails)
                abort();
            emails[o.nemails++] = optarg;
            break;
        case OPT_AGREE_TOS: o.agree_tos = true; break;
        case OPT_EAB: o.eab = optarg; break;
        case OPT_AKT:
        case OPT_KT:
            if (key_type_from_name(optarg, c == OPT_AKT ? &o.account_key_type : &o.cert_key_type)) {
                fprintf(stderr, "aro: unknown key type \"%s\"\n", optarg);
                goto out;
            }
            break;
        case OPT_PROFILE: o.profile = optarg; break;
        case OPT_CHAIN: o.preferred_chain = optarg; break;
        case OPT_CHALLENGES:
            free(chall_buf);
            chall_buf = strdup(optarg);
            break;
        case OPT_HTTP_PORT:
        case OPT_ALPN_PORT:
            if (parse_port(optarg, c == OPT_HTTP_PORT ? &o.http_port : &o.tls_alpn_port)) {
                fprintf(stderr, "aro: bad port \"%s\"\n", optarg);
                goto out;
            }
            http_port_set |= c == OPT_HTTP_PORT;
            break;
        case OPT_WEBROOT: o.webroot = optarg; break;
        case OPT_BIND: o.bind_addr = optarg; break;
        case OPT_HOOK: o.hook = optarg; break;
        case OPT_JSON: o.json = true; break;
        case OPT_DEACTIVATE:
            if (!strcmp(optarg, "none"))
                o.deactivate = DEACTIVATE_NONE;
            else if (!strcmp(optarg, "pending"))
                o.deactivate = DEACTIVATE_PENDING;
            else if (!strcmp(optarg, "all"))
                o.deactivate = DEACTIVATE_ALL;
            else {
                fprintf(stderr, "aro: --deactivate wants none, pending or all\n");
                goto out;
            }
            break;
        case OPT_REASON: o.reason = atoi(optarg); break;
        case OPT_MAX_WAIT: o.max_wait = atol(optarg); break;
        case OPT_MAX_ORDERS: o.max_orders = atoi(optarg); break;
        case OPT_FORCE: o.force = true; break;
        case 'v': msg_verbosity++; break;
        case 'h': usage(stdout); ret = 0; goto out;
        default: usage(stderr); goto out;
        }
    }
    o.emails = emails;
    if (!chall_buf)
        chall_buf = strdup("http-01,dns-01,tls-alpn-01");
    o.challenges = split_list(chall_buf, &o.nchallenges);
    /* Without any solver option, behave like a standalone client on port 80. */
    if (!http_port_set && !o.webroot && !o.hook && !o.tls_alpn_port)
        o.http_port = 80;
    if (!o.state_dir)
        o.state_dir = default_state = state_default_dir();
    if (optind >= argc) {
        usage(stderr);
        goto out;
    }

    signal(SIGPIPE, SIG_IGN);
    /* Once, before any thread (the solvers start some). */
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const char *cmd = argv[optind];
    char **rest = argv + optind + 1;
    int nrest = argc - optind - 1;
    o.names = (const char **)rest;
    o.nnames = (size_t)nrest;
    if (!strcmp(cmd, "account")) {
        if (nrest != 1) {
            fprintf(stderr, "aro: account new|show|update|deactivate|rollover\n");
            goto cleanup;
        }
        ret = cmd_account(&o, rest[0]);
    } else if (!strcmp(cmd, "issue")) {
        if (nrest < 1) {
            fprintf(stderr, "aro: issue needs at least one NAME\n");
            goto cleanup;
        }
        ret = cmd_issue(&o);
    } else if (!strcmp(cmd, "renew")) {
        ret = cmd_renew(&o);
    } else if (!strcmp(cmd, "revoke")) {
        if (nrest != 1) {
            fprintf(stderr, "aro: revoke CERTFILE [--reason N]\n");
            goto cleanup;
        }
        ret = cmd_revoke(&o, rest[0]);
    } else if (!strcmp(cmd, "list")) {
        ret = cmd_list(&o);
    } else {
        fprintf(stderr, "aro: unknown command \"%s\"\n", cmd);
        usage(stderr);
    }
cleanup:
    curl_global_cleanup();
out:
    free(default_state);
    free(chall_buf);
    free(o.challenges);
    free(emails);
    return ret;
}
