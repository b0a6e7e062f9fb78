/* SPDX-License-Identifier: GPL-2.0 */
/* init/exit shared by the relocation modules; each includes this once. */
#include <linux/module.h>
#include <linux/init.h>

extern const char kmsim_reloc_table[];
extern const char kmsim_reloc_table_end[];

static int __init kmsim_reloc_init(void)
{
	pr_info("%s: table of %ld bytes\n", KBUILD_MODNAME,
		(long)(kmsim_reloc_table_end - kmsim_reloc_table));
	return 0;
}

static void __exit kmsim_reloc_exit(void)
{
}

module_init(kmsim_reloc_init);
module_exit(kmsim_reloc_exit);
MODULE_LICENSE("GPL");
