/* Counters and histograms for /metrics (Prometheus text format). Names and labels are the
 * contract of ../shared/design/contracts.md; series are created on first
 * use. Thread-safe. */
#ifndef ARO_METRICS_H
#define ARO_METRICS_H

#include <stdint.h>

typedef struct metrics metrics;

metrics *metrics_new(void);
void metrics_free(metrics *m);
/* labels: Prometheus label text without braces, e.g.
 * "endpoint=\"new-order\",status=\"201\"", or NULL. */
void metrics_add(metrics *m, const char *name, const char *labels, uint64_t by);
#define metrics_inc(m, name, labels) metrics_add((m), (name), (labels), 1)
uint64_t metrics_get(metrics *m, const char *name, const char *labels);
/* One observation (seconds) of the histogram name{labels}, rendered as
 * Prometheus renders histograms: name_bucket{labels,le="..."} for the
 * default buckets (5 ms to 10 s, then +Inf), name_sum, name_count. */
void metrics_observe(metrics *m, const char *name, const char *labels, double seconds);
/* Every series, one "name{labels} value" line each, sorted; histograms
 * after the counters. */
char *metrics_render(metrics *m);

#endif
