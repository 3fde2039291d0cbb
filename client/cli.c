#include "cli.h"

#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "msg.h"
#include "report.h"
#include "state.h"
#include "util.h"

#ifndef ARO_VERSION
#define ARO_VERSION "0.0.0"
#endif

/* Which commands an option applies to. */
enum {
    C_ACCOUNT = 1 << CMD_ACCOUNT, C_ISSUE = 1 << CMD_ISSUE, C_RENEW = 1 << CMD_RENEW,
    C_REVOKE = 1 << CMD_REVOKE, C_LIST = 1 << CMD_LIST,
    C_CA = C_ACCOUNT | C_ISSUE | C_RENEW | C_REVOKE,    /* talks to a CA */
    C_ALL = C_CA | C_LIST,
    C_GET = C_ISSUE | C_RENEW,                          /* gets certificates */
};

enum {
    OPT_SERVER = 256, OPT_STAGING, OPT_CA_BUNDLE, OPT_STATE, OPT_EMAIL, OPT_NO_EMAIL,
    OPT_AGREE_TOS, OPT_EAB, OPT_AKT, OPT_KT, OPT_PROFILE, OPT_CHAIN, OPT_CHALLENGES,
    OPT_HTTP_PORT, OPT_WEBROOT, OPT_ALPN_PORT, OPT_BIND, OPT_HOOK, OPT_HOOK_TIMEOUT,
    OPT_DEPLOY_HOOK, OPT_JSON, OPT_DEACTIVATE, OPT_REASON, OPT_MAX_WAIT, OPT_MAX_ORDERS,
    OPT_LOCK_WAIT, OPT_FORCE, OPT_CHANGE_NAMES, OPT_VERSION, OPT_RETRY_OPTIONS, OPT_PREAUTH,
    OPT_NO_PREAUTH,
};

static const struct option_spec {
    const char *name;
    int has_arg;
    int id;
    unsigned cmds;
    const char *arg;        /* the argument's name in the help, or NULL */
    const char *help;
    unsigned given;         /* GIVEN_* bit: a setting certificates remember */
} options[] = {
    {"server", 1, OPT_SERVER, C_ALL, "URL",
     "ACME directory (default: $ARO_DIRECTORY, else Let's Encrypt)", GIVEN_SERVER},
    {"staging", 0, OPT_STAGING, C_ALL, NULL, "Let's Encrypt's staging directory", GIVEN_SERVER},
    {"ca-bundle", 1, OPT_CA_BUNDLE, C_ALL, "FILE",
     "trust FILE for the CA's HTTPS (test CAs)", GIVEN_CA_BUNDLE},
    {"state", 1, OPT_STATE, C_ALL, "DIR", "keys, certificates, store (default ~/.local/share/aro)"},
    {"email", 1, OPT_EMAIL, C_ACCOUNT | C_ISSUE, "ADDR", "account contact (repeatable)"},
    {"no-email", 0, OPT_NO_EMAIL, C_ACCOUNT, NULL, "account update: remove every contact"},
    {"agree-tos", 0, OPT_AGREE_TOS, C_ACCOUNT | C_GET, NULL, "agree to the CA's terms of service"},
    {"eab", 1, OPT_EAB, C_ACCOUNT | C_ISSUE, "KID:HMAC", "external account binding"},
    {"account-key-type", 1, OPT_AKT, C_ACCOUNT | C_ISSUE, "T",
     "rsa2048 rsa3072 rsa4096 ec256 ec384 ed25519 (default ec256)"},
    {"key-type", 1, OPT_KT, C_GET, "T", "certificate key type (default ec256)", GIVEN_KEY_TYPE},
    {"profile", 1, OPT_PROFILE, C_GET, "NAME", "certificate profile", GIVEN_PROFILE},
    {"preferred-chain", 1, OPT_CHAIN, C_GET, "CN",
     "prefer the chain whose top issuer CN is CN", GIVEN_PREFERRED_CHAIN},
    {"challenges", 1, OPT_CHALLENGES, C_GET, "LIST",
     "preference order (default http-01,dns-01,tls-alpn-01)", GIVEN_CHALLENGES},
    {"http-port", 1, OPT_HTTP_PORT, C_GET, "N",
     "built-in http-01 server on port N", GIVEN_HTTP_PORT},
    {"webroot", 1, OPT_WEBROOT, C_GET, "DIR",
     "write http-01 files under DIR/.well-known/acme-challenge", GIVEN_WEBROOT},
    {"tls-alpn-port", 1, OPT_ALPN_PORT, C_GET, "N",
     "built-in tls-alpn-01 responder on port N", GIVEN_TLS_ALPN_PORT},
    {"bind", 1, OPT_BIND, C_GET, "ADDR",
     "address for the built-in servers (default all)", GIVEN_BIND},
    {"hook", 1, OPT_HOOK, C_GET, "PROG",
     "uacme-compatible hook: PROG begin|done|failed TYPE IDENT TOKEN AUTH", GIVEN_HOOK},
    {"hook-timeout", 1, OPT_HOOK_TIMEOUT, C_GET, "S",
     "longest a hook may run (default 600)", GIVEN_HOOK_TIMEOUT},
    {"deploy-hook", 1, OPT_DEPLOY_HOOK, C_GET, "CMD",
     "shell command run once per certificate obtained", GIVEN_DEPLOY_HOOK},
    {"deactivate", 1, OPT_DEACTIVATE, C_GET, "MODE",
     "after a failed order: none, pending (default), all"},
    {"retry-options", 1, OPT_RETRY_OPTIONS, C_GET, "MODE",
     "after a failed challenge: hold (default), reenable, off", GIVEN_RETRY_OPTIONS},
    {"preauthorize", 0, OPT_PREAUTH, C_GET, NULL,
     "validate each name with newAuthz before the order", GIVEN_PREAUTHORIZE},
    {"no-preauthorize", 0, OPT_NO_PREAUTH, C_GET, NULL,
     "validate the names through the order (the default)", GIVEN_PREAUTHORIZE},
    {"max-orders", 1, OPT_MAX_ORDERS, C_GET, "N",
     "legacy fallback bound: orders, and newAuthz per name (default 3)"},
    {"max-wait", 1, OPT_MAX_WAIT, C_CA, "S",
     "longest Retry-After/notBefore wait accepted (default 300)"},
    {"lock-wait", 1, OPT_LOCK_WAIT, C_ALL, "S",
     "longest wait for another aro's lock on the state (default 600)"},
    {"change-names", 0, OPT_CHANGE_NAMES, C_ISSUE, NULL,
     "allow changing the names of an existing certificate"},
    {"force", 0, OPT_FORCE, C_RENEW, NULL, "renew even when not due"},
    {"reason", 1, OPT_REASON, C_REVOKE, "N", "revocation reason code (RFC 5280 5.3.1)"},
    {"json", 0, OPT_JSON, C_ALL, NULL, "print one JSON result on stdout"},
    {"quiet", 0, 'q', C_ALL, NULL, "no progress; print only failures"},
    {"verbose", 0, 'v', C_ALL, NULL, "more progress (-vv HTTP, -vvv bodies)"},
    {"help", 0, 'h', C_ALL, NULL, "this help"},
    {"version", 0, OPT_VERSION, C_ALL, NULL, "aro's version"},
};
#define NOPTIONS (sizeof options / sizeof *options)

static const struct command_spec {
    const char *name;
    cli_command cmd;
    const char *synopsis;
    const char *what;
} commands[] = {
    {"account", CMD_ACCOUNT, "account new|show|update|deactivate|rollover",
     "the account at the CA (RFC 8555 7.3): create or find it, show it, replace its contacts,\n"
     "deactivate it for good, or roll its key over"},
    {"issue", CMD_ISSUE, "issue NAME...",
     "get a certificate for the names (DNS names, wildcards, IP addresses); exit 0 issued, 2 failed"},
    {"renew", CMD_RENEW, "renew [NAME...]",
     "renew the named (default: all) certificates that are due, each with the settings it was\n"
     "obtained with (flags given here override and are remembered); exit 0 nothing failed, 2 any failed"},
    {"revoke", CMD_REVOKE, "revoke CERTFILE", "revoke a certificate (RFC 8555 7.6)"},
    {"list", CMD_LIST, "list", "the certificates in the state directory"},
};
#define NCOMMANDS (sizeof commands / sizeof *commands)

static const char *const known_challenges[] = {"http-01", "dns-01", "tls-alpn-01"};

/* Edit distance, for "did you mean": short strings only. */
static size_t distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 40 || lb > 40)
        return 99;
    size_t d[41][41];
    for (size_t i = 0; i <= la; i++)
        d[i][0] = i;
    for (size_t j = 0; j <= lb; j++)
        d[0][j] = j;
    for (size_t i = 1; i <= la; i++)
        for (size_t j = 1; j <= lb; j++) {
            size_t sub = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
            size_t del = d[i - 1][j] + 1, ins = d[i][j - 1] + 1;
            d[i][j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
        }
    return d[la][lb];
}

/* The closest of n candidates within 2 edits (or of which s is a
 * prefix), or NULL. */
static const char *closest(const char *s, const char *const *cand, size_t n)
{
    const char *best = NULL;
    size_t bd = 3;
    for (size_t i = 0; i < n; i++) {
        size_t d = distance(s, cand[i]);
        if (*s && !strncmp(cand[i], s, strlen(s)) && d > 1)
            d = 1;
        if (d < bd) {
            bd = d;
            best = cand[i];
        }
    }
    return best;
}

int cli_usage_error(bool json, const char *fmt, ...)
{
    char detail[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof detail, fmt, ap);
    va_end(ap);
    fprintf(stderr, "aro: %s\n", detail);
    if (json) {
        report r = {.result = "failed"};
        report_error(&r, "usage", detail);
        report_print_simple(&r, true, NULL, NULL, NULL, stdout);
        report_clear(&r);
    }
    return ARO_EXIT_USAGE;
}

static void print_option(FILE *f, const struct option_spec *s)
{
    char left[64];
    const char *shortname = s->id == 'v' ? "-v, " : s->id == 'q' ? "-q, " : s->id == 'h' ? "-h, " : "";
    snprintf(left, sizeof left, "%s--%s%s%s", shortname, s->name, s->arg ? " " : "",
             s->arg ? s->arg : "");
    fprintf(f, "  %-26s %s\n", left, s->help);
}

static void help_general(FILE *f)
{
    fprintf(f, "usage: aro [OPTIONS] COMMAND [ARGS]\ncommands:\n");
    for (size_t i = 0; i < NCOMMANDS; i++)
        fprintf(f, "  %s\n", commands[i].synopsis);
    fprintf(f, "  help [COMMAND]\n"
               "'aro help COMMAND' (or 'aro COMMAND --help') lists a command's options;\n"
               "'man aro' describes every command, option, exit status and environment variable.\n"
               "options of every command:\n");
    for (size_t i = 0; i < NOPTIONS; i++)
        if ((options[i].cmds & C_ALL) == C_ALL)
            print_option(f, &options[i]);
}

static int help_command(FILE *f, cli_command cmd)
{
    for (size_t i = 0; i < NCOMMANDS; i++) {
        if (commands[i].cmd != cmd)
            continue;
        fprintf(f, "usage: aro [OPTIONS] %s\n%s\noptions:\n", commands[i].synopsis,
                commands[i].what);
        for (size_t j = 0; j < NOPTIONS; j++)
            if (options[j].cmds & (1u << cmd))
                print_option(f, &options[j]);
        return 0;
    }
    return -1;
}

static cli_command command_named(const char *s)
{
    for (size_t i = 0; i < NCOMMANDS; i++)
        if (!strcmp(s, commands[i].name))
            return commands[i].cmd;
    return CMD_NONE;
}

static const char *command_name(cli_command cmd)
{
    for (size_t i = 0; i < NCOMMANDS; i++)
        if (commands[i].cmd == cmd)
            return commands[i].name;
    return "?";
}

static int unknown_command(bool json, const char *s)
{
    const char *names[NCOMMANDS + 1];
    for (size_t i = 0; i < NCOMMANDS; i++)
        names[i] = commands[i].name;
    names[NCOMMANDS] = "help";
    const char *m = closest(s, names, NCOMMANDS + 1);
    return cli_usage_error(json, "unknown command \"%s\"%s%s%s; see 'aro help'", s,
                           m ? " (did you mean " : "", m ? m : "", m ? "?)" : "");
}

/* An integer in [min, max]; -1 when s is not one. */
static int parse_number(const char *s, long min, long max, long *out)
{
    char *end;
    if (!*s)
        return -1;
    long v = strtol(s, &end, 10);
    if (*end || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

/* The index of s among names[0..n), or -1. */
static int keyword(const char *s, const char *const *names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(s, names[i]))
            return (int)i;
    return -1;
}

/* --challenges: known type names, each once. */
static int parse_challenges(cli *c, const char *arg, bool json)
{
    free(c->chall_buf);
    free(c->challenges);
    c->chall_buf = xstrdup(arg);
    c->challenges = NULL;
    c->o.nchallenges = 0;
    size_t nk = sizeof known_challenges / sizeof *known_challenges;
    for (char *save = NULL, *t = strtok_r(c->chall_buf, ",", &save); t;
         t = strtok_r(NULL, ",", &save)) {
        bool known = false;
        for (size_t i = 0; i < nk; i++)
            known |= !strcmp(t, known_challenges[i]);
        if (!known) {
            const char *m = closest(t, known_challenges, nk);
            return cli_usage_error(json, "--challenges: unknown challenge type \"%s\"%s%s%s "
                                   "(aro knows http-01, dns-01, tls-alpn-01)", t,
                                   m ? " (did you mean " : "", m ? m : "", m ? "?)" : "");
        }
        bool dup = false;
        for (size_t i = 0; i < c->o.nchallenges; i++)
            dup |= !strcmp(c->challenges[i], t);
        if (dup)
            continue;
        c->challenges = xrealloc(c->challenges, (c->o.nchallenges + 1) * sizeof *c->challenges);
        c->challenges[c->o.nchallenges++] = t;
    }
    if (!c->o.nchallenges)
        return cli_usage_error(json, "--challenges: no challenge type given");
    c->o.challenges = c->challenges;
    return 0;
}

/* The option in argv that getopt stopped at ('?' or ':'). */
static const char *offending(int argc, char **argv, int optind_now)
{
    int i = optind_now - 1;
    if (i < 1 || i >= argc)
        i = optind_now < argc ? optind_now : argc - 1;
    return argv[i];
}

static int unknown_option(bool json, const char *arg, int optopt_now)
{
    if (!arg || strncmp(arg, "--", 2)) {
        if (optopt_now)
            return cli_usage_error(json, "unknown option -%c; see 'aro help'", optopt_now);
        return cli_usage_error(json, "unknown option %s; see 'aro help'", arg ? arg : "?");
    }
    char name[64];
    snprintf(name, sizeof name, "%s", arg + 2);
    char *eq = strchr(name, '=');
    if (eq)
        *eq = '\0';
    const char *names[NOPTIONS];
    for (size_t i = 0; i < NOPTIONS; i++)
        names[i] = options[i].name;
    const char *m = closest(name, names, NOPTIONS);
    return cli_usage_error(json, "unknown option --%s%s%s%s; see 'aro help'", name,
                           m ? " (did you mean --" : "", m ? m : "", m ? "?)" : "");
}

static const struct option_spec *spec_of(int id)
{
    for (size_t i = 0; i < NOPTIONS; i++)
        if (options[i].id == id)
            return &options[i];
    return NULL;
}

int cli_parse(cli *c, int argc, char **argv)
{
    memset(c, 0, sizeof *c);
    aro_opts *o = &c->o;
    *o = (aro_opts){.account_key_type = KEY_EC256, .cert_key_type = KEY_EC256,
                    .deactivate = DEACTIVATE_PENDING, .reason = -1, .max_wait = 300,
                    .max_orders = 3, .hook_timeout = 600, .lock_wait = 600};
    const char *env = getenv("ARO_DIRECTORY");
    o->server = env && *env ? env : ARO_DEFAULT_SERVER;
    /* --json decides how usage errors are said, wherever it stands. */
    bool json = false;
    for (int i = 1; i < argc && strcmp(argv[i], "--"); i++)
        json |= !strcmp(argv[i], "--json");
    o->json = json;

    struct option longopts[NOPTIONS + 1];
    for (size_t i = 0; i < NOPTIONS; i++)
        longopts[i] = (struct option){options[i].name, options[i].has_arg, 0, options[i].id};
    longopts[NOPTIONS] = (struct option){0, 0, 0, 0};
    /* Options apply to one command: remember which were seen, check after. */
    int seen[NOPTIONS];
    size_t nseen = 0;
    bool help = false, version = false;
    long v;
    int ch;
    opterr = 0;
    optind = 1;
    while ((ch = getopt_long(argc, argv, ":vqh", longopts, NULL)) != -1) {
        if (ch == '?')
            return unknown_option(json, offending(argc, argv, optind), optopt);
        if (ch == ':') {
            const char *arg = offending(argc, argv, optind);
            return cli_usage_error(json, "option %s needs a value; see 'aro help'", arg);
        }
        if (nseen < NOPTIONS)
            seen[nseen++] = ch;
        const struct option_spec *spec = spec_of(ch);
        const char *name = spec ? spec->name : "?";
        o->given |= spec ? spec->given : 0;
        switch (ch) {
        case OPT_SERVER: o->server = optarg; break;
        case OPT_STAGING: o->server = ARO_STAGING_SERVER; break;
        case OPT_CA_BUNDLE: o->ca_bundle = optarg; break;
        case OPT_STATE: o->state_dir = optarg; break;
        case OPT_EMAIL:
            if (!*optarg || !strchr(optarg, '@'))
                return cli_usage_error(json, "--email: \"%s\" is not an e-mail address", optarg);
            c->emails = xrealloc(c->emails, (o->nemails + 1) * sizeof *c->emails);
            c->emails[o->nemails++] = optarg;
            o->emails = c->emails;
            break;
        case OPT_NO_EMAIL: o->no_email = true; break;
        case OPT_AGREE_TOS: o->agree_tos = true; break;
        case OPT_EAB: o->eab = optarg; break;
        case OPT_AKT:
        case OPT_KT:
            if (key_type_from_name(optarg, ch == OPT_AKT ? &o->account_key_type : &o->cert_key_type))
                return cli_usage_error(json, "--%s: unknown key type \"%s\" (rsa2048, rsa3072, "
                                       "rsa4096, ec256, ec384, ed25519)", name, optarg);
            break;
        case OPT_PROFILE: o->profile = optarg; break;
        case OPT_CHAIN: o->preferred_chain = optarg; break;
        case OPT_CHALLENGES:
            if (parse_challenges(c, optarg, json))
                return ARO_EXIT_USAGE;
            break;
        case OPT_HTTP_PORT:
        case OPT_ALPN_PORT:
            if (parse_number(optarg, 1, 65535, &v))
                return cli_usage_error(json, "--%s: \"%s\" is not a port (1-65535)", name, optarg);
            if (ch == OPT_HTTP_PORT)
                o->http_port = (int)v;
            else
                o->tls_alpn_port = (int)v;
            break;
        case OPT_WEBROOT:
        case OPT_HOOK:
            if (!*optarg)
                return cli_usage_error(json, "--%s: empty name", name);
            *(ch == OPT_WEBROOT ? &o->webroot : &o->hook) = optarg;
            break;
        case OPT_BIND: o->bind_addr = optarg; break;
        case OPT_HOOK_TIMEOUT:
            if (parse_number(optarg, 1, 86400, &v))
                return cli_usage_error(json, "--hook-timeout: \"%s\" is not a number of seconds "
                                       "(1-86400)", optarg);
            o->hook_timeout = v;
            break;
        case OPT_DEPLOY_HOOK: o->deploy_hook = optarg; break;
        case OPT_JSON: o->json = true; break;
        case 'q': o->quiet = true; break;
        case OPT_DEACTIVATE:
        case OPT_RETRY_OPTIONS: {
            /* In the order of deactivate_mode and retry_mode. */
            static const char *const deactivate[] = {"none", "pending", "all"},
                                     *const retry[] = {"hold", "reenable", "off"};
            const char *const *modes = ch == OPT_DEACTIVATE ? deactivate : retry;
            int k = keyword(optarg, modes, 3);
            if (k < 0)
                return cli_usage_error(json, "--%s: \"%s\" is not %s, %s or %s", name, optarg,
                                       modes[0], modes[1], modes[2]);
            if (ch == OPT_DEACTIVATE)
                o->deactivate = (deactivate_mode)k;
            else
                o->retry = (retry_mode)k;
            break;
        }
        case OPT_PREAUTH:
        case OPT_NO_PREAUTH: o->preauthorize = ch == OPT_PREAUTH; break;
        case OPT_REASON:
            /* RFC 5280 5.3.1: 0-10, 7 unused. */
            if (parse_number(optarg, 0, 10, &v) || v == 7)
                return cli_usage_error(json, "--reason: \"%s\" is not a CRL reason code (0-6, 8-10)",
                                       optarg);
            o->reason = (int)v;
            break;
        case OPT_MAX_WAIT:
        case OPT_LOCK_WAIT:
            if (parse_number(optarg, 0, 86400, &v))
                return cli_usage_error(json, "--%s: \"%s\" is not a number of seconds (0-86400)",
                                       name, optarg);
            if (ch == OPT_MAX_WAIT)
                o->max_wait = v;
            else
                o->lock_wait = v;
            break;
        case OPT_MAX_ORDERS:
            if (parse_number(optarg, 1, 10, &v))
                return cli_usage_error(json, "--max-orders: \"%s\" is not a number from 1 to 10",
                                       optarg);
            o->max_orders = (int)v;
            break;
        case OPT_FORCE: o->force = true; break;
        case OPT_CHANGE_NAMES: o->change_names = true; break;
        case 'v': msg_verbosity++; break;
        case 'h': help = true; break;
        case OPT_VERSION: version = true; break;
        }
    }
    if (version) {
        printf("aro %s\n", ARO_VERSION);
        return ARO_EXIT_OK;
    }
    const char *cmd = optind < argc ? argv[optind] : NULL;
    if (cmd && !strcmp(cmd, "help")) {
        const char *what = optind + 1 < argc ? argv[optind + 1] : NULL;
        if (!what) {
            help_general(stdout);
            return ARO_EXIT_OK;
        }
        cli_command hc = command_named(what);
        if (hc == CMD_NONE)
            return unknown_command(json, what);
        help_command(stdout, hc);
        return ARO_EXIT_OK;
    }
    if (help) {
        if (cmd && command_named(cmd) != CMD_NONE)
            help_command(stdout, command_named(cmd));
        else
            help_general(stdout);
        return ARO_EXIT_OK;
    }
    if (!cmd)
        return cli_usage_error(json, "no command given; see 'aro help'");
    if ((c->command = command_named(cmd)) == CMD_NONE)
        return unknown_command(json, cmd);
    for (size_t i = 0; i < nseen; i++) {
        const struct option_spec *s = spec_of(seen[i]);
        if (s && !(s->cmds & (1u << c->command)))
            return cli_usage_error(json, "option --%s does not apply to %s; see 'aro help %s'",
                                   s->name, command_name(c->command), command_name(c->command));
    }
    char **rest = argv + optind + 1;
    int nrest = argc - optind - 1;
    o->names = (const char **)rest;
    o->nnames = (size_t)nrest;
    switch (c->command) {
    case CMD_ACCOUNT: {
        static const char *const subs[] = {"new", "show", "update", "deactivate", "rollover"};
        if (nrest != 1)
            return cli_usage_error(json, "account wants one of new, show, update, deactivate, "
                                   "rollover; see 'aro help account'");
        bool known = false;
        for (size_t i = 0; i < 5; i++)
            known |= !strcmp(rest[0], subs[i]);
        if (!known) {
            const char *m = closest(rest[0], subs, 5);
            return cli_usage_error(json, "unknown account command \"%s\"%s%s%s (new, show, update, "
                                   "deactivate, rollover)", rest[0], m ? " (did you mean " : "",
                                   m ? m : "", m ? "?)" : "");
        }
        c->account_sub = rest[0];
        if (!strcmp(rest[0], "update") && !o->nemails && !o->no_email)
            return cli_usage_error(json, "account update replaces the contacts: give --email ADDR "
                                   "(repeatable), or --no-email to remove every contact");
        if (o->no_email && (strcmp(rest[0], "update") || o->nemails))
            return cli_usage_error(json, "--no-email goes with account update and no --email");
        break;
    }
    case CMD_ISSUE:
        if (nrest < 1)
            return cli_usage_error(json, "issue needs at least one NAME; see 'aro help issue'");
        break;
    case CMD_REVOKE:
        if (nrest != 1)
            return cli_usage_error(json, "revoke wants one CERTFILE; see 'aro help revoke'");
        c->certfile = rest[0];
        break;
    case CMD_LIST:
        if (nrest)
            return cli_usage_error(json, "list takes no arguments (got \"%s\")", rest[0]);
        break;
    case CMD_RENEW:
    case CMD_NONE:
        break;
    }
    if (!c->challenges && parse_challenges(c, "http-01,dns-01,tls-alpn-01", json))
        return ARO_EXIT_USAGE;
    if (!o->state_dir)
        o->state_dir = c->default_state = state_default_dir();
    if (o->quiet)
        msg_verbosity = -1;
    aro_buf inv = {0};
    buf_puts(&inv, "aro");
    for (int i = optind; i < argc && inv.len < 200; i++)
        buf_printf(&inv, " %s", argv[i]);
    o->invocation = c->invocation = buf_steal(&inv);
    return -1;
}

void cli_free(cli *c)
{
    free(c->chall_buf);
    free(c->default_state);
    free(c->invocation);
    free(c->emails);
    free(c->challenges);
    memset(c, 0, sizeof *c);
}
