#include "settings/cmdline.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "settings/pebble.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: aro-server [options]\n"
            "  --listen ADDR:PORT     ACME HTTPS listener (default 127.0.0.1:14000)\n"
            "  --manage ADDR:PORT     management HTTPS listener (default 127.0.0.1:15000)\n"
            "  --data DIR             state directory (default ./aro-data; Pebble mode: a fresh temporary one)\n"
            "  --http-port N          port http-01 validation connects to (default 5002)\n"
            "  --tls-port N           port tls-alpn-01 validation connects to (default 5001)\n"
            "  --dns ADDR:PORT        resolver for validation and CAA (default: the system's)\n"
            "  --no-retry-options     plain RFC 8555: no retry-options offers\n"
            "  --deny-private-targets refuse loopback/private/link-local validation targets\n"
            "  --config FILE          JSON settings (docs/configuration.md); a Pebble config\n"
            "                         file ({\"pebble\": {...}}) selects Pebble mode\n"
            "  --threads N            event loops (default: one per core)\n"
            "  --log-level N          0 errors, 1 one line per request (default), 2 debug\n"
            "  --perspective ADDR:PORT  run as a remote validation perspective only (no ACME):\n"
            "                         answer the primary's validation requests over mutual TLS\n"
            "  --issue-perspective NAME write perspective NAME's channel credentials into\n"
            "                         DATA/perspectives/NAME (its --data) and exit\n"
            "Pebble's command line is accepted too (docs/replacing-pebble.md):\n"
            "  -config FILE  -dnsserver ADDR:PORT  -strict[=true|false]\n");
}

/* The value of -config/--config (also "-config=FILE"), or NULL. */
static const char *find_config_arg(int argc, char **argv)
{
    const char *config = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--"))
            break;
        if (!strncmp(a, "--", 2))
            a++;
        if (!strcmp(a, "-config") && i + 1 < argc)
            config = argv[++i];
        else if (!strncmp(a, "-config=", 8))
            config = a + 8;
    }
    return config;
}

int config_from_args(server_config *c, int argc, char **argv, aro_err *err)
{
    enum { O_LISTEN = 1000, O_MANAGE, O_DATA, O_HTTP, O_TLS, O_DNS, O_NORETRY, O_DENY, O_CONFIG,
           O_THREADS, O_LOG, O_HELP, O_PDNS, O_STRICT, O_PERSPECTIVE, O_ISSUE_PERSPECTIVE };
    static const struct option opts[] = {
        {"listen", required_argument, 0, O_LISTEN},   {"manage", required_argument, 0, O_MANAGE},
        {"data", required_argument, 0, O_DATA},       {"http-port", required_argument, 0, O_HTTP},
        {"tls-port", required_argument, 0, O_TLS},    {"dns", required_argument, 0, O_DNS},
        {"no-retry-options", no_argument, 0, O_NORETRY}, {"deny-private-targets", no_argument, 0, O_DENY},
        {"config", required_argument, 0, O_CONFIG},   {"threads", required_argument, 0, O_THREADS},
        {"log-level", required_argument, 0, O_LOG},   {"help", no_argument, 0, O_HELP},
        {"dnsserver", required_argument, 0, O_PDNS},  {"strict", optional_argument, 0, O_STRICT},
        {"perspective", required_argument, 0, O_PERSPECTIVE},
        {"issue-perspective", required_argument, 0, O_ISSUE_PERSPECTIVE},
        {"h", no_argument, 0, O_HELP}, /* Go's -h; else ambiguous with -help/-http-port */
        {0, 0, 0, 0}};
    int ret = -1;
    /* Pebble's README tells users to run "-strict false"; Go's flag package
     * reads a bool flag's value only after "=", so drop a bare true/false
     * after -strict here rather than let getopt call it an operand. */
    char **av = xcalloc((size_t)argc + 1, sizeof(char *));
    int ac = 0;
    for (int i = 0; i < argc; i++) {
        av[ac++] = argv[i];
        if ((!strcmp(argv[i], "-strict") || !strcmp(argv[i], "--strict")) && i + 1 < argc &&
            (!strcmp(argv[i + 1], "true") || !strcmp(argv[i + 1], "false")))
            i++;
    }
    /* The config file first, so flags override it wherever they stand on
     * the line. Pebble's single-dash long flags are accepted by
     * getopt_long_only. */
    const char *config = find_config_arg(ac, av);
    if (config) {
        if (pebble_config_is_pebble(config)) {
            c->pebble_mode = true;
            pebble_mode_defaults(c);
            if (pebble_load_config(c, config, err) < 0 || pebble_apply_env(c, err) < 0)
                goto out;
        } else if (config_load_file(c, config, err) < 0) {
            goto out;
        }
    }
    optind = 1;
    int o;
    while ((o = getopt_long_only(ac, av, "", opts, NULL)) != -1) {
        switch (o) {
        case O_LISTEN: free(c->listen); c->listen = xstrdup(optarg); break;
        case O_MANAGE: free(c->manage); c->manage = xstrdup(optarg); break;
        case O_DATA: free(c->data_dir); c->data_dir = xstrdup(optarg); break;
        case O_HTTP: c->va.http_port = atoi(optarg); break;
        case O_TLS: c->va.tls_port = atoi(optarg); break;
        case O_DNS: free((char *)c->va.dns_server); c->va.dns_server = xstrdup(optarg); break;
        case O_PDNS:
            free((char *)c->va.dns_server);
            c->va.dns_server = pebble_normalize_addr(optarg, "127.0.0.1");
            break;
        case O_NORETRY: c->retry_options = false; break;
        case O_DENY: c->va.deny_private_targets = true; break;
        case O_CONFIG: break;
        case O_THREADS: c->threads = atoi(optarg); break;
        case O_LOG: c->log_level = atoi(optarg); break;
        case O_PERSPECTIVE: free(c->perspective_listen); c->perspective_listen = xstrdup(optarg); break;
        case O_ISSUE_PERSPECTIVE: free(c->issue_perspective); c->issue_perspective = xstrdup(optarg); break;
        case O_STRICT:
            /* Pebble's -strict refuses challenge POST bodies other than
             * "{}" and unknown JWS fields; aro-server checks those always,
             * so the flag changes nothing. Say so rather than ignore it. */
            if (optarg && strcmp(optarg, "true") && strcmp(optarg, "false")) {
                aro_err_set(err, "-strict takes true or false, not \"%s\"", optarg);
                goto out;
            }
            fprintf(stderr, "aro-server: note: -strict accepted; aro-server is always as strict as Pebble's "
                            "-strict mode\n");
            break;
        case O_HELP: usage(stdout); ret = 1; goto out;
        default: usage(stderr); aro_err_set(err, "unknown option"); goto out;
        }
    }
    if (optind < ac) {
        aro_err_set(err, "unexpected argument \"%s\"", av[optind]);
        goto out;
    }
    if (c->va.http_port <= 0 || c->va.http_port > 65535 || c->va.tls_port <= 0 || c->va.tls_port > 65535) {
        aro_err_set(err, "--http-port and --tls-port must be 1..65535");
        goto out;
    }
    if (c->threads < 1 || c->threads > 256) {
        aro_err_set(err, "--threads must be 1..256");
        goto out;
    }
    ret = 0;
out:
    free(av);
    return ret;
}
