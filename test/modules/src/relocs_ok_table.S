/* SPDX-License-Identifier: GPL-2.0 */
#include "reloc_table.h"
