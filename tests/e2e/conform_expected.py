"""The expected aro-conform results, per target: which checks fail and
which are skipped; every other check of the catalogue passes. The
conform_* tests assert these exactly, and docs/conformance.md explains
each failure (for Pebble, with the RFC text it departs from). When an
implementation changes, this table and that page change together."""

SERVER = {
    # aro-server with tests/e2e/conform_server.py's settings: no failure
    # (the five the first report found are fixed; docs/conformance.md).
    "aro-server": {
        "fail": [],
        "skip": [
            "ro.no-member-without-meta",  # it advertises the extension
            "ro.hold-without-meta",
        ],
    },
    # Debian's pebble 2.4.0 with PEBBLE_VA_NOSLEEP=1 PEBBLE_WFE_NONCEREJECT=0
    # PEBBLE_AUTHZREUSE=0.
    "pebble": {
        "fail": [
            "account.deactivated-401",
            "account.mailto-hfields",
            "account.rollover-conflict",
            "chall.processing",
            "error.acme-namespace",
            "error.problem-document",
            "finalize.bad-csr",
            "jws.alg-mac",
            "jws.alg-none",
            "jws.eddsa",
            "jws.url-exact",
            "jws.url-mismatch",
            "nonce.no-store",
            "order.bad-identifier",
            "order.deactivated-authz",
            "order.unsupported-identifier",
            "revoke.by-authorized-account",
        ],
        "skip": [
            "ari.already-replaced", "ari.replaced-twice", "ari.replaces", "ari.retry-after", "ari.window",
            "cert.alternates", "jws.algorithms-field", "order.newauthz",
            "ro.attempts", "ro.backoff-grows", "ro.backoff-min", "ro.exhausted", "ro.fresh-token-stable",
            "ro.hold-failure", "ro.hold-no-url", "ro.hold-order", "ro.hold-take", "ro.hold-too-early",
            "ro.hold-unlisted", "ro.legacy-post-failed", "ro.legacy-post-untried", "ro.meta", "ro.not-on-pending",
            "ro.offer", "ro.offer-deadline", "ro.offer-on-challenge", "ro.offer-unattempted", "ro.order-offer",
            "ro.order-pending", "ro.order-ready", "ro.reenable-accept", "ro.reenable-bad-payload",
            "ro.reenable-foreign", "ro.reenable-not-invalid", "ro.reenable-repeat", "ro.reenable-too-early",
            "ro.reenable-unlisted", "ro.offer-gone",
        ],
    },
}

CLIENT = {
    # aro (this tree) issuing and renewing at once.
    "aro": {
        "fail": [],                       # (no Accept-Language and an early poll: fixed)
        "skip": [
            "client.alternates",          # fetches no alternate chain (it would with --preferred-chain)
        ],
    },
    # Debian's certbot 2.1.0.
    "certbot": {
        "fail": [
            "client.accept-language",
            "client.badnonce-nonce",      # retries a badNonce with a nonce from HEAD newNonce, not the error's
        ],
        "skip": [
            "client.alternates", "client.ari-certid", "client.ari-get", "client.ari-replaces",
            "client.ro-hold", "client.ro-notbefore", "client.ro-offer-taken", "client.ro-same-order",
        ],
    },
    # Debian's lego 4.9.1 ("dev").
    "lego": {
        "fail": [
            "client.accept-language",
            "client.poll-interval",       # reads the authorization again right after responding
        ],
        "skip": [
            "client.ari-certid", "client.ari-get", "client.ari-replaces",
            "client.ro-hold", "client.ro-notbefore", "client.ro-offer-taken", "client.ro-same-order",
        ],
    },
}
