/* The address policy of --deny-private-targets (va/address.c) against
 * every block of the IANA IPv4 and IPv6 special-purpose registries that
 * is not globally reachable, the more specific entries that are, and the
 * forms that embed an IPv4 address (decided by the IPv4 policy). Each
 * block is probed at its first and last address and, where it matters,
 * just outside. */
#include <stdio.h>

#include "testlib.h"
#include "va/address.h"

static void refused(const char *a)
{
    if (!va_addr_is_private(a))
        fprintf(stderr, "  allowed, should be refused: %s\n", a);
    CHECK(va_addr_is_private(a));
}

static void allowed(const char *a)
{
    if (va_addr_is_private(a))
        fprintf(stderr, "  refused, should be allowed: %s\n", a);
    CHECK(!va_addr_is_private(a));
}

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static void check_table(const char *const *no, size_t nno, const char *const *yes, size_t nyes)
{
    for (size_t i = 0; i < nno; i++)
        refused(no[i]);
    for (size_t i = 0; i < nyes; i++)
        allowed(yes[i]);
}

static void test_ipv4(void)
{
    const char *no[] = {
        "0.0.0.0", "0.255.255.255",             /* this network */
        "10.0.0.0", "10.255.255.255",           /* private-use */
        "100.64.0.0", "100.127.255.255",        /* shared address space */
        "127.0.0.1", "127.255.255.255",         /* loopback */
        "169.254.0.0", "169.254.169.254",       /* link-local, cloud metadata */
        "172.16.0.0", "172.31.255.255",         /* private-use */
        "192.0.0.0", "192.0.0.8", "192.0.0.9", "192.0.0.10", "192.0.0.170", "192.0.0.255", /* IETF protocol assignments */
        "192.0.2.0", "192.0.2.255",             /* TEST-NET-1 */
        "192.88.99.0", "192.88.99.255",         /* 6to4 relay anycast (deprecated) */
        "192.168.0.0", "192.168.255.255",       /* private-use */
        "198.18.0.0", "198.19.255.255",         /* benchmarking */
        "198.51.100.0", "198.51.100.255",       /* TEST-NET-2 */
        "203.0.113.0", "203.0.113.255",         /* TEST-NET-3 */
        "224.0.0.1", "239.255.255.255",         /* multicast */
        "240.0.0.0", "255.255.255.255",         /* reserved, limited broadcast */
    };
    const char *yes[] = {
        "1.1.1.1", "8.8.8.8", "9.255.255.255", "11.0.0.0", "100.63.255.255", "100.128.0.0",
        "126.255.255.255", "128.0.0.0", "169.253.255.255", "169.255.0.0", "172.15.255.255", "172.32.0.0",
        "191.255.255.255", "192.0.1.0", "192.0.3.0", "192.31.196.1", "192.52.193.1", "192.88.98.255",
        "192.88.100.0", "192.167.255.255", "192.169.0.0", "192.175.48.1", "198.17.255.255", "198.20.0.0",
        "198.51.99.255", "198.51.101.0", "203.0.112.255", "203.0.114.0", "223.255.255.255",
    };
    check_table(no, COUNT(no), yes, COUNT(yes));
}

static void test_ipv6(void)
{
    const char *no[] = {
        "::", "::1",                                  /* unspecified, loopback */
        "64:ff9b:1::", "64:ff9b:1:ffff:ffff:ffff:ffff:ffff", "64:ff9b:1::808:808", /* local-use NAT64 */
        "100::", "100::ffff:ffff:ffff:ffff",          /* discard-only */
        "100:0:0:1::1",                               /* dummy prefix */
        "2001:2::", "2001:2:0:ffff:ffff:ffff:ffff:ffff", /* benchmarking */
        "2001:10::1",                                 /* deprecated ORCHID */
        "2001:100::1", "2001:1ff:ffff:ffff::1",       /* rest of 2001::/23 */
        "2001:1::4",                                  /* in 2001:1::/48, not one of its anycast entries */
        "2001:db8::", "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", /* documentation */
        "3fff::", "3fff:fff:ffff:ffff:ffff:ffff:ffff:ffff",     /* documentation (RFC 9637) */
        "5f00::1",                                    /* SRv6 SIDs */
        "fc00::", "fd12:3456::1", "fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", /* unique local */
        "fe80::", "febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff",   /* link-local */
        "fec0::", "fec0::1", "feff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", /* deprecated site-local */
        "ff02::1", "ff0e::1",                         /* multicast */
        "4000::1", "1000::1", "e000::1", "200::1",    /* reserved by IETF */
    };
    const char *yes[] = {
        "2001:4860:4860::8888", "2606:4700:4700::1111", "2a00:1450::1", "2000::1", "3ffe::1",
        "3fff:1000::1",                               /* just past 3fff::/20 */
        "2001:200::1",                                /* just past 2001::/23 */
        "2001:1::1", "2001:1::2", "2001:1::3",        /* PCP, TURN, DNS-SD SRP anycast */
        "2001:3::1", "2001:4:112::1", "2001:20::1", "2001:30::1", /* AMT, AS112, ORCHIDv2, DRIP */
        "2001:db7:ffff:ffff:ffff:ffff:ffff:ffff", "2001:db9::",
        "2620:4f:8000::1",                            /* AS112 direct delegation */
    };
    check_table(no, COUNT(no), yes, COUNT(yes));
}

/* The IPv4 policy decides for the embedded address. */
static void test_embedded_ipv4(void)
{
    const char *no[] = {
        "::ffff:127.0.0.1", "::ffff:10.0.0.1", "::ffff:192.0.2.1", "::ffff:0.0.0.0",   /* mapped */
        "::127.0.0.1", "::10.0.0.1", "::192.168.0.1", "::0.0.0.2",                    /* compatible */
        "64:ff9b::7f00:1", "64:ff9b::a00:1", "64:ff9b::c0a8:101", "64:ff9b::a9fe:a9fe", /* NAT64 */
        "64:ff9b::c000:201", "64:ff9b::c612:1",
        "2002:7f00:1::1", "2002:a00:1::", "2002:c0a8:101::1", "2002:c000:201::1",      /* 6to4 */
        "2002:c058:6301::1",                           /* 6to4 of the 6to4 relay */
        /* Teredo: server 127.0.0.1, client 8.8.8.8 (inverted f7f7:f7f7) */
        "2001:0:7f00:1::f7f7:f7f7",
        /* Teredo: server 8.8.8.8, client 10.0.0.1 (inverted f5ff:fffe) */
        "2001:0:808:808::f5ff:fffe",
    };
    const char *yes[] = {
        "::ffff:8.8.8.8", "::ffff:1.1.1.1", "::8.8.8.8",
        "64:ff9b::808:808", "64:ff9b::101:101",
        "2002:808:808::1",
        "2001:0:808:808::f7f7:f7f7",                   /* Teredo: server and client 8.8.8.8 */
    };
    check_table(no, COUNT(no), yes, COUNT(yes));
    /* Not an address at all: never contacted. */
    refused("");
    refused("example.com");
    refused("1.2.3");
    refused("::ffff:1.2.3.4.5");
}

int main(void)
{
    test_ipv4();
    test_ipv6();
    test_embedded_ipv4();
    return testlib_finish();
}
