// SPDX-License-Identifier: GPL-2.0
#include "reloc_main.h"
MODULE_DESCRIPTION("kmodsim test: carries R_X86_64_GOTPCREL, which the loader rejects");
