// SPDX-License-Identifier: GPL-2.0
/*
 * hello — a minimal out-of-tree module for trying kmodsim.
 *
 * Parameters to try: greeting=hi times=2 delays=1,2 (times=17 makes init fail).
 */
#include <linux/module.h>
#include <linux/init.h>
#include <linux/moduleparam.h>

static int times = 1;
module_param(times, int, 0444);
MODULE_PARM_DESC(times, "number of greetings printed at load (default 1)");

static char *greeting = "hello";
module_param(greeting, charp, 0444);
MODULE_PARM_DESC(greeting, "word printed at load (default \"hello\")");

static int delays[3] = { 5, 10, 15 };
static int n_delays = 3;
module_param_array(delays, int, &n_delays, 0444);
MODULE_PARM_DESC(delays, "up to three integers, only echoed back (default 5,10,15)");

static int __init hello_init(void)
{
	int i;

	if (times < 0 || times > 16)
		return -EINVAL;
	for (i = 0; i < times; i++)
		pr_info("%s from kmodsim's example (%d of %d)\n", greeting, i + 1, times);
	for (i = 0; i < n_delays; i++)
		pr_info("delay[%d] = %d\n", i, delays[i]);
	return 0;
}

static void __exit hello_exit(void)
{
	pr_info("example unloaded\n");
}

module_init(hello_init);
module_exit(hello_exit);
MODULE_LICENSE("GPL");
MODULE_AUTHOR("kmodsim");
MODULE_DESCRIPTION("kmodsim example module with int, charp and int-array parameters");
MODULE_VERSION("1.0");
