#include "challtest.h"

#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

static size_t discard(char *ptr, size_t size, size_t nmemb, void *ud)
{
    (void)ptr;
    (void)ud;
    return size * nmemb;
}

static size_t keep(char *ptr, size_t size, size_t nmemb, void *ud)
{
    buf_append(ud, ptr, size * nmemb);
    return size * nmemb;
}

/* POST body (consumed) to mgmt+path; the answer's body into out when given. */
static int post_answer(const char *mgmt, const char *path, char *body, aro_buf *out, aro_err *err)
{
    int ret = -1;
    CURL *c = curl_easy_init();
    char *url = xasprintf("%s%s", mgmt, path);
    struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
    long status = 0;
    if (!c || !body) {
        aro_err_set(err, "challtestsrv %s: cannot build the request", path);
        goto out;
    }
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, out ? keep : discard);
    if (out)
        curl_easy_setopt(c, CURLOPT_WRITEDATA, out);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    CURLcode rc = curl_easy_perform(c);
    if (rc != CURLE_OK) {
        aro_err_set(err, "challtestsrv %s: %s", url, curl_easy_strerror(rc));
        goto out;
    }
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    if (status != 200) {
        aro_err_set(err, "challtestsrv %s: HTTP %ld", url, status);
        goto out;
    }
    ret = 0;
out:
    curl_slist_free_all(h);
    if (c)
        curl_easy_cleanup(c);
    free(url);
    free(body);
    return ret;
}

static int post(const char *mgmt, const char *path, char *body, aro_err *err)
{
    return post_answer(mgmt, path, body, NULL, err);
}

/* {"k1": "v1", "k2": "v2"} with the second pair optional. */
static char *obj2(const char *k1, const char *v1, const char *k2, const char *v2)
{
    json_gen *g = jg_new();
    jg_obj_open(g);
    jg_kv_str(g, k1, v1);
    if (k2)
        jg_kv_str(g, k2, v2);
    jg_obj_close(g);
    return jg_finish(g, NULL);
}

static char *fqdn(const char *host)
{
    size_t n = strlen(host);
    return n && host[n - 1] == '.' ? xstrdup(host) : xasprintf("%s.", host);
}

int cts_add_http01(const char *mgmt, const char *token, const char *content, aro_err *err)
{
    return post(mgmt, "/add-http01", obj2("token", token, "content", content), err);
}

int cts_del_http01(const char *mgmt, const char *token, aro_err *err)
{
    return post(mgmt, "/del-http01", obj2("token", token, NULL, NULL), err);
}

int cts_set_txt(const char *mgmt, const char *host, const char *value, aro_err *err)
{
    char *h = fqdn(host);
    int rc = post(mgmt, "/set-txt", obj2("host", h, "value", value), err);
    free(h);
    return rc;
}

int cts_clear_txt(const char *mgmt, const char *host, aro_err *err)
{
    char *h = fqdn(host);
    int rc = post(mgmt, "/clear-txt", obj2("host", h, NULL, NULL), err);
    free(h);
    return rc;
}

int cts_servfail(const char *mgmt, const char *host, int on, aro_err *err)
{
    char *h = fqdn(host);
    int rc = post(mgmt, on ? "/set-servfail" : "/clear-servfail", obj2("host", h, NULL, NULL), err);
    free(h);
    return rc;
}

int cts_clear_history(const char *mgmt, const char *host, aro_err *err)
{
    return post(mgmt, "/clear-request-history", obj2("host", host, NULL, NULL), err);
}

long cts_dns_history_count(const char *mgmt, const char *host, aro_err *err)
{
    aro_buf b = {0};
    long n = -1;
    /* This endpoint takes the name without the trailing dot. */
    if (post_answer(mgmt, "/dns-request-history", obj2("host", host, NULL, NULL), &b, err) == 0) {
        yajl_val v = b.data ? json_parse(b.data, b.len, err) : NULL;
        n = v && YAJL_IS_ARRAY(v) ? (long)v->u.array.len : 0;
        json_free(v);
    }
    buf_free(&b);
    return n;
}

int cts_add_a(const char *mgmt, const char *host, const char *address, aro_err *err)
{
    char *h = fqdn(host);
    json_gen *g = jg_new();
    jg_obj_open(g);
    jg_kv_str(g, "host", h);
    jg_key(g, "addresses");
    jg_arr_open(g);
    jg_str(g, address);
    jg_arr_close(g);
    jg_obj_close(g);
    int rc = post(mgmt, "/add-a", jg_finish(g, NULL), err);
    free(h);
    return rc;
}

int cts_clear_a(const char *mgmt, const char *host, aro_err *err)
{
    char *h = fqdn(host);
    int rc = post(mgmt, "/clear-a", obj2("host", h, NULL, NULL), err);
    free(h);
    return rc;
}
