/* net.h - network set-up inside the sandbox's network namespace (libnl). */
#ifndef SBX_NET_H
#define SBX_NET_H

#include "util.h"

/* Brings the loopback interface up. */
int net_loopback_up(struct sbx_error **err);

#endif
