/* A session: what every command that talks to a CA opens first and closes
 * last: the state directory under its lock (lock.h), the transport with
 * the CA's directory (RFC 8555 7.1.1), the account key of this server,
 * the account (7.3), and the challenge solvers once a command needs them.
 * renew keeps the state (and its lock) for the whole run and connects to
 * each certificate's own CA in turn (session_connect/session_disconnect).
 *
 * Functions that can fail take the command's report and put the error in
 * it (report_fail, the CA's problem type when it gave one); they return 0
 * on success and -1 on failure. */
#ifndef ARO_CLIENT_SESSION_H
#define ARO_CLIENT_SESSION_H

#include <openssl/evp.h>
#include <stdbool.h>

#include "acme.h"
#include "json.h"
#include "lock.h"
#include "options.h"
#include "report.h"
#include "solvers.h"
#include "state.h"

typedef struct {
    const aro_opts *o;      /* the options of the CA connected to (renew: per certificate) */
    state *st;
    state_lock *lock;
    acme_ctx acme;          /* acme.kid is set once the account is known */
    bool acme_open;
    EVP_PKEY *key;          /* account key of o->server; NULL until made */
    char *key_path;
    solvers *sol;           /* NULL until session_start_solvers */
} session;

/* session_open_state, then session_connect. On failure too, session_close
 * must follow (it copes with whatever was opened). */
int session_open(session *S, const aro_opts *o, report *rep);
/* Take the state directory's lock (waiting up to --lock-wait) and open
 * it. */
int session_open_state(session *S, const aro_opts *o, report *rep);
/* Fetch o->server's directory and load its account key when there is
 * one; S->o becomes o (which must outlive the connection). */
int session_connect(session *S, const aro_opts *o, report *rep);
/* Stop the solvers and forget the CA and its key; the state stays open. */
void session_disconnect(session *S);
void session_close(session *S);

/* Start the solvers the options configure (--http-port, --webroot,
 * --tls-alpn-port, --hook). */
void session_start_solvers(session *S);

typedef enum {
    ACCOUNT_EXISTING,   /* the stored account, or the CA's for our key (7.3.1); never create */
    ACCOUNT_ENSURE,     /* the same, else create one when the CA has no terms of service or
                           --agree-tos was given (issue) */
    ACCOUNT_NEW,        /* newAccount now, with contacts, terms and EAB (account new) */
} account_need;

/* Make the account ready for signed requests (S->acme.kid), generating and
 * saving the account key first when a new account needs one. With
 * ACCOUNT_NEW, *created (when non-NULL) says whether the CA created it
 * (201) or found it (200, 7.3). */
int session_account(session *S, account_need need, bool *created, report *rep);

/* After SIGINT/SIGTERM (interrupt.h): finish the cleanup (the built-in
 * servers stop), and make the result say so: error type
 * "aro:interrupted" with what was cleaned up (the report's cleanup list,
 * filled as the attempts were torn down and the authorizations
 * deactivated). */
void session_interrupted(session *S, report *rep);

/* "contact": the --email addresses as mailto: URLs (7.3). */
void session_write_contacts(json_gen *g, const aro_opts *o);

#endif
