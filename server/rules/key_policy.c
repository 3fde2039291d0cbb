#include "rules/key_policy.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <stdio.h>
#include <string.h>

/* Trial division bound: the primes up to 751, as Boulder checks (and as
 * NIST SP 800-89 5.3.3 suggests for a partial public-key validation). */
#define SMALL_PRIME_BOUND 751
/* ROCA: Infineon's primes were p = k * M + (65537^a mod M) with M the
 * product of the first primes (the first 39, up to 167, for the smallest
 * keys), so every modulus n = p * q is, modulo each prime r up to 167, a
 * power of 65537. A random modulus is one modulo only a few of them: the
 * test looks at every such r where 65537 does not generate all of
 * (Z/rZ)* (the others tell nothing), which are 17 primes from 11 to 157. */
#define ROCA_PRIME_BOUND 167
#define RSA_EXPONENT 65537

static bool is_small_prime(unsigned p)
{
    if (p < 2)
        return false;
    for (unsigned d = 2; d * d <= p; d++)
        if (p % d == 0)
            return false;
    return true;
}

/* The multiplicative order of g modulo prime p (g not a multiple of p). */
static unsigned order_mod(unsigned g, unsigned p)
{
    unsigned x = g % p, k = 1;
    while (x != 1) {
        x = x * (g % p) % p;
        k++;
    }
    return k;
}

/* x^e mod p for small numbers. */
static unsigned pow_mod(unsigned x, unsigned e, unsigned p)
{
    unsigned long r = 1, b = x % p;
    for (; e; e >>= 1, b = b * b % p)
        if (e & 1)
            r = r * b % p;
    return (unsigned)r;
}

/* n mod p; BN_mod_word's error value ((BN_ULONG)-1) never equals a
 * residue of a small p. */
static unsigned residue(const BIGNUM *n, unsigned p)
{
    return (unsigned)BN_mod_word(n, p);
}

static unsigned small_factor(const BIGNUM *n)
{
    for (unsigned p = 2; p <= SMALL_PRIME_BOUND; p++)
        if (is_small_prime(p) && residue(n, p) == 0)
            return p;
    return 0;
}

/* The ROCA fingerprint: n mod r lies in the subgroup 65537 generates, for
 * every prime r where that subgroup is a proper one. */
static bool roca_fingerprint(const BIGNUM *n)
{
    for (unsigned r = 3; r <= ROCA_PRIME_BOUND; r++) {
        if (!is_small_prime(r))
            continue;
        unsigned ord = order_mod(RSA_EXPONENT, r);
        if (ord == r - 1)
            continue; /* 65537 generates everything modulo r: no information */
        if (pow_mod(residue(n, r), ord, r) != 1)
            return false;
    }
    return true;
}

/* floor(sqrt(n)) by Newton's iteration from above; 0 on error. */
static int isqrt(BIGNUM *out, const BIGNUM *n, BN_CTX *ctx)
{
    BN_CTX_start(ctx);
    BIGNUM *x = BN_CTX_get(ctx), *y = BN_CTX_get(ctx);
    int ok = y != NULL;
    if (ok) {
        /* x starts at a power of two above sqrt(n) (n < 2^bits); then
         * y = (x + n / x) / 2 decreases until it reaches floor(sqrt(n)). */
        BN_zero(x);
        ok = BN_is_zero(n) || BN_set_bit(x, (BN_num_bits(n) + 1) / 2);
    }
    while (ok && !BN_is_zero(x)) {
        ok = BN_div(y, NULL, n, x, ctx) && BN_add(y, y, x) && BN_rshift1(y, y);
        if (!ok || BN_cmp(y, x) >= 0)
            break;
        ok = BN_copy(x, y) != NULL;
    }
    ok = ok && BN_copy(out, x) != NULL;
    BN_CTX_end(ctx);
    return ok;
}

/* Squares modulo 64, 63, 65 and 11 take few values: a number whose
 * residues are not all squares is no square, without a square root (all
 * but about 1 in 150 numbers are ruled out so). */
static const unsigned square_moduli[] = {64, 63, 65, 11};

static bool may_be_square(const BIGNUM *x)
{
    BN_ULONG r = BN_mod_word(x, 64UL * 63 * 65 * 11);
    for (size_t i = 0; i < sizeof(square_moduli) / sizeof(square_moduli[0]); i++) {
        unsigned m = square_moduli[i], want = (unsigned)(r % m);
        bool found = false;
        for (unsigned y = 0; y < m && !found; y++)
            found = y * y % m == want;
        if (!found)
            return false;
    }
    return true;
}

/* Fermat's factorization for rounds rounds: with a from ceil(sqrt(n)),
 * a^2 - n a perfect square b^2 means n = (a - b)(a + b). 1 when found, 0
 * when not, -1 on error. */
static int fermat_factors(const BIGNUM *n, int rounds, BN_CTX *ctx)
{
    BN_CTX_start(ctx);
    BIGNUM *a = BN_CTX_get(ctx), *b2 = BN_CTX_get(ctx), *b = BN_CTX_get(ctx), *sq = BN_CTX_get(ctx);
    int found = -1;
    if (!sq || !isqrt(a, n, ctx) || !BN_sqr(sq, a, ctx))
        goto out;
    if (BN_cmp(sq, n) < 0 && (!BN_add_word(a, 1) || !BN_sqr(sq, a, ctx)))
        goto out;
    if (!BN_sub(b2, sq, n))
        goto out;
    found = 0;
    for (int i = 0; i < rounds && found == 0; i++) {
        if (may_be_square(b2)) {
            if (!isqrt(b, b2, ctx) || !BN_sqr(sq, b, ctx)) {
                found = -1;
                break;
            }
            if (BN_cmp(sq, b2) == 0) {
                found = 1;
                break;
            }
        }
        /* (a + 1)^2 - n = b2 + 2a + 1 */
        if (!BN_add(b2, b2, a) || !BN_add(b2, b2, a) || !BN_add_word(b2, 1) || !BN_add_word(a, 1))
            found = -1;
    }
out:
    BN_CTX_end(ctx);
    return found;
}

static bool rsa_accepts(EVP_PKEY *k, char *why, size_t whylen)
{
    BIGNUM *n = NULL, *e = NULL;
    BN_CTX *ctx = BN_CTX_new();
    bool ok = false;
    if (!ctx || !EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_RSA_N, &n) ||
        !EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_RSA_E, &e)) {
        snprintf(why, whylen, "the RSA key is unreadable");
        goto out;
    }
    int bits = BN_num_bits(n);
    unsigned p;
    int fermat;
    if (bits < 2048 || bits > 4096 || bits % 8) {
        snprintf(why, whylen, "RSA keys must have 2048 to 4096 bits, a multiple of 8 (this one has %d)", bits);
    } else if (!BN_is_word(e, RSA_EXPONENT)) {
        char *dec = BN_bn2dec(e);
        snprintf(why, whylen, "the RSA public exponent must be 65537 (this one is %s)", dec ? dec : "?");
        OPENSSL_free(dec);
    } else if ((p = small_factor(n))) {
        snprintf(why, whylen, "the RSA modulus is divisible by %u", p);
    } else if (roca_fingerprint(n)) {
        snprintf(why, whylen, "the RSA key was made by the Infineon library vulnerable to ROCA (CVE-2017-15361)");
    } else if ((fermat = fermat_factors(n, KEY_POLICY_FERMAT_ROUNDS, ctx)) != 0) {
        snprintf(why, whylen, fermat > 0 ? "the RSA modulus has prime factors so close that Fermat's method finds them"
                                         : "the RSA key could not be checked");
    } else {
        ok = true;
    }
out:
    BN_free(n);
    BN_free(e);
    BN_CTX_free(ctx);
    ERR_clear_error();
    return ok;
}

static bool ec_accepts(EVP_PKEY *k, char *why, size_t whylen)
{
    char curve[32] = "";
    size_t cl = 0;
    EVP_PKEY_get_utf8_string_param(k, OSSL_PKEY_PARAM_GROUP_NAME, curve, sizeof(curve), &cl);
    if (strcmp(curve, "prime256v1") != 0 && strcmp(curve, "secp384r1") != 0) {
        snprintf(why, whylen, "EC keys must be P-256 or P-384 (not %s)", *curve ? curve : "an unnamed curve");
        return false;
    }
    /* Coordinates in range, on the curve, not the point at infinity: the
     * partial validation of SP 800-56A rev. 3 5.6.2.3.4. Both curves have
     * cofactor 1, so that is full validation (5.6.2.3.3's n*Q = O check,
     * which EVP_PKEY_public_check adds, costs one more scalar
     * multiplication, as much as verifying a signature, and can only
     * succeed for such a point). */
    EVP_PKEY_CTX *pc = EVP_PKEY_CTX_new_from_pkey(NULL, k, NULL);
    bool ok = pc && EVP_PKEY_public_check_quick(pc) == 1;
    EVP_PKEY_CTX_free(pc);
    ERR_clear_error();
    if (!ok)
        snprintf(why, whylen, "the EC public point is not a valid point of %s", curve);
    return ok;
}

bool key_policy_accepts(EVP_PKEY *k, char *why, size_t whylen)
{
    if (k && EVP_PKEY_get_base_id(k) == EVP_PKEY_RSA)
        return rsa_accepts(k, why, whylen);
    if (k && EVP_PKEY_get_base_id(k) == EVP_PKEY_EC)
        return ec_accepts(k, why, whylen);
    snprintf(why, whylen, "the key type is not accepted (RSA, P-256, P-384)");
    return false;
}
