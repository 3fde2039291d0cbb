#include "state.h"

#include <errno.h>
#include <lmdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "keys.h"

struct state {
    char *dir;
    MDB_env *env;
    MDB_dbi accounts, stats, certs, inflight;
};

char *state_default_dir(void)
{
    const char *x = getenv("XDG_DATA_HOME");
    if (x && *x)
        return xasprintf("%s/aro", x);
    const char *h = getenv("HOME");
    return xasprintf("%s/.local/share/aro", h && *h ? h : ".");
}

const char *state_dir(const state *s)
{
    return s->dir;
}

state *state_open(const char *dir, aro_err *err)
{
    state *s = xcalloc(1, sizeof *s);
    MDB_txn *txn = NULL;
    char *path = NULL;
    int rc;
    s->dir = xstrdup(dir);
    if (mkdir_p(dir, 0700)) {
        aro_err_set(err, "cannot create the state directory %s: %s", dir, strerror(errno));
        goto fail;
    }
    path = xasprintf("%s/store.mdb", dir);
    if ((rc = mdb_env_create(&s->env)) || (rc = mdb_env_set_maxdbs(s->env, 8)) ||
        /* The default map is tiny (dependency-notes.md); the file grows only as used. */
        (rc = mdb_env_set_mapsize(s->env, (size_t)64 << 20)) ||
        (rc = mdb_env_open(s->env, path, MDB_NOSUBDIR | MDB_NOTLS, 0600))) {
        aro_err_set(err, "cannot open the store %s: %s", path, mdb_strerror(rc));
        goto fail;
    }
    int dead;
    mdb_reader_check(s->env, &dead);
    /* Open every named database once, in one write transaction. */
    if ((rc = mdb_txn_begin(s->env, NULL, 0, &txn)) ||
        (rc = mdb_dbi_open(txn, "accounts", MDB_CREATE, &s->accounts)) ||
        (rc = mdb_dbi_open(txn, "stats", MDB_CREATE, &s->stats)) ||
        (rc = mdb_dbi_open(txn, "certs", MDB_CREATE, &s->certs)) ||
        (rc = mdb_dbi_open(txn, "inflight", MDB_CREATE, &s->inflight))) {
        aro_err_set(err, "cannot open the store's databases: %s", mdb_strerror(rc));
        goto fail;
    }
    rc = mdb_txn_commit(txn);
    txn = NULL;
    if (rc) {
        aro_err_set(err, "cannot initialise the store: %s", mdb_strerror(rc));
        goto fail;
    }
    free(path);
    return s;
fail:
    if (txn)
        mdb_txn_abort(txn);
    free(path);
    state_close(s);
    return NULL;
}

void state_close(state *s)
{
    if (!s)
        return;
    if (s->env)
        mdb_env_close(s->env);
    free(s->dir);
    free(s);
}

static int kv_put(state *s, MDB_dbi dbi, const char *key, const void *val, size_t len,
                  aro_err *err)
{
    MDB_txn *txn;
    MDB_val k = {.mv_size = strlen(key), .mv_data = (void *)key};
    MDB_val v = {.mv_size = len, .mv_data = (void *)val};
    int rc = mdb_txn_begin(s->env, NULL, 0, &txn);
    if (!rc && (rc = mdb_put(txn, dbi, &k, &v, 0)))
        mdb_txn_abort(txn);
    else if (!rc)
        rc = mdb_txn_commit(txn); /* frees txn even on failure */
    if (rc) {
        aro_err_set(err, "store write of \"%.100s\" failed: %s", key, mdb_strerror(rc));
        return -1;
    }
    return 0;
}

/* 0 found (malloc'd copy, NUL-terminated), 1 absent, -1 error. */
static int kv_get(state *s, MDB_dbi dbi, const char *key, char **out, size_t *len, aro_err *err)
{
    MDB_txn *txn;
    MDB_val k = {.mv_size = strlen(key), .mv_data = (void *)key}, v;
    int rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn);
    if (rc) {
        aro_err_set(err, "store read failed: %s", mdb_strerror(rc));
        return -1;
    }
    rc = mdb_get(txn, dbi, &k, &v);
    if (rc == 0) {
        /* mdb_get data lives in the map and dies with the transaction. */
        *out = xstrndup(v.mv_data, v.mv_size);
        if (len)
            *len = v.mv_size;
    }
    mdb_txn_abort(txn);
    if (rc == MDB_NOTFOUND)
        return 1;
    if (rc) {
        aro_err_set(err, "store read of \"%.100s\" failed: %s", key, mdb_strerror(rc));
        return -1;
    }
    return 0;
}

static int kv_del(state *s, MDB_dbi dbi, const char *key, aro_err *err)
{
    MDB_txn *txn;
    MDB_val k = {.mv_size = strlen(key), .mv_data = (void *)key};
    int rc = mdb_txn_begin(s->env, NULL, 0, &txn);
    if (!rc) {
        rc = mdb_del(txn, dbi, &k, NULL);
        if (rc && rc != MDB_NOTFOUND) {
            mdb_txn_abort(txn);
        } else {
            rc = mdb_txn_commit(txn);
        }
    }
    if (rc) {
        aro_err_set(err, "store delete failed: %s", mdb_strerror(rc));
        return -1;
    }
    return 0;
}

int state_account_get(state *s, const char *server, char **url, aro_err *err)
{
    return kv_get(s, s->accounts, server, url, NULL, err);
}

int state_account_put(state *s, const char *server, const char *url, aro_err *err)
{
    return kv_put(s, s->accounts, server, url, strlen(url), err);
}

int state_account_del(state *s, const char *server, aro_err *err)
{
    return kv_del(s, s->accounts, server, err);
}

/* A URL as one path component: keep [A-Za-z0-9.-], map the rest to '_'. */
static char *file_name_of(const char *s)
{
    const char *p = strstr(s, "://");
    p = p ? p + 3 : s;
    char *out = xstrdup(p);
    for (char *q = out; *q; q++)
        if (!((*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z') || (*q >= '0' && *q <= '9') ||
              *q == '.' || *q == '-'))
            *q = '_';
    if (!strcmp(out, ".") || !strcmp(out, "..") || !*out) {
        free(out);
        out = xstrdup("_");
    }
    return out;
}

char *state_account_key_path(state *s, const char *server)
{
    char *n = file_name_of(server);
    char *p = xasprintf("%s/accounts/%s/key.pem", s->dir, n);
    free(n);
    return p;
}

char *state_cert_dir(state *s, const char *name)
{
    char *n = xstrdup(name);
    for (char *q = n; *q; q++)
        if (*q == '*' || *q == '/')
            *q = '_';
    char *p = xasprintf("%s/certs/%s", s->dir, n);
    free(n);
    return p;
}

static char *stats_key(const char *ca, const char *ident, const char *type)
{
    return xasprintf("%s %s %s", ca, ident, type);
}

int state_stats_get(state *s, const char *ca, const char *ident, const char *type,
                    unsigned *success, unsigned *failure)
{
    char *k = stats_key(ca, ident, type), *v = NULL;
    aro_err err;
    *success = *failure = 0;
    int rc = kv_get(s, s->stats, k, &v, NULL, &err);
    if (rc == 0 && sscanf(v, "%u %u", success, failure) != 2)
        *success = *failure = 0;
    free(k);
    free(v);
    return rc < 0 ? -1 : 0;
}

int state_stats_record(state *s, const char *ca, const char *ident, const char *type,
                       bool success, aro_err *err)
{
    unsigned ok, bad;
    if (state_stats_get(s, ca, ident, type, &ok, &bad))
        ok = bad = 0;
    if (success)
        ok++;
    else
        bad++;
    char *k = stats_key(ca, ident, type);
    char v[64];
    snprintf(v, sizeof v, "%u %u", ok, bad);
    int rc = kv_put(s, s->stats, k, v, strlen(v), err);
    free(k);
    return rc;
}

double state_stats_score(unsigned success, unsigned failure)
{
    return ((double)success + 1.0) / ((double)success + (double)failure + 2.0);
}

int state_cert_put(state *s, const char *name, const char *json, aro_err *err)
{
    return kv_put(s, s->certs, name, json, strlen(json), err);
}

int state_cert_get(state *s, const char *name, char **json, aro_err *err)
{
    return kv_get(s, s->certs, name, json, NULL, err);
}

int state_inflight_put(state *s, const char *key, const char *json, aro_err *err)
{
    return kv_put(s, s->inflight, key, json, strlen(json), err);
}

int state_inflight_get(state *s, const char *key, char **json, aro_err *err)
{
    return kv_get(s, s->inflight, key, json, NULL, err);
}

int state_inflight_del(state *s, const char *key, aro_err *err)
{
    return kv_del(s, s->inflight, key, err);
}

int state_cert_list(state *s, char ***names, size_t *n, aro_err *err)
{
    MDB_txn *txn = NULL;
    MDB_cursor *cur = NULL;
    MDB_val k, v;
    int ret = -1, rc;
    *names = NULL;
    *n = 0;
    if ((rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn)) ||
        (rc = mdb_cursor_open(txn, s->certs, &cur))) {
        aro_err_set(err, "store read failed: %s", mdb_strerror(rc));
        goto out;
    }
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        *names = xrealloc(*names, (*n + 1) * sizeof(char *));
        (*names)[(*n)++] = xstrndup(k.mv_data, k.mv_size);
    }
    if (rc != MDB_NOTFOUND) {
        aro_err_set(err, "store read failed: %s", mdb_strerror(rc));
        goto out;
    }
    ret = 0;
out:
    if (cur)
        mdb_cursor_close(cur);
    if (txn)
        mdb_txn_abort(txn);
    return ret;
}

int state_write_versioned(const char *path, const void *data, size_t len, int mode, int keep,
                          aro_err *err)
{
    int ret = -1;
    char *older = NULL, *newer = NULL;
    struct stat st;
    if (keep > 0 && stat(path, &st) == 0) {
        /* Shift path.(k-1) -> path.k, oldest first, then hard-link the
         * current file as path.1: the current name never disappears, and
         * the rename below replaces it atomically. */
        for (int k = keep; k >= 2; k--) {
            older = xasprintf("%s.%d", path, k);
            newer = xasprintf("%s.%d", path, k - 1);
            if (rename(newer, older) && errno != ENOENT) {
                aro_err_set(err, "cannot keep %s as %s: %s", newer, older, strerror(errno));
                goto out;
            }
            free(older);
            free(newer);
            older = newer = NULL;
        }
        older = xasprintf("%s.1", path);
        unlink(older);
        if (link(path, older)) {
            aro_err_set(err, "cannot keep %s as %s: %s", path, older, strerror(errno));
            goto out;
        }
    }
    if (file_write_atomic(path, data, len, mode, err))
        goto out;
    ret = 0;
out:
    free(older);
    free(newer);
    return ret;
}

int state_key_save(EVP_PKEY *key, const char *path, aro_err *err)
{
    char *dir = xstrdup(path), *slash = strrchr(dir, '/');
    if (slash) {
        *slash = '\0';
        if (mkdir_p(dir, 0700)) {
            aro_err_set(err, "cannot create %s: %s", dir, strerror(errno));
            free(dir);
            return -1;
        }
    }
    free(dir);
    return key_save_pem(key, path, err);
}
