/* SPDX-License-Identifier: GPL-2.0 */
#define KMSIM_TABLE_GOTPCREL
#include "reloc_table.h"
