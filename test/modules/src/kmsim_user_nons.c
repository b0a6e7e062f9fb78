// SPDX-License-Identifier: GPL-2.0
/*
 * Same calls as kmsim_user but without MODULE_IMPORT_NS, so the kernel must refuse
 * it. modpost only lets it through because build-modules.sh passes
 * CONFIG_MODULE_ALLOW_MISSING_NAMESPACE_IMPORTS=y (modpost -N).
 */
#include <linux/module.h>
#include <linux/init.h>
#include "kmsim_ns.h"

static int __init kmsim_user_nons_init(void)
{
	int v = kmsim_plain(1) + kmsim_gpl_only(2) + kmsim_in_ns(3) + kmsim_shared_counter;

	pr_info("kmsim_user_nons: %d\n", v);
	return 0;
}

static void __exit kmsim_user_nons_exit(void)
{
}

module_init(kmsim_user_nons_init);
module_exit(kmsim_user_nons_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kmodsim test: uses a KMSIM export without importing KMSIM");
