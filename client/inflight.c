#include "inflight.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "json.h"
#include "keys.h"
#include "msg.h"
#include "strv.h"

/* "SERVER NAME,NAME,..." with the names sorted: their order in the
 * command does not make another order. */
static char *record_key(const char *server, char *const *names, size_t n)
{
    char **sorted = NULL;
    size_t ns = 0;
    for (size_t i = 0; i < n; i++)
        strv_push(&sorted, &ns, names[i]);
    for (size_t i = 1; i < ns; i++)
        for (size_t j = i; j > 0 && strcmp(sorted[j - 1], sorted[j]) > 0; j--) {
            char *t = sorted[j];
            sorted[j] = sorted[j - 1];
            sorted[j - 1] = t;
        }
    aro_buf b = {0};
    buf_printf(&b, "%s ", server);
    for (size_t i = 0; i < ns; i++)
        buf_printf(&b, "%s%s", i ? "," : "", sorted[i]);
    strv_free(sorted, ns);
    return buf_steal(&b);
}

static char *key_path(session *S, char *const *names)
{
    char *dir = state_cert_dir(S->st, names[0]);
    char *p = xasprintf("%s/pending-key.pem", dir);
    free(dir);
    return p;
}

char *inflight_find(session *S, char *const *names, size_t n)
{
    char *k = record_key(S->o->server, names, n), *json = NULL, *url = NULL;
    aro_err err;
    if (state_inflight_get(S->st, k, &json, &err) == 0) {
        yajl_val v = json_parse(json, strlen(json), &err);
        url = xstrdup(json_str(v, "order"));
        json_free(v);
    }
    free(json);
    free(k);
    return url;
}

void inflight_record(session *S, char *const *names, size_t n, const char *order_url)
{
    char *k = record_key(S->o->server, names, n);
    json_gen *g = jg_new();
    jg_obj_open(g);
    jg_kv_str(g, "order", order_url);
    jg_obj_close(g);
    char *json = jg_finish(g, NULL);
    aro_err err;
    if (!json || state_inflight_put(S->st, k, json, &err))
        msg_warn("cannot record the order %s in the state: a rerun will not resume it", order_url);
    free(json);
    free(k);
}

void inflight_forget(session *S, char *const *names, size_t n)
{
    char *k = record_key(S->o->server, names, n), *p = key_path(S, names);
    aro_err err;
    if (state_inflight_del(S->st, k, &err))
        msg_warn("%s", err.msg);
    unlink(p);
    free(p);
    free(k);
}

EVP_PKEY *inflight_cert_key(session *S, char *const *names, bool resume, aro_err *err)
{
    char *p = key_path(S, names);
    EVP_PKEY *k = NULL;
    if (resume && access(p, F_OK) == 0) {
        if ((k = key_load_pem(p, err)))
            msg_info("using the certificate key %s saved by the interrupted run", p);
    } else if (!(k = key_generate(S->o->cert_key_type))) {
        aro_err_set(err, "cannot generate a %s certificate key", key_type_name(S->o->cert_key_type));
    } else if (state_key_save(k, p, err)) {
        EVP_PKEY_free(k);
        k = NULL;
    }
    free(p);
    return k;
}
