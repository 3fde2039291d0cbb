#include "identifiers.h"

#include <arpa/inet.h>
#include <string.h>

bool identifier_is_ip(const char *name)
{
    unsigned char b[16];
    return inet_pton(AF_INET, name, b) == 1 || inet_pton(AF_INET6, name, b) == 1;
}

const char *identifier_base(const char *name)
{
    return strncmp(name, "*.", 2) ? name : name + 2;
}
