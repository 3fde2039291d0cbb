#include "rules/csr_policy.h"

#include <stdio.h>
#include <string.h>

#include "keys.h"
#include "strv.h"

static bool names_match_order(const rec_order *o, const csr_info *csr, char *why, size_t whylen)
{
    size_t want = o->nidentifiers, got = csr->ndns + csr->nips;
    for (size_t i = 0; i < o->nidentifiers; i++) {
        const acme_identifier *id = &o->identifiers[i];
        bool found = strcmp(id->type, "dns") == 0 ? strv_contains(csr->dns, csr->ndns, id->value)
                                                  : strv_contains(csr->ips, csr->nips, id->value);
        if (!found) {
            snprintf(why, whylen, "the CSR lacks the order's identifier \"%s\"", id->value);
            return false;
        }
    }
    if (got != want) {
        snprintf(why, whylen, "the CSR names %zu identifiers, the order %zu: they must be the same", got, want);
        return false;
    }
    return true;
}

/* CA/Browser Forum Baseline Requirements 6.1.5 key sizes: RSA 2048-4096 bits (multiple of 8), EC
 * P-256 or P-384. */
static bool key_allowed(EVP_PKEY *k, char *why, size_t whylen)
{
    int id = EVP_PKEY_get_base_id(k);
    if (id == EVP_PKEY_RSA) {
        int bits = EVP_PKEY_get_bits(k);
        if (bits < 2048 || bits > 4096 || bits % 8) {
            snprintf(why, whylen, "RSA keys must have 2048 to 4096 bits (this one has %d)", bits);
            return false;
        }
        return true;
    }
    if (id == EVP_PKEY_EC) {
        char curve[32] = "";
        size_t cl = 0;
        EVP_PKEY_get_utf8_string_param(k, "group", curve, sizeof(curve), &cl);
        if (strcmp(curve, "prime256v1") == 0 || strcmp(curve, "secp384r1") == 0)
            return true;
        snprintf(why, whylen, "EC keys must be P-256 or P-384 (not %s)", curve);
        return false;
    }
    snprintf(why, whylen, "the CSR's key type is not accepted (RSA, P-256, P-384)");
    return false;
}

acme_problem *csr_check(const server_config *cfg, const rec_order *o, const csr_info *csr,
                        EVP_PKEY *account_key)
{
    (void)cfg;
    char why[256];
    if (!names_match_order(o, csr, why, sizeof(why)) || !key_allowed(csr->pubkey, why, sizeof(why)))
        return problem_new("badCSR", 400, "%s", why);
    if (account_key && key_public_equal(csr->pubkey, account_key))
        return problem_new("badCSR", 400, "the certificate key must not be the account key");
    return NULL;
}
