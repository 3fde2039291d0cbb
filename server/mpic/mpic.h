/* Multi-perspective issuance corroboration (CA/Browser Forum Baseline
 * Requirements 3.2.2.9, read in version 2.2.6 of 2026-03-31) at the
 * primary: each validation attempt is the primary's own look (CAA, then
 * the challenge: mpic/look.h) while every configured remote perspective
 * is asked for its look in parallel (mpic/remote.h); the attempt is valid
 * when the primary passed and the quorum (mpic/quorum.h) corroborates it.
 * A corroboration failure is invalid with the problem mpic/quorum.h makes
 * and va_result.corroboration_failed set, which keeps the retry policy
 * from offering the same challenge type again (rules/offer.c).
 *
 * Off unless perspectives are configured ("perspectives" in
 * docs/configuration.md): aro-server is a test CA. What a test CA on one
 * machine can and cannot honour of 3.2.2.9 is in docs/configuration.md.
 *
 * Counters (/metrics): aro_perspective_validations_total{perspective,result}
 * with result valid, invalid (it looked and did not pass), error (no usable
 * answer) or abandoned (not waited for, the decision was made); the
 * histogram aro_perspective_validation_seconds{perspective}; and
 * aro_corroborations_total{result} (corroborated, not_corroborated) per
 * attempt the primary passed. The primary's own look is perspective
 * "primary". Thread-safe after mpic_open; runs on worker threads. */
#ifndef ARO_MPIC_H
#define ARO_MPIC_H

#include "core/metrics.h"
#include "mpic/look.h"
#include "settings/config.h"

typedef struct mpic mpic;

/* NULL without error when no perspective is configured; NULL with err
 * when the channel's credentials cannot be made or read. */
mpic *mpic_open(const server_config *cfg, metrics *m, aro_err *err);
void mpic_close(mpic *p);

/* One complete attempt. p NULL: the primary's own look only (MPIC off),
 * exactly as before corroboration existed. out is filled as va_validate
 * fills it (the primary's validationRecord and negative-caching time). */
void mpic_validate(mpic *p, const va_config *cfg, const mpic_query *q, va_result *out);

#endif
