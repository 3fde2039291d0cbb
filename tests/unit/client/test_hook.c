/* Solvers without a CA: the uacme hook protocol (arguments, UACME_*
 * variables, exit status), the standalone http-01 server and the webroot. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "hookrun.h"
#include "solvers.h"
#include "testlib.h"
#include "util.h"

static char *http_get(int port, const char *path)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof a)) {
        close(fd);
        return NULL;
    }
    char *req = xasprintf("GET %s HTTP/1.1\r\nHost: x\r\n\r\n", path);
    if (write(fd, req, strlen(req)) < 0) {
        free(req);
        close(fd);
        return NULL;
    }
    free(req);
    aro_buf b = {0};
    char buf[1024];
    ssize_t r;
    while ((r = read(fd, buf, sizeof buf)) > 0)
        buf_append(&b, buf, (size_t)r);
    close(fd);
    return buf_steal(&b);
}

static int is_zombie(pid_t pid)
{
    char path[64], buf[256];
    snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return 1;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    const char *p = strrchr(buf, ')');
    return p && p[1] == ' ' && p[2] == 'Z';
}

static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t l = sizeof a;
    bind(fd, (struct sockaddr *)&a, sizeof a);
    getsockname(fd, (struct sockaddr *)&a, &l);
    close(fd);
    return ntohs(a.sin_port);
}

int main(void)
{
    char tmpl[] = "/tmp/aro-test-hook.XXXXXX";
    char *dir = mkdtemp(tmpl);
    aro_err err;
    CHECK(dir != NULL);
    char *log = xasprintf("%s/calls", dir);
    char *hook = xasprintf("%s/hook.sh", dir);
    char *script = xasprintf("#!/bin/sh\n"
                             "echo \"$# $1 $2 $3 $4 $5|$UACME_METHOD $UACME_TYPE $UACME_IDENT "
                             "$UACME_TOKEN $UACME_AUTH\" >> %s\n"
                             "[ \"$2\" = dns-01 ] || exit 3\n",
                             log);
    CHECK_INT_EQ(file_write_atomic(hook, script, strlen(script), 0755, &err), 0);

    /* Exit status is passed through; arguments and environment agree. */
    CHECK_INT_EQ(solver_run_hook(hook, 60, true, "begin", "dns-01", "a.example", "TOK", "AUTH"), 0);
    CHECK_INT_EQ(solver_run_hook(hook, 60, true, "begin", "http-01", "a.example", "TOK", "AUTH"), 3);
    CHECK_INT_EQ(solver_run_hook("/nonexistent/hook", 60, true, "begin", "dns-01", "a", "b", "c"), 127);
    char *calls = file_read_all(log, 1 << 16, NULL, &err);
    CHECK_STR_EQ(calls, "5 begin dns-01 a.example TOK AUTH|begin dns-01 a.example TOK AUTH\n"
                        "5 begin http-01 a.example TOK AUTH|begin http-01 a.example TOK AUTH\n");
    free(calls);

    /* Inherited UACME_* pass through (uacme.sh reads UACME_CHALLENGE_PATH);
     * where aro sets one itself, aro's value wins. */
    char *envlog = xasprintf("%s/env", dir), *envhook = xasprintf("%s/env.sh", dir);
    char *envscript = xasprintf("#!/bin/sh\necho \"$UACME_CHALLENGE_PATH|$UACME_METHOD|$OTHER\" > %s\n",
                                envlog);
    CHECK_INT_EQ(file_write_atomic(envhook, envscript, strlen(envscript), 0755, &err), 0);
    setenv("UACME_CHALLENGE_PATH", "/srv/www/.well-known/acme-challenge", 1);
    setenv("UACME_METHOD", "inherited", 1);
    setenv("OTHER", "kept", 1);
    CHECK_INT_EQ(solver_run_hook(envhook, 60, true, "done", "http-01", "e.example", "T", "A"), 0);
    char *envs = file_read_all(envlog, 1024, NULL, &err);
    CHECK_STR_EQ(envs, "/srv/www/.well-known/acme-challenge|done|kept\n");
    free(envs);
    unsetenv("UACME_CHALLENGE_PATH");
    unsetenv("UACME_METHOD");
    unsetenv("OTHER");

    /* A hook that hangs: after the timeout its whole process group ends,
     * the child it started included. */
    char *pidfile = xasprintf("%s/child.pid", dir), *hang = xasprintf("%s/hang.sh", dir);
    char *hangscript = xasprintf("#!/bin/sh\nsleep 300 &\necho $! > %s\nwait\n", pidfile);
    CHECK_INT_EQ(file_write_atomic(hang, hangscript, strlen(hangscript), 0755, &err), 0);
    time_t t0 = time(NULL);
    CHECK_INT_EQ(solver_run_hook(hang, 1, true, "begin", "dns-01", "h.example", "T", "A"),
                 HOOKRUN_TIMED_OUT);
    CHECK(time(NULL) - t0 < 30);
    char *cpid = file_read_all(pidfile, 64, NULL, &err);
    CHECK(cpid != NULL);
    if (cpid) {
        pid_t child = (pid_t)atol(cpid);
        /* Gone, or a zombie waiting for whoever reaps orphans here. */
        int alive = 1;
        for (int i = 0; i < 100 && alive; i++) {
            alive = kill(child, 0) == 0 && !is_zombie(child);
            if (alive)
                usleep(20000);
        }
        CHECK(!alive);
    }
    free(cpid);
    free(pidfile);
    free(hang);
    free(hangscript);
    free(envlog);
    free(envhook);
    free(envscript);

    /* AUTH: the key authorization for http-01, its digest otherwise. */
    char *a1 = solver_hook_auth("http-01", "tok.thumb");
    CHECK_STR_EQ(a1, "tok.thumb");
    char *a2 = solver_hook_auth("dns-01", "tok.thumb");
    CHECK(a2 && strlen(a2) == 43);
    char *a3 = solver_hook_auth("tls-alpn-01", "tok.thumb");
    CHECK_STR_EQ(a3, a2);
    free(a1);
    free(a2);
    free(a3);

    /* Through the solvers: the hook takes dns-01 and declines http-01. */
    solver_config hc = {.hook = hook, .hook_timeout = 60};
    solvers *s = solvers_new(&hc);
    CHECK(solvers_have(s, "dns-01"));
    CHECK(solvers_have(s, "http-01"));
    CHECK_INT_EQ(solvers_begin(s, "dns-01", "b.example", false, "T", "T.K", &err), 0);
    free(solvers_end(s, "dns-01", "b.example", false, "T", "T.K", true));
    CHECK_INT_EQ(solvers_begin(s, "http-01", "b.example", false, "T", "T.K", &err), 1);
    solvers_free(s);
    calls = file_read_all(log, 1 << 16, NULL, &err);
    CHECK(calls && strstr(calls, "5 done dns-01 b.example T ") != NULL);
    free(calls);

    /* No hook: dns-01 has no solver. */
    int port = free_port();
    solver_config sc = {.http_port = port, .bind_addr = "127.0.0.1"};
    s = solvers_new(&sc);
    CHECK(!solvers_have(s, "dns-01"));
    CHECK(solvers_have(s, "http-01"));
    CHECK_INT_EQ(solvers_begin(s, "http-01", "c.example", false, "tok1", "tok1.kkk", &err), 0);
    char *resp = http_get(port, "/.well-known/acme-challenge/tok1");
    CHECK(resp && strstr(resp, " 200 ") && strstr(resp, "\r\n\r\ntok1.kkk"));
    free(resp);
    resp = http_get(port, "/.well-known/acme-challenge/other");
    CHECK(resp && strstr(resp, " 404 "));
    free(resp);
    free(solvers_end(s, "http-01", "c.example", false, "tok1", "tok1.kkk", true));
    resp = http_get(port, "/.well-known/acme-challenge/tok1");
    CHECK(resp && strstr(resp, " 404 "));
    free(resp);
    solvers_free(s);

    /* Webroot. */
    char *wr = xasprintf("%s/www", dir);
    solver_config wc = {.webroot = wr};
    s = solvers_new(&wc);
    CHECK_INT_EQ(solvers_begin(s, "http-01", "d.example", false, "tok2", "tok2.kkk", &err), 0);
    char *f = xasprintf("%s/.well-known/acme-challenge/tok2", wr);
    char *content = file_read_all(f, 1024, NULL, &err);
    CHECK_STR_EQ(content, "tok2.kkk");
    free(content);
    char *undone = solvers_end(s, "http-01", "d.example", false, "tok2", "tok2.kkk", true);
    CHECK(undone && strstr(undone, "removed ") && strstr(undone, "/tok2"));
    free(undone);
    CHECK(access(f, F_OK) != 0);
    solvers_free(s);

    free(f);
    free(wr);
    free(script);
    free(hook);
    free(log);
    char *rm = xasprintf("rm -rf %s", dir);
    CHECK(system(rm) == 0);
    free(rm);
    return testlib_finish();
}
