// SPDX-License-Identifier: GPL-2.0
/* One export of each flavour the loader distinguishes: plain, GPL-only, namespaced, data. */
#include <linux/module.h>
#include <linux/init.h>
#include <linux/export.h>
#include "kmsim_ns.h"

int kmsim_shared_counter = 42;
EXPORT_SYMBOL(kmsim_shared_counter);

int kmsim_plain(int x)
{
	return x + 1;
}
EXPORT_SYMBOL(kmsim_plain);

int kmsim_gpl_only(int x)
{
	return x * 2;
}
EXPORT_SYMBOL_GPL(kmsim_gpl_only);

int kmsim_in_ns(int x)
{
	return x - 3;
}
EXPORT_SYMBOL_NS(kmsim_in_ns, KMSIM_NS);

static int __init kmsim_exports_init(void)
{
	pr_info("kmsim_exports: ready\n");
	return 0;
}

static void __exit kmsim_exports_exit(void)
{
}

module_init(kmsim_exports_init);
module_exit(kmsim_exports_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kmodsim test: exports of every kind");
