#include "mpic/remote.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* An answer is two small determinations; anything larger is not one. */
#define MAX_ANSWER (64 * 1024)

typedef struct {
    CURL *easy;
    aro_buf answer;
    bool too_long;
    char errbuf[CURL_ERROR_SIZE];
    struct curl_slist *connect_to, *headers;
    char *url;
} call;

struct remote_round {
    pthread_mutex_t lock;
    pthread_cond_t changed;
    pthread_t thread;
    atomic_bool stop;
    CURLM *multi;
    size_t n;
    bool caa, ended;
    long timeout_ms;
    mpic_remote *results;   /* under lock while the thread runs */
    call *calls;
    char *body;
    struct timespec t0;
};

static double since(const struct timespec *t0)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - t0->tv_sec) + (double)(t.tv_nsec - t0->tv_nsec) / 1e9;
}

static size_t on_answer(char *data, size_t size, size_t nmemb, void *arg)
{
    call *c = arg;
    size_t len = size * nmemb;
    if (c->answer.len + len > MAX_ANSWER) {
        c->too_long = true;
        return 0;
    }
    buf_append(&c->answer, data, len);
    return len;
}

static void blob(CURL *e, CURLoption opt, const char *pem)
{
    struct curl_blob b = {.data = (void *)pem, .len = strlen(pem), .flags = CURL_BLOB_COPY};
    curl_easy_setopt(e, opt, &b);
}

static void call_setup(remote_round *r, size_t i, const remote_target *t, const channel_credentials *cred)
{
    call *c = &r->calls[i];
    CURL *e = c->easy = curl_easy_init();
    if (!e)
        abort(); /* like every allocation here (util.h) */
    /* The URL names the perspective, so that TLS checks its certificate
     * against that name; CONNECT_TO says where it is. */
    c->url = xasprintf("https://%s/validate", t->name);
    char *to = xasprintf("%s::%s", t->name, t->address);
    c->connect_to = curl_slist_append(NULL, to);
    free(to);
    c->headers = curl_slist_append(NULL, "Content-Type: application/json");
    curl_easy_setopt(e, CURLOPT_URL, c->url);
    curl_easy_setopt(e, CURLOPT_CONNECT_TO, c->connect_to);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, c->headers);
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, r->body);
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)strlen(r->body));
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "https");
    curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
    /* Mutual TLS 1.3 under the channel's root and nothing else: no
     * system trust store, so no publicly trusted certificate, and no
     * certificate of the ACME hierarchy, can pass for a perspective. */
    curl_easy_setopt(e, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_3);
    curl_easy_setopt(e, CURLOPT_CAPATH, NULL);
    blob(e, CURLOPT_CAINFO_BLOB, cred->ca_pem);
    blob(e, CURLOPT_SSLCERT_BLOB, cred->cert_pem);
    blob(e, CURLOPT_SSLKEY_BLOB, cred->key_pem);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, r->timeout_ms);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, r->timeout_ms);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_PROXY, "");
    curl_easy_setopt(e, CURLOPT_USERAGENT, "aro-server primary");
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, c->errbuf);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_answer);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, c);
    curl_easy_setopt(e, CURLOPT_PRIVATE, (void *)i);
    curl_multi_add_handle(r->multi, e);
}

/* On the round's thread: what call i's end means. */
static void call_done(remote_round *r, size_t i, CURLcode code)
{
    call *c = &r->calls[i];
    mpic_remote res = {.name = r->results[i].name, .state = REMOTE_FAILED, .seconds = since(&r->t0)};
    long status = 0;
    aro_err err = {{0}};
    if (code == CURLE_OPERATION_TIMEDOUT)
        res.failure = problem_new("serverInternal", 500, "no answer within %ld ms", r->timeout_ms);
    else if (code != CURLE_OK)
        res.failure = problem_new("serverInternal", 500, "cannot ask it: %s",
                                  c->too_long ? "answer too long" : c->errbuf[0] ? c->errbuf : curl_easy_strerror(code));
    else if (curl_easy_getinfo(c->easy, CURLINFO_RESPONSE_CODE, &status), status != 200)
        res.failure = problem_new("serverInternal", 500, "it answered with HTTP status %ld", status);
    else if (mpic_view_from_json(c->answer.data ? c->answer.data : "", c->answer.len, r->caa, &res.view, &err) < 0)
        res.failure = problem_new("serverInternal", 500, "unreadable answer: %s", err.msg);
    else
        res.state = REMOTE_ANSWERED;
    pthread_mutex_lock(&r->lock);
    r->results[i] = res;
    pthread_cond_broadcast(&r->changed);
    pthread_mutex_unlock(&r->lock);
}

static void *drive(void *arg)
{
    remote_round *r = arg;
    while (!atomic_load(&r->stop)) {
        int running = 0, left;
        curl_multi_perform(r->multi, &running);
        CURLMsg *m;
        while ((m = curl_multi_info_read(r->multi, &left))) {
            if (m->msg != CURLMSG_DONE)
                continue;
            void *priv = NULL;
            curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, &priv);
            call_done(r, (size_t)priv, m->data.result);
        }
        if (running == 0)
            break;
        /* Every transfer has its own timeout; the second bounds a wait for
         * a wakeup that never comes. */
        curl_multi_poll(r->multi, NULL, 0, 1000, NULL);
    }
    pthread_mutex_lock(&r->lock);
    r->ended = true;
    pthread_cond_broadcast(&r->changed);
    pthread_mutex_unlock(&r->lock);
    return NULL;
}

remote_round *remote_round_start(const remote_target *targets, size_t n, const channel_credentials *cred,
                                 long timeout_ms, const char *body, bool caa)
{
    remote_round *r = xcalloc(1, sizeof(*r));
    pthread_mutex_init(&r->lock, NULL);
    pthread_cond_init(&r->changed, NULL);
    clock_gettime(CLOCK_MONOTONIC, &r->t0);
    r->n = n;
    r->caa = caa;
    r->timeout_ms = timeout_ms;
    r->body = xstrdup(body);
    r->results = xcalloc(n + 1, sizeof(*r->results));
    r->calls = xcalloc(n + 1, sizeof(*r->calls));
    r->multi = curl_multi_init();
    if (!r->multi)
        abort();
    for (size_t i = 0; i < n; i++) {
        r->results[i].name = targets[i].name;
        r->results[i].state = REMOTE_PENDING;
        r->results[i].view.challenge.dns_negative_ttl = -1;
        call_setup(r, i, &targets[i], cred);
    }
    if (pthread_create(&r->thread, NULL, drive, r) != 0)
        abort();
    return r;
}

void remote_round_wait(remote_round *r)
{
    pthread_mutex_lock(&r->lock);
    while (!r->ended && mpic_quorum(r->results, r->n, r->caa) == QUORUM_OPEN)
        pthread_cond_wait(&r->changed, &r->lock);
    pthread_mutex_unlock(&r->lock);
}

mpic_remote *remote_round_finish(remote_round *r)
{
    atomic_store(&r->stop, true);
    curl_multi_wakeup(r->multi);
    pthread_join(r->thread, NULL);
    double elapsed = since(&r->t0);
    for (size_t i = 0; i < r->n; i++) {
        if (r->results[i].state == REMOTE_PENDING) {
            r->results[i].state = REMOTE_ABANDONED;
            r->results[i].seconds = elapsed;
        }
        call *c = &r->calls[i];
        curl_multi_remove_handle(r->multi, c->easy);
        curl_easy_cleanup(c->easy);
        curl_slist_free_all(c->connect_to);
        curl_slist_free_all(c->headers);
        buf_free(&c->answer);
        free(c->url);
    }
    curl_multi_cleanup(r->multi);
    mpic_remote *results = r->results;
    pthread_mutex_destroy(&r->lock);
    pthread_cond_destroy(&r->changed);
    free(r->calls);
    free(r->body);
    free(r);
    return results;
}

void remote_results_free(mpic_remote *r, size_t n)
{
    for (size_t i = 0; r && i < n; i++) {
        mpic_view_clear(&r[i].view);
        problem_free(r[i].failure);
    }
    free(r);
}
