// SPDX-License-Identifier: GPL-2.0
/* Consumer of kmsim_exports that imports its namespace, as modpost requires. */
#include <linux/module.h>
#include <linux/init.h>
#include "kmsim_ns.h"

static int __init kmsim_user_init(void)
{
	int v = kmsim_plain(1) + kmsim_gpl_only(2) + kmsim_in_ns(3) + kmsim_shared_counter;

	pr_info("kmsim_user: %d\n", v);
	return 0;
}

static void __exit kmsim_user_exit(void)
{
}

module_init(kmsim_user_init);
module_exit(kmsim_user_exit);
MODULE_IMPORT_NS(KMSIM_NS);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kmodsim test: uses kmsim_exports, imports KMSIM");
