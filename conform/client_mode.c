#include "client_mode.h"

#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "challtest.h"
#include "client_judge.h"
#include "procs.h"
#include "proxy.h"
#include "scenarios.h"
#include "wire.h"

#define SERVER_START_SECONDS 30.0
#define FAIL_LIFT_SECONDS 30.0 /* a failure is lifted after this at the latest */
#define FAIL_ADDRESS "127.0.0.2"

void report_add_client_catalogue(report *rep)
{
    report_add_defs(rep, client_checks, nclient_checks);
}

char *client_command_line(const client_opts *o)
{
    aro_buf b = {0};
    for (int i = 0; i < o->argc; i++)
        buf_printf(&b, "%s%s", i ? " " : "", o->argv[i]);
    return b.data ? buf_steal(&b) : xstrdup("");
}

/* ---- the environment of all scenarios ------------------------------------------ */

typedef struct {
    const client_opts *o;
    report *rep;
    char *root;             /* work directory of the whole run */
    char *server_bin;
    pid_t cts_pid;
    int dns_port, mgmt_port;
    char *cts_url;
} client_env;

static char *find_server(const client_opts *o, aro_err *err)
{
    const char *env = getenv("ARO_SERVER");
    if (o->aro_server)
        return xstrdup(o->aro_server);
    if (env && *env)
        return xstrdup(env);
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n > 0) {
        self[n] = '\0';
        char *slash = strrchr(self, '/');
        if (slash) {
            *slash = '\0';
            char *p = xasprintf("%s/aro-server", self);
            if (access(p, X_OK) == 0)
                return p;
            free(p);
        }
    }
    aro_err_set(err, "no aro-server: pass --aro-server PATH or set ARO_SERVER");
    return NULL;
}

static int start_challtestsrv(client_env *ce, aro_err *err)
{
    ce->dns_port = free_port(true, err);
    ce->mgmt_port = free_port(false, err);
    if (ce->dns_port < 0 || ce->mgmt_port < 0)
        return -1;
    char dns[32], mgmt[32];
    snprintf(dns, sizeof dns, "127.0.0.1:%d", ce->dns_port);
    snprintf(mgmt, sizeof mgmt, "127.0.0.1:%d", ce->mgmt_port);
    char *argv[] = {"pebble-challtestsrv", "-defaultIPv4", "127.0.0.1", "-defaultIPv6", "", "-dns01", dns, "-http01",
                    "", "-https01", "", "-tlsalpn01", "", "-management", mgmt, NULL};
    char *log = xasprintf("%s/challtestsrv.log", ce->root);
    ce->cts_pid = proc_start(argv, NULL, NULL, log, err);
    free(log);
    if (ce->cts_pid < 0)
        return -1;
    ce->cts_url = xasprintf("http://%s", mgmt);
    for (double end = now_seconds() + 20; now_seconds() < end; nap(0.1)) {
        aro_err e2;
        if (cts_clear_txt(ce->cts_url, "_probe.example.com", &e2) == 0)
            return 0;
        if (proc_wait(ce->cts_pid, 0) >= 0)
            break;
    }
    aro_err_set(err, "pebble-challtestsrv did not start (is it installed? see %s/challtestsrv.log)", ce->root);
    return -1;
}

/* ---- one scenario ------------------------------------------------------------------ */

typedef struct {
    char *name;             /* the identifier made to fail */
    bool lifted;
    long invalid_before;    /* aro_validations_total{result="invalid"} when it started */
    double since;
    double asked_at;        /* when its DNS was first seen asked, 0 before */
} failing;

typedef struct {
    client_env *ce;
    const scenario *sc;
    char *dir;
    int listen_port, manage_port, http_port, tls_port;
    char *server_ca, *metrics_url;
    pid_t server_pid;
    proxy *px;
    pthread_mutex_t mu;
    char **chall, **ident;  /* challenge path -> identifier, from authorization answers */
    size_t nchall;
    failing *fails;
    size_t nfails;
    bool stop;
} run_state;

/* Sum of the series of a metric whose labels contain label (or any). */
static long metric(run_state *rs, const char *name, const char *label)
{
    aro_err err;
    wire *w = wire_new(rs->server_ca, &err);
    wire_resp r = {0};
    long sum = -1;
    if (w && wire_get(w, rs->metrics_url, &r, &err) == 0 && r.status == 200 && r.body) {
        sum = 0;
        size_t nl = strlen(name);
        for (char *line = strtok(r.body, "\n"); line; line = strtok(NULL, "\n")) {
            if (*line == '#' || strncmp(line, name, nl) || (line[nl] != ' ' && line[nl] != '{'))
                continue;
            char *sp = strrchr(line, ' ');
            if (sp && (!label || strstr(line, label)))
                sum += atol(sp + 1);
        }
    }
    wire_resp_clear(&r);
    wire_free(w);
    return sum;
}

/* The name's A record on 127.0.0.2, where no responder bound to 127.0.0.1
 * answers (http-01, tls-alpn-01), and SERVFAIL for its TXT name (dns-01);
 * its CAA lookups still answer, so the attempt fails at validation. */
static void set_failure(run_state *rs, const char *name, bool on)
{
    aro_err err;
    char *acme = xasprintf("_acme-challenge.%s", name);
    if (on)
        cts_add_a(rs->ce->cts_url, name, FAIL_ADDRESS, &err);
    else
        cts_clear_a(rs->ce->cts_url, name, &err);
    cts_servfail(rs->ce->cts_url, acme, on, &err);
    free(acme);
}

/* Has the DNS of name (or its _acme-challenge name) been asked since its
 * history was cleared? */
static bool asked(run_state *rs, const char *name)
{
    aro_err err;
    char *acme = xasprintf("_acme-challenge.%s", name);
    bool yes = cts_dns_history_count(rs->ce->cts_url, name, &err) > 0 ||
               cts_dns_history_count(rs->ce->cts_url, acme, &err) > 0;
    free(acme);
    return yes;
}

static void on_request(void *ud, const exchange *e)
{
    run_state *rs = ud;
    if (rs->sc->fail == FAIL_NONE || strcmp(e->method, "POST") || strncmp(e->path, "/acme/chall/", 12) ||
        !e->payload || !*e->payload)
        return;
    pthread_mutex_lock(&rs->mu);
    const char *name = NULL;
    for (size_t i = 0; i < rs->nchall; i++)
        if (!strcmp(rs->chall[i], e->path))
            name = rs->ident[i];
    bool first = name != NULL;
    for (size_t i = 0; name && i < rs->nfails; i++)
        first = first && strcmp(rs->fails[i].name, name);
    if (first) {
        aro_err err;
        char *acme = xasprintf("_acme-challenge.%s", name);
        cts_clear_history(rs->ce->cts_url, name, &err);
        cts_clear_history(rs->ce->cts_url, acme, &err);
        free(acme);
        set_failure(rs, name, true);
        rs->fails = xrealloc(rs->fails, (rs->nfails + 1) * sizeof *rs->fails);
        rs->fails[rs->nfails++] = (failing){.name = xstrdup(name),
                                            .invalid_before = metric(rs, "aro_validations_total", "result=\"invalid\""),
                                            .since = now_seconds()};
    }
    pthread_mutex_unlock(&rs->mu);
}

static void on_answer(void *ud, const exchange *e)
{
    run_state *rs = ud;
    yajl_val j = e->resp_json;
    const char *value = json_str(json_member(j, "identifier"), "value");
    yajl_val ch = json_member(j, "challenges");
    if (!value || !ch || !YAJL_IS_ARRAY(ch))
        return;
    pthread_mutex_lock(&rs->mu);
    for (size_t i = 0; i < ch->u.array.len; i++) {
        const char *u = json_str(ch->u.array.values[i], "url");
        const char *path = u ? strstr(u, "/acme/chall/") : NULL;
        bool known = false;
        for (size_t k = 0; path && k < rs->nchall; k++)
            known = known || !strcmp(rs->chall[k], path);
        if (!path || known)
            continue;
        rs->chall = xrealloc(rs->chall, (rs->nchall + 1) * sizeof *rs->chall);
        rs->ident = xrealloc(rs->ident, (rs->nchall + 1) * sizeof *rs->ident);
        rs->chall[rs->nchall] = xstrdup(path);
        rs->ident[rs->nchall++] = xstrdup(value);
    }
    pthread_mutex_unlock(&rs->mu);
}

/* Lifts each failure once the server has met it (scenarios.h). */
static void *monitor(void *arg)
{
    run_state *rs = arg;
    for (;;) {
        pthread_mutex_lock(&rs->mu);
        bool stop = rs->stop;
        for (size_t i = 0; i < rs->nfails; i++) {
            failing *f = &rs->fails[i];
            if (f->lifted)
                continue;
            bool met = now_seconds() - f->since > FAIL_LIFT_SECONDS;
            if (!met && rs->sc->fail == FAIL_FIRST_QUERY) {
                if (!f->asked_at && asked(rs, f->name))
                    f->asked_at = now_seconds();
                /* The SERVFAIL answer goes out with the query: give it a moment. */
                met = f->asked_at && now_seconds() - f->asked_at > 0.3;
            }
            if (!met && rs->sc->fail == FAIL_FIRST_ATTEMPT)
                met = metric(rs, "aro_validations_total", "result=\"invalid\"") > f->invalid_before;
            if (met || stop) {
                set_failure(rs, f->name, false);
                f->lifted = true;
            }
        }
        pthread_mutex_unlock(&rs->mu);
        if (stop)
            return NULL;
        nap(0.1);
    }
}

static char *substitute(const char *arg, char *const keys[], char *const values[])
{
    aro_buf b = {0};
    for (const char *p = arg; *p;) {
        bool done = false;
        for (size_t k = 0; keys[k] && !done; k++) {
            size_t n = strlen(keys[k]);
            if (!strncmp(p, keys[k], n)) {
                buf_puts(&b, values[k]);
                p += n;
                done = true;
            }
        }
        if (!done)
            buf_append(&b, p++, 1);
    }
    return b.data ? buf_steal(&b) : xstrdup("");
}

static int start_server(run_state *rs, aro_err *err)
{
    char *data = xasprintf("%s/server", rs->dir), *cfg = xasprintf("%s/server.json", rs->dir);
    char listen[32], manage[32], http[16], tls[16], dns[32];
    int rc = -1;
    mkdir_p(data, 0700);
    if (file_write_atomic(cfg, rs->sc->config, strlen(rs->sc->config), 0600, err))
        goto out;
    if ((rs->listen_port = free_port(false, err)) < 0 || (rs->manage_port = free_port(false, err)) < 0 ||
        (rs->http_port = free_port(false, err)) < 0 || (rs->tls_port = free_port(false, err)) < 0)
        goto out;
    snprintf(listen, sizeof listen, "127.0.0.1:%d", rs->listen_port);
    snprintf(manage, sizeof manage, "127.0.0.1:%d", rs->manage_port);
    snprintf(http, sizeof http, "%d", rs->http_port);
    snprintf(tls, sizeof tls, "%d", rs->tls_port);
    snprintf(dns, sizeof dns, "127.0.0.1:%d", rs->ce->dns_port);
    char *argv[] = {rs->ce->server_bin, "--listen", listen, "--manage", manage, "--data", data, "--http-port", http,
                    "--tls-port", tls, "--dns", dns, "--config", cfg, "--threads", "2", NULL};
    char *log = xasprintf("%s/aro-server.log", rs->dir);
    rs->server_pid = proc_start(argv, NULL, NULL, log, err);
    free(log);
    if (rs->server_pid < 0)
        goto out;
    rs->server_ca = xasprintf("%s/https-cert.pem", data);
    rs->metrics_url = xasprintf("https://%s/metrics", manage);
    char *dir_url = xasprintf("https://%s/directory", listen);
    for (double end = now_seconds() + SERVER_START_SECONDS; now_seconds() < end; nap(0.1)) {
        if (proc_wait(rs->server_pid, 0) >= 0) {
            aro_err_set(err, "aro-server exited at start (see %s/aro-server.log)", rs->dir);
            break;
        }
        if (access(rs->server_ca, R_OK))
            continue;
        aro_err e2;
        wire *w = wire_new(rs->server_ca, &e2);
        wire_resp r = {0};
        bool up = w && wire_get(w, dir_url, &r, &e2) == 0 && r.status == 200;
        wire_resp_clear(&r);
        wire_free(w);
        if (up) {
            rc = 0;
            break;
        }
    }
    if (rc && !err->msg[0])
        aro_err_set(err, "aro-server did not answer within %.0f s", SERVER_START_SECONDS);
    free(dir_url);
out:
    free(data);
    free(cfg);
    return rc;
}

static void run_state_clear(run_state *rs)
{
    proxy_free(rs->px);
    for (size_t i = 0; i < rs->nchall; i++) {
        free(rs->chall[i]);
        free(rs->ident[i]);
    }
    free(rs->chall);
    free(rs->ident);
    for (size_t i = 0; i < rs->nfails; i++)
        free(rs->fails[i].name);
    free(rs->fails);
    free(rs->server_ca);
    free(rs->metrics_url);
    free(rs->dir);
    pthread_mutex_destroy(&rs->mu);
}

/* The request log of a run, one line per exchange, kept with --keep. */
static void write_exchanges(const char *dir, const exchange *log, size_t n)
{
    aro_buf b = {0};
    for (size_t i = 0; i < n; i++) {
        const exchange *e = &log[i];
        buf_printf(&b, "%8.3f %8.3f %-4s %-60s %ld %s RA=%s payload=%.120s\n", e->t_req, e->t_resp, e->method, e->path,
                   e->status, e->problem ? e->problem : "-", e->retry_after ? e->retry_after : "-",
                   e->payload ? e->payload : "(not a JWS)");
    }
    char *path = xasprintf("%s/exchanges.txt", dir);
    aro_err err;
    file_write_atomic(path, b.data ? b.data : "", b.len, 0644, &err);
    free(path);
    buf_free(&b);
}

static int run_scenario(client_env *ce, const scenario *sc, aro_err *err)
{
    run_state rs = {.ce = ce, .sc = sc};
    pthread_mutex_init(&rs.mu, NULL);
    rs.dir = xasprintf("%s/%s", ce->root, sc->name);
    char *work = xasprintf("%s/work", rs.dir);
    int rc = -1;
    mkdir_p(work, 0700);
    fprintf(stderr, "aro-conform: scenario %s: %s\n", sc->name, sc->what);
    if (start_server(&rs, err))
        goto out;
    char *upstream = xasprintf("https://127.0.0.1:%d", rs.listen_port);
    rs.px = proxy_start(rs.dir, upstream, rs.server_ca, on_request, on_answer, &rs, err);
    free(upstream);
    if (!rs.px)
        goto out;
    char directory[64], origin[48], http[16], tls[16], dns[32];
    snprintf(origin, sizeof origin, "https://127.0.0.1:%d", proxy_port(rs.px));
    snprintf(directory, sizeof directory, "%s/directory", origin);
    snprintf(http, sizeof http, "%d", rs.http_port);
    snprintf(tls, sizeof tls, "%d", rs.tls_port);
    snprintf(dns, sizeof dns, "127.0.0.1:%d", ce->dns_port);
    char *keys[] = {"{directory}", "{ca_bundle}", "{http_port}", "{tls_port}", "{dns}", "{challtestsrv}", "{workdir}",
                    "{scenario}", NULL};
    char *values[] = {directory, (char *)proxy_ca_file(rs.px), http, tls, dns, ce->cts_url, work, (char *)sc->name,
                      NULL};
    const char *envnames[] = {"DIRECTORY", "CA_BUNDLE", "HTTP_PORT", "TLS_PORT", "DNS", "CHALLTESTSRV", "WORKDIR",
                              "SCENARIO"};
    char *env[9];
    for (size_t i = 0; i < 8; i++)
        env[i] = xasprintf("ARO_CONFORM_%s=%s", envnames[i], values[i]);
    env[8] = NULL;
    char **argv = xcalloc((size_t)ce->o->argc + 1, sizeof *argv);
    for (int i = 0; i < ce->o->argc; i++)
        argv[i] = substitute(ce->o->argv[i], keys, values);
    pthread_t mon;
    bool have_mon = pthread_create(&mon, NULL, monitor, &rs) == 0;
    char *cmdlog = xasprintf("%s/command.log", rs.dir);
    double t0 = now_seconds();
    long timeout = sc->timeout && sc->timeout < ce->o->timeout ? sc->timeout : ce->o->timeout;
    pid_t pid = proc_start(argv, work, env, cmdlog, err);
    int status = -1;
    if (pid > 0) {
        status = proc_wait(pid, (double)timeout);
        if (status < 0) {
            proc_stop(pid, 3);
            status = -1;
        }
        kill(-pid, SIGTERM); /* anything it left behind in its group */
    }
    double seconds = now_seconds() - t0;
    pthread_mutex_lock(&rs.mu);
    rs.stop = true;
    pthread_mutex_unlock(&rs.mu);
    if (have_mon)
        pthread_join(mon, NULL);
    if (pid > 0) {
        scenario_run run = {.sc = sc, .exit_status = status, .seconds = seconds, .origin = origin};
        run.orders_created = metric(&rs, "aro_orders_created_total", NULL);
        run.reenables_accepted = metric(&rs, "aro_reenables_total", "result=\"accepted\"");
        run.server_retries = metric(&rs, "aro_validation_server_retries_total", NULL);
        run.validations_invalid = metric(&rs, "aro_validations_total", "result=\"invalid\"");
        run.faults_injected = metric(&rs, "aro_faults_injected_total", NULL);
        proxy_stop(rs.px);
        run.log = proxy_log(rs.px, &run.n);
        if (ce->o->keep)
            write_exchanges(rs.dir, run.log, run.n);
        judge_run(ce->rep, &run);
        report_note(ce->rep, "%s: COMMAND %s %d after %.1f s; %zu requests, %ld order(s), %ld fault(s) injected, "
                    "%ld failed validation(s), %ld server retr%s%s%s", sc->name,
                    status < 0 ? "stopped at the timeout, status" : "exited", status, seconds, run.n,
                    run.orders_created, run.faults_injected, run.validations_invalid, run.server_retries,
                    run.server_retries == 1 ? "y" : "ies", ce->o->keep ? "; logs in " : "", ce->o->keep ? rs.dir : "");
        rc = 0;
    }
    for (size_t i = 0; i < 8; i++)
        free(env[i]);
    for (int i = 0; i < ce->o->argc; i++)
        free(argv[i]);
    free(argv);
    free(cmdlog);
out:
    if (rs.server_pid > 0)
        proc_stop(rs.server_pid, 5);
    run_state_clear(&rs);
    free(work);
    return rc;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

int client_mode(const client_opts *o, report *rep, aro_err *err)
{
    client_env ce = {.o = o, .rep = rep};
    const scenario *chosen[16];
    size_t nchosen = 0;
    int rc = -1;
    report_add_client_catalogue(rep);
    if (o->scenarios) {
        char *list = xstrdup(o->scenarios);
        for (char *s = strtok(list, ","); s; s = strtok(NULL, ",")) {
            const scenario *sc = scenario_find(s);
            if (!sc || nchosen == 16) {
                aro_err_set(err, "unknown scenario %s (see: aro-conform list client)", s);
                free(list);
                return -1;
            }
            chosen[nchosen++] = sc;
        }
        free(list);
    } else {
        for (size_t i = 0; i < nscenarios && nchosen < 16; i++)
            chosen[nchosen++] = &scenarios[i];
    }
    if (!(ce.server_bin = find_server(o, err)))
        return -1;
    const char *tmp = getenv("TMPDIR");
    char *t = xasprintf("%s/aro-conform.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    ce.root = mkdtemp(t);
    if (!ce.root) {
        aro_err_set(err, "mkdtemp: %s", strerror(errno));
        free(t);
        free(ce.server_bin);
        return -1;
    }
    if (start_challtestsrv(&ce, err))
        goto out;
    size_t ran = 0;
    for (size_t i = 0; i < nchosen; i++) {
        aro_err serr = {{0}};
        if (run_scenario(&ce, chosen[i], &serr) == 0)
            ran++;
        else
            report_note(rep, "%s: could not run: %s", chosen[i]->name, serr.msg);
    }
    if (!ran) {
        aro_err_set(err, "no scenario could run (the notes say why)");
        for (size_t i = 0; i < rep->nnotes; i++)
            fprintf(stderr, "aro-conform: %s\n", rep->notes[i]);
        goto out;
    }
    for (size_t i = 0; i < rep->n; i++)
        if (rep->v[i].result == RESULT_NOT_RUN)
            check_skip(rep, rep->v[i].def->id, "no scenario of this run informs it, or the client never got there");
    rc = 0;
out:
    if (ce.cts_pid > 0)
        proc_stop(ce.cts_pid, 3);
    if (!o->keep)
        nftw(ce.root, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    else
        fprintf(stderr, "aro-conform: work directories kept in %s\n", ce.root);
    free(ce.root);
    free(ce.server_bin);
    free(ce.cts_url);
    return rc;
}
