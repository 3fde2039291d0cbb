/* libFuzzer harness: csr_parse_der, which reads the DER a client sends to
 * finalize (RFC 8555 7.4) and checks its signature. Properties: a CSR
 * that parses has a public key, its names are lower-case without
 * duplicates (the server compares them with the order's identifiers by
 * strcmp), and its IP addresses are in canonical inet_ntop form. */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/x509.h>

#include "acme_crypto.h"
#include "keys.h"

static EVP_PKEY *resign_key;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    resign_key = key_generate(KEY_EC256);
    if (!resign_key)
        abort();
    return 0;
}

static void check_names(char **v, size_t n, bool ip)
{
    for (size_t i = 0; i < n; i++) {
        if (!v[i])
            abort();
        for (const char *c = v[i]; *c; c++)
            if (isupper((unsigned char)*c)) {
                fprintf(stderr, "fuzz_csr: name not lower-cased: %s\n", v[i]);
                abort();
            }
        for (size_t j = 0; j < i; j++)
            if (strcmp(v[i], v[j]) == 0) {
                fprintf(stderr, "fuzz_csr: duplicate name: %s\n", v[i]);
                abort();
            }
        if (ip) {
            unsigned char buf[16];
            char out[INET6_ADDRSTRLEN];
            int af = strchr(v[i], ':') ? AF_INET6 : AF_INET;
            if (inet_pton(af, v[i], buf) != 1 || !inet_ntop(af, buf, out, sizeof(out)) ||
                strcmp(out, v[i]) != 0) {
                fprintf(stderr, "fuzz_csr: IP not canonical: %s\n", v[i]);
                abort();
            }
        }
    }
}

static void parse_and_check(const unsigned char *der, size_t len)
{
    csr_info c;
    aro_err err;
    memset(&c, 0, sizeof(c));
    if (csr_parse_der(der, len, &c, &err) == 0) {
        if (!c.pubkey || !c.spki) {
            fprintf(stderr, "fuzz_csr: parsed CSR without key\n");
            abort();
        }
        check_names(c.dns, c.ndns, false);
        check_names(c.ips, c.nips, true);
    }
    csr_info_free(&c);
}

/* A mutated CSR almost never keeps a valid signature, so the name
 * collection behind the signature check would stay unexplored. Requests
 * that decode are therefore also re-signed with a fixed key and parsed
 * again: the names are then whatever the fuzzer wrote. */
static void resigned(const unsigned char *der, size_t len)
{
    const unsigned char *p = der;
    X509_REQ *req = d2i_X509_REQ(NULL, &p, (long)len);
    unsigned char *out = NULL;
    int n;
    if (req && X509_REQ_set_pubkey(req, resign_key) == 1 &&
        X509_REQ_sign(req, resign_key, EVP_sha256()) > 0 && (n = i2d_X509_REQ(req, &out)) > 0)
        parse_and_check(out, (size_t)n);
    OPENSSL_free(out);
    X509_REQ_free(req);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 65536)
        return 0; /* the server's body limit is far below; DER parse time is linear anyway */
    parse_and_check(data, size);
    resigned(data, size);
    return 0;
}
