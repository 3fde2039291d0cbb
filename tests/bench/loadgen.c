/* aro-loadgen: drives any ACME server (RFC 8555) through complete issuance
 * flows at a chosen concurrency, for tests/bench/run.
 *
 * Accounts are created up front (one per worker); then every worker runs
 * flows (flows.c: one client run for one certificate, in the client
 * behaviour of the chosen --arm). The workers are coroutines on the main
 * thread and their requests share one curl multi handle (sched.c), so the
 * load generator takes as little as it can of the cores it shares with the
 * server it measures. http-01 is answered by the load
 * generator's own responder on loopback (point the server's http-01 port at
 * --http-port); dns-01 TXT records go to pebble-challtestsrv's management
 * API (--challtestsrv).
 *
 * Populations (--mix): every order's first name carries the scenario, the
 * other names of a multi-name order (--names) are healthy:
 *   healthy    http-01 passes;
 *   blocked    http-01 fails (the responder resets the connection, as a
 *              firewall closing port 80 does: "connection"), dns-01 passes;
 *   transient  the first validation request for the name fails (a reset
 *              connection), every later one passes (the same token
 *              re-fetched by an RFC 8555 8.2 server-side retry, a fresh
 *              token, or a new order's); these clients have http-01 only, so
 *              recovering means the same method again;
 *   zombie     nothing ever passes: http-01 answers 404 and no TXT record
 *              is set ("unauthorized").
 *
 * Output: one JSON object on stdout (throughput, latency percentiles,
 * outcomes per scenario, problems by type, client-side request counts, the
 * server's CPU seconds and peak RSS from /proc, and the deltas of the
 * server's /metrics over the flow phase when --metrics is given). */
#include <curl/curl.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "acme.h"
#include "json.h"
#include "keys.h"
#include "loadgen.h"
#include "msg.h"
#include "random.h"

#define MAX_WORKERS 256
#define RESP_THREADS 4
#define TOKEN_BUCKETS 4096
#define MAX_WAIT_S 60           /* longest Retry-After we accept */
#define MAX_PROBLEM_KINDS 32

/* ---- options ------------------------------------------------------------ */

loadgen_options O = {.concurrency = 1, .flows = 10, .names = 1, .max_orders = 3, .poll_first = 0.002,
                     .poll_cap = 0.05, .timeout = 20, .mix = {100, 0, 0, 0}, .arm = ARM_LEGACY};

/* ---- results ------------------------------------------------------------ */

typedef struct {
    unsigned flows, issued, failed;
    unsigned long orders, attempts, requests, polls, reenables, deactivations;
    double requests_sq;         /* sum of squares of the requests per flow (their spread) */
    double *lat;                /* seconds, issued flows only */
    size_t nlat, caplat;
    double fail_time;           /* seconds spent on flows that failed */
} sc_stats;

/* Touched by the workers only, which all run on the main thread. */
static struct {
    sc_stats sc[SC__COUNT];
    char *prob_name[MAX_PROBLEM_KINDS];
    unsigned long prob_count[MAX_PROBLEM_KINDS];
    size_t nprob;
    unsigned long flow_errors;  /* HTTP-level failures (not validation) */
    char first_error[512];
} R;

static void count_problem(const char *kind)
{
    size_t i;
    for (i = 0; i < R.nprob; i++)
        if (!strcmp(R.prob_name[i], kind))
            break;
    if (i == R.nprob && R.nprob < MAX_PROBLEM_KINDS)
        R.prob_name[R.nprob++] = xstrdup(kind);
    if (i < R.nprob)
        R.prob_count[i]++;
}

/* ---- http-01 responder ---------------------------------------------------
 * A few threads blocking in accept() on one socket with a deep backlog: the
 * CA's validation requests arrive as fast as it can make them, and a
 * dropped SYN would add a second's retransmit to the measured latency. */

typedef struct tok {
    char *token, *key_auth;
    answer_mode mode;
    struct tok *next;
} tok;

static struct {
    pthread_mutex_t lock;
    tok *b[TOKEN_BUCKETS];
    int fd;
    pthread_t th[RESP_THREADS];
    int nth;
    atomic_int stop;
    atomic_ulong served, refused, reset;
} H = {.lock = PTHREAD_MUTEX_INITIALIZER, .fd = -1};

static unsigned tok_hash(const char *s)
{
    unsigned h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h % TOKEN_BUCKETS;
}

void responder_add(const char *token, const char *key_auth, answer_mode mode)
{
    tok *t = xcalloc(1, sizeof *t);
    t->token = xstrdup(token);
    t->key_auth = xstrdup(key_auth);
    t->mode = mode;
    unsigned h = tok_hash(token);
    pthread_mutex_lock(&H.lock);
    t->next = H.b[h];
    H.b[h] = t;
    pthread_mutex_unlock(&H.lock);
}

void responder_del(const char *token)
{
    unsigned h = tok_hash(token);
    pthread_mutex_lock(&H.lock);
    for (tok **pp = &H.b[h]; *pp; pp = &(*pp)->next) {
        if (!strcmp((*pp)->token, token)) {
            tok *t = *pp;
            *pp = t->next;
            free(t->token);
            free(t->key_auth);
            free(t);
            break;
        }
    }
    pthread_mutex_unlock(&H.lock);
}

/* How to answer a fetch of token: the key authorization to serve (*ka),
 * or *reset for a reset connection; neither: a 404. */
static void tok_lookup(const char *token, char **ka, bool *reset)
{
    unsigned h = tok_hash(token);
    *ka = NULL;
    *reset = false;
    pthread_mutex_lock(&H.lock);
    for (tok *t = H.b[h]; t; t = t->next) {
        if (strcmp(t->token, token))
            continue;
        if (t->mode == ANSWER_NEVER) {
            *reset = true;
        } else if (t->mode == ANSWER_AFTER_ONE_RESET) {
            *reset = true;
            t->mode = ANSWER_ALWAYS;
        } else {
            *ka = xstrdup(t->key_auth);
        }
        break;
    }
    pthread_mutex_unlock(&H.lock);
}

static void resp_handle(int c)
{
    char req[4096];
    size_t n = 0;
    while (n < sizeof req - 1) {
        ssize_t r = read(c, req + n, sizeof req - 1 - n);
        if (r <= 0)
            break;
        n += (size_t)r;
        req[n] = '\0';
        if (strstr(req, "\r\n\r\n"))
            break;
    }
    req[n] = '\0';
    static const char prefix[] = "/.well-known/acme-challenge/";
    char method[8] = "", path[512] = "", *ka = NULL, *resp;
    bool reset = false;
    if (sscanf(req, "%7s %511s", method, path) == 2 && !strncmp(path, prefix, sizeof prefix - 1))
        tok_lookup(path + sizeof prefix - 1, &ka, &reset);
    if (reset) {
        /* close() with a zero linger sends RST: what the CA sees when a
         * firewall rejects port 80. */
        struct linger lg = {.l_onoff = 1, .l_linger = 0};
        setsockopt(c, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
        atomic_fetch_add(&H.reset, 1);
        return;
    }
    if (ka) {
        atomic_fetch_add(&H.served, 1);
        resp = xasprintf("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %zu\r\n"
                         "Connection: close\r\n\r\n%s", strlen(ka), ka);
    } else {
        atomic_fetch_add(&H.refused, 1);
        resp = xstrdup("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    }
    size_t len = strlen(resp), off = 0;
    while (off < len) {
        ssize_t w = send(c, resp + off, len - off, MSG_NOSIGNAL);
        if (w <= 0)
            break;
        off += (size_t)w;
    }
    free(resp);
    free(ka);
}

static void *resp_thread(void *arg)
{
    (void)arg;
    while (!atomic_load(&H.stop)) {
        int c = accept(H.fd, NULL, NULL);
        if (c < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            break;      /* shutdown() of the listening socket ends us */
        }
        struct timeval tv = {.tv_sec = 5};
        setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        setsockopt(c, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
        resp_handle(c);
        close(c);
    }
    return NULL;
}

static int resp_start(int port)
{
    int one = 1;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    H.fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (H.fd < 0)
        return -1;
    setsockopt(H.fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(H.fd, (struct sockaddr *)&a, sizeof a) || listen(H.fd, 1024)) {
        fprintf(stderr, "aro-loadgen: cannot listen on 127.0.0.1:%d: %s\n", port, strerror(errno));
        close(H.fd);
        H.fd = -1;
        return -1;
    }
    for (H.nth = 0; H.nth < RESP_THREADS; H.nth++)
        if (pthread_create(&H.th[H.nth], NULL, resp_thread, NULL))
            break;
    return H.nth ? 0 : -1;
}

static void resp_stop(void)
{
    if (H.fd < 0)
        return;
    atomic_store(&H.stop, 1);
    shutdown(H.fd, SHUT_RDWR);
    for (int i = 0; i < H.nth; i++)
        pthread_join(H.th[i], NULL);
    close(H.fd);
    for (size_t i = 0; i < TOKEN_BUCKETS; i++) {
        while (H.b[i]) {
            tok *t = H.b[i];
            H.b[i] = t->next;
            free(t->token);
            free(t->key_auth);
            free(t);
        }
    }
}

/* ---- /proc and /metrics ------------------------------------------------- */

/* utime+stime of pid in seconds, -1 when unreadable. */
static double proc_cpu(int pid)
{
    char path[64], buf[2048];
    double ret = -1;
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    /* The command name may hold spaces: fields count from the last ')'. */
    char *p = strrchr(buf, ')');
    unsigned long ut = 0, st = 0;
    if (p && sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) == 2)
        ret = (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
    return ret;
}

/* A /proc/PID/status field in kB (VmHWM, VmRSS), -1 when unreadable. */
static long proc_status_kb(int pid, const char *field)
{
    char path[64], line[256];
    long v = -1;
    size_t fl = strlen(field);
    snprintf(path, sizeof path, "/proc/%d/status", pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    while (fgets(line, sizeof line, f))
        if (!strncmp(line, field, fl) && line[fl] == ':')
            v = strtol(line + fl + 1, NULL, 10);
    fclose(f);
    return v;
}

static size_t on_text(char *p, size_t sz, size_t nm, void *ud)
{
    buf_append(ud, p, sz * nm);
    return sz * nm;
}

/* GET url (the server's /metrics) into a malloc'd string, NULL on failure. */
static char *http_get_text(const char *url)
{
    aro_buf b = {0};
    char *ret = NULL;
    CURL *h = curl_easy_init();
    if (!h)
        goto out;
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_CAINFO, O.ca);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, 10L);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_text);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &b);
    long status = 0;
    if (curl_easy_perform(h) != CURLE_OK)
        goto out;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    if (status != 200)
        goto out;
    buf_append(&b, "", 1);
    ret = buf_steal(&b);
out:
    if (h)
        curl_easy_cleanup(h);
    buf_free(&b);
    return ret;
}

/* Value of the series named exactly key ("name{labels}") in a metrics text. */
static double metric_value(const char *text, const char *key, bool *found)
{
    size_t kl = strlen(key);
    for (const char *p = text; p && *p;) {
        const char *e = strchr(p, '\n');
        size_t ll = e ? (size_t)(e - p) : strlen(p);
        if (*p != '#' && ll > kl && !strncmp(p, key, kl) && p[kl] == ' ') {
            *found = true;
            return strtod(p + kl + 1, NULL);
        }
        p = e ? e + 1 : NULL;
    }
    *found = false;
    return 0;
}

/* Every series of after, minus its value in before, as JSON members. */
static void metrics_delta(json_gen *g, const char *before, const char *after)
{
    jg_obj_open(g);
    for (const char *p = after; p && *p;) {
        const char *e = strchr(p, '\n');
        size_t ll = e ? (size_t)(e - p) : strlen(p);
        const char *sp = memrchr(p, ' ', ll);
        if (*p != '#' && sp && sp > p) {
            char *key = xstrndup(p, (size_t)(sp - p));
            bool found;
            double a = strtod(sp + 1, NULL), b = metric_value(before, key, &found);
            if (a - b != 0) {
                jg_key(g, key);
                jg_int(g, (long long)(a - b));
            }
            free(key);
        }
        p = e ? e + 1 : NULL;
    }
    jg_obj_close(g);
}

/* ---- one worker's ACME session ------------------------------------------ */

static int next_flow;
static double run_deadline;     /* monotonic; 0: no duration */

/* Add one flow's result to its scenario's counts. */
static void record_flow(const flow_result *fr)
{
    sc_stats *s = &R.sc[fr->sc];
    s->flows++;
    s->orders += fr->orders;
    s->attempts += fr->attempts;
    s->requests += fr->requests;
    s->requests_sq += (double)fr->requests * (double)fr->requests;
    s->polls += fr->polls;
    s->reenables += fr->reenables;
    s->deactivations += fr->deactivations;
    if (fr->rc == 0) {
        s->issued++;
        if (s->nlat == s->caplat) {
            s->caplat = s->caplat ? s->caplat * 2 : 256;
            s->lat = xrealloc(s->lat, s->caplat * sizeof(double));
        }
        s->lat[s->nlat++] = fr->seconds;
    } else {
        s->failed++;
        s->fail_time += fr->seconds;
        if (fr->rc < 0) {
            R.flow_errors++;
            if (!R.first_error[0])
                snprintf(R.first_error, sizeof R.first_error, "%s", fr->error);
        }
    }
    if (fr->rc != 0)
        count_problem(fr->rc < 0 ? "flow-error" : fr->problem[0] ? fr->problem : "unknown");
}

static int account_create(worker *w)
{
    acme_resp r = {.retry_after = -1};
    aro_err err;
    int ret = -1;
    if (acme_post_key(&w->acme, w->key, NULL, w->acme.dir.new_account,
                      "{\"termsOfServiceAgreed\":true}", &r, &err) || !r.location) {
        fprintf(stderr, "aro-loadgen: worker %d: newAccount: %s\n", w->id,
                r.location ? err.msg : "no Location");
        goto out;
    }
    w->acme.kid = xstrdup(r.location);
    ret = 0;
out:
    acme_resp_clear(&r);
    return ret;
}

/* A worker's first coroutine: its connection, the directory, its account. */
static void worker_setup(void *arg)
{
    worker *w = arg;
    aro_err err;
    w->ok = 0;
    w->acme.driver = &sched_driver;
    if (acme_open(&w->acme, O.directory, O.ca, &err)) {
        fprintf(stderr, "aro-loadgen: worker %d: %s\n", w->id, err.msg);
        return;
    }
    w->acme.max_wait = MAX_WAIT_S;
    /* A server that stops answering (Pebble 2.4 can hang under load) must
     * end the run, not stall it for acme.c's two minutes. */
    curl_easy_setopt(w->acme.curl, CURLOPT_TIMEOUT, O.timeout);
    /* From the account on: the directory came over HTTP/2, and curl does
     * not reuse an HTTP/2 connection for a transfer that wants 1.1 (the
     * directory's stays open, idle, until the run ends). */
    if (O.http1)
        curl_easy_setopt(w->acme.curl, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
    w->acme.key = w->key;
    w->ok = account_create(w) == 0;
}

/* Its second: flows, one after another, until the run's count or time is
 * up. */
static void worker_flows(void *arg)
{
    worker *w = arg;
    while (w->ok) {
        int idx = next_flow++;
        if (O.duration > 0 ? now_mono() >= run_deadline : idx >= O.flows)
            break;
        flow_result fr;
        flow_run(w, idx, &fr);
        record_flow(&fr);
    }
}

/* ---- report -------------------------------------------------------------- */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double pct(const double *v, size_t n, double p)
{
    if (!n)
        return 0;
    size_t i = (size_t)(p / 100.0 * (double)(n - 1) + 0.5);
    return v[i < n ? i : n - 1];
}

static void lat_json(json_gen *g, double *v, size_t n)
{
    if (n)
        qsort(v, n, sizeof *v, cmp_double);
    double sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += v[i];
    jg_key(g, "latency");
    jg_obj_open(g);
    jg_kv_int(g, "p50_us", (long long)(pct(v, n, 50) * 1e6));
    jg_kv_int(g, "p90_us", (long long)(pct(v, n, 90) * 1e6));
    jg_kv_int(g, "p99_us", (long long)(pct(v, n, 99) * 1e6));
    jg_kv_int(g, "max_us", (long long)(n ? v[n - 1] * 1e6 : 0));
    double mean = n ? sum / (double)n : 0, sq = 0;
    for (size_t i = 0; i < n; i++)
        sq += (v[i] - mean) * (v[i] - mean);
    jg_kv_int(g, "mean_us", (long long)(mean * 1e6));
    jg_kv_int(g, "sd_us", (long long)(n > 1 ? sqrt(sq / (double)(n - 1)) * 1e6 : 0));
    jg_obj_close(g);
}

static void usage(void)
{
    fprintf(stderr,
            "usage: aro-loadgen --directory URL --ca FILE --http-port N [options]\n"
            "  --concurrency C      workers (one account each, one request at a time), default 1\n"
            "  --flows N            flows to run (default 10), or --duration S\n"
            "  --names K            names per order (default 1)\n"
            "  --mix h,b,t,z        percent healthy,blocked,transient,zombie (default 100,0,0,0)\n"
            "  --arm A              legacy | legacy-deactivate | legacy-single | retry-options |\n"
            "                       pending-hold | preauth | preauth-retry-options | preauth-hold\n"
            "  --max-orders N       legacy and preauth fallback bound (default 3)\n"
            "  --challtestsrv URL   pebble-challtestsrv management (for dns-01)\n"
            "  --metrics URL        the server's /metrics, read before and after\n"
            "  --server-pid PID     read CPU time and peak RSS from /proc\n"
            "  --prefix STR         name prefix (unique per run)\n"
            "  --poll-ms A,B        first poll delay and cap in ms (default 2,50)\n"
            "  --timeout S          per HTTP request (default 20)\n"
            "  --http1.1            HTTP/1.1 (as certbot) instead of HTTP/2 (as lego, curl)\n");
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"directory", 1, 0, 'd'}, {"ca", 1, 0, 'a'}, {"http-port", 1, 0, 'p'},
        {"concurrency", 1, 0, 'c'}, {"flows", 1, 0, 'n'}, {"duration", 1, 0, 'D'},
        {"names", 1, 0, 'k'}, {"mix", 1, 0, 'm'}, {"arm", 1, 0, 'A'},
        {"max-orders", 1, 0, 'o'}, {"challtestsrv", 1, 0, 'C'}, {"metrics", 1, 0, 'M'},
        {"server-pid", 1, 0, 'P'}, {"prefix", 1, 0, 'x'}, {"poll-ms", 1, 0, 'l'},
        {"timeout", 1, 0, 't'}, {"http1.1", 0, 0, '1'}, {"help", 0, 0, 'h'}, {0, 0, 0, 0}};
    int o, ret = 2, nw = 0;
    worker *ws = NULL;
    char *m_before = NULL, *m_after = NULL, *prefix = NULL, *out = NULL;
    bool sched = false, resp = false;

    while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (o) {
        case 'd': O.directory = optarg; break;
        case 'a': O.ca = optarg; break;
        case 'p': O.http_port = atoi(optarg); break;
        case 'c': O.concurrency = atoi(optarg); break;
        case 'n': O.flows = atoi(optarg); break;
        case 'D': O.duration = atof(optarg); break;
        case 'k': O.names = atoi(optarg); break;
        case 'm':
            if (sscanf(optarg, "%u,%u,%u,%u", &O.mix[0], &O.mix[1], &O.mix[2], &O.mix[3]) != 4 ||
                O.mix[0] + O.mix[1] + O.mix[2] + O.mix[3] != 100) {
                fprintf(stderr, "aro-loadgen: --mix takes four percentages adding up to 100\n");
                goto out;
            }
            break;
        case 'A':
            O.arm = ARM__COUNT;
            for (int i = 0; i < ARM__COUNT; i++)
                if (!strcmp(optarg, arm_names[i]))
                    O.arm = (arm_kind)i;
            if (O.arm == ARM__COUNT) {
                fprintf(stderr, "aro-loadgen: unknown arm %s\n", optarg);
                goto out;
            }
            break;
        case 'o': O.max_orders = atoi(optarg); break;
        case 'C': O.challtestsrv = optarg; break;
        case 'M': O.metrics = optarg; break;
        case 'P': O.server_pid = atoi(optarg); break;
        case 'x': O.prefix = optarg; break;
        case '1': O.http1 = true; break;
        case 't': O.timeout = atol(optarg) > 0 ? atol(optarg) : 20; break;
        case 'l': {
            double a = 0, b = 0;
            if (sscanf(optarg, "%lf,%lf", &a, &b) != 2 || a <= 0 || b < a) {
                fprintf(stderr, "aro-loadgen: --poll-ms takes FIRST,CAP\n");
                goto out;
            }
            O.poll_first = a / 1000;
            O.poll_cap = b / 1000;
            break;
        }
        default: usage(); goto out;
        }
    }
    if (!O.directory || !O.ca || O.http_port <= 0 || O.concurrency < 1 ||
        O.concurrency > MAX_WORKERS || O.names < 1 || O.names > MAX_NAMES || O.max_orders < 1 ||
        (O.duration <= 0 && O.flows < 1)) {
        usage();
        goto out;
    }
    if ((O.mix[SC_BLOCKED] || O.names > 1) && !O.challtestsrv) {
        fprintf(stderr, "aro-loadgen: dns-01 (blocked, multi-name) needs --challtestsrv\n");
        goto out;
    }
    if (!O.prefix) {
        unsigned char rb[3];
        random_bytes(rb, sizeof rb);
        O.prefix = prefix = xasprintf("lg%02x%02x%02x-", rb[0], rb[1], rb[2]);
    }
    signal(SIGPIPE, SIG_IGN);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    if (resp_start(O.http_port))
        goto out;
    resp = true;

    nw = O.concurrency;
    ws = xcalloc((size_t)nw, sizeof *ws);
    /* Each worker keeps two connections: the ACME one and, for dns-01,
     * the one to challtestsrv's management API. */
    if (sched_init(2 * nw + 8)) {
        fprintf(stderr, "aro-loadgen: no curl multi handle\n");
        goto out;
    }
    sched = true;
    double t_acc = now_mono();
    for (int i = 0; i < nw; i++) {
        ws[i].id = i;
        ws[i].key = key_generate(KEY_EC256);
        ws[i].cert_key = key_generate(KEY_EC256);
        ws[i].cts = curl_easy_init();
        if (!ws[i].key || !ws[i].cert_key || !ws[i].cts || !X509_PUBKEY_set(&ws[i].cert_spki, ws[i].cert_key)) {
            fprintf(stderr, "aro-loadgen: cannot set up worker %d\n", i);
            goto out;
        }
        curl_easy_setopt(ws[i].cts, CURLOPT_TIMEOUT, 10L);
        curl_easy_setopt(ws[i].cts, CURLOPT_NOSIGNAL, 1L);
        sched_spawn(worker_setup, &ws[i]);
    }
    sched_run();                            /* accounts exist */
    double accounts_s = now_mono() - t_acc;
    int ok_workers = 0;
    for (int i = 0; i < nw; i++)
        ok_workers += ws[i].ok;
    if (O.metrics)
        m_before = http_get_text(O.metrics);
    double cpu0 = O.server_pid ? proc_cpu(O.server_pid) : -1;
    struct rusage ru0, ru1;
    getrusage(RUSAGE_SELF, &ru0);
    double t0 = now_mono();
    run_deadline = O.duration > 0 ? t0 + O.duration : 0;
    for (int i = 0; i < nw; i++)
        sched_spawn(worker_flows, &ws[i]);
    sched_run();
    double wall = now_mono() - t0;
    double cpu1 = O.server_pid ? proc_cpu(O.server_pid) : -1;
    getrusage(RUSAGE_SELF, &ru1);
    long hwm = O.server_pid ? proc_status_kb(O.server_pid, "VmHWM") : -1;
    if (O.metrics)
        m_after = http_get_text(O.metrics);

    /* The report. */
    json_gen *g = jg_new();
    unsigned issued = 0, flows = 0;
    double *all = NULL;
    size_t nall = 0;
    for (int s = 0; s < SC__COUNT; s++) {
        issued += R.sc[s].issued;
        flows += R.sc[s].flows;
        all = xrealloc(all, (nall + R.sc[s].nlat + 1) * sizeof(double));
        if (R.sc[s].nlat)       /* lat is NULL when nothing was issued */
            memcpy(all + nall, R.sc[s].lat, R.sc[s].nlat * sizeof(double));
        nall += R.sc[s].nlat;
    }
    char num[64];
    jg_obj_open(g);
    jg_kv_str(g, "directory", O.directory);
    jg_kv_str(g, "arm", arm_names[O.arm]);
    jg_kv_int(g, "concurrency", O.concurrency);
    jg_kv_int(g, "names_per_order", O.names);
    jg_kv_int(g, "workers_with_account", ok_workers);
    jg_kv_int(g, "accounts_ms", (long long)(accounts_s * 1000));
    jg_kv_int(g, "flows", flows);
    jg_kv_int(g, "issued", issued);
    jg_kv_int(g, "flow_errors", (long long)R.flow_errors);
    jg_kv_str(g, "first_error", R.first_error[0] ? R.first_error : NULL);
    jg_kv_int(g, "wall_us", (long long)(wall * 1e6));
    snprintf(num, sizeof num, "%.3f", wall > 0 ? issued / wall : 0);
    jg_kv_str(g, "certs_per_second", num);
    lat_json(g, all, nall);
    jg_key(g, "server");
    jg_obj_open(g);
    jg_kv_int(g, "pid", O.server_pid);
    jg_kv_int(g, "cpu_us", cpu0 >= 0 && cpu1 >= 0 ? (long long)((cpu1 - cpu0) * 1e6) : -1);
    jg_kv_int(g, "peak_rss_kb", hwm);
    jg_obj_close(g);
    double ccpu = (double)(ru1.ru_utime.tv_sec - ru0.ru_utime.tv_sec + ru1.ru_stime.tv_sec -
                           ru0.ru_stime.tv_sec) +
                  (double)(ru1.ru_utime.tv_usec - ru0.ru_utime.tv_usec + ru1.ru_stime.tv_usec -
                           ru0.ru_stime.tv_usec) / 1e6;
    jg_kv_int(g, "loadgen_cpu_us", (long long)(ccpu * 1e6));
    jg_kv_int(g, "http01_served", (long long)atomic_load(&H.served));
    jg_kv_int(g, "http01_refused", (long long)atomic_load(&H.refused));
    jg_kv_int(g, "http01_reset", (long long)atomic_load(&H.reset));
    jg_key(g, "scenarios");
    jg_obj_open(g);
    for (int s = 0; s < SC__COUNT; s++) {
        sc_stats *st = &R.sc[s];
        if (!st->flows)
            continue;
        jg_key(g, scenario_names[s]);
        jg_obj_open(g);
        jg_kv_int(g, "flows", st->flows);
        jg_kv_int(g, "issued", st->issued);
        jg_kv_int(g, "failed", st->failed);
        jg_kv_int(g, "orders", (long long)st->orders);
        jg_kv_int(g, "validation_attempts", (long long)st->attempts);
        jg_kv_int(g, "client_requests", (long long)st->requests);
        jg_kv_int(g, "client_requests_sq", (long long)st->requests_sq);
        jg_kv_int(g, "polls", (long long)st->polls);
        jg_kv_int(g, "reenables", (long long)st->reenables);
        jg_kv_int(g, "deactivations", (long long)st->deactivations);
        jg_kv_int(g, "failed_flow_time_us", (long long)(st->fail_time * 1e6));
        lat_json(g, st->lat, st->nlat);
        jg_obj_close(g);
    }
    jg_obj_close(g);
    jg_key(g, "problems");
    jg_obj_open(g);
    for (size_t i = 0; i < R.nprob; i++)
        jg_kv_int(g, R.prob_name[i], (long long)R.prob_count[i]);
    jg_obj_close(g);
    if (m_before && m_after) {
        jg_key(g, "metrics_delta");
        metrics_delta(g, m_before, m_after);
    }
    jg_obj_close(g);
    out = jg_finish(g, NULL);
    free(all);
    if (!out) {
        fprintf(stderr, "aro-loadgen: cannot write the report\n");
        goto out;
    }
    printf("%s\n", out);
    ret = issued > 0 || flows == 0 || R.sc[SC_ZOMBIE].flows == flows ? 0 : 1;
out:
    if (resp)
        resp_stop();
    for (int i = 0; ws && i < nw; i++) {
        if (ws[i].acme.curl)
            acme_close(&ws[i].acme);
        EVP_PKEY_free(ws[i].key);
        EVP_PKEY_free(ws[i].cert_key);
        X509_PUBKEY_free(ws[i].cert_spki);
        if (ws[i].cts)
            curl_easy_cleanup(ws[i].cts);
    }
    if (sched)
        sched_cleanup();
    for (int s = 0; s < SC__COUNT; s++)
        free(R.sc[s].lat);
    for (size_t i = 0; i < R.nprob; i++)
        free(R.prob_name[i]);
    free(ws);
    free(m_before);
    free(m_after);
    free(prefix);
    free(out);
    if (resp)
        curl_global_cleanup();
    return ret;
}
