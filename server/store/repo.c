#include "store/repo.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "b64url.h"
#include "json.h"
#include "random.h"

/* The keys, in one place:
 *   accounts        account id                        -> rec_account
 *   account_keys    JWK thumbprint                    -> account id
 *   orders          order id                          -> rec_order
 *   account_orders  account "/" created "/" order     -> ""   (created: 16 hex digits, so
 *                                                              keys sort oldest first)
 *   authzs          authz id                          -> rec_authz
 *   authz_index     account "/" type ":" [*.]value    -> the newest authz id
 *   authz_orders    authz id "/" order id             -> ""
 *   challs          challenge id                      -> rec_chall
 *   certs           serial (lower-case hex)           -> rec_cert
 *   cert_ari        RFC 9773 CertID                   -> serial
 *   limits          "fv/" account "/" type ":" value  -> JSON array of failure times
 *                   "rl/" limit "/" bucket           -> GCRA theoretical arrival time (us, decimal)
 *   pending         "a/" account "/" authz id        -> expires (16 hex digits), while pending
 *                   "o/" account "/" order id        -> expires, while pending or ready
 *                   "p/" account "/" order id        -> "", while processing
 *   meta            "restart-index/" kind            -> "" once that kind of restart work
 *                                                       is in the pending index
 *                                                       (repo_restart_index_ensure) */

/* ---- ids ---- */

void repo_new_id(char out[ID_LEN])
{
    struct timespec ts;
    unsigned char rnd[6];
    clock_gettime(CLOCK_REALTIME, &ts);
    unsigned long long ms = (unsigned long long)ts.tv_sec * 1000 + (unsigned long long)ts.tv_nsec / 1000000;
    random_bytes(rnd, sizeof(rnd));
    char *r = b64url_encode(rnd, sizeof(rnd));
    snprintf(out, ID_LEN, "%012llx%s", ms & 0xffffffffffffULL, r);
    free(r);
}

/* ---- typed records ---- */

#define RECORD_GET(name, rec_t, tbl)                                                              \
    int repo_##name##_get(store_txn *t, const char *key, rec_t *out)                               \
    {                                                                                              \
        const char *v;                                                                             \
        size_t len;                                                                                \
        int rc = store_get(t, tbl, key, &v, &len);                                                 \
        if (rc != 0)                                                                               \
            return rc;                                                                             \
        return rec_##name##_from_json(v, len, out) < 0 ? -1 : 0;                                   \
    }
#define RECORD_PUT(name, rec_t, tbl, keyfield)                                                    \
    static int name##_put(store_txn *t, const rec_t *r)                                            \
    {                                                                                              \
        char *doc = rec_##name##_to_json(r);                                                       \
        int rc = doc ? store_put(t, tbl, r->keyfield, doc, strlen(doc)) : -1;                      \
        free(doc);                                                                                 \
        return rc;                                                                                 \
    }
#define RECORD_IO(name, rec_t, tbl, keyfield)                                                     \
    RECORD_GET(name, rec_t, tbl)                                                                   \
    RECORD_PUT(name, rec_t, tbl, keyfield)                                                         \
    int repo_##name##_save(store_txn *t, const rec_t *r) { return name##_put(t, r); }

RECORD_IO(account, rec_account, TBL_ACCOUNTS, id)
RECORD_IO(chall, rec_chall, TBL_CHALLS, id)
RECORD_IO(cert, rec_cert, TBL_CERTS, serial)
/* Orders and authorizations also keep the pending index (below). */
RECORD_GET(order, rec_order, TBL_ORDERS)
RECORD_PUT(order, rec_order, TBL_ORDERS, id)
RECORD_GET(authz, rec_authz, TBL_AUTHZS)
RECORD_PUT(authz, rec_authz, TBL_AUTHZS, id)

/* ---- the pending index ---- */

static char *pending_key(char kind, const char *account_id, const char *id)
{
    return xasprintf("%c/%s/%s", kind, account_id, id);
}

/* Lists the object while it is pending (keep), drops it otherwise. An
 * entry already there as it should be is not written again: a save of an
 * object that stays pending changes nothing in the index. */
static int pending_mark(store_txn *t, char kind, const char *account_id, const char *id, bool keep,
                        time_t expires)
{
    char *key = pending_key(kind, account_id, id);
    char val[17] = "";
    size_t vlen = 0;
    if (keep && kind != 'p') {
        snprintf(val, sizeof(val), "%016llx", (unsigned long long)expires);
        vlen = 16;
    }
    const char *cur;
    size_t curlen;
    int rc;
    if (!keep)
        rc = store_del(t, TBL_PENDING, key);
    else if (store_get(t, TBL_PENDING, key, &cur, &curlen) == 0 && curlen == vlen && memcmp(cur, val, vlen) == 0)
        rc = 0;
    else
        rc = store_put(t, TBL_PENDING, key, val, vlen);
    free(key);
    return rc;
}

static bool order_unfinished(const rec_order *o)
{
    return o->status == ORDER_PENDING || o->status == ORDER_READY;
}

/* Every save states the index as the status says: an order or an
 * authorization becomes pending again when a failed attempt is re-enabled
 * (draft-aro-acme-retry-options; common/status.c: invalid -> pending).
 * A processing order is listed for the restart (issuance to resume). */
int repo_order_save(store_txn *t, const rec_order *o)
{
    if (order_put(t, o) < 0)
        return -1;
    bool unfinished = order_unfinished(o);
    if (pending_mark(t, 'o', o->account_id, o->id, unfinished, o->expires) < 0)
        return -1;
    return unfinished ? 0 : pending_mark(t, 'p', o->account_id, o->id, o->status == ORDER_PROCESSING, 0);
}

int repo_authz_save(store_txn *t, const rec_authz *a)
{
    if (authz_put(t, a) < 0)
        return -1;
    return pending_mark(t, 'a', a->account_id, a->id, a->status == AUTHZ_PENDING, a->expires);
}

typedef struct {
    size_t prefix_len;
    time_t now, next;
    long live;
    char **expired;
    size_t nexpired;
} pending_count;

#define PENDING_DROPS_PER_CALL 1024

static int count_pending(const char *key, size_t klen, const char *val, size_t vlen, void *arg)
{
    pending_count *c = arg;
    char hex[17] = {0};
    memcpy(hex, val, vlen < 16 ? vlen : 16);
    time_t expires = (time_t)strtoll(hex, NULL, 16);
    if (expires > c->now) {
        c->live++;
        if (!c->next || expires < c->next)
            c->next = expires;
    } else if (c->nexpired < PENDING_DROPS_PER_CALL) {
        char *k = xstrndup(key, klen);
        strv_push(&c->expired, &c->nexpired, k);
        free(k);
    }
    return 0;
}

static int pending_of(store_txn *t, char kind, const char *account_id, time_t now, long *n, time_t *next)
{
    char *prefix = xasprintf("%c/%s/", kind, account_id);
    pending_count c = {.prefix_len = strlen(prefix), .now = now};
    int rc = store_scan(t, TBL_PENDING, prefix, NULL, count_pending, &c);
    /* Expired ones are gone for good: forget them after the scan (not
     * during it, under the cursor). */
    for (size_t i = 0; rc == 0 && i < c.nexpired; i++)
        rc = store_del(t, TBL_PENDING, c.expired[i]);
    strv_free(c.expired, c.nexpired);
    free(prefix);
    *n = c.live;
    if (next)
        *next = c.next;
    return rc;
}

int repo_pending_authzs(store_txn *t, const char *account_id, time_t now, long *n, time_t *next_expiry)
{
    return pending_of(t, 'a', account_id, now, n, next_expiry);
}

int repo_unfinished_orders(store_txn *t, const char *account_id, time_t now, long *n, time_t *next_expiry)
{
    return pending_of(t, 'o', account_id, now, n, next_expiry);
}

/* A small string value (an index entry), copied out of the map. */
static int get_str(store_txn *t, store_table tbl, const char *key, char **out)
{
    const char *v;
    size_t len;
    int rc = store_get(t, tbl, key, &v, &len);
    if (rc == 0)
        *out = xstrndup(v, len);
    return rc;
}

static int put_str(store_txn *t, store_table tbl, const char *key, const char *val)
{
    return store_put(t, tbl, key, val, strlen(val));
}

/* ---- accounts ---- */

int repo_account_by_key(store_txn *t, const char *thumbprint, rec_account *out)
{
    char *id = NULL;
    int rc = get_str(t, TBL_ACCOUNT_KEYS, thumbprint, &id);
    if (rc == 0)
        rc = repo_account_get(t, id, out);
    free(id);
    return rc;
}

int repo_account_create(store_txn *t, const rec_account *a)
{
    if (repo_account_save(t, a) < 0 || put_str(t, TBL_ACCOUNT_KEYS, a->thumbprint, a->id) < 0)
        return -1;
    return 0;
}

int repo_account_rekey(store_txn *t, rec_account *a, const char *thumbprint, const char *jwk)
{
    if (store_del(t, TBL_ACCOUNT_KEYS, a->thumbprint) < 0)
        return -1;
    free(a->thumbprint);
    free(a->jwk);
    a->thumbprint = xstrdup(thumbprint);
    a->jwk = xstrdup(jwk);
    return repo_account_create(t, a);
}

/* ---- orders ---- */

static char *authz_order_key(const char *authz_id, const char *order_id)
{
    return xasprintf("%s/%s", authz_id, order_id);
}

int repo_order_create(store_txn *t, const rec_order *o)
{
    char okey[128];
    snprintf(okey, sizeof(okey), "%s/%016llx/%s", o->account_id, (unsigned long long)o->created, o->id);
    if (repo_order_save(t, o) < 0 || put_str(t, TBL_ACCOUNT_ORDERS, okey, "") < 0)
        return -1;
    for (size_t i = 0; i < o->nauthz; i++) {
        char *k = authz_order_key(o->authz_ids[i], o->id);
        int rc = put_str(t, TBL_AUTHZ_ORDERS, k, "");
        free(k);
        if (rc < 0)
            return -1;
    }
    return 0;
}

typedef struct {
    size_t prefix_len;
    int left;    /* how many more to take; -1 for all */
    bool more;   /* an entry was left over: there is a next page */
    char ***ids;
    size_t *n;
    char *last;  /* the last key taken, without the prefix */
} key_tail_collector;

/* Collects the part after the last '/' of each key (the id of
 * "PREFIX/.../ID"). */
static int collect_tail(const char *key, size_t klen, const char *val, size_t vlen, void *arg)
{
    (void)val;
    (void)vlen;
    key_tail_collector *c = arg;
    if (c->left == 0) {
        c->more = true;
        return 1;
    }
    if (c->left > 0)
        c->left--;
    const char *slash = memrchr(key, '/', klen);
    const char *id = slash ? slash + 1 : key + c->prefix_len;
    char *s = xstrndup(id, klen - (size_t)(id - key));
    strv_push(c->ids, c->n, s);
    free(s);
    free(c->last);
    c->last = xstrndup(key + c->prefix_len, klen - c->prefix_len);
    return 0;
}

/* The account's orders: only those not invalid at now, within a budget
 * of index entries looked at per page. */
typedef struct {
    key_tail_collector c;
    store_txn *t;
    time_t now;
    int budget;
} live_order_collector;

static int collect_live_order(const char *key, size_t klen, const char *val, size_t vlen, void *arg)
{
    live_order_collector *l = arg;
    if (l->c.left == 0 || l->budget == 0) {
        l->c.more = true;
        return 1;
    }
    l->budget--;
    const char *slash = memrchr(key, '/', klen);
    char *id = xstrndup(slash + 1, klen - (size_t)(slash + 1 - key));
    rec_order o;
    bool live = false;
    if (repo_order_get(l->t, id, &o) == 0) {
        live = order_status_at(o.status, o.expires, l->now) != ORDER_INVALID;
        rec_order_clear(&o);
    }
    free(id);
    if (live)
        return collect_tail(key, klen, val, vlen, &l->c);
    free(l->c.last); /* skipped, but the next page starts after it */
    l->c.last = xstrndup(key + l->c.prefix_len, klen - l->c.prefix_len);
    return 0;
}

int repo_orders_of_account(store_txn *t, const char *account_id, const char *cursor, int max, time_t now,
                           char ***ids, size_t *n, char **next)
{
    *ids = NULL;
    *n = 0;
    *next = NULL;
    char *prefix = xasprintf("%s/", account_id);
    char *after = cursor ? xasprintf("%s%s", prefix, cursor) : NULL;
    live_order_collector l = {.c = {.prefix_len = strlen(prefix), .left = max, .ids = ids, .n = n},
                              .t = t, .now = now, .budget = 8 * max};
    int rc = store_scan(t, TBL_ACCOUNT_ORDERS, prefix, after, collect_live_order, &l);
    /* The cursor is the key of the last order looked at on this page. */
    if (rc == 0 && l.c.more)
        *next = l.c.last;
    else
        free(l.c.last);
    free(prefix);
    free(after);
    return rc;
}

int repo_orders_using_authz(store_txn *t, const rec_authz *a, char ***ids, size_t *n)
{
    *ids = NULL;
    *n = 0;
    for (size_t i = 0; i < a->nlegacy_orders; i++)
        strv_push(ids, n, a->legacy_order_ids[i]);
    char *prefix = xasprintf("%s/", a->id);
    key_tail_collector c = {.prefix_len = strlen(prefix), .left = -1, .ids = ids, .n = n};
    int rc = store_scan(t, TBL_AUTHZ_ORDERS, prefix, NULL, collect_tail, &c);
    free(c.last);
    free(prefix);
    return rc;
}

/* ---- restart work ----
 *
 * What a restart resumes (issuance of processing orders, validations in
 * flight) is found through the pending index, so that it costs what is in
 * flight, not the store's history. A store written before the index listed
 * processing orders has no "p/" entries: repo_restart_index_ensure searches
 * it in full once, lists what it finds and marks the store; until then the
 * questions below search in full too. */

typedef struct {
    void (*order_fn)(const rec_order *, void *);
    void (*authz_fn)(const rec_authz *, void *);
    void *arg;
    store_txn *t;     /* the transaction, to read listed records or to list */
    bool list;        /* a full search that adds what it finds to the index */
    int rc;
} record_visit;

#define RESTART_ORDERS "restart-index/processing-orders"
#define RESTART_AUTHZS "restart-index/validating-authzs"

static bool restart_indexed(store_txn *t, const char *mark)
{
    const char *v;
    return store_get(t, TBL_META, mark, &v, NULL) == 0;
}

/* A full search: every order, the processing ones visited or listed. */
static int visit_processing_order(const char *key, size_t klen, const char *val, size_t vlen, void *arg)
{
    (void)key;
    (void)klen;
    record_visit *v = arg;
    rec_order o;
    if (rec_order_from_json(val, vlen, &o) < 0)
        return 0;
    if (o.status == ORDER_PROCESSING) {
        if (v->list)
            v->rc = pending_mark(v->t, 'p', o.account_id, o.id, true, 0);
        else
            v->order_fn(&o, v->arg);
    }
    rec_order_clear(&o);
    return v->rc;
}

/* "K/ACCOUNT/ID" of the pending index: ID. */
static const char *pending_key_id(const char *key, size_t klen, char *buf, size_t size)
{
    const char *slash = klen > 2 ? memchr(key + 2, '/', klen - 2) : NULL;
    size_t n = slash ? klen - (size_t)(slash + 1 - key) : 0;
    if (!slash || n == 0 || n >= size)
        return NULL;
    memcpy(buf, slash + 1, n);
    buf[n] = '\0';
    return buf;
}

/* The listed ones: each read to check it still is what it was listed
 * for (the index says where to look, the record says the status). */
static int visit_listed(const char *key, size_t klen, const char *val, size_t vlen, void *arg)
{
    (void)val;
    (void)vlen;
    record_visit *v = arg;
    char id[ID_LEN + 24];
    if (!pending_key_id(key, klen, id, sizeof(id)))
        return 0;
    if (v->order_fn) {
        rec_order o;
        if (repo_order_get(v->t, id, &o) == 0) {
            if (o.status == ORDER_PROCESSING)
                v->order_fn(&o, v->arg);
            rec_order_clear(&o);
        }
    } else {
        rec_authz a;
        if (repo_authz_get(v->t, id, &a) == 0) {
            if (a.status == AUTHZ_PENDING && a.active_chall_id[0])
                v->authz_fn(&a, v->arg);
            rec_authz_clear(&a);
        }
    }
    return 0;
}

int repo_orders_processing(store_txn *t, void (*fn)(const rec_order *o, void *arg), void *arg)
{
    record_visit v = {.order_fn = fn, .arg = arg, .t = t};
    if (restart_indexed(t, RESTART_ORDERS))
        return store_scan(t, TBL_PENDING, "p/", NULL, visit_listed, &v);
    return store_scan(t, TBL_ORDERS, "", NULL, visit_processing_order, &v);
}

/* ---- authorizations ---- */

static char *authz_index_key(const char *account_id, const acme_identifier *id, bool wildcard)
{
    return xasprintf("%s/%s:%s%s", account_id, id->type, wildcard ? "*." : "", id->value);
}

int repo_chall_create(store_txn *t, const char *authz_id, const char *type, char id_out[ID_LEN])
{
    rec_chall c = {0};
    repo_new_id(c.id);
    snprintf(c.authz_id, sizeof(c.authz_id), "%s", authz_id);
    c.type = xstrdup(type);
    c.status = CHALL_PENDING;
    c.token = random_id(32); /* 8.1: at least 128 bits of entropy */
    int rc = repo_chall_save(t, &c);
    if (rc == 0)
        memcpy(id_out, c.id, ID_LEN);
    rec_chall_clear(&c);
    return rc;
}

int repo_authz_create(store_txn *t, rec_authz *a, const char *const *types, size_t ntypes)
{
    repo_new_id(a->id);
    for (size_t i = 0; i < ntypes; i++) {
        char cid[ID_LEN];
        if (repo_chall_create(t, a->id, types[i], cid) < 0)
            return -1;
        strv_push(&a->chall_ids, &a->nchall, cid);
    }
    char *key = authz_index_key(a->account_id, &a->identifier, a->wildcard);
    int rc = put_str(t, TBL_AUTHZ_INDEX, key, a->id);
    free(key);
    if (rc < 0 || repo_authz_save(t, a) < 0)
        return -1;
    return 0;
}

int repo_authz_newest(store_txn *t, const char *account_id, const acme_identifier *id, bool wildcard,
                      rec_authz *out)
{
    char *key = authz_index_key(account_id, id, wildcard), *aid = NULL;
    int rc = get_str(t, TBL_AUTHZ_INDEX, key, &aid);
    if (rc == 0)
        rc = repo_authz_get(t, aid, out);
    free(aid);
    free(key);
    return rc;
}

int repo_authz_valid_for(store_txn *t, const char *account_id, const acme_identifier *id, bool wildcard,
                         time_t now, time_t until, rec_authz *out)
{
    int rc = repo_authz_newest(t, account_id, id, wildcard, out);
    if (rc != 0)
        return rc;
    if (authz_status_at(out->status, out->expires, now) == AUTHZ_VALID && out->expires > until)
        return 0;
    rec_authz_clear(out);
    return 1;
}

/* A full search: every authorization, the pending ones with a
 * validation in flight visited, every pending one listed (as pending
 * authorizations are since the index exists). */
static int visit_validating_authz(const char *key, size_t klen, const char *val, size_t vlen, void *arg)
{
    (void)key;
    (void)klen;
    record_visit *v = arg;
    rec_authz a;
    if (rec_authz_from_json(val, vlen, &a) < 0)
        return 0;
    if (a.status == AUTHZ_PENDING) {
        if (v->list)
            v->rc = pending_mark(v->t, 'a', a.account_id, a.id, true, a.expires);
        else if (a.active_chall_id[0])
            v->authz_fn(&a, v->arg);
    }
    rec_authz_clear(&a);
    return v->rc;
}

int repo_authzs_validating(store_txn *t, void (*fn)(const rec_authz *a, void *arg), void *arg)
{
    record_visit v = {.authz_fn = fn, .arg = arg, .t = t};
    if (restart_indexed(t, RESTART_AUTHZS))
        return store_scan(t, TBL_PENDING, "a/", NULL, visit_listed, &v);
    return store_scan(t, TBL_AUTHZS, "", NULL, visit_validating_authz, &v);
}

int repo_restart_index_ensure(store_txn *t)
{
    record_visit v = {.t = t, .list = true};
    if (!restart_indexed(t, RESTART_ORDERS) &&
        (store_scan(t, TBL_ORDERS, "", NULL, visit_processing_order, &v) < 0 || v.rc < 0 ||
         store_put(t, TBL_META, RESTART_ORDERS, "", 0) < 0))
        return -1;
    if (!restart_indexed(t, RESTART_AUTHZS) &&
        (store_scan(t, TBL_AUTHZS, "", NULL, visit_validating_authz, &v) < 0 || v.rc < 0 ||
         store_put(t, TBL_META, RESTART_AUTHZS, "", 0) < 0))
        return -1;
    return 0;
}

static int load_challenges(store_txn *t, char *const *ids, size_t n, rec_chall **out, size_t *nout)
{
    *out = n ? xcalloc(n, sizeof(**out)) : NULL;
    *nout = 0;
    for (size_t i = 0; i < n; i++) {
        int rc = repo_chall_get(t, ids[i], &(*out)[*nout]);
        if (rc < 0)
            return -1;
        if (rc == 0)
            (*nout)++;
    }
    return 0;
}

static rec_authz authz_copy(const rec_authz *a)
{
    /* Through the codec: one definition of what a record holds. */
    rec_authz c;
    char *doc = rec_authz_to_json(a);
    if (rec_authz_from_json(doc, strlen(doc), &c) < 0)
        memset(&c, 0, sizeof(c));
    free(doc);
    return c;
}

static int view_fill(store_txn *t, authz_view *v)
{
    if (load_challenges(t, v->authz.chall_ids, v->authz.nchall, &v->listed, &v->nlisted) < 0 ||
        load_challenges(t, v->authz.offer_chall_ids, v->authz.noffer, &v->reserve, &v->nreserve) < 0) {
        authz_view_clear(v);
        return -1;
    }
    return 0;
}

int repo_authz_view(store_txn *t, const char *id, authz_view *out)
{
    memset(out, 0, sizeof(*out));
    int rc = repo_authz_get(t, id, &out->authz);
    if (rc != 0)
        return rc;
    return view_fill(t, out);
}

int repo_authz_view_of(store_txn *t, const rec_authz *a, authz_view *out)
{
    memset(out, 0, sizeof(*out));
    out->authz = authz_copy(a);
    return view_fill(t, out);
}

void authz_view_clear(authz_view *v)
{
    rec_authz_clear(&v->authz);
    for (size_t i = 0; i < v->nlisted; i++)
        rec_chall_clear(&v->listed[i]);
    for (size_t i = 0; i < v->nreserve; i++)
        rec_chall_clear(&v->reserve[i]);
    free(v->listed);
    free(v->reserve);
    memset(v, 0, sizeof(*v));
}

/* ---- certificates ---- */

int repo_cert_by_ari_id(store_txn *t, const char *ari_id, rec_cert *out)
{
    char *serial = NULL;
    int rc = get_str(t, TBL_CERT_ARI, ari_id, &serial);
    if (rc == 0)
        rc = repo_cert_get(t, serial, out);
    free(serial);
    return rc;
}

int repo_cert_create(store_txn *t, const rec_cert *c)
{
    if (repo_cert_save(t, c) < 0 || (c->ari_id && put_str(t, TBL_CERT_ARI, c->ari_id, c->serial) < 0))
        return -1;
    return 0;
}

int repo_cert_claim(store_txn *t, const char *ari_id, const char *order_id)
{
    rec_cert c;
    int rc = repo_cert_by_ari_id(t, ari_id, &c);
    if (rc != 0)
        return rc;
    snprintf(c.claimed_by, sizeof(c.claimed_by), "%s", order_id);
    rc = repo_cert_save(t, &c);
    rec_cert_clear(&c);
    return rc;
}

/* ---- failed validations ---- */

#define FAILURES_KEPT 64

static char *failures_key(const char *account_id, const acme_identifier *id)
{
    return xasprintf("fv/%s/%s:%s", account_id, id->type, id->value);
}

/* The failure times after since, oldest first. */
static size_t failures_load(store_txn *t, const char *key, time_t since, long long out[FAILURES_KEPT])
{
    const char *v;
    size_t len, n = 0;
    if (store_get(t, TBL_LIMITS, key, &v, &len) != 0)
        return 0;
    aro_err err;
    yajl_val arr = json_parse(v, len, &err);
    if (arr && YAJL_IS_ARRAY(arr))
        for (size_t i = 0; i < arr->u.array.len && n < FAILURES_KEPT; i++)
            if (YAJL_IS_INTEGER(arr->u.array.values[i]) && YAJL_GET_INTEGER(arr->u.array.values[i]) > since)
                out[n++] = YAJL_GET_INTEGER(arr->u.array.values[i]);
    json_free(arr);
    return n;
}

int repo_failures_since(store_txn *t, const char *account_id, const acme_identifier *id, time_t since,
                        time_t *oldest)
{
    long long ts[FAILURES_KEPT];
    char *key = failures_key(account_id, id);
    size_t n = failures_load(t, key, since, ts);
    free(key);
    if (oldest)
        *oldest = n ? (time_t)ts[0] : 0;
    return (int)n;
}

int repo_failure_record(store_txn *t, const char *account_id, const acme_identifier *id, time_t now,
                        time_t since)
{
    long long ts[FAILURES_KEPT];
    char *key = failures_key(account_id, id);
    size_t n = failures_load(t, key, since, ts);
    if (n == FAILURES_KEPT) {
        memmove(ts, ts + 1, (n - 1) * sizeof(ts[0]));
        n--;
    }
    ts[n++] = now;
    json_gen *g = jg_new();
    jg_arr_open(g);
    for (size_t i = 0; i < n; i++)
        jg_int(g, ts[i]);
    jg_arr_close(g);
    size_t len;
    char *doc = jg_finish(g, &len);
    int rc = store_put(t, TBL_LIMITS, key, doc, len);
    free(doc);
    free(key);
    return rc;
}

/* ---- rate limits ---- */

static char *limit_key(const char *limit, const char *bucket)
{
    return xasprintf("rl/%s/%s", limit, bucket);
}

int repo_limit_tat(store_txn *t, const char *limit, const char *bucket, int64_t *tat_us)
{
    char *key = limit_key(limit, bucket), *val = NULL;
    int rc = get_str(t, TBL_LIMITS, key, &val);
    if (rc == 0)
        *tat_us = strtoll(val, NULL, 10);
    free(val);
    free(key);
    return rc;
}

int repo_limit_tat_save(store_txn *t, const char *limit, const char *bucket, int64_t tat_us)
{
    char *key = limit_key(limit, bucket), val[24];
    snprintf(val, sizeof(val), "%lld", (long long)tat_us);
    int rc = put_str(t, TBL_LIMITS, key, val);
    free(key);
    return rc;
}
