/* libFuzzer harness: the server's record decoders (store/records.c on the
 * one-pass reader store/record_reader.c). Records are the server's own
 * output, but the reader is hand-written and a damaged or foreign store
 * must give a refused record, never a crash, an overread or a leak. The
 * input is one stored value, decoded as every record type (the store
 * decides the type by the table, not by the content).
 *
 * Property: what a decoder accepts, the encoder writes again, and that
 * written form decodes to a record that encodes identically (a record
 * read and written back by a transaction keeps what it held). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/records.h"

static void unstable(const char *what, const char *a, const char *b)
{
    fprintf(stderr, "fuzz_records: %s does not re-encode identically:\n%s\n%s\n", what, a, b);
    abort();
}

/* Decode data as one type; if accepted, encode, decode, encode: the two
 * encodings must be equal. */
#define ROUNDTRIP(what, rec_t, dec, enc, clear)                                \
    do {                                                                       \
        rec_t r1_, r2_;                                                        \
        if (dec((const char *)data, size, &r1_) == 0) {                        \
            char *a_ = enc(&r1_);                                              \
            if (a_) {                                                          \
                if (dec(a_, strlen(a_), &r2_) != 0)                            \
                    unstable(what, a_, "(does not decode)");                   \
                char *b_ = enc(&r2_);                                          \
                if (!b_ || strcmp(a_, b_) != 0)                                \
                    unstable(what, a_, b_ ? b_ : "(does not encode)");         \
                free(b_);                                                      \
                clear(&r2_);                                                   \
            }                                                                  \
            free(a_);                                                          \
            clear(&r1_);                                                       \
        }                                                                      \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ROUNDTRIP("account", rec_account, rec_account_from_json, rec_account_to_json, rec_account_clear);
    ROUNDTRIP("order", rec_order, rec_order_from_json, rec_order_to_json, rec_order_clear);
    ROUNDTRIP("authorization", rec_authz, rec_authz_from_json, rec_authz_to_json, rec_authz_clear);
    ROUNDTRIP("challenge", rec_chall, rec_chall_from_json, rec_chall_to_json, rec_chall_clear);
    ROUNDTRIP("certificate", rec_cert, rec_cert_from_json, rec_cert_to_json, rec_cert_clear);
    return 0;
}
