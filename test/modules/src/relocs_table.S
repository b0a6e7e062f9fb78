/* SPDX-License-Identifier: GPL-2.0 */
#define KMSIM_TABLE_ABS32
#include "reloc_table.h"
