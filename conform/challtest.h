/* pebble-challtestsrv's management API (plain HTTP on loopback): what the
 * checks need to pass challenges on a server under test (http-01 tokens
 * served on the server's validation port, TXT records for dns-01) and
 * what client mode needs to make a validation fail (an A record where no
 * client listens, SERVFAIL for an _acme-challenge name).
 * Host names are given without the trailing dot; it is added here, as
 * challtestsrv requires. Each call is 0, or -1 with err. */
#ifndef ARO_CONFORM_CHALLTEST_H
#define ARO_CONFORM_CHALLTEST_H

#include "util.h"

int cts_add_http01(const char *mgmt, const char *token, const char *content, aro_err *err);
int cts_del_http01(const char *mgmt, const char *token, aro_err *err);
/* TXT for host (e.g. "_acme-challenge.a.example.com"). */
int cts_set_txt(const char *mgmt, const char *host, const char *value, aro_err *err);
int cts_clear_txt(const char *mgmt, const char *host, aro_err *err);
/* Every query for host answered SERVFAIL, or no longer. */
int cts_servfail(const char *mgmt, const char *host, int on, aro_err *err);
/* An A record of host (instead of challtestsrv's default), or none again. */
int cts_add_a(const char *mgmt, const char *host, const char *address, aro_err *err);
int cts_clear_a(const char *mgmt, const char *host, aro_err *err);
/* The DNS queries for host seen since its history was last cleared, and
 * clearing it: -1 on error. */
long cts_dns_history_count(const char *mgmt, const char *host, aro_err *err);
int cts_clear_history(const char *mgmt, const char *host, aro_err *err);

#endif
