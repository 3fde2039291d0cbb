#include "core/metrics.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

#define BUCKETS 256

typedef struct series {
    char *key; /* name{labels} */
    uint64_t value;
    struct series *next;
} series;

/* Prometheus's default buckets (client libraries' DefBuckets), seconds. */
static const double LE[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
#define NLE (sizeof(LE) / sizeof(LE[0]))

typedef struct histogram {
    char *name, *labels;
    uint64_t le[NLE + 1]; /* cumulative counts; [NLE] is +Inf, the count */
    double sum;
    struct histogram *next;
} histogram;

struct metrics {
    pthread_mutex_t lock;
    series *bucket[BUCKETS];
    size_t count;
    histogram *histograms; /* few; the series of one name next to each other */
};

metrics *metrics_new(void)
{
    metrics *m = xcalloc(1, sizeof(*m));
    pthread_mutex_init(&m->lock, NULL);
    return m;
}

void metrics_free(metrics *m)
{
    if (!m)
        return;
    for (int i = 0; i < BUCKETS; i++) {
        for (series *s = m->bucket[i], *n; s; s = n) {
            n = s->next;
            free(s->key);
            free(s);
        }
    }
    for (histogram *h = m->histograms, *n; h; h = n) {
        n = h->next;
        free(h->name);
        free(h->labels);
        free(h);
    }
    pthread_mutex_destroy(&m->lock);
    free(m);
}

static unsigned hash(const char *s)
{
    unsigned h = 2166136261u;
    while (*s)
        h = (h ^ (unsigned char)*s++) * 16777619u;
    return h % BUCKETS;
}

/* "name{labels}" in buf when it fits (every request counts something:
 * no allocation for that), else malloc'd; free it with key_done. */
static char *series_key(const char *name, const char *labels, char *buf, size_t size)
{
    size_t nl = strlen(name), ll = labels ? strlen(labels) : 0;
    char *key = nl + ll + 3 <= size ? buf : xmalloc(nl + ll + 3);
    memcpy(key, name, nl);
    if (ll) {
        key[nl] = '{';
        memcpy(key + nl + 1, labels, ll);
        key[nl + ll + 1] = '}';
        key[nl + ll + 2] = '\0';
    } else {
        key[nl] = '\0';
    }
    return key;
}

static void key_done(char *key, const char *buf)
{
    if (key != buf)
        free(key);
}

void metrics_add(metrics *m, const char *name, const char *labels, uint64_t by)
{
    char buf[256], *key = series_key(name, labels, buf, sizeof(buf));
    unsigned h = hash(key);
    pthread_mutex_lock(&m->lock);
    series *s = m->bucket[h];
    while (s && strcmp(s->key, key) != 0)
        s = s->next;
    if (!s) {
        s = xcalloc(1, sizeof(*s));
        s->key = xstrdup(key);
        s->next = m->bucket[h];
        m->bucket[h] = s;
        m->count++;
    }
    s->value += by;
    pthread_mutex_unlock(&m->lock);
    key_done(key, buf);
}

uint64_t metrics_get(metrics *m, const char *name, const char *labels)
{
    char buf[256], *key = series_key(name, labels, buf, sizeof(buf));
    uint64_t v = 0;
    pthread_mutex_lock(&m->lock);
    for (series *s = m->bucket[hash(key)]; s; s = s->next)
        if (strcmp(s->key, key) == 0)
            v = s->value;
    pthread_mutex_unlock(&m->lock);
    key_done(key, buf);
    return v;
}

void metrics_observe(metrics *m, const char *name, const char *labels, double seconds)
{
    pthread_mutex_lock(&m->lock);
    const char *l = labels ? labels : "";
    histogram **at = &m->histograms, **after_same_name = NULL;
    for (; *at; at = &(*at)->next) {
        if (strcmp((*at)->name, name) != 0)
            continue;
        if (strcmp((*at)->labels, l) == 0)
            break;
        after_same_name = &(*at)->next;
    }
    histogram *h = *at;
    if (!h) {
        /* A new series goes after the last of its name (one # TYPE line). */
        histogram **ins = after_same_name ? after_same_name : at;
        h = xcalloc(1, sizeof(*h));
        h->name = xstrdup(name);
        h->labels = xstrdup(l);
        h->next = *ins;
        *ins = h;
    }
    for (size_t i = 0; i < NLE; i++)
        h->le[i] += seconds <= LE[i];
    h->le[NLE]++;
    h->sum += seconds;
    pthread_mutex_unlock(&m->lock);
}

static void render_histograms(const metrics *m, aro_buf *b)
{
    const char *last = NULL;
    for (const histogram *h = m->histograms; h; h = h->next) {
        if (!last || strcmp(last, h->name) != 0)
            buf_printf(b, "# TYPE %s histogram\n", h->name);
        last = h->name;
        const char *sep = *h->labels ? "," : "";
        for (size_t i = 0; i < NLE; i++)
            buf_printf(b, "%s_bucket{%s%sle=\"%g\"} %llu\n", h->name, h->labels, sep, LE[i],
                       (unsigned long long)h->le[i]);
        buf_printf(b, "%s_bucket{%s%sle=\"+Inf\"} %llu\n", h->name, h->labels, sep, (unsigned long long)h->le[NLE]);
        buf_printf(b, "%s_sum%s%s%s %.6f\n", h->name, *h->labels ? "{" : "", h->labels, *h->labels ? "}" : "", h->sum);
        buf_printf(b, "%s_count%s%s%s %llu\n", h->name, *h->labels ? "{" : "", h->labels, *h->labels ? "}" : "",
                   (unsigned long long)h->le[NLE]);
    }
}

static int cmp_series(const void *a, const void *b)
{
    return strcmp((*(series *const *)a)->key, (*(series *const *)b)->key);
}

char *metrics_render(metrics *m)
{
    aro_buf b = {0};
    pthread_mutex_lock(&m->lock);
    series **all = xcalloc(m->count + 1, sizeof(*all));
    size_t n = 0;
    for (int i = 0; i < BUCKETS; i++)
        for (series *s = m->bucket[i]; s; s = s->next)
            all[n++] = s;
    qsort(all, n, sizeof(*all), cmp_series);
    const char *last_name = NULL;
    size_t last_len = 0;
    for (size_t i = 0; i < n; i++) {
        size_t name_len = strcspn(all[i]->key, "{");
        if (!last_name || name_len != last_len || strncmp(last_name, all[i]->key, name_len) != 0) {
            buf_printf(&b, "# TYPE %.*s counter\n", (int)name_len, all[i]->key);
            last_name = all[i]->key;
            last_len = name_len;
        }
        buf_printf(&b, "%s %llu\n", all[i]->key, (unsigned long long)all[i]->value);
    }
    render_histograms(m, &b);
    pthread_mutex_unlock(&m->lock);
    free(all);
    if (!b.data)
        buf_puts(&b, "");
    return buf_steal(&b);
}
