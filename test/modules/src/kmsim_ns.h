/* SPDX-License-Identifier: GPL-2.0 */
#ifndef KMSIM_NS_H
#define KMSIM_NS_H

#include <linux/version.h>

/*
 * Up to 6.12 the namespace macros stringify a bare token; from 6.13 they take
 * a string literal. Both bookworm series we build for (6.1, 6.12) want the token.
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 13, 0)
#define KMSIM_NS "KMSIM"
#else
#define KMSIM_NS KMSIM
#endif

int kmsim_plain(int x);
int kmsim_gpl_only(int x);
int kmsim_in_ns(int x);
extern int kmsim_shared_counter;

#endif
