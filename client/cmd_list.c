#include "cmd_list.h"

#include <stdio.h>

#include "certfiles.h"
#include "report.h"
#include "state.h"
#include "strv.h"

int cmd_list(const aro_opts *o)
{
    report rep = {0};
    aro_err err;
    char **names = NULL;
    size_t n = 0;
    state *st = state_open(o->state_dir, &err);
    if (!st || state_cert_list(st, &names, &n, &err))
        report_fail(&rep, NULL, err.msg);
    for (size_t i = 0; i < n; i++) {
        certfiles_meta m;
        if (certfiles_load(st, names[i], &m, &err))
            continue;
        report_add_cert(&rep, names[i], m.names, m.nnames, m.not_after, m.server, m.fullchain);
        certfiles_meta_clear(&m);
    }
    report_print_list(&rep, o->json, stdout);
    int code = rep.err_type ? 2 : 0;
    strv_free(names, n);
    state_close(st);
    report_clear(&rep);
    return code;
}
