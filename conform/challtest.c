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

static int post(const char *mgmt, const char *path, char *body, aro_err *err)
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
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
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
