/* Small shared utilities; see util.h. Allocation failure aborts. */
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>


void aro_err_set(aro_err *e, const char *fmt, ...)
{
    if (!e) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof e->msg, fmt, ap);
    va_end(ap);
}

static void oom(void)
{
    fputs("aro: out of memory\n", stderr);
    abort();
}

void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p) oom();
    return p;
}

void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p) oom();
    return p;
}

void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q) oom();
    return q;
}

char *xstrdup(const char *s)
{
    return s ? xstrndup(s, strlen(s)) : NULL;
}

char *xstrndup(const char *s, size_t n)
{
    size_t len = strnlen(s, n);
    char *p = xmalloc(len + 1);
    memcpy(p, s, len);
    p[len] = '\0';
    return p;
}

static char *xvasprintf(const char *fmt, va_list ap)
{
    /* One formatting pass for the usual short result (URLs, store keys):
     * printf-family calls are most of the cost, so the second pass is
     * only for what does not fit. */
    char small[256];
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(small, sizeof small, fmt, ap2);
    va_end(ap2);
    if (n < 0) oom(); /* only an encoding error; treat as fatal like OOM */
    char *p = xmalloc((size_t)n + 1);
    if ((size_t)n < sizeof small)
        memcpy(p, small, (size_t)n + 1);
    else
        vsnprintf(p, (size_t)n + 1, fmt, ap);
    return p;
}

char *xasprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *p = xvasprintf(fmt, ap);
    va_end(ap);
    return p;
}

/* Make room for extra more bytes plus the terminating NUL. */
static void buf_reserve(aro_buf *b, size_t extra)
{
    if (extra > SIZE_MAX - b->len - 1) oom();
    size_t need = b->len + extra + 1;
    if (need <= b->cap) return;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need) cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    b->data = xrealloc(b->data, cap);
    b->cap = cap;
}

void buf_append(aro_buf *b, const void *data, size_t len)
{
    buf_reserve(b, len);
    if (len) memcpy(b->data + b->len, data, len);
    b->len += len;
    b->data[b->len] = '\0';
}

void buf_puts(aro_buf *b, const char *s)
{
    buf_append(b, s, strlen(s));
}

void buf_printf(aro_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = xvasprintf(fmt, ap);
    va_end(ap);
    buf_puts(b, s);
    free(s);
}

char *buf_steal(aro_buf *b)
{
    /* An empty buffer still hands out a valid empty string. */
    buf_reserve(b, 0);
    b->data[b->len] = '\0';
    char *p = b->data;
    b->data = NULL;
    b->len = b->cap = 0;
    return p;
}

void buf_free(aro_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

char *hex_lower(const void *data, size_t len)
{
    static const char digits[] = "0123456789abcdef";
    const unsigned char *in = data;
    char *out = xmalloc(2 * len + 1);
    for (size_t i = 0; i < len; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * len] = '\0';
    return out;
}

void time_format_rfc3339(time_t t, char out[32])
{
    /* RFC 3339 years have exactly four digits: strftime's %Y writes "725"
     * for the year 725 (found by fuzzing), so format by hand and clamp to
     * what the grammar can say. */
    static const time_t max_t = 253402300799; /* 9999-12-31T23:59:59Z */
    static const time_t min_t = -62167219200; /* 0000-01-01T00:00:00Z */
    struct tm tm;
    if (t > max_t)
        t = max_t;
    if (t < min_t)
        t = min_t;
    if (!gmtime_r(&t, &tm)) {
        out[0] = '\0';
        return;
    }
    char buf[80]; /* roomy enough that the compiler sees no truncation */
    snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
    memcpy(out, buf, 21); /* "YYYY-MM-DDTHH:MM:SSZ" and its NUL */
}

/* Read exactly n decimal digits; -1 if any is not a digit. */
static int parse_digits(const char **p, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)**p)) return -1;
        v = v * 10 + (**p - '0');
        (*p)++;
    }
    return v;
}

static int expect_char(const char **p, const char *set)
{
    if (!**p || !strchr(set, **p)) return -1;
    (*p)++;
    return 0;
}

static bool is_leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int y, int m)
{
    static const int d[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : d[m - 1];
}

/* The offset part: "Z" / "z" or "+hh:mm" / "-hh:mm". Seconds east of UTC. */
static int parse_offset(const char **p, long *off)
{
    char c = **p;
    if (c == 'Z' || c == 'z') {
        (*p)++;
        *off = 0;
        return 0;
    }
    if (c != '+' && c != '-') return -1;
    (*p)++;
    int hh = parse_digits(p, 2);
    if (hh < 0 || expect_char(p, ":") < 0) return -1;
    int mm = parse_digits(p, 2);
    if (mm < 0 || hh > 23 || mm > 59) return -1;
    *off = (long)(hh * 3600 + mm * 60) * (c == '-' ? -1 : 1);
    return 0;
}

int time_parse_rfc3339(const char *s, time_t *out)
{
    if (!s) return -1;
    const char *p = s;
    struct tm tm = {0};
    int y = parse_digits(&p, 4);
    if (y < 0 || expect_char(&p, "-") < 0) return -1;
    int mo = parse_digits(&p, 2);
    if (mo < 0 || expect_char(&p, "-") < 0) return -1;
    int d = parse_digits(&p, 2);
    if (d < 0 || expect_char(&p, "Tt") < 0) return -1;
    int h = parse_digits(&p, 2);
    if (h < 0 || expect_char(&p, ":") < 0) return -1;
    int mi = parse_digits(&p, 2);
    if (mi < 0 || expect_char(&p, ":") < 0) return -1;
    int sec = parse_digits(&p, 2);
    if (sec < 0) return -1;
    if (*p == '.') { /* fractional seconds: at least one digit, then dropped */
        p++;
        if (!isdigit((unsigned char)*p)) return -1;
        while (isdigit((unsigned char)*p)) p++;
    }
    long off;
    if (parse_offset(&p, &off) < 0 || *p) return -1;
    /* A leap second (60) is allowed by RFC 3339; timegm folds it into the
     * next minute, which is as close as time_t can get. */
    if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h > 23 || mi > 59 || sec > 60)
        return -1;
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = sec;
    time_t t = timegm(&tm);
    *out = t - off;
    return 0;
}

static int write_all(int fd, const void *data, size_t len)
{
    const char *p = data;
    while (len) {
        ssize_t n = write(fd, p, len);
        if (n < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* fsync the directory holding path so the rename itself is durable. */
static int fsync_parent_dir(const char *path)
{
    char *copy = xstrdup(path);
    int rc = -1;
    int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) goto out;
    rc = fsync(fd);
    close(fd);
out:
    free(copy);
    return rc;
}

int file_write_atomic(const char *path, const void *data, size_t len, int mode, aro_err *err)
{
    int rc = -1;
    bool renamed = false;
    /* mkstemp creates the file 0600, so a key is never readable by others,
     * not even between creation and fchmod. */
    char *tmp = xasprintf("%s.tmp.XXXXXX", path);
    int fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0) {
        aro_err_set(err, "cannot create temporary file for %s: %s", path, strerror(errno));
        free(tmp);
        return -1;
    }
    if (write_all(fd, data, len) < 0) {
        aro_err_set(err, "cannot write %s: %s", tmp, strerror(errno));
        goto out;
    }
    if (fchmod(fd, (mode_t)mode) < 0) {
        aro_err_set(err, "cannot chmod %s: %s", tmp, strerror(errno));
        goto out;
    }
    if (fsync(fd) < 0) {
        aro_err_set(err, "cannot fsync %s: %s", tmp, strerror(errno));
        goto out;
    }
    if (close(fd) < 0) {
        fd = -1;
        aro_err_set(err, "cannot close %s: %s", tmp, strerror(errno));
        goto out;
    }
    fd = -1;
    if (rename(tmp, path) < 0) {
        aro_err_set(err, "cannot rename %s to %s: %s", tmp, path, strerror(errno));
        goto out;
    }
    renamed = true;
    if (fsync_parent_dir(path) < 0) {
        /* The file is in place; only its durability across a crash is in
         * doubt. Report it so the caller does not claim success falsely. */
        aro_err_set(err, "cannot fsync directory of %s: %s", path, strerror(errno));
        goto out;
    }
    rc = 0;
out:
    if (fd >= 0) close(fd);
    if (!renamed) unlink(tmp);
    free(tmp);
    return rc;
}

char *file_read_all(const char *path, size_t limit, size_t *len_out, aro_err *err)
{
    aro_buf b = {0};
    char chunk[8192];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        aro_err_set(err, "cannot open %s: %s", path, strerror(errno));
        return NULL;
    }
    for (;;) {
        ssize_t n = read(fd, chunk, sizeof chunk);
        if (n < 0) {
            if (errno == EINTR) continue;
            aro_err_set(err, "cannot read %s: %s", path, strerror(errno));
            goto fail;
        }
        if (n == 0) break;
        if (b.len + (size_t)n > limit) {
            aro_err_set(err, "%s is larger than %zu bytes", path, limit);
            goto fail;
        }
        buf_append(&b, chunk, (size_t)n);
    }
    close(fd);
    if (len_out) *len_out = b.len;
    return buf_steal(&b);
fail:
    close(fd);
    buf_free(&b);
    return NULL;
}

int mkdir_p(const char *path, int mode)
{
    char *p = xstrdup(path);
    int rc = -1;
    if (!*p) {
        errno = ENOENT;
        goto out;
    }
    /* Create each prefix in turn; existing directories are fine. */
    for (char *s = p + 1; *s; s++) {
        if (*s != '/') continue;
        *s = '\0';
        if (mkdir(p, (mode_t)mode) < 0 && errno != EEXIST) goto out;
        *s = '/';
    }
    if (mkdir(p, (mode_t)mode) < 0 && errno != EEXIST) goto out;
    struct stat st;
    if (stat(p, &st) < 0) goto out;
    if (!S_ISDIR(st.st_mode)) {
        errno = ENOTDIR;
        goto out;
    }
    rc = 0;
out:
    free(p);
    return rc;
}
