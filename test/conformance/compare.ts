// What the conformance tests share: the profile of a fetched Debian kernel with its builtin
// signing certificates, and the field-by-field comparison of a real-kernel record with the
// simulator's answer for the same case.

import type { CaseRecord, KernelAnswer } from '../../server/src/cli/cases.js';
import { captureProfile } from '../../server/src/kernel/capture.js';
import type { KernelProfile } from '../../server/src/kernel/profile.js';
import { UNKNOWN_PARAMETER_VALUE } from '../../server/src/load/state.js';
import { headersDirOf, modulesDirOf } from './oracle-cases.js';

// The profile of a fetched release; capture finds its vmlinuz beside the module tree, for the
// signing certificates (so a tampered signature is seen as one) and the vmlinux BTF.
export function debianProfile(release: string): KernelProfile {
  return captureProfile(headersDirOf(release), { modulesDir: modulesDirOf(release) });
}

// %p prints a per-boot hashed pointer, and module addresses differ per boot: both are 16 hex
// digits in the kernel's lines. With `addressValues` the relocation messages' `val` is dropped
// too: computed from where the module's memory was allocated (an address, or on 6.12 a distance
// between two allocations), only the allocator knows it.
const RELOCATION_VALUE =
  /^(module: (overflow in relocation type \d+|x86\/modules: .*nonzero for type \d+.*)) val \S+$/;

export function normalisePointers(text: string, addressValues = false): string {
  const t = text.replace(/\b[0-9a-f]{16}\b/g, '<ptr>').replace(/\(____ptrval____\)/g, '<ptr>');
  return addressValues ? t.replace(RELOCATION_VALUE, '$1 val <addr>') : t;
}

function show(lines: { level: number; text: string }[]): string {
  return lines.length ? lines.map((l) => `<${l.level}>${JSON.stringify(l.text)}`).join(' ')
    : '(none)';
}

// The differences, one line each; none means the simulator agrees with the kernel.
export function differences(exp: KernelAnswer, got: CaseRecord, ownOutput: RegExp[] = [],
  addressValues = false): string[] {
  const diffs: string[] = [];
  const eq = (what: string, e: unknown, g: unknown) => {
    if (JSON.stringify(e) !== JSON.stringify(g)) {
      diffs.push(`${what}: expected ${JSON.stringify(e)}, got ${JSON.stringify(g)}`);
    }
  };
  eq('stage', exp.stage, got.stage);
  eq('rc', exp.rc, got.rc);
  eq('errno', `${exp.errno} ${exp.errno_name}`, `${got.errno} ${got.errno_name}`);
  const expLines = exp.kmsg.filter((l) => !ownOutput.some((r) => r.test(l.text)))
    .map((l) => ({ level: l.level, text: normalisePointers(l.text, addressValues) }));
  const gotLines = got.kmsg.map((l) =>
    ({ level: l.level, text: normalisePointers(l.text, addressValues) }));
  if (JSON.stringify(expLines) !== JSON.stringify(gotLines)) {
    diffs.push(`kmsg: expected ${show(expLines)}\n        got ${show(gotLines)}`);
  }
  eq('taint before', exp.taint_before, got.taint_before);
  eq('taint after', exp.taint_after, got.taint_after);
  eq('loaded', exp.loaded.map((l) => `${l.name}(${l.taint})`),
    got.loaded.map((l) => `${l.name}(${l.taint})`));
  // What sysfs showed: key order is the directory listing's, so it is not compared. A value
  // the simulator says comes from module code (custom ops) is taken as the kernel's.
  const sorted = (p: Record<string, string>, real?: Record<string, string>) =>
    Object.keys(p).sort().map((k) => `${k}=${p[k] === UNKNOWN_PARAMETER_VALUE && real &&
      k in real ? real[k] : p[k]}`);
  eq('parameters', exp.loaded.map((l) => sorted(l.parameters)),
    got.loaded.map((l, i) => sorted(l.parameters, exp.loaded[i]?.parameters)));
  return diffs;
}
