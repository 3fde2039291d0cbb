/* The key policy (rules/key_policy.c) on fixed vectors: a sound RSA-2048
 * modulus, the same with the exponents 1, 3 and 65539, a modulus divisible
 * by 3, one whose smallest factor is 751 (the last prime tried), one of
 * two consecutive primes (Fermat), one of Infineon's form (ROCA), sizes;
 * EC keys of the allowed and other curves. The moduli were made by
 * tests/e2e/weak_keys.py (python3 weak_keys.py prints vectors like these). */
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/param_build.h>
#include <openssl/rsa.h>
#include <stdio.h>
#include <string.h>

#include "rules/key_policy.h"
#include "testlib.h"

static const char GOOD[] =
    "b627bed9d92199a12ffdc24fed8f5307ea80eea47621eff5573372eed034f2ee975584dc16c6272a6d8c32e2e5407d25"
    "d61adbe5341932ed5541061545a120c1de145a34563ad154a347942a726ad3c276b4eabf66ec9de5f1fa6bf9c5b9f355"
    "768881e4e5073a0f5409dbbf4af5e0567e2e6e672cc95ee5d55f47edb35d870e0c764ee302e88c0eea37f22c42fcea16"
    "bf49699c62ed3aedce735e843f9756e9c947dc8bd6e5c6d581ef5a1cbc3a575666694a0111e02bda5a6653b7db36fc97"
    "a7838c1eb6ce81caa42faa64b3b9f7fc31852d062c070a0bc21377a73b15524271528bedd4b67705c9e26c02325f03f2"
    "7912f51febb280dcf04e4d7423daa155";
static const char SMALL_FACTOR[] =
    "8a5c575dacfe86e3c3d5e9799f5727235ed954512d80a865e6efec838f94764ea9460ae0f9ff348ac859ae3365f56318"
    "8cb1dcfbf1bdaf02235c1c782d2f07e0503955f451ffc7f36ecbc1f45665a981315332651ba72f3a7e60e26ffa72b767"
    "840dfae13d19d49d5653532e0a933afcd86b3819bc8c44c820c034903420910cd2a0ef8639aa764311d2c56f09163c78"
    "7c37388a0c89689960feaf76515788c12fade453dd292fc54790d85a293d789f13cb4c9639257004a0979f5bfd1f379c"
    "1d68a596d884328f1e03a878e4cd07ab8ecfe4d2519aa76c95044c290bfb17f454a9c07249fa9515ebf14e6a1424302d"
    "6c2888c0753b83c276d751dc75cc0641";
static const char FACTOR_751[] =
    "84fa3d7d021a2c9b7ceae8648725a43021bb6574cf79ca3452958df9223be0628c50a53ef85352f634fc7717e39e883f"
    "c6936df8fdb6d04d0ae49076d707b6f720591d9ed3144dac243cc907fa23374c4cc50503bdbc5ff332cd966267787267"
    "4cf4967a746d79e6de74d8f44719e6ba3fffd72c3f02959389bc5e9bebbaaa3ddb1b9be28c0c80168b008e647cad20f8"
    "26d67c43f5e9259bb7af2eaad9ab032e9aa6d642f3b86b66e861abd996d0c8a9ae6447bd6d7ed9b051cb584369ddafb6"
    "7148abb474f770951658b98936e15b44b9b818dab6640df7e7a0708467f2f2e9b04d9e5a685cb8e4c3945b07e3fadba5"
    "4350c8367b244747b471c51ef2717945";
static const char CLOSE_PRIMES[] =
    "abda60cb6eff098c5780ccfbacc754ec4fcdda3a771e392d9c27337fee0dee07aa7ac32ec40e073337b8cf9845688611"
    "1045cbf6d35c499c49ff9334bc855d4aacc3108ba2d2beed52d0d0261708f941a1ba36cbe29aa1ff4920699bc374156f"
    "c3695ff7bce5b09538cf196c8b55fbba39c993f9b9973b1bb0532d7bc843684e3c6c3d029854abf86b3fc84099f98858"
    "48212e2e3de1f06feaf037b716612de02d2723dbcce390e1aa8c25c73faf8e8d5fee92f3f4d853c55db63aaaba11e279"
    "549b9be21a5cff613e34f6c792769b9b17d9164654737fae83f5115a59d6569e6fa89bff4bef5c8adb99eae0b536ffd6"
    "c17f2f8b0b72e834752a9268a073a1d3";
static const char ROCA[] =
    "cc3b97bd35c034822c805cfe5521d3616933cb45750a121768ca2b0610b93029f21fe1d0c99dfbc633424b4179dbac3d"
    "1d43e5f641297ee7046fc4c1de27712072b662a2dab5c13a4b964ca7bd146e683ede5f5febf8d87c41c6f48701cc7c17"
    "1ec9c244c1a1cb9e8931cd6e6e685cede3ee0bd2a5942e8ecbe5bd65f5c76ed2cded1fd8e73dd1455dca80b943d45aba"
    "1245f2cfd0cbd83aad2b5c6b6996aa04f66e7bb2624a6c29734b8623701c64487089b004daeab45e766e4146757a658b"
    "8d444995dc2ff7e618e6a7b7e9791a95be7312a299a6260f8ef0ba58cd9c65fc9b648699a3c39b884878268b7cf1a027"
    "5e2a722b21c4213f6268b95e4233ac9f";

/* An RSA public key with modulus hex n and exponent e. */
static EVP_PKEY *rsa_key(const char *n_hex, unsigned long e)
{
    BIGNUM *n = NULL, *be = BN_new();
    EVP_PKEY *k = NULL;
    OSSL_PARAM_BLD *b = OSSL_PARAM_BLD_new();
    OSSL_PARAM *params = NULL;
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
    if (BN_hex2bn(&n, n_hex) && BN_set_word(be, e) && OSSL_PARAM_BLD_push_BN(b, OSSL_PKEY_PARAM_RSA_N, n) &&
        OSSL_PARAM_BLD_push_BN(b, OSSL_PKEY_PARAM_RSA_E, be) && (params = OSSL_PARAM_BLD_to_param(b)) &&
        EVP_PKEY_fromdata_init(ctx) == 1)
        EVP_PKEY_fromdata(ctx, &k, EVP_PKEY_PUBLIC_KEY, params);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(b);
    EVP_PKEY_CTX_free(ctx);
    BN_free(n);
    BN_free(be);
    return k;
}

/* Does the policy accept the key? why must mention want when refused. */
static bool accepts(EVP_PKEY *k, const char *want)
{
    char why[256] = "";
    bool ok = key_policy_accepts(k, why, sizeof(why));
    if (!ok && want && !strstr(why, want))
        fprintf(stderr, "    reason \"%s\" lacks \"%s\"\n", why, want);
    CHECK(ok || !want || strstr(why, want));
    EVP_PKEY_free(k);
    return ok;
}

/* GOOD with its last hex digits cut: a modulus of bits bits. */
static EVP_PKEY *rsa_key_bits(int bits)
{
    char hex[sizeof(GOOD)];
    snprintf(hex, sizeof(hex), "%.*s", bits / 4, GOOD);
    return rsa_key(hex, 65537);
}

static void test_rsa(void)
{
    CHECK(accepts(rsa_key(GOOD, 65537), NULL));
    CHECK(!accepts(rsa_key(GOOD, 1), "exponent must be 65537 (this one is 1)"));
    CHECK(!accepts(rsa_key(GOOD, 3), "exponent must be 65537 (this one is 3)"));
    CHECK(!accepts(rsa_key(GOOD, 65539), "exponent must be 65537"));
    CHECK(!accepts(rsa_key(SMALL_FACTOR, 65537), "divisible by 3"));
    CHECK(!accepts(rsa_key(FACTOR_751, 65537), "divisible by 751"));
    CHECK(!accepts(rsa_key(CLOSE_PRIMES, 65537), "Fermat"));
    CHECK(!accepts(rsa_key(ROCA, 65537), "ROCA"));
    /* Sizes: 2048..4096 bits in steps of 8. */
    CHECK(!accepts(rsa_key_bits(2044), "2048 to 4096 bits"));
    CHECK(!accepts(rsa_key_bits(1024), "2048 to 4096 bits"));
}

/* The ROCA test must not fire on ordinary keys: fresh RSA-2048 keys from
 * OpenSSL all pass (a false positive would show up here about once in
 * 2^27 runs per key). */
static void test_fresh_rsa_keys_pass(void)
{
    for (int i = 0; i < 3; i++) {
        EVP_PKEY *k = EVP_RSA_gen(2048);
        CHECK(k != NULL);
        if (k)
            CHECK(accepts(k, NULL));
    }
}

static void test_ec(void)
{
    CHECK(accepts(EVP_EC_gen("P-256"), NULL));
    CHECK(accepts(EVP_EC_gen("P-384"), NULL));
    CHECK(!accepts(EVP_EC_gen("P-521"), "P-256 or P-384"));
    CHECK(!accepts(EVP_EC_gen("secp256k1"), "P-256 or P-384"));
    EVP_PKEY *ed = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    CHECK(!accepts(ed, "key type is not accepted"));
    CHECK(!accepts(NULL, "key type is not accepted"));
}

int main(void)
{
    test_rsa();
    test_fresh_rsa_keys_pass();
    test_ec();
    return testlib_finish();
}
