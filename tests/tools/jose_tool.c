/* A small CLI over aro's JOSE code for the cross-check against josepy and
 * python3-cryptography (tests/check/jose_crosscheck.py). Test tooling only.
 *   jose_tool genkey TYPE PATH          TYPE as key_type_from_name
 *   jose_tool sign KEY NONCE URL PAYLOAD  flattened JWS with jwk, to stdout
 *   jose_tool verify                    JWS on stdin (ACME request rules,
 *                                       verified with its jwk); payload out
 *   jose_tool thumbprint KEY            RFC 7638 thumbprint */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jws.h"
#include "keys.h"

static int usage(void)
{
    fprintf(stderr, "usage: jose_tool genkey TYPE PATH | sign KEY NONCE URL PAYLOAD | verify | "
                    "thumbprint KEY\n");
    return 2;
}

static int cmd_genkey(const char *type, const char *path)
{
    key_type t;
    EVP_PKEY *k = NULL;
    aro_err err;
    int rc = 1;

    if (key_type_from_name(type, &t) != 0 || !(k = key_generate(t))) {
        fprintf(stderr, "bad key type %s\n", type);
        goto out;
    }
    if (key_save_pem(k, path, &err) != 0) {
        fprintf(stderr, "%s\n", err.msg);
        goto out;
    }
    rc = 0;
out:
    EVP_PKEY_free(k);
    return rc;
}

static int cmd_sign(const char *path, const char *nonce, const char *url, const char *payload)
{
    aro_err err;
    EVP_PKEY *k = key_load_pem(path, &err);
    char *jws = NULL;
    int rc = 1;

    if (!k) {
        fprintf(stderr, "%s\n", err.msg);
        goto out;
    }
    jws = jws_sign(k, NULL, nonce, url, payload, strlen(payload));
    if (!jws)
        goto out;
    printf("%s\n", jws);
    rc = 0;
out:
    free(jws);
    EVP_PKEY_free(k);
    return rc;
}

static int cmd_verify(void)
{
    aro_buf in = {0};
    char chunk[4096];
    size_t n;
    jws_msg m;
    aro_err err;
    jws_result r;
    int rc = 1;

    while ((n = fread(chunk, 1, sizeof(chunk), stdin)) > 0)
        buf_append(&in, chunk, n);
    r = jws_parse(in.data ? in.data : "", in.len, JWS_ACME_REQUEST, &m, &err);
    if (r != JWS_OK)
        goto out;
    r = jws_verify(&m, m.jwk, &err);
    if (r == JWS_OK) {
        fwrite(m.payload, 1, m.payload_len, stdout);
        printf("\n");
        rc = 0;
    }
    jws_msg_free(&m);
out:
    if (r != JWS_OK)
        fprintf(stderr, "jws result %d: %s\n", r, err.msg);
    buf_free(&in);
    return rc;
}

static int cmd_thumbprint(const char *path)
{
    aro_err err;
    EVP_PKEY *k = key_load_pem(path, &err);
    char *tp = k ? jwk_thumbprint(k) : NULL;
    int rc = tp ? 0 : 1;

    if (tp)
        printf("%s\n", tp);
    else
        fprintf(stderr, "%s\n", k ? "no thumbprint" : err.msg);
    free(tp);
    EVP_PKEY_free(k);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc == 4 && strcmp(argv[1], "genkey") == 0)
        return cmd_genkey(argv[2], argv[3]);
    if (argc == 6 && strcmp(argv[1], "sign") == 0)
        return cmd_sign(argv[2], argv[3], argv[4], argv[5]);
    if (argc == 2 && strcmp(argv[1], "verify") == 0)
        return cmd_verify();
    if (argc == 3 && strcmp(argv[1], "thumbprint") == 0)
        return cmd_thumbprint(argv[2]);
    return usage();
}
