/* The address policy under --deny-private-targets: an address is
 * contacted only when it is globally reachable.
 *
 * Source: the "Globally Reachable" column of the IANA IPv4
 * Special-Purpose Address Registry (RFC 6890; the version last updated
 * 2020-09-04) and of the IANA IPv6 Special-Purpose Address Registry (the
 * version last updated 2024-10-22), plus the blocks that are not
 * unicast at all (IPv4 multicast 224.0.0.0/4; IPv6 multicast ff00::/8,
 * and everything outside 2000::/3 that the IANA IPv6 Address Space
 * registry lists as "Reserved by IETF", with the deprecated site-local
 * fec0::/10 of RFC 3879 among it).
 *
 * Addresses that carry an IPv4 address inside them reach that IPv4
 * address (through a translator, a tunnel or the kernel's dual stack), so
 * the IPv4 policy decides for them: IPv4-mapped ::ffff:0:0/96 (RFC 4291
 * 2.5.5.2), IPv4-compatible ::/96 (2.5.5.1, deprecated), NAT64
 * 64:ff9b::/96 (RFC 6052), 6to4 2002::/16 (RFC 3056) and Teredo
 * 2001::/32 (RFC 4380: the server's address and, inverted, the client's;
 * both must pass). The local-use NAT64 prefix 64:ff9b:1::/48 (RFC 8215)
 * is not globally reachable itself and is refused whatever it embeds.
 *
 * Where the registry marks a more specific block globally reachable
 * inside one that is not (anycast services in 2001::/23), the more
 * specific entry wins, except inside 192.0.0.0/24: its two anycast
 * entries (PCP 192.0.0.9, TURN 192.0.0.10) are protocol endpoints that
 * never serve a challenge, so the whole /24 is refused (docs/hardening.md). */
#include "va/address.h"

#include <arpa/inet.h>
#include <stdint.h>
#include <string.h>

bool va_is_ip_literal(const char *s)
{
    unsigned char buf[16];
    return s && (inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1);
}

/* ---- IPv4 ---- */

typedef struct {
    uint32_t net;
    int bits;
} v4_block;

/* Not globally reachable (or not unicast). */
static const v4_block v4_refused[] = {
    {0x00000000u, 8},  /* 0.0.0.0/8 "this network", RFC 791 */
    {0x0a000000u, 8},  /* 10.0.0.0/8 private-use, RFC 1918 */
    {0x64400000u, 10}, /* 100.64.0.0/10 shared address space, RFC 6598 */
    {0x7f000000u, 8},  /* 127.0.0.0/8 loopback */
    {0xa9fe0000u, 16}, /* 169.254.0.0/16 link-local, RFC 3927 */
    {0xac100000u, 12}, /* 172.16.0.0/12 private-use */
    {0xc0000000u, 24}, /* 192.0.0.0/24 IETF protocol assignments, RFC 6890 */
    {0xc0000200u, 24}, /* 192.0.2.0/24 documentation TEST-NET-1, RFC 5737 */
    {0xc0586300u, 24}, /* 192.88.99.0/24 6to4 relay anycast, deprecated by RFC 7526 */
    {0xc0a80000u, 16}, /* 192.168.0.0/16 private-use */
    {0xc6120000u, 15}, /* 198.18.0.0/15 benchmarking, RFC 2544 */
    {0xc6336400u, 24}, /* 198.51.100.0/24 documentation TEST-NET-2 */
    {0xcb007100u, 24}, /* 203.0.113.0/24 documentation TEST-NET-3 */
    {0xe0000000u, 4},  /* 224.0.0.0/4 multicast: never a web server */
    {0xf0000000u, 4},  /* 240.0.0.0/4 reserved, and 255.255.255.255 limited broadcast */
};

static bool v4_is_refused(const unsigned char b[4])
{
    uint32_t a = ((uint32_t)b[0] << 24) | ((uint32_t)b[1] << 16) | ((uint32_t)b[2] << 8) | b[3];
    for (size_t i = 0; i < sizeof v4_refused / sizeof v4_refused[0]; i++) {
        uint32_t mask = 0xffffffffu << (32 - v4_refused[i].bits);
        if ((a & mask) == v4_refused[i].net)
            return true;
    }
    return false;
}

/* ---- IPv6 ---- */

typedef struct {
    unsigned char prefix[16];
    int bits;
} v6_block;

static bool in_v6(const unsigned char a[16], const v6_block *blk)
{
    int full = blk->bits / 8, rest = blk->bits % 8;
    if (memcmp(a, blk->prefix, (size_t)full) != 0)
        return false;
    if (!rest)
        return true;
    unsigned char mask = (unsigned char)(0xff << (8 - rest));
    return (a[full] & mask) == (blk->prefix[full] & mask);
}

static bool in_any(const unsigned char a[16], const v6_block *blks, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (in_v6(a, &blks[i]))
            return true;
    return false;
}

#define V6(...) {__VA_ARGS__}

/* Not globally reachable, inside global unicast 2000::/3. */
static const v6_block v6_refused[] = {
    {V6(0x20, 0x01, 0x00, 0x00), 23},             /* 2001::/23 IETF protocol assignments, RFC 2928 */
    {V6(0x20, 0x01, 0x0d, 0xb8), 32},             /* 2001:db8::/32 documentation, RFC 3849 */
    {V6(0x3f, 0xff), 20},                         /* 3fff::/20 documentation, RFC 9637 */
};
/* Globally reachable, inside a refused block (the registry's more
 * specific entries). */
static const v6_block v6_reachable[] = {
    {V6(0x20, 0x01, 0x00, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01), 128}, /* 2001:1::1 PCP anycast */
    {V6(0x20, 0x01, 0x00, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02), 128}, /* 2001:1::2 TURN anycast */
    {V6(0x20, 0x01, 0x00, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x03), 128}, /* 2001:1::3 DNS-SD SRP anycast */
    {V6(0x20, 0x01, 0x00, 0x03), 32},             /* 2001:3::/32 AMT, RFC 7450 */
    {V6(0x20, 0x01, 0x00, 0x04, 0x01, 0x12), 48}, /* 2001:4:112::/48 AS112-v6, RFC 7535 */
    {V6(0x20, 0x01, 0x00, 0x20), 28},             /* 2001:20::/28 ORCHIDv2, RFC 7343 */
    {V6(0x20, 0x01, 0x00, 0x30), 28},             /* 2001:30::/28 drone remote ID, RFC 9374 */
};

static const v6_block v6_global_unicast = {V6(0x20), 3};                  /* 2000::/3 */
static const v6_block v6_mapped = {V6(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff), 96};
static const v6_block v6_compatible = {V6(0), 96};                       /* ::/96 */
static const v6_block v6_nat64 = {V6(0x00, 0x64, 0xff, 0x9b), 96};       /* 64:ff9b::/96 */
static const v6_block v6_6to4 = {V6(0x20, 0x02), 16};                    /* 2002::/16 */
static const v6_block v6_teredo = {V6(0x20, 0x01, 0x00, 0x00), 32};      /* 2001::/32 */

static bool v6_is_refused(const unsigned char b[16])
{
    if (in_v6(b, &v6_mapped) || in_v6(b, &v6_nat64))
        return v4_is_refused(b + 12);
    if (in_v6(b, &v6_compatible)) /* also :: and ::1, whose "IPv4" is in 0/8 */
        return v4_is_refused(b + 12);
    if (in_v6(b, &v6_6to4))
        return v4_is_refused(b + 2);
    if (in_v6(b, &v6_teredo)) {
        unsigned char client[4] = {(unsigned char)~b[12], (unsigned char)~b[13], (unsigned char)~b[14],
                                   (unsigned char)~b[15]};
        return v4_is_refused(b + 4) || v4_is_refused(client);
    }
    /* 64:ff9b:1::/48, 100::/64 discard-only, fc00::/7 unique local,
     * fe80::/10 link-local, fec0::/10 site-local, ff00::/8 multicast and
     * the rest of the reserved space all lie outside 2000::/3. */
    if (!in_v6(b, &v6_global_unicast))
        return true;
    return in_any(b, v6_refused, sizeof v6_refused / sizeof v6_refused[0]) &&
           !in_any(b, v6_reachable, sizeof v6_reachable / sizeof v6_reachable[0]);
}

bool va_addr_is_private(const char *addr)
{
    unsigned char b[16];
    if (inet_pton(AF_INET, addr, b) == 1) return v4_is_refused(b);
    if (inet_pton(AF_INET6, addr, b) == 1) return v6_is_refused(b);
    return true; /* not an address at all: never contact it */
}

acme_problem *va_check_targets(const va_ctx *ctx, const char *host, const va_addrs *a)
{
    if (!ctx->cfg.deny_private_targets) return NULL;
    /* Any refused address in the set refuses the whole name: trying only
     * the reachable ones would let a name mix targets per attempt. */
    for (size_t i = 0; i < a->n; i++)
        if (va_addr_is_private(a->addr[i]))
            return va_problem(VA_PRIVATE_TARGET_PROBLEM,
                              "%s resolves to %s, an address that is not globally reachable "
                              "(IANA special-purpose registries); this server refuses to contact it",
                              host, a->addr[i]);
    return NULL;
}
