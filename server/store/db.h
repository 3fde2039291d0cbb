/* Typed loads and saves of records inside a store transaction: the glue
 * between model.c (encoding) and store.c (LMDB). 0 = ok, 1 = not found,
 * -1 = store error or a corrupt record. */
#ifndef ARO_DB_H
#define ARO_DB_H

#include "store/model.h"
#include "store/store.h"

int db_get_account(store_txn *t, const char *id, rec_account *r);
int db_put_account(store_txn *t, const rec_account *r);
int db_get_order(store_txn *t, const char *id, rec_order *r);
int db_put_order(store_txn *t, const rec_order *r);
int db_get_authz(store_txn *t, const char *id, rec_authz *r);
int db_put_authz(store_txn *t, const rec_authz *r);
int db_get_chall(store_txn *t, const char *id, rec_chall *r);
int db_put_chall(store_txn *t, const rec_chall *r);
int db_get_cert(store_txn *t, const char *serial, rec_cert *r);
int db_put_cert(store_txn *t, const rec_cert *r);
/* Small string values (indexes): *out malloc'd. */
int db_get_str(store_txn *t, store_table tbl, const char *key, char **out);
int db_put_str(store_txn *t, store_table tbl, const char *key, const char *val);

#endif
