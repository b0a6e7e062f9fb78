// SPDX-License-Identifier: GPL-2.0
/*
 * Every standard parameter type, each with a default that is non-zero and easy
 * to spot in a hex dump, so tests can find the value behind each __param entry.
 */
#include <linux/module.h>
#include <linux/init.h>
#include <linux/moduleparam.h>
#include <linux/kernel.h>

static unsigned char p_byte = 0xab;
module_param(p_byte, byte, 0444);
MODULE_PARM_DESC(p_byte, "a byte, default 0xab");

static short p_short = -1234;
module_param(p_short, short, 0444);
MODULE_PARM_DESC(p_short, "a short, default -1234");

static unsigned short p_ushort = 54321;
module_param(p_ushort, ushort, 0644);
MODULE_PARM_DESC(p_ushort, "an unsigned short, default 54321");

static int p_int = -123456;
module_param(p_int, int, 0644);
MODULE_PARM_DESC(p_int, "an int, default -123456");

static unsigned int p_uint = 3000000000U;
module_param(p_uint, uint, 0444);
MODULE_PARM_DESC(p_uint, "an unsigned int, default 3000000000");

static long p_long = -9876543210L;
module_param(p_long, long, 0444);
MODULE_PARM_DESC(p_long, "a long, default -9876543210");

static unsigned long p_ulong = 0xdeadbeefcafeUL;
module_param(p_ulong, ulong, 0444);
MODULE_PARM_DESC(p_ulong, "an unsigned long, default 0xdeadbeefcafe");

static unsigned long long p_ullong = 0x1122334455667788ULL;
module_param(p_ullong, ullong, 0444);
MODULE_PARM_DESC(p_ullong, "an unsigned long long, default 0x1122334455667788");

static unsigned int p_hexint = 0xc0ffee;
module_param(p_hexint, hexint, 0444);
MODULE_PARM_DESC(p_hexint, "a hex-printed int, default 0xc0ffee");

static char *p_charp = "kmsim-default";
module_param(p_charp, charp, 0444);
MODULE_PARM_DESC(p_charp, "a string pointer, default \"kmsim-default\"");

static bool p_bool = true;
module_param(p_bool, bool, 0644);
MODULE_PARM_DESC(p_bool, "a bool, default true");

static bool p_invbool = true;
module_param(p_invbool, invbool, 0444);
MODULE_PARM_DESC(p_invbool, "an inverted bool, stored true (reads back N)");

static int p_bint = 1;
module_param(p_bint, bint, 0444);
MODULE_PARM_DESC(p_bint, "an int that only takes boolean values, default 1");

/* Sized 8 so a too-long value exercises the "string too long" path. */
static char p_string[8] = "abc1234";
module_param_string(p_string, p_string, sizeof(p_string), 0444);
MODULE_PARM_DESC(p_string, "a fixed buffer of 8 bytes, default \"abc1234\"");

static int p_ints[4] = { 11, 22, 33, 44 };
static unsigned int p_ints_count = 4;
module_param_array(p_ints, int, &p_ints_count, 0444);
MODULE_PARM_DESC(p_ints, "up to 4 ints, default 11,22,33,44");

static char *p_names[3] = { "alpha", "beta" };
module_param_array(p_names, charp, NULL, 0444);
MODULE_PARM_DESC(p_names, "up to 3 strings, default alpha,beta");

static bool p_flags[3] = { true, false, true };
module_param_array(p_flags, bool, NULL, 0444);
MODULE_PARM_DESC(p_flags, "up to 3 bools, default Y,N,Y");

static unsigned short p_ports[2] = { 8080, 4433 };
module_param_array(p_ports, ushort, NULL, 0444);

/* Custom ops: only even numbers are accepted, so a test can drive -EINVAL. */
static int p_even = 64;

static int p_even_set(const char *val, const struct kernel_param *kp)
{
	int n, err;

	err = kstrtoint(val, 0, &n);
	if (err)
		return err;
	if (n & 1)
		return -EINVAL;
	*(int *)kp->arg = n;
	return 0;
}

static int p_even_get(char *buf, const struct kernel_param *kp)
{
	return sprintf(buf, "%d\n", *(int *)kp->arg);
}

static const struct kernel_param_ops p_even_ops = {
	.set = p_even_set,
	.get = p_even_get,
};
module_param_cb(p_even, &p_even_ops, &p_even, 0644);
MODULE_PARM_DESC(p_even, "an even int via custom ops, default 64");

/* Setting this taints the kernel (TAINT_USER) and logs a warning. */
static int p_unsafe = 7;
module_param_unsafe(p_unsafe, int, 0444);
MODULE_PARM_DESC(p_unsafe, "an unsafe int, default 7");

/* perm 0: settable at load time, but gets no sysfs file. */
static int p_hidden = 99;
module_param(p_hidden, int, 0);

static int __init kmsim_params_init(void)
{
	pr_info("kmsim_params: byte=%u short=%d ushort=%u int=%d uint=%u\n",
		p_byte, p_short, p_ushort, p_int, p_uint);
	pr_info("kmsim_params: long=%ld ulong=%lx ullong=%llx hexint=%x\n",
		p_long, p_ulong, p_ullong, p_hexint);
	pr_info("kmsim_params: charp=%s bool=%d invbool=%d bint=%d string=%s\n",
		p_charp, p_bool, p_invbool, p_bint, p_string);
	pr_info("kmsim_params: ints=%u names=%s flags=%d ports=%u even=%d unsafe=%d hidden=%d\n",
		p_ints_count, p_names[0], p_flags[0], p_ports[0], p_even, p_unsafe, p_hidden);
	return 0;
}

static void __exit kmsim_params_exit(void)
{
}

module_init(kmsim_params_init);
module_exit(kmsim_params_exit);
MODULE_LICENSE("GPL");
MODULE_VERSION("1.2");
MODULE_DESCRIPTION("kmodsim test: one parameter of every standard type");
