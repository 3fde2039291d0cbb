/* LMDB behind store.h. Notes from building against Debian's liblmdb:
 * the default map is tiny, so set a large map size (the file grows only as
 * used); MDB_NOTLS because event-loop threads may hold several read
 * transactions; open every named database once at start-up. Durable
 * commits (no MDB_NOSYNC): an acknowledged object survives kill -9. */
#include "store/store.h"

#include <errno.h>
#include <lmdb.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

static const char *const table_names[TBL__COUNT] = {
    "accounts", "account_keys", "orders", "account_orders", "authzs", "authz_index",
    "challs",   "certs",        "cert_ari", "limits",       "meta",   "authz_orders",
    "pending",
};

struct store {
    MDB_env *env;
    MDB_dbi dbi[TBL__COUNT];
    _Atomic uint64_t bytes_written;
    _Atomic uint64_t transactions;
    _Atomic uint64_t syncs;
};

struct store_txn {
    store *s;
    MDB_txn *txn;
    bool write;
    bool nested;        /* a child of this thread's batch */
    bool changed;       /* a put or del succeeded */
    uint64_t bytes;
};

/* Why this thread's last store operation failed, for
 * store_failed_for_space. */
static _Thread_local bool tls_out_of_space;

/* Notes an LMDB or system error code; returns it. */
static int noted(int rc)
{
    if (rc == MDB_MAP_FULL || rc == ENOSPC || rc == EDQUOT)
        tls_out_of_space = true;
    return rc;
}

bool store_failed_for_space(void) { return tls_out_of_space; }

typedef struct hook {
    void (*fn)(void *, bool);
    void *arg;
    struct hook *next;
} hook;

/* The batch this thread is running, if any (LMDB write transactions
 * belong to the thread that began them, so a batch is per thread). */
typedef struct {
    store *s;
    MDB_txn *parent;
    uint64_t bytes, txns, changes;
    hook *hooks, **tail;
} batch;

static _Thread_local batch *tls_batch;

store *store_open(const char *dir, size_t map_size, aro_err *err)
{
    store *s = xcalloc(1, sizeof(*s));
    MDB_txn *txn = NULL;
    int rc;
    if (mkdir_p(dir, 0700) < 0) {
        aro_err_set(err, "cannot create %s: %s", dir, strerror(errno));
        goto fail;
    }
    if ((rc = mdb_env_create(&s->env)) || (rc = mdb_env_set_maxdbs(s->env, TBL__COUNT + 2)) ||
        (rc = mdb_env_set_mapsize(s->env, map_size ? map_size : (size_t)16 << 30)) ||
        (rc = mdb_env_set_maxreaders(s->env, 512)) ||
        (rc = mdb_env_open(s->env, dir, MDB_NOTLS, 0600))) {
        aro_err_set(err, "cannot open store in %s: %s", dir, mdb_strerror(rc));
        goto fail;
    }
    int dead = 0;
    mdb_reader_check(s->env, &dead); /* clear reader slots of crashed processes */
    if ((rc = mdb_txn_begin(s->env, NULL, 0, &txn))) {
        aro_err_set(err, "store: %s", mdb_strerror(rc));
        goto fail;
    }
    for (int i = 0; i < TBL__COUNT; i++) {
        if ((rc = mdb_dbi_open(txn, table_names[i], MDB_CREATE, &s->dbi[i]))) {
            aro_err_set(err, "store: table %s: %s", table_names[i], mdb_strerror(rc));
            mdb_txn_abort(txn);
            goto fail;
        }
    }
    if ((rc = mdb_txn_commit(txn))) {
        aro_err_set(err, "store: %s", mdb_strerror(rc));
        goto fail;
    }
    return s;
fail:
    if (s->env)
        mdb_env_close(s->env);
    free(s);
    return NULL;
}

void store_close(store *s)
{
    if (!s)
        return;
    mdb_env_close(s->env);
    free(s);
}

store_txn *store_begin(store *s, bool write)
{
    store_txn *t = xcalloc(1, sizeof(*t));
    t->s = s;
    t->write = write;
    int rc;
    if (tls_batch && tls_batch->s == s) {
        /* Inside a batch even reads are children of the parent write
         * transaction: they see the batch's earlier writes. */
        t->nested = true;
        rc = mdb_txn_begin(s->env, tls_batch->parent, 0, &t->txn);
    } else {
        rc = mdb_txn_begin(s->env, NULL, write ? 0 : MDB_RDONLY, &t->txn);
    }
    if (write)
        tls_out_of_space = false; /* a new attempt: only its own failure counts */
    if (noted(rc)) {
        free(t);
        return NULL;
    }
    return t;
}

int store_commit(store_txn *t, aro_err *err)
{
    int rc = noted(mdb_txn_commit(t->txn)); /* frees the txn even on failure */
    if (rc == 0 && t->nested) {
        /* Merged into the parent; counted when the parent commits. */
        tls_batch->bytes += t->bytes;
        tls_batch->txns += t->write;
        tls_batch->changes += t->changed;
    } else if (rc == 0 && t->write) {
        atomic_fetch_add(&t->s->bytes_written, t->bytes);
        atomic_fetch_add(&t->s->transactions, 1);
        atomic_fetch_add(&t->s->syncs, 1);
    }
    if (rc && err)
        aro_err_set(err, "store commit: %s", mdb_strerror(rc));
    free(t);
    return rc ? -1 : 0;
}

void store_abort(store_txn *t)
{
    if (!t)
        return;
    mdb_txn_abort(t->txn);
    free(t);
}

static MDB_val key_of(const char *key)
{
    MDB_val k = {.mv_size = strlen(key), .mv_data = (void *)key};
    return k;
}

int store_get(store_txn *t, store_table tbl, const char *key, const char **val, size_t *len)
{
    MDB_val k = key_of(key), v;
    if (k.mv_size == 0 || k.mv_size > 511)
        return 1;
    int rc = mdb_get(t->txn, t->s->dbi[tbl], &k, &v);
    if (rc == MDB_NOTFOUND)
        return 1;
    if (rc)
        return -1;
    *val = v.mv_data;
    if (len)
        *len = v.mv_size;
    return 0;
}

int store_put(store_txn *t, store_table tbl, const char *key, const void *val, size_t len)
{
    MDB_val k = key_of(key), v = {.mv_size = len, .mv_data = (void *)val};
    if (k.mv_size == 0 || k.mv_size > 511)
        return -1;
    if (noted(mdb_put(t->txn, t->s->dbi[tbl], &k, &v, 0)))
        return -1;
    t->bytes += k.mv_size + len;
    t->changed = true;
    return 0;
}

int store_del(store_txn *t, store_table tbl, const char *key)
{
    MDB_val k = key_of(key);
    int rc = noted(mdb_del(t->txn, t->s->dbi[tbl], &k, NULL));
    if (rc == 0)
        t->changed = true;
    return (rc == 0 || rc == MDB_NOTFOUND) ? 0 : -1;
}

int store_scan(store_txn *t, store_table tbl, const char *prefix, const char *after,
               int (*cb)(const char *key, size_t klen, const char *val, size_t vlen, void *arg),
               void *arg)
{
    MDB_cursor *cur = NULL;
    size_t plen = strlen(prefix);
    if (mdb_cursor_open(t->txn, t->s->dbi[tbl], &cur))
        return -1;
    MDB_val k = key_of(after ? after : prefix), v;
    int rc = k.mv_size ? mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE) : mdb_cursor_get(cur, &k, &v, MDB_FIRST);
    /* "after" is exclusive */
    if (rc == 0 && after && k.mv_size == strlen(after) && memcmp(k.mv_data, after, k.mv_size) == 0)
        rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
    while (rc == 0) {
        if (k.mv_size < plen || memcmp(k.mv_data, prefix, plen) != 0)
            break;
        if (cb(k.mv_data, k.mv_size, v.mv_data, v.mv_size, arg))
            break;
        rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
    }
    mdb_cursor_close(cur);
    return (rc == 0 || rc == MDB_NOTFOUND) ? 0 : -1;
}

int store_batch_begin(store *s, aro_err *err)
{
    batch *b = xcalloc(1, sizeof(*b));
    b->s = s;
    b->tail = &b->hooks;
    tls_out_of_space = false;
    int rc = noted(mdb_txn_begin(s->env, NULL, 0, &b->parent));
    if (rc) {
        aro_err_set(err, "store batch: %s", mdb_strerror(rc));
        free(b);
        return -1;
    }
    tls_batch = b;
    return 0;
}

int store_batch_commit(store *s, aro_err *err)
{
    batch *b = tls_batch;
    tls_batch = NULL;
    int rc = noted(mdb_txn_commit(b->parent));
    if (rc == 0) {
        atomic_fetch_add(&s->bytes_written, b->bytes);
        atomic_fetch_add(&s->transactions, b->txns);
        atomic_fetch_add(&s->syncs, 1);
    } else if (err) {
        aro_err_set(err, "store batch commit: %s", mdb_strerror(rc));
    }
    for (hook *h = b->hooks, *n; h; h = n) {
        n = h->next;
        h->fn(h->arg, rc == 0);
        free(h);
    }
    free(b);
    return rc ? -1 : 0;
}

bool store_in_batch(const store *s) { return tls_batch && tls_batch->s == s; }

uint64_t store_batch_changes(const store *s) { return store_in_batch(s) ? tls_batch->changes : 0; }

void store_after_commit(store *s, void (*fn)(void *, bool), void *arg)
{
    if (!store_in_batch(s)) {
        fn(arg, true);
        return;
    }
    hook *h = xcalloc(1, sizeof(*h));
    h->fn = fn;
    h->arg = arg;
    *tls_batch->tail = h;
    tls_batch->tail = &h->next;
}

uint64_t store_bytes_written(const store *s) { return atomic_load(&((store *)s)->bytes_written); }
uint64_t store_transactions(const store *s) { return atomic_load(&((store *)s)->transactions); }
uint64_t store_syncs(const store *s) { return atomic_load(&((store *)s)->syncs); }
