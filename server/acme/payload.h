/* Decoding the members of request payloads that are checked after the
 * signature, so any account holder reaches them: newOrder's identifiers
 * and notBefore/notAfter (7.4, RFC 8738), newAccount's and account
 * updates' contacts (7.3). Each returns NULL when the member is good, or
 * the problem document to answer with (the caller's to problem_free).
 * Public so that the fuzz harness (tests/fuzz/fuzz_payload.c) calls
 * exactly what the resources call. */
#ifndef ARO_ACME_PAYLOAD_H
#define ARO_ACME_PAYLOAD_H

#include "json.h"
#include "problem.h"
#include "settings/config.h"
#include "store/records.h"

#define MAX_IDENTIFIERS 100

/* "identifiers": each checked and made canonical (rules/identifiers.c),
 * duplicates dropped, the wildcard's "*." kept so the order echoes what
 * was asked. Every refusal becomes a subproblem (6.7.1), so a client
 * learns about all bad names at once. Fills o->identifiers. */
acme_problem *payload_identifiers(const server_config *cfg, yajl_val arr, rec_order *o);
/* An optional RFC 3339 time member; *out a copy of it, or NULL. */
acme_problem *payload_time(yajl_val payload, const char *key, char **out);
/* The optional "retry-options" member of newOrder and newAuthz
 * (draft-aro-acme-retry-options, pending-hold): an object whose "hold"
 * (boolean, default false) opts the new authorizations in; *hold is true
 * only where the server honours it. Members the server does not know are
 * ignored, and so is the whole member when the server does not offer
 * pending-hold (RFC 8555 7.4: unknown fields are ignored). */
acme_problem *payload_retry_options(const server_config *cfg, yajl_val payload, bool *hold);
/* An optional "contact" array: mailto: URLs of valid addresses (7.3;
 * Pebble and Boulder take mailto only). */
acme_problem *payload_contacts(yajl_val contact);
/* Replace a's contacts with those of a checked "contact" array. */
void payload_set_contacts(rec_account *a, yajl_val contact);

#endif
