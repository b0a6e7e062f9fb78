/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Body shared by the three relocation tables. Every entry is written as zero
 * bytes plus a RELA record, because the x86_64 loader refuses a relocation whose
 * target is not zero before it is applied.
 *
 * KMSIM_TABLE_ABS32: add R_X86_64_32 entries. Module and kernel addresses sit at
 *   the top of the address space, so the loader reports them as an overflow and
 *   rejects the module; only kmsim_relocs carries them.
 * KMSIM_TABLE_GOTPCREL: add an R_X86_64_GOTPCREL entry, a type the loader does
 *   not implement at all.
 *
 * _printk is the real symbol behind printk() since 5.15.
 */
	.section .rodata.kmsim_target, "a"
	.balign 8
kmsim_local_target:
	.quad 0x6b6d73696d746774

	.section .data.kmsim_relocs, "aw"
	.balign 8
	.globl kmsim_reloc_table
kmsim_reloc_table:
	/* R_X86_64_64 */
	.quad kmsim_local_target
	.quad jiffies
	/* R_X86_64_PC64 */
	.quad kmsim_local_target - .
	.quad _printk - .
	/* R_X86_64_PC32 */
	.long kmsim_local_target - .
	.long jiffies - .
	/* R_X86_64_32S */
	.reloc ., R_X86_64_32S, kmsim_local_target
	.long 0
	.reloc ., R_X86_64_32S, jiffies
	.long 0
	/* R_X86_64_PLT32 */
	.reloc ., R_X86_64_PLT32, kmsim_local_target
	.long 0
	.reloc ., R_X86_64_PLT32, _printk
	.long 0
#ifdef KMSIM_TABLE_ABS32
	/* R_X86_64_32 */
	.long kmsim_local_target
	.long jiffies
#endif
#ifdef KMSIM_TABLE_GOTPCREL
	/* R_X86_64_GOTPCREL (type 9) */
	.reloc ., R_X86_64_GOTPCREL, jiffies
	.long 0
#endif
	.balign 8
	.globl kmsim_reloc_table_end
kmsim_reloc_table_end:

	.section .note.GNU-stack, "", @progbits
