// btf_module_notify() at MODULE_STATE_COMING (kernel/bpf/btf.c), with
// CONFIG_DEBUG_INFO_BTF_MODULES: a module's split BTF is parsed on top of the running kernel's.
// A module built against another kernel names strings the running kernel does not have, and
// the first bad name offset is what the verifier logs. Only name offsets are modelled (the
// failure such a module meets first); a member-level or type-level failure of another kind is
// not, and is said so.

import { BtfFormatError, forEachBtfName, nameOffsetValid, readBtfHeader } from '../module/btf.js';
import type { LoadContext } from './context.js';
import { EINVAL } from './errno.js';
import { KERN_ERR, KERN_WARNING } from './kmsg.js';

export function btfModuleNotify(ctx: LoadContext): number {
  const step = 'btf_module_notify';
  const section = ctx.elf!.section('.BTF');
  const base = ctx.profile.vmlinuxBtf;
  if (!section || section.size === 0) return 0;
  if (!base) {
    ctx.unknowns.push('module BTF not checked: the profile has no vmlinux BTF (capture it ' +
      'with the kernel image)');
    return 0;
  }
  let bad: string | undefined;
  try {
    const data = ctx.elf!.sectionData(section);
    const h = readBtfHeader(data);
    let badMember = -1;
    forEachBtfName(data, h, (type, _kind, name, member) => {
      if (nameOffsetValid(name, base, h.strLen)) return true;
      if (member) badMember = type;
      else bad = `BPF: [${base.types + 1 + type}] Invalid name_offset:${name}`;
      return false;
    });
    if (badMember >= 0) {
      ctx.unknowns.push(`BTF type ${base.types + 1 + badMember}: a member name is out of ` +
        'range; the verifier\'s message for it is not modelled');
      return 0;
    }
  } catch (e) {
    if (!(e instanceof BtfFormatError)) throw e;
    ctx.unknowns.push(`module BTF not checked: ${e.message}`);
    return 0;
  }
  if (!bad) {
    ctx.record(step, 'ok');
    return 0;
  }

  ctx.print(KERN_ERR, bad);
  const allow = ctx.profile.config.MODULE_ALLOW_BTF_MISMATCH;
  // 6.1 warns and goes on when mismatches are allowed; from 6.2 that case only says so once.
  if (!allow || ctx.profile.series === '6.1') {
    ctx.print(KERN_WARNING, `failed to validate module [${ctx.structModuleName}] BTF: -22`);
  } else if (ctx.kernel.firstTime('btf-module-mismatch')) {
    ctx.print(KERN_WARNING, 'Kernel module BTF mismatch detected, BTF debug info may be ' +
      'unavailable for some modules');
  }
  ctx.record(step, allow ? 'ok' : 'failed', bad, allow ? undefined : EINVAL);
  return allow ? 0 : EINVAL;
}
