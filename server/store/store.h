/* The store: LMDB tables, transactions and group commit. Every state
 * change is one write transaction (a crash at any point leaves the last
 * committed state). This is the only file that knows about LMDB; a
 * different backend would replace store.c alone. Values are opaque bytes
 * here: records.c encodes them, repo.c names the questions. */
#ifndef ARO_STORE_STORE_H
#define ARO_STORE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util.h"

/* The tables (LMDB named databases). What their keys and values are is
 * store/repo.c's business alone: everyone else asks the repository. */
typedef enum {
    TBL_ACCOUNTS, TBL_ACCOUNT_KEYS, TBL_ORDERS, TBL_ACCOUNT_ORDERS, TBL_AUTHZS, TBL_AUTHZ_INDEX,
    TBL_CHALLS, TBL_CERTS, TBL_CERT_ARI, TBL_LIMITS, TBL_META, TBL_AUTHZ_ORDERS, TBL_PENDING,
    TBL__COUNT
} store_table;

typedef struct store store;
typedef struct store_txn store_txn;

/* map_size: the most the store may hold, in bytes (the file grows only
 * as used); 0 for the default, 16 GiB. A store opened again with a
 * larger size keeps its contents and gains the room. */
store *store_open(const char *dir, size_t map_size, aro_err *err);
void store_close(store *s);

store_txn *store_begin(store *s, bool write);
/* Commit; on failure the transaction is gone and nothing was written. */
int store_commit(store_txn *t, aro_err *err);
void store_abort(store_txn *t);

/* 0 found (*val points into the map, valid until the txn ends),
 * 1 not found, -1 error. */
int store_get(store_txn *t, store_table tbl, const char *key, const char **val, size_t *len);
int store_put(store_txn *t, store_table tbl, const char *key, const void *val, size_t len);
int store_del(store_txn *t, store_table tbl, const char *key);
/* Iterate keys with a prefix in order, starting after 'after' (or at the
 * prefix when NULL). cb returns non-zero to stop. */
int store_scan(store_txn *t, store_table tbl, const char *prefix, const char *after,
               int (*cb)(const char *key, size_t klen, const char *val, size_t vlen, void *arg),
               void *arg);

/* Group commit. A thread that calls store_batch_begin runs every
 * transaction it begins until store_batch_commit as a nested transaction
 * of one parent write transaction: many requests' writes, one fsync.
 * Nothing is durable, and nothing registered with store_after_commit
 * runs, until the parent commits; if it fails, every nested commit of the
 * batch is lost together and the hooks are told so. */
int store_batch_begin(store *s, aro_err *err);
int store_batch_commit(store *s, aro_err *err);
bool store_in_batch(const store *s);
/* Run fn(arg, true) once what this thread wrote is durable: at once outside
 * a batch, after the batch's commit inside one; fn(arg, false) if the
 * batch failed (to free arg). */
void store_after_commit(store *s, void (*fn)(void *arg, bool committed), void *arg);

/* Out of room: true when, in this thread's current (or last) write
 * transaction or batch, the store failed because the map is full
 * (MDB_MAP_FULL) or the disk is (ENOSPC, EDQUOT). Nothing of the failed transaction was
 * written; reads go on working; writes work again once room returns (a
 * larger map_size at the next start, or space freed on disk). */
bool store_failed_for_space(void);
/* Inside a batch: how many of its nested transactions so far committed a
 * change. A job whose run leaves it unchanged wrote nothing, so its
 * answer stands whether or not the batch commits. */
uint64_t store_batch_changes(const store *s);

/* Counters for /metrics. */
uint64_t store_bytes_written(const store *s);
uint64_t store_transactions(const store *s);
uint64_t store_syncs(const store *s);   /* durable commits to disk */

#endif
