/* aro-conform: an RFC 8555 and retry-options conformance report for an ACME
 * server (server mode) or an ACME client (client mode), contracts.md
 * "aro-conform". The report goes to stdout (text, or one JSON object with
 * --json), an HTML page to --html FILE, progress to stderr. Exit status:
 * 0 when no MUST check failed, 1 when one did, 2 when the run could not
 * happen (bad arguments, no directory, the client scenario could not
 * start). */
#include <curl/curl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client_mode.h"
#include "msg.h"
#include "report.h"
#include "server_mode.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: aro-conform server DIRECTORY_URL [options]\n"
            "       aro-conform client [options] -- COMMAND...\n"
            "       aro-conform list server|client\n"
            "common options:\n"
            "  --json                 print the report as one JSON object on stdout\n"
            "  --html FILE            also write the report as an HTML page\n"
            "  -v                     more progress on stderr\n"
            "server mode:\n"
            "  --ca-bundle FILE       trust FILE for the server's HTTPS\n"
            "  --challtestsrv URL     pebble-challtestsrv management URL (http-01 and dns-01 answers)\n"
            "  --domain NAME          make identifiers under NAME (default example.com)\n"
            "  --max-wait SECONDS     longest wait for a notBefore or a poll (default 30)\n"
            "client mode (COMMAND may use {directory} {ca_bundle} {http_port} {tls_port} {dns}\n"
            "             {challtestsrv} {workdir}; they are also exported as ARO_CONFORM_*):\n"
            "  --scenario LIST        comma-separated scenarios (default: all; see `list client`)\n"
            "  --aro-server PATH      the aro-server to run (default: $ARO_SERVER, else next to aro-conform)\n"
            "  --timeout SECONDS      longest run of COMMAND per scenario (default 120)\n"
            "  --keep                 keep the scenarios' work directories and logs\n"
            "exit status: 0 no MUST check failed, 1 one did, 2 could not run\n");
}

static int emit(report *rep, bool json, const char *html)
{
    if (json) {
        char *j = report_json(rep);
        if (!j) {
            fprintf(stderr, "aro-conform: cannot render the report as JSON\n");
            return 2;
        }
        printf("%s\n", j);
        free(j);
    } else {
        report_print_text(rep, stdout, isatty(STDOUT_FILENO));
    }
    if (html) {
        aro_err err;
        if (report_write_html(rep, html, &err)) {
            fprintf(stderr, "aro-conform: %s\n", err.msg);
            return 2;
        }
    }
    return report_exit_status(rep);
}

static void list_catalogue(const char *what)
{
    report rep;
    report_init(&rep, what, "catalogue");
    if (!strcmp(what, "client"))
        report_add_client_catalogue(&rep);
    else
        report_add_server_catalogue(&rep);
    for (size_t i = 0; i < rep.n; i++)
        printf("%-34s %-8s %-38s %s\n", rep.v[i].def->id, check_level_name(rep.v[i].def->level),
               rep.v[i].def->section, rep.v[i].def->title);
    report_free(&rep);
}

enum { OPT_CA = 1000, OPT_CTS, OPT_DOMAIN, OPT_MAXWAIT, OPT_JSON, OPT_HTML, OPT_SCENARIO, OPT_SERVER,
       OPT_TIMEOUT, OPT_KEEP };

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"ca-bundle", required_argument, NULL, OPT_CA},     {"challtestsrv", required_argument, NULL, OPT_CTS},
        {"domain", required_argument, NULL, OPT_DOMAIN},    {"max-wait", required_argument, NULL, OPT_MAXWAIT},
        {"json", no_argument, NULL, OPT_JSON},              {"html", required_argument, NULL, OPT_HTML},
        {"scenario", required_argument, NULL, OPT_SCENARIO}, {"aro-server", required_argument, NULL, OPT_SERVER},
        {"timeout", required_argument, NULL, OPT_TIMEOUT},  {"keep", no_argument, NULL, OPT_KEEP},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    const char *mode = argv[1];
    if (!strcmp(mode, "list")) {
        if (argc != 3 || (strcmp(argv[2], "server") && strcmp(argv[2], "client"))) {
            usage(stderr);
            return 2;
        }
        list_catalogue(argv[2]);
        return 0;
    }
    if (strcmp(mode, "server") && strcmp(mode, "client")) {
        fprintf(stderr, "aro-conform: unknown mode %s\n", mode);
        usage(stderr);
        return 2;
    }
    server_opts so = {.max_wait = 30};
    client_opts co = {.timeout = 120};
    bool json = false;
    const char *html = NULL;
    int c;
    optind = 2;
    while ((c = getopt_long(argc, argv, "vh", opts, NULL)) != -1) {
        switch (c) {
        case OPT_CA: so.ca_bundle = optarg; break;
        case OPT_CTS: so.cts = optarg; break;
        case OPT_DOMAIN: so.domain = optarg; break;
        case OPT_MAXWAIT: so.max_wait = atol(optarg); break;
        case OPT_JSON: json = true; break;
        case OPT_HTML: html = optarg; break;
        case OPT_SCENARIO: co.scenarios = optarg; break;
        case OPT_SERVER: co.aro_server = optarg; break;
        case OPT_TIMEOUT: co.timeout = atol(optarg); break;
        case OPT_KEEP: co.keep = true; break;
        case 'v': msg_verbosity++; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    report rep;
    aro_err err;
    int rc;
    if (!strcmp(mode, "server")) {
        if (optind != argc - 1) {
            usage(stderr);
            return 2;
        }
        so.directory_url = argv[optind];
        if (so.max_wait < 1)
            so.max_wait = 1;
        report_init(&rep, "server", so.directory_url);
        rc = server_mode(&so, &rep, &err);
    } else {
        if (optind >= argc) {
            fprintf(stderr, "aro-conform client: no COMMAND after --\n");
            return 2;
        }
        co.argv = argv + optind;
        co.argc = argc - optind;
        co.self = argv[0];
        char *line = client_command_line(&co);
        report_init(&rep, "client", line);
        free(line);
        rc = client_mode(&co, &rep, &err);
    }
    int status;
    if (rc) {
        fprintf(stderr, "aro-conform: %s\n", err.msg);
        status = 2;
    } else {
        status = emit(&rep, json, html);
    }
    report_free(&rep);
    curl_global_cleanup();
    return status;
}
