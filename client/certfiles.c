#include "certfiles.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "acme_crypto.h"
#include "json.h"
#include "keys.h"
#include "strv.h"

static time_t asn1_time_t(const ASN1_TIME *t)
{
    struct tm tm;
    if (!t || ASN1_TIME_to_tm(t, &tm) != 1)
        return 0;
    return timegm(&tm);
}

static char *metadata_json(const certfiles_origin *from, X509 *leaf, const char *fullchain)
{
    char nb[32], na[32];
    time_format_rfc3339(asn1_time_t(X509_get0_notBefore(leaf)), nb);
    time_format_rfc3339(asn1_time_t(X509_get0_notAfter(leaf)), na);
    char *id = acme_ari_cert_id(leaf);
    json_gen *g = jg_new();
    jg_obj_open(g);
    jg_kv_str(g, "server", from->server);
    jg_key(g, "names");
    jg_arr_open(g);
    for (size_t i = 0; i < from->nnames; i++)
        jg_str(g, from->names[i]);
    jg_arr_close(g);
    jg_kv_str(g, "notBefore", nb);
    jg_kv_str(g, "notAfter", na);
    jg_kv_str(g, "ariCertID", id);
    jg_kv_str(g, "order", from->order);
    jg_kv_str(g, "fullchain", fullchain);
    jg_kv_str(g, "keyType", from->key_type);
    if (from->profile)
        jg_kv_str(g, "profile", from->profile);
    if (from->settings) {
        jg_key(g, "settings");
        jg_value(g, from->settings);
    }
    jg_obj_close(g);
    free(id);
    return jg_finish(g, NULL);
}

/* The files of a set, in the order they are written. */
static const char *const set_files[] = {"key.pem", "cert.pem", "chain.pem", "fullchain.pem"};
#define NSET_FILES (sizeof set_files / sizeof *set_files)

/* A set directory's number, or -1 for anything else in sets/. */
static long set_number(const char *name)
{
    char *end;
    if (!*name || *name == '.')
        return -1;
    long n = strtol(name, &end, 10);
    return *end || n < 0 ? -1 : n;
}

/* Remove dir/sub and the set's files (a set holds nothing else). */
static void remove_set(const char *sets, const char *sub)
{
    char *d = xasprintf("%s/%s", sets, sub);
    DIR *dp = opendir(d);
    if (dp) {
        struct dirent *e;
        while ((e = readdir(dp)))
            if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
                char *f = xasprintf("%s/%s", d, e->d_name);
                unlink(f);
                free(f);
            }
        closedir(dp);
    }
    rmdir(d);
    free(d);
}

/* The highest set number in sets/ (-1: none); removes what an
 * interrupted store left behind (".new-*" directories) and, when
 * prune_below >= 0, the sets numbered below it. */
static long sets_scan(const char *sets, long prune_below)
{
    long max = -1;
    DIR *dp = opendir(sets);
    if (!dp)
        return -1;
    struct dirent *e;
    char **doomed = NULL;
    size_t ndoomed = 0;
    while ((e = readdir(dp))) {
        long n = set_number(e->d_name);
        if (!strncmp(e->d_name, ".new-", 5) || (n >= 0 && n < prune_below))
            strv_push(&doomed, &ndoomed, e->d_name);
        if (n > max)
            max = n;
    }
    closedir(dp);
    for (size_t i = 0; i < ndoomed; i++)
        remove_set(sets, doomed[i]);
    strv_free(doomed, ndoomed);
    return max;
}

/* Make link point at target, replacing whatever link was, in one rename. */
static int symlink_replace(const char *target, const char *link, aro_err *err)
{
    char *tmp = xasprintf("%s.tmp-%ld", link, (long)getpid());
    unlink(tmp);
    int rc = symlink(target, tmp) || rename(tmp, link) ? -1 : 0;
    if (rc) {
        aro_err_set(err, "cannot point %s at %s: %s", link, target, strerror(errno));
        unlink(tmp);
    }
    free(tmp);
    return rc;
}

static void fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
}

/* The earlier layout kept regular files in NAME/: make them set 0 (hard
 * links, so they never disappear) and NAME/FILE symbolic links to it
 * through "live", each replacement showing the same content. */
static int migrate_flat(const char *dir, const char *sets, aro_err *err)
{
    char *probe = xasprintf("%s/cert.pem", dir);
    struct stat st;
    bool flat = lstat(probe, &st) == 0 && S_ISREG(st.st_mode);
    free(probe);
    if (!flat)
        return 0;
    char *zero = xasprintf("%s/0", sets), *live = xasprintf("%s/live", dir);
    int ret = -1;
    if (mkdir(zero, 0700) && errno != EEXIST) {
        aro_err_set(err, "cannot create %s: %s", zero, strerror(errno));
        goto out;
    }
    for (size_t i = 0; i < NSET_FILES; i++) {
        char *from = xasprintf("%s/%s", dir, set_files[i]), *to = xasprintf("%s/%s", zero, set_files[i]);
        unlink(to);
        int rc = link(from, to);
        if (rc && errno != ENOENT)
            aro_err_set(err, "cannot keep %s as %s: %s", from, to, strerror(errno));
        free(from);
        free(to);
        if (rc && errno != ENOENT)
            goto out;
    }
    if (symlink_replace("sets/0", live, err))
        goto out;
    ret = 0;
out:
    free(zero);
    free(live);
    return ret;
}

int certfiles_store(state *st, const certfiles_origin *from, const char *pem, size_t len,
                    EVP_PKEY *key, char **fullchain, aro_err *err)
{
    int ret = -1;
    X509 **certs = NULL;
    int n = x509_chain_from_pem(pem, len, &certs, err);
    char *dir = state_cert_dir(st, from->names[0]);
    char *sets = xasprintf("%s/sets", dir), *tmpset = NULL, *setdir = NULL, *live = NULL;
    char *leaf = NULL, *kpem = NULL, *meta = NULL, *path = NULL;
    aro_buf chain = {0};
    if (n <= 0) {
        if (n == 0)
            aro_err_set(err, "the certificate from the CA holds no certificate");
        goto out;
    }
    if (mkdir_p(sets, 0700)) {
        aro_err_set(err, "cannot create %s: %s", sets, strerror(errno));
        goto out;
    }
    if (migrate_flat(dir, sets, err))
        goto out;
    leaf = x509_to_pem(certs[0]);
    for (int i = 1; i < n; i++) {
        char *c = x509_to_pem(certs[i]);
        buf_puts(&chain, c);
        free(c);
    }
    kpem = key_to_pem(key);
    const struct {
        const char *data;
        size_t len;
        int mode;
    } data[NSET_FILES] = {
        {kpem, strlen(kpem), 0600},
        {leaf, strlen(leaf), 0644},
        {chain.data ? chain.data : "", chain.len, 0644},
        {pem, len, 0644},
    };
    /* The whole set in a directory of its own, then renamed into place. */
    long next = sets_scan(sets, -1) + 1;
    tmpset = xasprintf("%s/.new-%ld", sets, (long)getpid());
    setdir = xasprintf("%s/%ld", sets, next);
    if (mkdir(tmpset, 0700)) {
        aro_err_set(err, "cannot create %s: %s", tmpset, strerror(errno));
        goto out;
    }
    for (size_t i = 0; i < NSET_FILES; i++) {
        free(path);
        path = xasprintf("%s/%s", tmpset, set_files[i]);
        if (file_write_atomic(path, data[i].data, data[i].len, data[i].mode, err))
            goto out;
    }
    if (rename(tmpset, setdir)) {
        aro_err_set(err, "cannot move the new set to %s: %s", setdir, strerror(errno));
        goto out;
    }
    fsync_dir(sets);
    /* The switch: one rename of "live". */
    char target[32];
    snprintf(target, sizeof target, "sets/%ld", next);
    live = xasprintf("%s/live", dir);
    if (symlink_replace(target, live, err))
        goto out;
    /* NAME/FILE -> live/FILE (once; a regular file of the old layout is
     * replaced here, after "live" holds its content in set 0). */
    for (size_t i = 0; i < NSET_FILES; i++) {
        free(path);
        path = xasprintf("%s/%s", dir, set_files[i]);
        char *t = xasprintf("live/%s", set_files[i]), buf[64];
        ssize_t l = readlink(path, buf, sizeof buf - 1);
        int rc = l > 0 && (size_t)l == strlen(t) && !memcmp(buf, t, (size_t)l) ? 0
                 : symlink_replace(t, path, err);
        free(t);
        if (rc)
            goto out;
    }
    fsync_dir(dir);
    sets_scan(sets, next - STATE_KEEP_VERSIONS);
    /* path is NAME/fullchain.pem now. */
    meta = metadata_json(from, certs[0], path);
    if (!meta || state_cert_put(st, from->names[0], meta, err))
        goto out;
    *fullchain = path;
    path = NULL;
    ret = 0;
out:
    if (tmpset)
        sets_scan(sets, -1);    /* a half-written set goes */
    for (int i = 0; i < n; i++)
        X509_free(certs[i]);
    free(certs);
    if (kpem)
        OPENSSL_cleanse(kpem, strlen(kpem));
    free(kpem);
    free(leaf);
    free(dir);
    free(sets);
    free(tmpset);
    free(setdir);
    free(live);
    free(path);
    free(meta);
    buf_free(&chain);
    return ret;
}

int certfiles_load(state *st, const char *name, certfiles_meta *m, aro_err *err)
{
    char *json = NULL;
    yajl_val v = NULL;
    int ret = -1;
    memset(m, 0, sizeof *m);
    int rc = state_cert_get(st, name, &json, err);
    if (rc) {
        if (rc > 0)
            aro_err_set(err, "%s: no certificate in the state directory", name);
        goto out;
    }
    if (!(v = json_parse(json, strlen(json), err)))
        goto out;
    yajl_val names = json_member(v, "names");
    if (YAJL_IS_ARRAY(names))
        for (size_t i = 0; i < names->u.array.len; i++)
            if (YAJL_IS_STRING(names->u.array.values[i]))
                strv_push(&m->names, &m->nnames, names->u.array.values[i]->u.string);
    if (!m->nnames)
        strv_push(&m->names, &m->nnames, name);
    time_parse_rfc3339(json_str(v, "notBefore") ? json_str(v, "notBefore") : "", &m->not_before);
    time_parse_rfc3339(json_str(v, "notAfter") ? json_str(v, "notAfter") : "", &m->not_after);
    m->ari_id = xstrdup(json_str(v, "ariCertID"));
    m->fullchain = xstrdup(json_str(v, "fullchain"));
    m->server = xstrdup(json_str(v, "server"));
    m->key_type = xstrdup(json_str(v, "keyType"));
    m->profile = xstrdup(json_str(v, "profile"));
    m->settings = json_member(v, "settings");
    if (m->settings && !YAJL_IS_OBJECT(m->settings))
        m->settings = NULL;
    m->doc = v;
    v = NULL;
    ret = 0;
out:
    json_free(v);
    free(json);
    return ret;
}

void certfiles_meta_clear(certfiles_meta *m)
{
    strv_free(m->names, m->nnames);
    free(m->ari_id);
    free(m->fullchain);
    free(m->server);
    free(m->key_type);
    free(m->profile);
    json_free(m->doc);
    memset(m, 0, sizeof *m);
}
