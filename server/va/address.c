#include "va/address.h"

#include <arpa/inet.h>
#include <stdint.h>
#include <string.h>

bool va_is_ip_literal(const char *s)
{
    unsigned char buf[16];
    return s && (inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1);
}

static bool in_v4_net(uint32_t a, uint32_t net, int bits)
{
    uint32_t mask = bits == 0 ? 0 : 0xffffffffu << (32 - bits);
    return (a & mask) == net;
}

static bool v4_private(const unsigned char b[4])
{
    uint32_t a = ((uint32_t)b[0] << 24) | ((uint32_t)b[1] << 16) | ((uint32_t)b[2] << 8) | b[3];
    static const struct {
        uint32_t net;
        int bits;
    } nets[] = {
        {0x00000000u, 8},  /* 0/8 "this network" */
        {0x0a000000u, 8},  /* 10/8, RFC 1918 */
        {0x64400000u, 10}, /* 100.64/10 shared address space, RFC 6598 */
        {0x7f000000u, 8},  /* 127/8 loopback */
        {0xa9fe0000u, 16}, /* 169.254/16 link-local, RFC 3927 */
        {0xac100000u, 12}, /* 172.16/12, RFC 1918 */
        {0xc0a80000u, 16}, /* 192.168/16, RFC 1918 */
        {0xe0000000u, 4},  /* 224/4 multicast: never a web server */
        {0xf0000000u, 4},  /* 240/4 reserved and broadcast */
    };
    for (size_t i = 0; i < sizeof nets / sizeof nets[0]; i++)
        if (in_v4_net(a, nets[i].net, nets[i].bits)) return true;
    return false;
}

static bool v6_private(const unsigned char b[16])
{
    static const unsigned char zero[16];
    static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (memcmp(b, mapped, 12) == 0) return v4_private(b + 12); /* ::ffff:a.b.c.d */
    if (memcmp(b, zero, 15) == 0 && (b[15] == 0 || b[15] == 1)) return true; /* ::, ::1 */
    if ((b[0] & 0xfe) == 0xfc) return true;                  /* fc00::/7 unique local */
    if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) return true;  /* fe80::/10 link-local */
    if (b[0] == 0xff) return true;                           /* ff00::/8 multicast */
    return false;
}

bool va_addr_is_private(const char *addr)
{
    unsigned char b[16];
    if (inet_pton(AF_INET, addr, b) == 1) return v4_private(b);
    if (inet_pton(AF_INET6, addr, b) == 1) return v6_private(b);
    return true; /* not an address at all: never contact it */
}

acme_problem *va_check_targets(const va_ctx *ctx, const char *host, const va_addrs *a)
{
    if (!ctx->cfg.deny_private_targets) return NULL;
    /* Any private address in the set refuses the whole name: trying only
     * the public ones would let a name mix targets per attempt. */
    for (size_t i = 0; i < a->n; i++)
        if (va_addr_is_private(a->addr[i]))
            return va_problem(VA_PRIVATE_TARGET_PROBLEM,
                              "%s resolves to %s, a private, loopback or link-local address "
                              "this server refuses to contact",
                              host, a->addr[i]);
    return NULL;
}
