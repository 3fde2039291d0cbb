/* util: RFC 3339 times, buffers, strings, random ids, files. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "b64url.h"
#include "random.h"
#include "testlib.h"
#include "util.h"

static void check_time(const char *s, long long want)
{
    time_t t = 0;
    CHECK_INT_EQ(time_parse_rfc3339(s, &t), 0);
    CHECK_INT_EQ(t, want);
}

static void check_bad_time(const char *s)
{
    time_t t = 12345;
    CHECK_INT_EQ(time_parse_rfc3339(s, &t), -1);
    CHECK_INT_EQ(t, 12345);
}

static void test_time(void)
{
    char out[32];
    /* Four-digit years, always (fuzzing found "725-..." once). */
    time_t early;
    CHECK_INT_EQ(time_parse_rfc3339("0725-11-28T15:08:11Z", &early), 0);
    time_format_rfc3339(early, out);
    CHECK_STR_EQ(out, "0725-11-28T15:08:11Z");
    time_format_rfc3339((time_t)400000000000LL, out);
    CHECK_STR_EQ(out, "9999-12-31T23:59:59Z");
    time_format_rfc3339(0, out);
    CHECK_STR_EQ(out, "1970-01-01T00:00:00Z");
    time_format_rfc3339(1795873219, out);
    CHECK_STR_EQ(out, "2026-11-28T13:40:19Z");

    check_time("2026-11-28T13:40:19Z", 1795873219);
    check_time("2026-11-28t13:40:19z", 1795873219);
    check_time("2026-11-28T13:40:19.123456Z", 1795873219);
    check_time("2026-11-28T15:40:19+02:00", 1795873219);
    check_time("2026-11-28T08:10:19-05:30", 1795873219);
    check_time("2026-11-29T00:10:19.5+10:30", 1795873219);
    check_time("2026-11-28T13:40:19+00:00", 1795873219);
    check_time("2024-02-29T00:00:00Z", 1709164800);
    check_time("1970-01-01T00:00:00Z", 0);

    /* Round trip over a spread of times, including far ones. */
    for (long long t = 0; t < 4102444800LL; t += 86399LL * 97) {
        time_format_rfc3339((time_t)t, out);
        check_time(out, t);
    }

    check_bad_time("");
    check_bad_time(NULL);
    check_bad_time("2026-11-28");
    check_bad_time("2026-11-28T13:40:19");      /* no offset */
    check_bad_time("2026-11-28T13:40:19Zjunk");
    check_bad_time("2026-11-28T13:40:19.Z");    /* empty fraction */
    check_bad_time("2026-11-28T13:40:19+0200"); /* offset needs a colon */
    check_bad_time("2026-11-28T13:40:19+2:00");
    check_bad_time("2026-11-28T13:40:19+24:00");
    check_bad_time("2026-13-28T13:40:19Z");
    check_bad_time("2026-00-28T13:40:19Z");
    check_bad_time("2026-02-29T13:40:19Z");     /* not a leap year */
    check_bad_time("2026-04-31T13:40:19Z");
    check_bad_time("2026-11-28T24:00:00Z");
    check_bad_time("2026-11-28T13:60:19Z");
    check_bad_time("2026-11-28T13:40:61Z");
    check_bad_time("2026-1-28T13:40:19Z");
    check_bad_time("+026-11-28T13:40:19Z");
    check_bad_time("2026-11-28 13:40:19Z");     /* RFC 3339's grammar says T */
}

static void test_buf(void)
{
    aro_buf b = {0};
    buf_puts(&b, "hello");
    CHECK_INT_EQ(b.len, 5);
    CHECK_STR_EQ(b.data, "hello");
    buf_append(&b, ", \0x", 4);
    CHECK_INT_EQ(b.len, 9);
    CHECK_MEM_EQ(b.data, "hello, \0x", 10); /* NUL-terminated after data */
    buf_free(&b);
    CHECK(b.data == NULL && b.len == 0 && b.cap == 0);

    for (int i = 0; i < 1000; i++) buf_printf(&b, "%d,", i);
    CHECK(strncmp(b.data, "0,1,2,", 6) == 0);
    CHECK_INT_EQ(b.len, strlen(b.data));
    CHECK(b.cap > b.len);
    CHECK(strcmp(b.data + b.len - 4, "999,") == 0);
    char *s = buf_steal(&b);
    CHECK(b.data == NULL && b.len == 0);
    CHECK_INT_EQ(strlen(s), 10 + 90 * 2 + 900 * 3 + 1000);
    free(s);

    /* Stealing an empty buffer gives an empty string, not NULL. */
    s = buf_steal(&b);
    CHECK_STR_EQ(s, "");
    free(s);
    buf_append(&b, NULL, 0);
    CHECK_STR_EQ(b.data, "");
    buf_free(&b);
}

/* A new string is what is wanted; then it is freed. */
static void check_new_string(char *got, const char *want)
{
    CHECK_STR_EQ(got, want);
    free(got);
}

static void test_strings(void)
{
    CHECK(xstrdup(NULL) == NULL);
    check_new_string(xstrdup("abc"), "abc");
    check_new_string(xstrndup("abcdef", 3), "abc");
    check_new_string(xstrndup("ab", 10), "ab");
    check_new_string(xasprintf("%s-%d-%05.1f", "x", 42, 3.14159), "x-42-003.1");
    check_new_string(hex_lower("\x00\x0f\xa5\xff", 4), "000fa5ff");
    check_new_string(hex_lower("", 0), "");

    aro_err e;
    aro_err_set(&e, "member \"%s\" is %s", "kid", "missing");
    CHECK_STR_EQ(e.msg, "member \"kid\" is missing");
    aro_err_set(NULL, "ignored");
    char *big = xmalloc(2000);
    memset(big, 'x', 1999);
    big[1999] = '\0';
    aro_err_set(&e, "%s", big);
    CHECK_INT_EQ(strlen(e.msg), sizeof e.msg - 1); /* truncated, terminated */
    free(big);
}

static void test_random(void)
{
    unsigned char a[32] = {0}, b[32] = {0}, zero[32] = {0};
    random_bytes(a, sizeof a);
    random_bytes(b, sizeof b);
    CHECK(memcmp(a, b, sizeof a) != 0);
    CHECK(memcmp(a, zero, sizeof a) != 0);
    random_bytes(a, 0);

    char *id = random_id(16);
    CHECK_INT_EQ(strlen(id), 22);
    unsigned char *raw = NULL;
    size_t rawlen = 0;
    CHECK_INT_EQ(b64url_decode(id, strlen(id), &raw, &rawlen), 0);
    CHECK_INT_EQ(rawlen, 16);
    char *id2 = random_id(16);
    CHECK(strcmp(id, id2) != 0);
    free(raw);
    free(id);
    free(id2);
    id = random_id(100); /* beyond the stack buffer */
    CHECK_INT_EQ(strlen(id), 134);
    free(id);
}

static void test_files(void)
{
    char tmpl[] = "/tmp/aro-test-util-XXXXXX";
    char *dir = mkdtemp(tmpl);
    CHECK(dir != NULL);
    if (!dir) return;
    aro_err err = {""};

    char *sub = xasprintf("%s/a/b/c", dir);
    CHECK_INT_EQ(mkdir_p(sub, 0700), 0);
    CHECK_INT_EQ(mkdir_p(sub, 0700), 0); /* already there */
    struct stat st;
    CHECK(stat(sub, &st) == 0 && S_ISDIR(st.st_mode));

    char *path = xasprintf("%s/key.pem", sub);
    const char content[] = "secret\0bytes\n";
    mode_t old = umask(0);
    CHECK_INT_EQ(file_write_atomic(path, content, sizeof content, 0600, &err), 0);
    umask(old);
    CHECK(stat(path, &st) == 0);
    CHECK_INT_EQ(st.st_mode & 07777, 0600);
    size_t len = 0;
    char *back = file_read_all(path, 1024, &len, &err);
    CHECK(back != NULL);
    CHECK_INT_EQ(len, sizeof content);
    if (back && len == sizeof content) CHECK_MEM_EQ(back, content, len);
    CHECK_INT_EQ(back ? back[len] : -1, 0);
    free(back);

    /* Replacing keeps nothing of the old file: content and mode are new. */
    CHECK_INT_EQ(file_write_atomic(path, "new", 3, 0644, &err), 0);
    CHECK(stat(path, &st) == 0);
    CHECK_INT_EQ(st.st_mode & 0777, 0644);
    back = file_read_all(path, 1024, &len, &err);
    CHECK_STR_EQ(back, "new");
    free(back);
    CHECK_INT_EQ(file_write_atomic(path, "", 0, 0600, &err), 0);
    back = file_read_all(path, 1024, &len, &err);
    CHECK_STR_EQ(back, "");
    CHECK_INT_EQ(len, 0);
    free(back);

    /* The size limit and errors. */
    CHECK_INT_EQ(file_write_atomic(path, "0123456789", 10, 0600, &err), 0);
    CHECK(file_read_all(path, 9, &len, &err) == NULL);
    CHECK(strstr(err.msg, "larger than 9 bytes") != NULL);
    back = file_read_all(path, 10, &len, &err);
    CHECK_STR_EQ(back, "0123456789");
    free(back);
    char *missing = xasprintf("%s/nope", dir);
    CHECK(file_read_all(missing, 10, &len, &err) == NULL);
    CHECK(strstr(err.msg, "nope") != NULL);
    char *nodir = xasprintf("%s/nodir/file", dir);
    CHECK_INT_EQ(file_write_atomic(nodir, "x", 1, 0600, &err), -1);
    CHECK(strstr(err.msg, "nodir") != NULL);
    CHECK_INT_EQ(mkdir_p(path, 0700), -1); /* a file is in the way */
    CHECK_INT_EQ(mkdir_p("", 0700), -1);

    /* Only the target is left behind: no temporary files. */
    char *cmd = xasprintf("test \"$(ls -A '%s')\" = key.pem", sub);
    CHECK_INT_EQ(system(cmd), 0);
    free(cmd);
    cmd = xasprintf("rm -rf '%s'", dir);
    CHECK_INT_EQ(system(cmd), 0);
    free(cmd);
    free(nodir);
    free(missing);
    free(path);
    free(sub);
}

int main(void)
{
    test_time();
    test_buf();
    test_strings();
    test_random();
    test_files();
    return testlib_finish();
}
