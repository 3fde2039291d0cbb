#include "rules/csr_policy.h"

#include <openssl/objects.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "keys.h"
#include "rules/key_policy.h"
#include "store/repo.h"
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

/* Boulder's list (csr.go goodSignatureAlgorithms): no MD5, no SHA-1
 * (collisions make a CSR signature with them meaningless), no DSA, no
 * RSASSA-PSS. */
static bool signature_allowed(const csr_info *csr, char *why, size_t whylen)
{
    static const int allowed[] = {NID_sha256WithRSAEncryption, NID_sha384WithRSAEncryption,
                                  NID_sha512WithRSAEncryption, NID_ecdsa_with_SHA256,
                                  NID_ecdsa_with_SHA384,       NID_ecdsa_with_SHA512};
    int nid = csr->sig_nid;
    for (size_t i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++)
        if (nid == allowed[i])
            return true;
    snprintf(why, whylen,
             "the CSR is signed with %s; this CA accepts SHA-256, SHA-384 or SHA-512 with RSA or ECDSA",
             nid != NID_undef ? OBJ_nid2ln(nid) : "an unknown algorithm");
    return false;
}

acme_problem *csr_check(const server_config *cfg, store_txn *t, const rec_order *o, const csr_info *csr)
{
    (void)cfg;
    char why[256];
    if (!names_match_order(o, csr, why, sizeof(why)) || !signature_allowed(csr, why, sizeof(why)) ||
        !key_policy_accepts(csr->pubkey, why, sizeof(why)))
        return problem_new("badCSR", 400, "%s", why);
    /* 11.1: the certificate key must differ from every account key (a
     * deactivated account's too: its key still names it). */
    char *thumb = csr_key_thumbprint(csr);
    rec_account holder;
    int rc = thumb ? repo_account_by_key(t, thumb, &holder) : 1;
    free(thumb);
    if (rc < 0)
        return problem_new("serverInternal", 500, "the store failed; nothing was changed");
    if (rc == 1)
        return NULL;
    bool own = strcmp(holder.id, o->account_id) == 0;
    rec_account_clear(&holder);
    return problem_new("badCSR", 400, own ? "the certificate key must not be the account key"
                                          : "the certificate key is another ACME account's key (RFC 8555 11.1)");
}
