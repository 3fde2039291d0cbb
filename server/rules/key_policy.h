/* The public keys this CA certifies (RFC 8555 11.1 leaves the choice to
 * the CA; CA/Browser Forum Baseline Requirements 6.1.5 and 6.1.6), in
 * the manner of Boulder's goodkey package:
 *   RSA: a modulus of 2048 to 4096 bits (a multiple of 8), the public
 *        exponent 65537 and nothing else (e = 1 makes the "signature" the
 *        padded digest itself, no private key needed), no prime factor
 *        up to 751, not a key of the Infineon library broken by ROCA
 *        (CVE-2017-15361), and prime factors not so close together that
 *        Fermat's method finds them within 110 rounds;
 *   EC:  P-256 or P-384 with a valid public point (on the curve, not the
 *        point at infinity).
 * docs/ca-policy.md says where this follows Boulder and where not. Pure:
 * no store, no global state, safe on any thread. */
#ifndef ARO_RULES_KEY_POLICY_H
#define ARO_RULES_KEY_POLICY_H

#include <openssl/evp.h>
#include <stdbool.h>
#include <stddef.h>

/* Rounds of Fermat's factorization tried on every RSA modulus (Boulder's
 * default, and its minimum is 100). */
#define KEY_POLICY_FERMAT_ROUNDS 110

/* true when key k may be certified; else false with why (at most whylen
 * bytes, NUL-terminated) saying what is wrong with it. */
bool key_policy_accepts(EVP_PKEY *k, char *why, size_t whylen);

#endif
