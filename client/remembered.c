#include "remembered.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "strv.h"

const char *retry_mode_name(retry_mode m)
{
    return m == RETRY_OFF ? "off" : m == RETRY_REENABLE ? "reenable" : "hold";
}

retry_mode retry_mode_from_name(const char *s, retry_mode dflt)
{
    if (!s)
        return dflt;
    return !strcmp(s, "off") ? RETRY_OFF : !strcmp(s, "reenable") ? RETRY_REENABLE
                             : !strcmp(s, "hold") ? RETRY_HOLD : dflt;
}

/* An absolute form of a path (malloc'd): realpath when it exists. */
static char *absolute(const char *p)
{
    if (!p)
        return NULL;
    char buf[PATH_MAX];
    if (realpath(p, buf))
        return xstrdup(buf);
    return xstrdup(p);
}

/* The hook's absolute path when it names a file; a bare name stays one
 * (PATH finds it). */
static char *absolute_program(const char *p)
{
    return p && strchr(p, '/') ? absolute(p) : xstrdup(p);
}

yajl_val remembered_settings(const aro_opts *o)
{
    char *ca = absolute(o->ca_bundle), *web = absolute(o->webroot),
         *hook = absolute_program(o->hook);
    json_gen *g = jg_new();
    jg_obj_open(g);
    jg_kv_str(g, "server", o->server);
    jg_kv_str(g, "caBundle", ca);
    jg_kv_str(g, "keyType", key_type_name(o->cert_key_type));
    jg_kv_str(g, "profile", o->profile);
    jg_kv_str(g, "preferredChain", o->preferred_chain);
    jg_key(g, "challenges");
    jg_arr_open(g);
    for (size_t i = 0; i < o->nchallenges; i++)
        jg_str(g, o->challenges[i]);
    jg_arr_close(g);
    if (o->http_port)
        jg_kv_int(g, "httpPort", o->http_port);
    if (o->tls_alpn_port)
        jg_kv_int(g, "tlsAlpnPort", o->tls_alpn_port);
    jg_kv_str(g, "webroot", web);
    jg_kv_str(g, "bind", o->bind_addr);
    jg_kv_str(g, "hook", hook);
    jg_kv_int(g, "hookTimeout", o->hook_timeout);
    jg_kv_str(g, "deployHook", o->deploy_hook);
    jg_kv_str(g, "retryOptions", retry_mode_name(o->retry));
    if (o->preauthorize)
        jg_kv_bool(g, "preauthorize", true);
    jg_obj_close(g);
    char *s = jg_finish(g, NULL);
    aro_err err;
    yajl_val v = s ? json_parse(s, strlen(s), &err) : NULL;
    free(s);
    free(ca);
    free(web);
    free(hook);
    return v;
}

/* A remembered string, copied into r. */
static const char *keep(remembered *r, const char *s)
{
    if (!s)
        return NULL;
    strv_push(&r->owned, &r->nowned, s);
    return r->owned[r->nowned - 1];
}

void remembered_apply(remembered *r, const aro_opts *cli, const certfiles_meta *m)
{
    memset(r, 0, sizeof *r);
    r->o = *cli;
    aro_opts *o = &r->o;
    yajl_val s = m->settings;
    unsigned given = cli->given;
    const char *server = s ? json_str(s, "server") : m->server;
    const char *key_type = s ? json_str(s, "keyType") : m->key_type;
    long long n;
    aro_err err;
    if (!(given & GIVEN_SERVER) && server)
        o->server = keep(r, server);
    if (!(given & GIVEN_KEY_TYPE) && key_type)
        key_type_from_name(key_type, &o->cert_key_type);
    if (!(given & GIVEN_PROFILE))
        o->profile = keep(r, s ? json_str(s, "profile") : m->profile);
    if (s) {
        if (!(given & GIVEN_CA_BUNDLE))
            o->ca_bundle = keep(r, json_str(s, "caBundle"));
        if (!(given & GIVEN_PREFERRED_CHAIN))
            o->preferred_chain = keep(r, json_str(s, "preferredChain"));
        yajl_val ch = json_member(s, "challenges");
        if (!(given & GIVEN_CHALLENGES) && YAJL_IS_ARRAY(ch) && ch->u.array.len) {
            r->challenges = xcalloc(ch->u.array.len, sizeof *r->challenges);
            o->nchallenges = 0;
            for (size_t i = 0; i < ch->u.array.len; i++)
                if (YAJL_IS_STRING(ch->u.array.values[i]))
                    r->challenges[o->nchallenges++] = keep(r, ch->u.array.values[i]->u.string);
            o->challenges = r->challenges;
        }
        if (!(given & GIVEN_HTTP_PORT))
            o->http_port = json_get_int(s, "httpPort", false, &n, &err) == 0 ? (int)n : 0;
        if (!(given & GIVEN_TLS_ALPN_PORT))
            o->tls_alpn_port = json_get_int(s, "tlsAlpnPort", false, &n, &err) == 0 ? (int)n : 0;
        if (!(given & GIVEN_WEBROOT))
            o->webroot = keep(r, json_str(s, "webroot"));
        if (!(given & GIVEN_BIND))
            o->bind_addr = keep(r, json_str(s, "bind"));
        if (!(given & GIVEN_HOOK))
            o->hook = keep(r, json_str(s, "hook"));
        if (!(given & GIVEN_HOOK_TIMEOUT) && json_get_int(s, "hookTimeout", false, &n, &err) == 0 &&
            n > 0)
            o->hook_timeout = (long)n;
        if (!(given & GIVEN_DEPLOY_HOOK))
            o->deploy_hook = keep(r, json_str(s, "deployHook"));
        /* Absent (a certificate from before aro remembered them): the
         * defaults, hold and no pre-authorization. */
        if (!(given & GIVEN_RETRY_OPTIONS))
            o->retry = retry_mode_from_name(json_str(s, "retryOptions"), RETRY_HOLD);
        bool pre = false;
        if (!(given & GIVEN_PREAUTHORIZE))
            o->preauthorize = json_get_bool(s, "preauthorize", false, &pre, &err) == 0 && pre;
    }
    o->names = (const char **)m->names;
    o->nnames = m->nnames;
}

void remembered_clear(remembered *r)
{
    strv_free(r->owned, r->nowned);
    free(r->challenges);
    memset(r, 0, sizeof *r);
}
