// SPDX-License-Identifier: GPL-2.0
/*
 * An undefined weak reference: no module or kernel defines kmsim_not_there, and
 * the loader has to accept that and leave its address 0.
 */
#include <linux/module.h>
#include <linux/init.h>

extern int kmsim_not_there(void) __attribute__((weak));

static int __init kmsim_weak_init(void)
{
	int v = -1;

	if (kmsim_not_there)
		v = kmsim_not_there();
	printk(KERN_INFO "kmsim_weak: weak symbol %s (%d)\n",
	       kmsim_not_there ? "resolved" : "absent", v);
	return 0;
}

static void __exit kmsim_weak_exit(void)
{
}

module_init(kmsim_weak_init);
module_exit(kmsim_weak_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kmodsim test: undefined weak symbol");
