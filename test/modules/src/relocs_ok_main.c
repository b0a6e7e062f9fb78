// SPDX-License-Identifier: GPL-2.0
#include "reloc_main.h"
MODULE_DESCRIPTION("kmodsim test: every x86_64 relocation type that fits a kernel address");
