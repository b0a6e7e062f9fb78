// Module parameter parsing (server/src/params). The oracle cases are literal copies of what the
// real Debian kernels printed and returned (shared/oracle ground truth, NOTES.md rule 12); the
// project's tests never read the oracle files at run time.

import { test } from 'node:test';
import assert from 'node:assert/strict';

import { EINVAL, ENOSPC, EPERM, ERANGE, EROFS } from '../../server/src/load/errno.js';
import { KERN_ERR, KERN_NOTICE, KERN_WARNING } from '../../server/src/load/kmsg.js';
import {
  KERNEL_PARAM_FL_HWPARAM, KERNEL_PARAM_FL_UNSAFE, kstrtobool, kstrtoint, kstrtoll, kstrtos16,
  kstrtos8, kstrtou8, kstrtouint, kstrtoull, parseArgs, parameq, splitArgs,
  type KernelParamSpec, type Kstrto, type ParamType,
} from '../../server/src/params/index.js';

function spec(name: string, type: ParamType, defaultValue?: string,
              extra: Partial<KernelParamSpec> = {}): KernelParamSpec {
  return { name, type, perm: 0o444, flags: 0, defaultValue, ...extra };
}

// net/ipv4/tcp_bic.c in __param order; defaults as the oracle read them from sysfs (d5).
const tcpBic: KernelParamSpec[] = [
  spec('fast_convergence', 'int', '1'),
  spec('max_increment', 'int', '16'),
  spec('low_window', 'int', '14'),
  spec('beta', 'int', '819'),
  spec('initial_ssthresh', 'int', '0'),
  spec('smooth_part', 'int', '20'),
];

// shared/oracle/samples/oracle_params.c; defaults as sysfs showed them (s1-defaults).
const oracleParams: KernelParamSpec[] = [
  spec('ival', 'int', '1'),
  spec('uval', 'uint', '2'),
  spec('sval', 'short', '3'),
  spec('byteval', 'byte', '4'),
  spec('ulval', 'ulong', '5'),
  spec('hexval', 'hexint', '0x000010'),
  spec('cval', 'charp', 'default'),
  spec('bval', 'bool', 'N'),
  spec('ibval', 'invbool', 'Y'),
  spec('arr', 'int', '', { arrayMax: 4 }),
  spec('str', 'string', 'abc', { stringMaxLen: 8 }),
  spec('fail_init', 'int', '0'),
];

interface OracleCase {
  id: string;
  module: 'tcp_bic' | 'oracle_params';
  args: string;
  // parse_args' own errno; cases whose load failed later, in init, have 0 here.
  errno: number;
  // Only the lines parse_args and its setters print (module init output left out).
  lines: [number, string][];
  // /sys/module/<module>/parameters after a successful load.
  sysfs?: Record<string, string>;
}

const oracleCases: OracleCase[] = [
  // Debian 6.1.0-57-amd64, run 6.1-main.json
  {
    id: "6.1 d1-bic-ok", module: 'tcp_bic',
    args: "beta=5 smooth_part=7",
    errno: 0,
    lines: [],
    sysfs: {
      beta: "5", fast_convergence: "1", initial_ssthresh: "0", low_window: "14",
      max_increment: "16", smooth_part: "7",
    },
  },
  {
    id: "6.1 d2-bic-bad-int", module: 'tcp_bic',
    args: "beta=abc",
    errno: EINVAL,
    lines: [
      [3, "tcp_bic: `abc' invalid for parameter `beta'"],
    ],
  },
  {
    id: "6.1 d3-bic-int-overflow", module: 'tcp_bic',
    args: "beta=99999999999",
    errno: ERANGE,
    lines: [
      [3, "tcp_bic: `99999999999' invalid for parameter `beta'"],
    ],
  },
  {
    id: "6.1 d4-bic-no-value", module: 'tcp_bic',
    args: "beta",
    errno: EINVAL,
    lines: [
      [3, "tcp_bic: `' invalid for parameter `beta'"],
    ],
  },
  {
    id: "6.1 d5-bic-unknown", module: 'tcp_bic',
    args: "nosuchparam=1",
    errno: 0,
    lines: [
      [4, "tcp_bic: unknown parameter 'nosuchparam' ignored"],
    ],
    sysfs: {
      beta: "819", fast_convergence: "1", initial_ssthresh: "0", low_window: "14",
      max_increment: "16", smooth_part: "20",
    },
  },
  {
    id: "6.1 d6-bic-dup", module: 'tcp_bic',
    args: "beta=1 beta=2",
    errno: 0,
    lines: [],
    sysfs: {
      beta: "2", fast_convergence: "1", initial_ssthresh: "0", low_window: "14",
      max_increment: "16", smooth_part: "20",
    },
  },
  {
    id: "6.1 d7-bic-dashes", module: 'tcp_bic',
    args: "beta=3 -- foo=1 bar",
    errno: 0,
    lines: [
      [4, "tcp_bic: parameters 'foo=1 bar' after `--' ignored"],
    ],
    sysfs: {
      beta: "3", fast_convergence: "1", initial_ssthresh: "0", low_window: "14",
      max_increment: "16", smooth_part: "20",
    },
  },
  {
    id: "6.1 d8-bic-hex", module: 'tcp_bic',
    args: "beta=0x10",
    errno: 0,
    lines: [],
    sysfs: {
      beta: "16", fast_convergence: "1", initial_ssthresh: "0", low_window: "14",
      max_increment: "16", smooth_part: "20",
    },
  },
  {
    id: "6.1 d9-bic-empty-value", module: 'tcp_bic',
    args: "beta=",
    errno: EINVAL,
    lines: [
      [3, "tcp_bic: `' invalid for parameter `beta'"],
    ],
  },
  {
    id: "6.1 d10-bic-dyndbg", module: 'tcp_bic',
    args: "dyndbg=+p",
    errno: 0,
    lines: [],
    sysfs: {
      beta: "819", fast_convergence: "1", initial_ssthresh: "0", low_window: "14",
      max_increment: "16", smooth_part: "20",
    },
  },
  {
    id: "6.1 d11-bic-second-bad", module: 'tcp_bic',
    args: "beta=1 low_window=x fast_convergence=y",
    errno: EINVAL,
    lines: [
      [3, "tcp_bic: `x' invalid for parameter `low_window'"],
      [3, "tcp_bic: `y' invalid for parameter `fast_convergence'"],
    ],
  },
  {
    id: "6.1 s1-defaults", module: 'oracle_params',
    args: "",
    errno: 0,
    lines: [],
    sysfs: {
      arr: "", bval: "N", byteval: "4", cval: "default", fail_init: "0", hexval: "0x000010",
      ibval: "Y", ival: "1", str: "abc", sval: "3", ulval: "5", uval: "2",
    },
  },
  {
    id: "6.1 s2-all-types", module: 'oracle_params',
    args:
      "ival=-5 uval=7 sval=-300 byteval=255 ulval=123 hexval=0xff cval=hi bval=Y ibval=1 arr=1,2 " +
      "str=xyz",
    errno: 0,
    lines: [],
    sysfs: {
      arr: "1,2", bval: "Y", byteval: "255", cval: "hi", fail_init: "0", hexval: "0x0000ff",
      ibval: "Y", ival: "-5", str: "xyz", sval: "-300", ulval: "123", uval: "7",
    },
  },
  {
    id: "6.1 s3-unknown", module: 'oracle_params',
    args: "nosuch=1 ival=2",
    errno: 0,
    lines: [
      [4, "oracle_params: unknown parameter 'nosuch' ignored"],
    ],
    sysfs: {
      arr: "", bval: "N", byteval: "4", cval: "default", fail_init: "0", hexval: "0x000010",
      ibval: "Y", ival: "2", str: "abc", sval: "3", ulval: "5", uval: "2",
    },
  },
  {
    id: "6.1 s4-bad-bool", module: 'oracle_params',
    args: "bval=maybe",
    errno: EINVAL,
    lines: [
      [3, "oracle_params: `maybe' invalid for parameter `bval'"],
    ],
  },
  {
    id: "6.1 s5-bool-yes", module: 'oracle_params',
    args: "bval=yes",
    errno: 0,
    lines: [],
    sysfs: {
      arr: "", bval: "Y", byteval: "4", cval: "default", fail_init: "0", hexval: "0x000010",
      ibval: "Y", ival: "1", str: "abc", sval: "3", ulval: "5", uval: "2",
    },
  },
  {
    id: "6.1 s6-bool-novalue", module: 'oracle_params',
    args: "bval",
    errno: 0,
    lines: [],
    sysfs: {
      arr: "", bval: "Y", byteval: "4", cval: "default", fail_init: "0", hexval: "0x000010",
      ibval: "Y", ival: "1", str: "abc", sval: "3", ulval: "5", uval: "2",
    },
  },
  {
    id: "6.1 s7-bool-on", module: 'oracle_params',
    args: "bval=on ibval=off",
    errno: 0,
    lines: [],
    sysfs: {
      arr: "", bval: "Y", byteval: "4", cval: "default", fail_init: "0", hexval: "0x000010",
      ibval: "N", ival: "1", str: "abc", sval: "3", ulval: "5", uval: "2",
    },
  },
  {
    id: "6.1 s8-invbool-novalue", module: 'oracle_params',
    args: "ibval",
    errno: EINVAL,
    lines: [
      [3, "oracle_params: `' invalid for parameter `ibval'"],
    ],
  },
  {
    id: "6.1 s9-array-too-many", module: 'oracle_params',
    args: "arr=1,2,3,4,5",
    errno: EINVAL,
    lines: [
      [3, "arr: can only take 4 arguments"],
      [3, "oracle_params: `1' invalid for parameter `arr'"],
    ],
  },
  {
    id: "6.1 s10-array-max", module: 'oracle_params',
    args: "arr=1,2,3,4",
    errno: 0,
    lines: [],
    sysfs: {
      arr: "1,2,3,4", bval: "N", byteval: "4", cval: "default", fail_init: "0", hexval: "0x000010",
      ibval: "Y", ival: "1", str: "abc", sval: "3", ulval: "5", uval: "2",
    },
  },
  {
    id: "6.1 s11-array-bad-elem", module: 'oracle_params',
    args: "arr=1,x",
    errno: EINVAL,
    lines: [
      [3, "oracle_params: `1' invalid for parameter `arr'"],
    ],
  },
  {
    id: "6.1 s12-array-empty-elem", module: 'oracle_params',
    args: "arr=1,,3",
    errno: EINVAL,
    lines: [
      [3, "oracle_params: `1' invalid for parameter `arr'"],
    ],
  },
  {
    id: "6.1 s13-string-too-long", module: 'oracle_params',
    args: "str=abcdefgh",
    errno: ENOSPC,
    lines: [
      [3, "str: string doesn't fit in 7 chars."],
      [3, "oracle_params: `abcdefgh' too large for parameter `str'"],
    ],
  },
  {
    id: "6.1 s14-string-max", module: 'oracle_params',
    args: "str=abcdefg",
    errno: 0,
    lines: [],
    sysfs: {
      arr: "", bval: "N", byteval: "4", cval: "default", fail_init: "0", hexval: "0x000010",
      ibval: "Y", ival: "1", str: "abcdefg", sval: "3", ulval: "5", uval: "2",
    },
  },
  {
    id: "6.1 s15-quoted-charp", module: 'oracle_params',
    args: "cval=\"hello world\" ival=3",
    errno: 0,
    lines: [],
    sysfs: {
      arr: "", bval: "N", byteval: "4", cval: "hello world", fail_init: "0", hexval: "0x000010",
      ibval: "Y", ival: "3", str: "abc", sval: "3", ulval: "5", uval: "2",
    },
  },
  {
    id: "6.1 s16-quoted-whole", module: 'oracle_params',
    args: "\"cval=hello world\" ival=4",
    errno: 0,
    lines: [],
    sysfs: {
      arr: "", bval: "N", byteval: "4", cval: "hello world", fail_init: "0", hexval: "0x000010",
      ibval: "Y", ival: "4", str: "abc", sval: "3", ulval: "5", uval: "2",
    },
  },
  {
    id: "6.1 s17-quoted-string", module: 'oracle_params',
    args: "str=\"a b c\"",
    errno: 0,
    lines: [],
    sysfs: {
      arr: "", bval: "N", byteval: "4", cval: "default", fail_init: "0", hexval: "0x000010",
      ibval: "Y", ival: "1", str: "a b c", sval: "3", ulval: "5", uval: "2",
    },
  },
  {
    id: "6.1 s18-quoted-string-long", module: 'oracle_params',
    args: "str=\"a b c d e\"",
    errno: ENOSPC,
    lines: [
      [3, "str: string doesn't fit in 7 chars."],
      [3, "oracle_params: `a b c d e' too large for parameter `str'"],
    ],
  },
  {
    id: "6.1 s19-unbalanced-quote", module: 'oracle_params',
    args: "cval=\"abc ival=9",
    errno: 0,
    lines: [],
    sysfs: {
      arr: "", bval: "N", byteval: "4", cval: "abc ival=9", fail_init: "0", hexval: "0x000010",
      ibval: "Y", ival: "1", str: "abc", sval: "3", ulval: "5", uval: "2",
    },
  },
  {
    id: "6.1 s20-charp-novalue", module: 'oracle_params',
    args: "cval",
    errno: EINVAL,
    lines: [
      [3, "oracle_params: `' invalid for parameter `cval'"],
    ],
  },
  {
    id: "6.1 s21-charp-empty", module: 'oracle_params',
    args: "cval=",
    errno: 0,
    lines: [],
    sysfs: {
      arr: "", bval: "N", byteval: "4", cval: "", fail_init: "0", hexval: "0x000010", ibval: "Y",
      ival: "1", str: "abc", sval: "3", ulval: "5", uval: "2",
    },
  },
  {
    id: "6.1 s22-int-overflow", module: 'oracle_params',
    args: "ival=2147483648",
    errno: ERANGE,
    lines: [
      [3, "oracle_params: `2147483648' invalid for parameter `ival'"],
    ],
  },
  {
    id: "6.1 s23-short-overflow", module: 'oracle_params',
    args: "sval=40000",
    errno: ERANGE,
    lines: [
      [3, "oracle_params: `40000' invalid for parameter `sval'"],
    ],
  },
  {
    id: "6.1 s24-byte-overflow", module: 'oracle_params',
    args: "byteval=256",
    errno: ERANGE,
    lines: [
      [3, "oracle_params: `256' invalid for parameter `byteval'"],
    ],
  },
  {
    id: "6.1 s25-uint-negative", module: 'oracle_params',
    args: "uval=-1",
    errno: EINVAL,
    lines: [
      [3, "oracle_params: `-1' invalid for parameter `uval'"],
    ],
  },
  {
    id: "6.1 s26-hexint-bad", module: 'oracle_params',
    args: "hexval=zz",
    errno: EINVAL,
    lines: [
      [3, "oracle_params: `zz' invalid for parameter `hexval'"],
    ],
  },
  {
    id: "6.1 s27-hexint-decimal", module: 'oracle_params',
    args: "hexval=10",
    errno: 0,
    lines: [],
    sysfs: {
      arr: "", bval: "N", byteval: "4", cval: "default", fail_init: "0", hexval: "0x00000a",
      ibval: "Y", ival: "1", str: "abc", sval: "3", ulval: "5", uval: "2",
    },
  },
  {
    id: "6.1 s28-newline-sep", module: 'oracle_params',
    args: "ival=11\nuval=12\tsval=13",
    errno: 0,
    lines: [],
    sysfs: {
      arr: "", bval: "N", byteval: "4", cval: "default", fail_init: "0", hexval: "0x000010",
      ibval: "Y", ival: "11", str: "abc", sval: "13", ulval: "5", uval: "12",
    },
  },
  {
    id: "6.1 s29-dashes", module: 'oracle_params',
    args: "ival=21 -- uval=22",
    errno: 0,
    lines: [
      [4, "oracle_params: parameters 'uval=22' after `--' ignored"],
    ],
    sysfs: {
      arr: "", bval: "N", byteval: "4", cval: "default", fail_init: "0", hexval: "0x000010",
      ibval: "Y", ival: "21", str: "abc", sval: "3", ulval: "5", uval: "2",
    },
  },
  {
    id: "6.1 s30-int-space-eq", module: 'oracle_params',
    args: "ival = 5",
    errno: EINVAL,
    lines: [
      [3, "oracle_params: `' invalid for parameter `ival'"],
      [4, "oracle_params: unknown parameter '=' ignored"],
      [4, "oracle_params: unknown parameter '5' ignored"],
    ],
  },
  {
    id: "6.1 s31-dash-underscore", module: 'oracle_params',
    args: "fail-init=0 i-val=1",
    errno: 0,
    lines: [
      [4, "oracle_params: unknown parameter 'i-val' ignored"],
    ],
    sysfs: {
      arr: "", bval: "N", byteval: "4", cval: "default", fail_init: "0", hexval: "0x000010",
      ibval: "Y", ival: "1", str: "abc", sval: "3", ulval: "5", uval: "2",
    },
  },
  {
    id: "6.1 s32-init-fails-einval", module: 'oracle_params',
    args: "fail_init=1",
    errno: 0, // the load's EINVAL comes from init, after parse_args
    lines: [],
  },
  {
    id: "6.1 s33-init-fails-enodev", module: 'oracle_params',
    args: "fail_init=2",
    errno: 0, // the load's ENODEV comes from init, after parse_args
    lines: [],
  },
  {
    id: "6.1 s34-init-returns-1", module: 'oracle_params',
    args: "fail_init=3",
    errno: 0,
    lines: [],
    sysfs: {
      arr: "", bval: "N", byteval: "4", cval: "default", fail_init: "3", hexval: "0x000010",
      ibval: "Y", ival: "1", str: "abc", sval: "3", ulval: "5", uval: "2",
    },
  },
  {
    id: "6.1 s35-async-probe", module: 'oracle_params',
    args: "async_probe",
    errno: 0,
    lines: [],
    sysfs: {
      arr: "", bval: "N", byteval: "4", cval: "default", fail_init: "0", hexval: "0x000010",
      ibval: "Y", ival: "1", str: "abc", sval: "3", ulval: "5", uval: "2",
    },
  },
  {
    id: "6.1 s36-module-prefix", module: 'oracle_params',
    args: "oracle_params.ival=6",
    errno: 0,
    lines: [
      [4, "oracle_params: unknown parameter 'oracle_params' ignored"],
    ],
    sysfs: {
      arr: "", bval: "N", byteval: "4", cval: "default", fail_init: "0", hexval: "0x000010",
      ibval: "Y", ival: "1", str: "abc", sval: "3", ulval: "5", uval: "2",
    },
  },
  {
    id: "6.1 s37-init-module-params", module: 'oracle_params',
    args: "ival=7 str=toolongvalue",
    errno: ENOSPC,
    lines: [
      [3, "str: string doesn't fit in 7 chars."],
      [3, "oracle_params: `toolongvalue' too large for parameter `str'"],
    ],
  },
  {
    id: "6.1 s38-two-errors-erange-enospc", module: 'oracle_params',
    args: "ival=2147483648 str=abcdefghij",
    errno: ENOSPC,
    lines: [
      [3, "oracle_params: `2147483648' invalid for parameter `ival'"],
      [3, "str: string doesn't fit in 7 chars."],
      [3, "oracle_params: `abcdefghij' too large for parameter `str'"],
    ],
  },
  {
    id: "6.1 s39-two-errors-enospc-erange", module: 'oracle_params',
    args: "str=abcdefghij ival=2147483648",
    errno: ERANGE,
    lines: [
      [3, "str: string doesn't fit in 7 chars."],
      [3, "oracle_params: `abcdefghij' too large for parameter `str'"],
      [3, "oracle_params: `2147483648' invalid for parameter `ival'"],
    ],
  },
  {
    id: "6.1 s40-error-then-dashes", module: 'oracle_params',
    args: "ival=x -- uval=1",
    errno: EINVAL,
    lines: [
      [3, "oracle_params: `x' invalid for parameter `ival'"],
    ],
  },
  {
    id: "6.1 s41-leading-trailing-space", module: 'oracle_params',
    args: "   ival=8   ",
    errno: 0,
    lines: [],
    sysfs: {
      arr: "", bval: "N", byteval: "4", cval: "default", fail_init: "0", hexval: "0x000010",
      ibval: "Y", ival: "8", str: "abc", sval: "3", ulval: "5", uval: "2",
    },
  },
  {
    id: "6.1 s42-init-fails-with-unknown", module: 'oracle_params',
    args: "fail_init=2 zzz=1",
    errno: 0, // the load's ENODEV comes from init, after parse_args
    lines: [
      [4, "oracle_params: unknown parameter 'zzz' ignored"],
    ],
  },
  // Debian 6.12.107+deb12-amd64, run 6.12-main.json
  {
    id: "6.12 d1-bic-bad-int", module: 'tcp_bic',
    args: "beta=abc",
    errno: EINVAL,
    lines: [
      [3, "tcp_bic: `abc' invalid for parameter `beta'"],
    ],
  },
  {
    id: "6.12 d2-bic-ok", module: 'tcp_bic',
    args: "beta=5",
    errno: 0,
    lines: [],
    sysfs: {
      beta: "5", fast_convergence: "1", initial_ssthresh: "0", low_window: "14",
      max_increment: "16", smooth_part: "20",
    },
  },
  {
    id: "6.12 d3-bic-unknown", module: 'tcp_bic',
    args: "nosuch=1",
    errno: 0,
    lines: [
      [4, "tcp_bic: unknown parameter 'nosuch' ignored"],
    ],
    sysfs: {
      beta: "819", fast_convergence: "1", initial_ssthresh: "0", low_window: "14",
      max_increment: "16", smooth_part: "20",
    },
  },
  {
    id: "6.12 d4-bic-two-errors", module: 'tcp_bic',
    args: "beta=x low_window=99999999999",
    errno: ERANGE,
    lines: [
      [3, "tcp_bic: `x' invalid for parameter `beta'"],
      [3, "tcp_bic: `99999999999' invalid for parameter `low_window'"],
    ],
  },
];

for (const c of oracleCases) {
  test(`oracle ${c.id}: ${JSON.stringify(c.args)} gives the kernel's lines and errno`, () => {
    const params = c.module === 'tcp_bic' ? tcpBic : oracleParams;
    const r = parseArgs(c.module, c.args, params, { comm: 'modloader' });
    assert.deepEqual(r.lines.map((l) => [l.level, l.text]), c.lines);
    assert.equal(r.errno, c.errno);
    if (c.sysfs) assert.deepEqual(Object.fromEntries(r.values), c.sysfs);
  });
}

function ok(value: bigint | boolean): Kstrto<bigint | boolean> {
  return { ok: true, value };
}

function err(errno: number): Kstrto<bigint | boolean> {
  return { ok: false, errno };
}

test('kstrtoull base 0: 0x/0X with a hex digit is hex, a leading 0 octal, else decimal', () => {
  assert.deepEqual(kstrtoull('0x1f'), ok(31n));
  assert.deepEqual(kstrtoull('0X1F'), ok(31n));
  assert.deepEqual(kstrtoull('010'), ok(8n));
  assert.deepEqual(kstrtoull('0'), ok(0n));
  assert.deepEqual(kstrtoull('19'), ok(19n));
});

test('kstrtoull: "0x" without a hex digit is octal 0 followed by junk, so EINVAL', () => {
  assert.deepEqual(kstrtoull('0x'), err(EINVAL));
  assert.deepEqual(kstrtoull('0xg'), err(EINVAL));
  assert.deepEqual(kstrtoull('08'), err(EINVAL));
});

test('kstrtoull: one leading + and one trailing newline are allowed, nothing else', () => {
  assert.deepEqual(kstrtoull('+5'), ok(5n));
  assert.deepEqual(kstrtoull('5\n'), ok(5n));
  assert.deepEqual(kstrtoull('++5'), err(EINVAL));
  assert.deepEqual(kstrtoull('5\n\n'), err(EINVAL));
  assert.deepEqual(kstrtoull(' 5'), err(EINVAL));
  assert.deepEqual(kstrtoull('5 '), err(EINVAL));
  assert.deepEqual(kstrtoull(''), err(EINVAL));
  assert.deepEqual(kstrtoull('+'), err(EINVAL));
  assert.deepEqual(kstrtoull('-1'), err(EINVAL));
});

test('kstrtoull: 64-bit overflow is ERANGE, even when junk follows the digits', () => {
  assert.deepEqual(kstrtoull('18446744073709551615'), ok((1n << 64n) - 1n));
  assert.deepEqual(kstrtoull('0xffffffffffffffff'), ok((1n << 64n) - 1n));
  assert.deepEqual(kstrtoull('18446744073709551616'), err(ERANGE));
  assert.deepEqual(kstrtoull('0x10000000000000000'), err(ERANGE));
  assert.deepEqual(kstrtoull('99999999999999999999x'), err(ERANGE));
});

test('kstrtoll: the signed 64-bit range is exact at both ends; only one sign', () => {
  assert.deepEqual(kstrtoll('-9223372036854775808'), ok(-(1n << 63n)));
  assert.deepEqual(kstrtoll('-9223372036854775809'), err(ERANGE));
  assert.deepEqual(kstrtoll('9223372036854775807'), ok((1n << 63n) - 1n));
  assert.deepEqual(kstrtoll('9223372036854775808'), err(ERANGE));
  assert.deepEqual(kstrtoll('-0'), ok(0n));
  assert.deepEqual(kstrtoll('-0x10'), ok(-16n));
  assert.deepEqual(kstrtoll('-+5'), err(EINVAL));
  assert.deepEqual(kstrtoll('--5'), err(EINVAL));
  assert.deepEqual(kstrtoll('+-5'), err(EINVAL));
});

test('narrow kstrto*: out of the type range is ERANGE, a minus sign on unsigned EINVAL', () => {
  assert.deepEqual(kstrtouint('-1'), err(EINVAL));
  assert.deepEqual(kstrtouint('0xffffffff'), ok(0xffffffffn));
  assert.deepEqual(kstrtouint('4294967296'), err(ERANGE));
  assert.deepEqual(kstrtoint('2147483648'), err(ERANGE));
  assert.deepEqual(kstrtoint('-2147483648'), ok(-2147483648n));
  assert.deepEqual(kstrtoint('0x80000000'), err(ERANGE));
  assert.deepEqual(kstrtos16('40000'), err(ERANGE));
  assert.deepEqual(kstrtos16('-32768'), ok(-32768n));
  assert.deepEqual(kstrtou8('256'), err(ERANGE));
  assert.deepEqual(kstrtou8('0377'), ok(255n));
  assert.deepEqual(kstrtos8('-129'), err(ERANGE));
});

test('kstrtobool decides on the first character, or the first two for o', () => {
  for (const s of ['y', 'Y', 't', 'T', '1', 'yes', 'true1', 'on', 'oN', 'On!']) {
    assert.deepEqual(kstrtobool(s), ok(true), s);
  }
  for (const s of ['n', 'N', 'f', 'F', '0', 'no', 'of', 'off', 'OFF']) {
    assert.deepEqual(kstrtobool(s), ok(false), s);
  }
  for (const s of ['', 'o', 'ox', 'maybe', ' y', '2']) {
    assert.deepEqual(kstrtobool(s), err(EINVAL), s);
  }
  assert.deepEqual(kstrtobool(null), err(EINVAL));
});

test('next_arg: kernel isspace separates tokens, including byte 0xA0', () => {
  const bytes = Uint8Array.from([...'a=1', 0xa0, ...'b=2\v\fc'].map((c) =>
    typeof c === 'number' ? c : c.charCodeAt(0)));
  assert.deepEqual(splitArgs(bytes).tokens,
    [{ param: 'a', val: '1' }, { param: 'b', val: '2' }, { param: 'c', val: null }]);
});

test('next_arg: a UTF-8 sequence whose byte is 0xA0 is split, as the kernel does', () => {
  // U+00E0 is C3 A0 in UTF-8.
  const r = parseArgs('m', 'cval=\u00e0x', [spec('cval', 'charp')]);
  assert.equal(r.lines.length, 1);
  assert.match(r.lines[0].text, /^m: unknown parameter 'x' ignored$/);
});

test('next_arg: an = at index 0 is not a separator, a later = is', () => {
  assert.deepEqual(splitArgs('=5').tokens, [{ param: '=5', val: null }]);
  assert.deepEqual(splitArgs('=a=b').tokens, [{ param: '=a', val: 'b' }]);
  assert.deepEqual(splitArgs('a==b').tokens, [{ param: 'a', val: '=b' }]);
  assert.deepEqual(splitArgs('a=').tokens, [{ param: 'a', val: '' }]);
});

test('next_arg: quotes strip only around the value or the whole token', () => {
  assert.deepEqual(splitArgs('a=x"y z"w').tokens, [{ param: 'a', val: 'x"y z"w' }]);
  assert.deepEqual(splitArgs('"a=b c" d').tokens,
    [{ param: 'a', val: 'b c' }, { param: 'd', val: null }]);
  assert.deepEqual(splitArgs('a="b c"').tokens, [{ param: 'a', val: 'b c' }]);
  assert.deepEqual(splitArgs('a="b c').tokens, [{ param: 'a', val: 'b c' }]);
  assert.deepEqual(splitArgs('"ab"').tokens, [{ param: 'ab', val: null }]);
  assert.deepEqual(splitArgs('"').tokens, [{ param: '', val: null }]);
  assert.deepEqual(splitArgs('a"b c"').tokens, [{ param: 'a"b c"', val: null }]);
});

test('next_arg: a bare -- stops parsing; the rest keeps its trailing whitespace', () => {
  assert.deepEqual(splitArgs('a=1 --  b  c  '), { tokens: [{ param: 'a', val: '1' }],
    rest: 'b  c  ' });
  assert.deepEqual(splitArgs('a --'), { tokens: [{ param: 'a', val: null }], rest: '' });
  assert.deepEqual(splitArgs('--=1 b').tokens, [{ param: '--', val: '1' }, { param: 'b',
    val: null }]);
  // The quotes of "--" are stripped before the comparison.
  assert.equal(splitArgs('"--" x').rest, 'x');
});

test('parse_args: an empty rest after -- is reported as two quotes', () => {
  const r = parseArgs('m', 'ival=1 --   ', oracleParams);
  assert.deepEqual(r.lines, [{ level: KERN_WARNING, text: "m: parameters '' after `--' ignored" }]);
  assert.equal(r.afterDashes, '');
  assert.equal(r.errno, 0);
});

test('parse_args: an earlier error wins over -- and suppresses its warning', () => {
  const r = parseArgs('m', 'ival=x -- a', oracleParams);
  assert.deepEqual(r.lines.map((l) => l.text), ["m: `x' invalid for parameter `ival'"]);
  assert.equal(r.errno, EINVAL);
  assert.equal(r.afterDashes, undefined);
});

test('parameq: - and _ are equivalent on both sides, and lengths must match', () => {
  assert.ok(parameq('fail-init', 'fail_init'));
  assert.ok(parameq('fail_init', 'fail-init'));
  assert.ok(!parameq('i-val', 'ival'));
  assert.ok(!parameq('iva', 'ival'));
});

test('parse_one: the first matching kernel_param wins', () => {
  const params = [spec('a_b', 'int', '0'), spec('a-b', 'charp', 'x')];
  const r = parseArgs('m', 'a-b=7', params);
  assert.deepEqual(r.assignments, [{ param: 'a_b', raw: '7', value: '7', errno: 0 }]);
  assert.equal(r.values.get('a-b'), 'x');
});

test('parse_one: a bare name is EINVAL except for bool, bint and bool_enable_only', () => {
  const params = [spec('b', 'bool', 'N'), spec('i', 'bint', '0'), spec('e', 'bool_enable_only',
    'N'), spec('v', 'invbool', 'Y'), spec('a', 'bool', '', { arrayMax: 2 })];
  const r = parseArgs('m', 'b i e v a', params);
  assert.deepEqual(r.lines.map((l) => l.text), ["m: `' invalid for parameter `v'",
    "m: `' invalid for parameter `a'"]);
  assert.deepEqual([r.values.get('b'), r.values.get('i'), r.values.get('e')], ['Y', '1', 'Y']);
});

test('bool_enable_only: clearing a set value is EROFS; clearing an unset one is accepted', () => {
  const params = [spec('on', 'bool_enable_only', 'Y'), spec('off', 'bool_enable_only', 'N')];
  const r = parseArgs('m', 'on=0 off=n', params);
  assert.deepEqual(r.lines.map((l) => l.text), ["m: `0' invalid for parameter `on'"]);
  assert.equal(r.errno, EROFS);
  assert.equal(r.values.get('off'), 'N');
});

test('HWPARAM under lockdown: the Lockdown notice names current->comm, then EPERM', () => {
  const params = [spec('io', 'int', '0', { flags: KERNEL_PARAM_FL_HWPARAM |
    KERNEL_PARAM_FL_UNSAFE })];
  const locked = parseArgs('m', 'io=0x300', params, { lockdown: true, comm: 'modprobe' });
  assert.deepEqual(locked.lines, [
    { level: KERN_NOTICE, text: 'Lockdown: modprobe: unsafe module parameters is restricted; ' +
      'see man kernel_lockdown.7' },
    { level: KERN_ERR, text: "m: `0x300' invalid for parameter `io'" },
  ]);
  assert.equal(locked.errno, EPERM);
  assert.equal(locked.unsafeTaint, false);

  const open = parseArgs('m', 'io=0x300', params);
  assert.equal(open.errno, 0);
  assert.equal(open.values.get('io'), '768');
});

test('the Lockdown message defaults to insmod as the caller', () => {
  const params = [spec('io', 'int', '0', { flags: KERNEL_PARAM_FL_HWPARAM })];
  const r = parseArgs('m', 'io=1', params, { lockdown: true });
  assert.match(r.lines[0].text, /^Lockdown: insmod: /);
});

test('UNSAFE: a notice before set(), and taint even when set() then fails', () => {
  const params = [spec('danger', 'int', '0', { flags: KERNEL_PARAM_FL_UNSAFE })];
  const r = parseArgs('m', 'danger=x', params);
  assert.deepEqual(r.lines, [
    { level: KERN_NOTICE, text: 'Setting dangerous option danger - tainting kernel' },
    { level: KERN_ERR, text: "m: `x' invalid for parameter `danger'" },
  ]);
  assert.equal(r.unsafeTaint, true);
});

test('unknown_module_param_cb: async_probe by exact name, kstrtobool failure means true', () => {
  assert.equal(parseArgs('m', 'async_probe', []).asyncProbe, true);
  assert.equal(parseArgs('m', 'async_probe=0', []).asyncProbe, false);
  assert.equal(parseArgs('m', 'async_probe=maybe', []).asyncProbe, true);
  const dashed = parseArgs('m', 'async-probe=1', []);
  assert.equal(dashed.asyncProbe, undefined);
  assert.deepEqual(dashed.lines.map((l) => l.text), ["m: unknown parameter 'async-probe' ignored"]);
});

test('dyndbg: dyndbg and x.dyndbg are taken silently; other names are cut at the first dot', () => {
  assert.deepEqual(parseArgs('m', 'dyndbg m.dyndbg=+p other.dyndbg=-p', []).lines, []);
  const r = parseArgs('m', 'a.b.dyndbg=+p x.y=1', []);
  assert.deepEqual(r.lines.map((l) => l.text),
    ["m: unknown parameter 'a' ignored", "m: unknown parameter 'x' ignored"]);
  assert.equal(r.errno, 0);
});

test('charp: 1024 bytes fit; 1025 print "string parameter too long" then ENOSPC', () => {
  const params = [spec('c', 'charp', 'd')];
  assert.equal(parseArgs('m', `c=${'a'.repeat(1024)}`, params).errno, 0);
  const r = parseArgs('m', `c=${'a'.repeat(1025)}`, params);
  assert.deepEqual(r.lines.map((l) => l.text), ['c: string parameter too long',
    `m: \`${'a'.repeat(1025)}' too large for parameter \`c'`]);
  assert.equal(r.errno, ENOSPC);
});

test('arrays: the error line shows the value only up to the first comma', () => {
  const params = [spec('arr', 'int', '', { arrayMax: 4 }), spec('names', 'charp', '',
    { arrayMax: 3 })];
  const bad = parseArgs('m', 'arr=x,2 arr=1,2,x arr=7', params);
  assert.deepEqual(bad.lines.map((l) => l.text), ["m: `x' invalid for parameter `arr'",
    "m: `1' invalid for parameter `arr'"]);
  assert.equal(bad.values.get('arr'), '7');
  const charps = parseArgs('m', 'names=a,,', params);
  assert.equal(charps.errno, 0);
  assert.equal(charps.values.get('names'), 'a,,');
});

test('sysfs formats: hexint is %#08x with the 0x kept for zero, longs are 64-bit', () => {
  const params = [spec('h', 'hexint'), spec('l', 'long'), spec('u', 'ulong'), spec('q', 'ullong'),
    spec('us', 'ushort'), spec('bi', 'bint')];
  const r = parseArgs('m', 'h=0 l=-9223372036854775808 u=0xffffffffffffffff q=1 us=65535 bi=on',
    params);
  assert.equal(r.errno, 0);
  assert.deepEqual(Object.fromEntries(r.values), { h: '0x000000', l: '-9223372036854775808',
    u: '18446744073709551615', q: '1', us: '65535', bi: '1' });
  assert.equal(parseArgs('m', 'h=0x123456789', params).errno, ERANGE);
  assert.equal(parseArgs('m', 'h=ff', params).errno, EINVAL);
  assert.equal(parseArgs('m', 'h=0x12345678', params).values.get('h'), '0x12345678');
});

test('custom ops are accepted with a note that set() was not simulated', () => {
  const params = [spec('mode', 'custom', undefined, { opsSymbol: 'mode_ops' })];
  const r = parseArgs('m', 'mode=fast', params);
  assert.equal(r.errno, 0);
  assert.equal(r.notes.length, 1);
  assert.match(r.notes[0], /mode_ops not simulated/);
  assert.deepEqual(r.assignments, [{ param: 'mode', raw: 'fast', errno: 0 }]);
});
