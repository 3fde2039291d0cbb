#include "store/db.h"

#include <stdlib.h>
#include <string.h>

#define DB_PAIR(name, rec_t, tbl, keyfield)                                                        \
    int db_get_##name(store_txn *t, const char *id, rec_t *r)                                      \
    {                                                                                             \
        const char *v;                                                                            \
        size_t len;                                                                               \
        int rc = store_get(t, tbl, id, &v, &len);                                                 \
        if (rc != 0)                                                                              \
            return rc;                                                                            \
        return rec_##name##_from_json(v, len, r) < 0 ? -1 : 0;                                    \
    }                                                                                             \
    int db_put_##name(store_txn *t, const rec_t *r)                                                \
    {                                                                                             \
        char *doc = rec_##name##_to_json(r);                                                      \
        if (!doc)                                                                                 \
            return -1;                                                                            \
        int rc = store_put(t, tbl, r->keyfield, doc, strlen(doc));                                \
        free(doc);                                                                                \
        return rc;                                                                                \
    }

DB_PAIR(account, rec_account, TBL_ACCOUNTS, id)
DB_PAIR(order, rec_order, TBL_ORDERS, id)
DB_PAIR(authz, rec_authz, TBL_AUTHZS, id)
DB_PAIR(chall, rec_chall, TBL_CHALLS, id)
DB_PAIR(cert, rec_cert, TBL_CERTS, serial)

int db_get_str(store_txn *t, store_table tbl, const char *key, char **out)
{
    const char *v;
    size_t len;
    int rc = store_get(t, tbl, key, &v, &len);
    if (rc == 0)
        *out = xstrndup(v, len);
    return rc;
}

int db_put_str(store_txn *t, store_table tbl, const char *key, const char *val)
{
    return store_put(t, tbl, key, val, strlen(val));
}
