/* The URL scheme of this server's ACME resources, in one place: the route
 * table parses it, the renderers and the CAA check (RFC 8657 accounturi)
 * build it. base is "https://authority" as the client reached us.
 *   BASE/acme/acct/ID   BASE/acme/order/ID   BASE/acme/authz/ID
 *   BASE/acme/chall/ID  BASE/acme/cert/SERIAL ... */
#ifndef ARO_CORE_URLS_H
#define ARO_CORE_URLS_H

/* The fixed resources (7.1.1): the directory lists them, the route table
 * dispatches them. */
#define PATH_DIRECTORY "/directory"
#define PATH_DIRECTORY_PEBBLE "/dir"
#define PATH_NEW_NONCE "/acme/new-nonce"
#define PATH_NEW_ACCOUNT "/acme/new-account"
#define PATH_NEW_ORDER "/acme/new-order"
#define PATH_NEW_AUTHZ "/acme/new-authz"
#define PATH_REVOKE_CERT "/acme/revoke-cert"
#define PATH_KEY_CHANGE "/acme/key-change"
#define PATH_RENEWAL_INFO "/acme/renewal-info"

/* BASE/acme/KIND/ID, malloc'd. */
char *url_for(const char *base, const char *kind, const char *id);
/* BASE/acme/KIND/ID/SUFFIX, malloc'd ("order", id, "finalize"). */
char *url_for_sub(const char *base, const char *kind, const char *id, const char *suffix);
/* The account URL (the kid of its requests, 7.3). */
char *account_url(const char *base, const char *id);

/* A certificate's chain: alt 0 the default one, else alternate chain alt
 * (7.4.2 Link rel="alternate"). */
char *cert_url(const char *base, const char *serial, int alt);

/* The id at the end of a path like "/acme/authz/ID" (kind "authz"), with
 * an optional suffix ("/retry"); malloc'd, NULL when the path does not
 * match. */
char *id_from_path(const char *path, const char *kind, const char *suffix);
/* The id in a full URL of this server, "BASE/acme/KIND/ID" (a kid, a
 * challenge URL in a re-enable request); a pointer into url, or NULL. */
const char *id_in_url(const char *base, const char *url, const char *kind);

#endif
