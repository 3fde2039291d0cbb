/* The client's state store and its atomic, versioned file writes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "state.h"
#include "testlib.h"
#include "util.h"

static char *slurp(const char *path)
{
    aro_err err;
    return file_read_all(path, 1 << 20, NULL, &err);
}

int main(void)
{
    char tmpl[] = "/tmp/aro-test-state.XXXXXX";
    char *dir = mkdtemp(tmpl);
    CHECK(dir != NULL);
    char *sdir = xasprintf("%s/state", dir);
    aro_err err;

    state *s = state_open(sdir, &err);
    CHECK(s != NULL);
    if (!s)
        return testlib_finish();

    /* Accounts per server. */
    char *url = NULL;
    CHECK_INT_EQ(state_account_get(s, "https://ca/dir", &url, &err), 1);
    CHECK_INT_EQ(state_account_put(s, "https://ca/dir", "https://ca/acct/1", &err), 0);
    CHECK_INT_EQ(state_account_get(s, "https://ca/dir", &url, &err), 0);
    CHECK_STR_EQ(url, "https://ca/acct/1");
    free(url);
    CHECK_INT_EQ(state_account_del(s, "https://ca/dir", &err), 0);
    CHECK_INT_EQ(state_account_get(s, "https://ca/dir", &url, &err), 1);
    char *kp = state_account_key_path(s, "https://127.0.0.1:14000/dir");
    CHECK(strstr(kp, "/accounts/127.0.0.1_14000_dir/key.pem") != NULL);
    free(kp);

    /* Learned success rates, persisted across a reopen. */
    unsigned ok, bad;
    CHECK_INT_EQ(state_stats_get(s, "ca", "a.example", "http-01", &ok, &bad), 0);
    CHECK_INT_EQ(ok + bad, 0);
    CHECK(state_stats_score(0, 0) == 0.5);
    state_stats_record(s, "ca", "a.example", "http-01", false, &err);
    state_stats_record(s, "ca", "a.example", "http-01", false, &err);
    state_stats_record(s, "ca", "a.example", "dns-01", true, &err);
    state_close(s);
    s = state_open(sdir, &err);
    CHECK(s != NULL);
    state_stats_get(s, "ca", "a.example", "http-01", &ok, &bad);
    CHECK_INT_EQ(ok, 0);
    CHECK_INT_EQ(bad, 2);
    state_stats_get(s, "ca", "a.example", "dns-01", &ok, &bad);
    CHECK_INT_EQ(ok, 1);
    state_stats_get(s, "other-ca", "a.example", "dns-01", &ok, &bad);
    CHECK_INT_EQ(ok, 0);
    CHECK(state_stats_score(0, 2) < state_stats_score(1, 0));

    /* Certificate metadata and listing. */
    CHECK_INT_EQ(state_cert_put(s, "b.example", "{\"names\":[\"b.example\"]}", &err), 0);
    CHECK_INT_EQ(state_cert_put(s, "a.example", "{}", &err), 0);
    char **names;
    size_t n;
    CHECK_INT_EQ(state_cert_list(s, &names, &n, &err), 0);
    CHECK_INT_EQ(n, 2);
    if (n == 2) {
        CHECK_STR_EQ(names[0], "a.example");
        CHECK_STR_EQ(names[1], "b.example");
    }
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    char *cd = state_cert_dir(s, "*.example.com");
    CHECK(strstr(cd, "/certs/_.example.com") != NULL);
    free(cd);

    /* Atomic writes keeping previous versions: newest in .1. */
    char *p = xasprintf("%s/f.pem", dir);
    for (int i = 1; i <= 4; i++) {
        char data[16];
        snprintf(data, sizeof data, "v%d", i);
        CHECK_INT_EQ(state_write_versioned(p, data, strlen(data), 0600, 2, &err), 0);
    }
    char *c0 = slurp(p), *c1 = NULL, *c2 = NULL;
    char *p1 = xasprintf("%s.1", p), *p2 = xasprintf("%s.2", p), *p3 = xasprintf("%s.3", p);
    c1 = slurp(p1);
    c2 = slurp(p2);
    CHECK_STR_EQ(c0, "v4");
    CHECK_STR_EQ(c1, "v3");
    CHECK_STR_EQ(c2, "v2");
    CHECK(access(p3, F_OK) != 0); /* keep = 2 */
    struct stat st;
    CHECK(stat(p, &st) == 0 && (st.st_mode & 0777) == 0600);
    CHECK(stat(p1, &st) == 0 && (st.st_mode & 0777) == 0600);
    /* No temporary files left behind: state/, f.pem, f.pem.1, f.pem.2. */
    char *cmd = xasprintf("test $(ls -A %s | wc -l) -eq 4", dir);
    CHECK(system(cmd) == 0);
    free(cmd);
    free(c0);
    free(c1);
    free(c2);
    free(p1);
    free(p2);
    free(p3);
    free(p);

    state_close(s);
    char *rm = xasprintf("rm -rf %s", dir);
    CHECK(system(rm) == 0);
    free(rm);
    free(sdir);
    return testlib_finish();
}
