// The oracle's host side: one batch of cases = one boot of a real Debian kernel in qemu.
// The initramfs holds busybox (for /init), the static loader (test/oracle/loader.c), the
// cases file and its inputs; the loader writes one JSON line per case to the second serial
// port, which this file reads back after the guest has shut down.

import { execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { extractVmlinux } from '../../server/src/kernel/vmlinux-certs.js';
import type { KernelAnswer } from '../../server/src/cli/cases.js';

export interface OracleTools {
  // $KMODSIM_CACHE/oracle: busybox/, loader, vmlinux-<release>.
  dir: string;
  // The dpkg -x tree with boot/vmlinuz-<release>.
  root: string;
}

export type Accel = 'kvm' | 'tcg';

export interface GuestInfo {
  uname_r: string;
  uname_v: string;
  cmdline: string;
  lockdown: string;
  taint: number;
  late_boot_lines: number;
}

// One line of the loader's output for one case, as written by loader.c: a KernelAnswer
// (cli/cases.ts) but for the stage and the errno's name, which the recorder adds.
export interface GuestCase extends Omit<KernelAnswer, 'stage' | 'errno_name'> {
  id: string;
  line: number;
  call: 'finit_module' | 'init_module' | 'delete_module';
  stray_before: number;
}

export interface BootResult {
  accel: Accel;
  guest?: GuestInfo;
  cases: GuestCase[];
  end?: { cases: number; elapsed_ms: number; taint: number };
  wallS: number;
  qemuExit: number | null;
  timedOut: boolean;
  // The last part of the kernel console when the boot did not finish (an oops, a hang).
  consoleTail?: string;
}

export interface BootRequest {
  release: string;
  bootArgs: string;
  // The cases file, with ko paths relative to inputsDir.
  casesText: string;
  inputsDir: string;
  // Only these files of inputsDir go into the initramfs (paths relative to it).
  inputs: string[];
  workDir: string;
  quietMs?: number;
  settleMs?: number;
  timeoutS?: number;
}

// KVM only helps when the host CPU can run an unmodified guest: /dev/kvm served by a
// paravirtual backend (kvm_pvm here) opens fine but never gets the Debian kernel past its
// decompressor. Hardware virtualisation shows as vmx/svm in /proc/cpuinfo.
export function chooseAccel(): Accel {
  if (process.env.KMODSIM_ORACLE_ACCEL === 'tcg') return 'tcg';
  try {
    fs.accessSync('/dev/kvm', fs.constants.R_OK | fs.constants.W_OK);
    const cpu = fs.readFileSync('/proc/cpuinfo', 'utf8');
    return /^flags\s*:.*\b(vmx|svm)\b/m.test(cpu) ? 'kvm' : 'tcg';
  } catch {
    return 'tcg';
  }
}

// The ELF vmlinux inside Debian's bzImage, booted through its PVH entry: the same kernel
// binary without a decompressor running under emulation (several seconds per boot with TCG).
export function vmlinuxFor(tools: OracleTools, release: string): string {
  const out = path.join(tools.dir, `vmlinux-${release}`);
  if (fs.existsSync(out)) return out;
  const image = new Uint8Array(fs.readFileSync(path.join(tools.root, 'boot',
    `vmlinuz-${release}`)));
  const r = extractVmlinux(image);
  if (!r.ok) throw new Error(`vmlinuz-${release}: ${r.error.code}: ${r.error.what}`);
  fs.writeFileSync(`${out}.tmp`, r.vmlinux);
  fs.renameSync(`${out}.tmp`, out);
  return out;
}

const INIT = `#!/bin/busybox sh
/bin/busybox mount -t proc proc /proc
/bin/busybox mount -t sysfs sysfs /sys
/bin/busybox mount -t devtmpfs devtmpfs /dev
/bin/busybox mount -t securityfs securityfs /sys/kernel/security
cd /cases
exec /loader batch.tsv /dev/ttyS1 "$QUIET_MS" "$SETTLE_MS"
`;

function buildInitramfs(tools: OracleTools, req: BootRequest, stage: string, out: string) {
  fs.rmSync(stage, { recursive: true, force: true });
  for (const d of ['bin', 'proc', 'sys', 'dev', 'cases']) {
    fs.mkdirSync(path.join(stage, d), { recursive: true });
  }
  fs.copyFileSync(path.join(tools.dir, 'busybox/bin/busybox'), path.join(stage, 'bin/busybox'));
  fs.chmodSync(path.join(stage, 'bin/busybox'), 0o755);
  fs.copyFileSync(path.join(tools.dir, 'loader'), path.join(stage, 'loader'));
  fs.chmodSync(path.join(stage, 'loader'), 0o755);
  fs.writeFileSync(path.join(stage, 'init'), INIT, { mode: 0o755 });
  fs.writeFileSync(path.join(stage, 'cases/batch.tsv'), req.casesText);
  for (const rel of req.inputs) {
    const to = path.join(stage, 'cases', rel);
    fs.mkdirSync(path.dirname(to), { recursive: true });
    fs.copyFileSync(path.join(req.inputsDir, rel), to);
  }
  // Uncompressed: unpacking gzip under TCG costs more than reading the larger image.
  const list = execFileSync('find', ['.', '-mindepth', '1'], { cwd: stage });
  const cpio = execFileSync('cpio', ['--quiet', '-o', '-H', 'newc', '-R', '0:0'],
    { cwd: stage, input: list, maxBuffer: 1 << 30 });
  fs.writeFileSync(out, cpio);
}

function parseResults(text: string, result: BootResult) {
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    let obj: Record<string, unknown>;
    try {
      obj = JSON.parse(line) as Record<string, unknown>;
    } catch {
      continue; // a line cut short by a dying guest
    }
    if (obj.guest) result.guest = obj.guest as GuestInfo;
    else if (obj.end) result.end = obj.end as BootResult['end'];
    else result.cases.push(obj as unknown as GuestCase);
  }
}

export async function bootBatch(tools: OracleTools, req: BootRequest): Promise<BootResult> {
  const accel = chooseAccel();
  fs.mkdirSync(req.workDir, { recursive: true });
  const initrd = path.join(req.workDir, 'initrd.cpio');
  const results = path.join(req.workDir, 'results.jsonl');
  const consoleLog = path.join(req.workDir, 'console.log');
  buildInitramfs(tools, req, path.join(req.workDir, 'stage'), initrd);
  fs.rmSync(results, { force: true });

  const quiet = req.quietMs ?? 1000;
  const settle = req.settleMs ?? 20;
  const append = ['console=ttyS0', 'panic=-1', 'oops=panic', 'rdinit=/init',
    `QUIET_MS=${quiet}`, `SETTLE_MS=${settle}`, req.bootArgs].filter(Boolean).join(' ');
  const args = [
    '-machine', 'pc', '-accel', accel, '-cpu', accel === 'kvm' ? 'host' : 'max',
    '-smp', '1', '-m', '1024', '-nodefaults', '-nographic', '-no-reboot',
    '-monitor', 'none', '-kernel', vmlinuxFor(tools, req.release), '-initrd', initrd,
    '-append', append, '-serial', `file:${consoleLog}`, '-serial', `file:${results}`,
  ];
  const timeoutS = req.timeoutS ?? (accel === 'kvm' ? 60 : 300);
  const started = Date.now();
  const child = spawn('qemu-system-x86_64', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
  let timedOut = false;
  const timer = setTimeout(() => { timedOut = true; child.kill('SIGKILL'); }, timeoutS * 1000);
  const qemuExit = await new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code) => resolve(code));
  });
  clearTimeout(timer);

  const result: BootResult = { accel, cases: [], wallS: (Date.now() - started) / 1000,
    qemuExit, timedOut };
  if (fs.existsSync(results)) parseResults(fs.readFileSync(results, 'latin1'), result);
  if (!result.end) {
    const log = fs.existsSync(consoleLog) ? fs.readFileSync(consoleLog, 'latin1') : '';
    result.consoleTail = `${log.slice(-12000)}${stderr ? `\nqemu: ${stderr}` : ''}`;
  }
  return result;
}
