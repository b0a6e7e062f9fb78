// Seeds and profiles for the fuzz targets: the project's own modules (examples/, test/fixtures,
// test/modules/build) and the smallest real modules of the fetched Debian trees, signed ones
// included; compressed seeds for decompression and the 6.12 finit_module path; parameter
// strings for parse_args. Everything comes from files `bash scripts/setup.sh` makes; a missing
// Debian tree only shrinks the seed set, and the runner says so.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { captureProfile } from '../../server/src/kernel/capture.js';
import { loadProfileFile } from '../../server/src/kernel/profile-json.js';
import type { KernelProfile } from '../../server/src/kernel/profile.js';
import { decompressModule } from '../../server/src/module/decompress.js';
import { ModuleImage } from '../../server/src/module/image.js';
import type { KernelParamSpec } from '../../server/src/params/index.js';
import { CACHE, REL_61, REL_612, REPO } from '../support/corpus.js';

export interface SeedSet {
  byTarget: Map<string, Uint8Array[]>;
  profiles: KernelProfile[];
  paramSpecs: KernelParamSpec[];
  notes: string[];
}

const read = (f: string) => new Uint8Array(fs.readFileSync(f));

function filesIn(dir: string, suffix: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir).filter((f) => f.endsWith(suffix)).sort()
    .map((f) => path.join(dir, f));
}

// The `count` smallest files of a tree with this suffix, by size then name, so that the seed
// set is the same on every machine with the same tree.
function smallest(root: string, suffix: string, count: number): string[] {
  const found: { file: string; size: number }[] = [];
  const walk = (dir: string) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith(suffix)) found.push({ file: p, size: fs.statSync(p).size });
    }
  };
  if (fs.existsSync(root)) walk(root);
  found.sort((a, b) => a.size - b.size || (a.file < b.file ? -1 : 1));
  return found.slice(0, count).map((f) => f.file);
}

// modprobe.d lines of every command, continuations, comments and kmod's refusals.
const MODPROBE_SEEDS = [
  'options hello times=2 delays=1,2,3\n',
  '# comment\noptions fuzzmod int=5 charp="a b" arr=1,2,3 s=abc\n\toptions x y\n',
  'install hello /sbin/modprobe --ignore-install hello; true\nremove hello rmmod hello\n',
  'softdep fuzzmod pre: a b post: c\nblacklist pcspkr\nalias pci:v*d* fuzz-mod\n',
  'options fuzz-mod bool \\\n  invbool=1 byte=300\ninclude /etc/x\nconfig y\nbogus z\n',
  'options fuzzmod hexint=0x10 ullong=18446744073709551616 # tail\noptions\nalias only\n',
  'options fuzzmod s=\u00e9\u00e8\u{1f600} charp="\u00fcnicode" <n>=X\r\n',
];

const PARAM_STRINGS = [
  '', 'times=2', 'delays=1,2,3,4', 'x="a b" y=\'q\' z', 'a=1 b=-0x10 c=0777 d=Y e=n f',
  'name="unterminated', 'arr=,,, s=' + 'x'.repeat(300), '--', 'dyndbg=+p', 'a=\t\n\x00b=1',
];

// Every parameter type, arrays and strings among them, as __param would describe them.
function syntheticSpecs(): KernelParamSpec[] {
  const types = ['byte', 'short', 'ushort', 'int', 'uint', 'long', 'ulong', 'ullong', 'hexint',
    'charp', 'bool', 'invbool', 'bint', 'bool_enable_only'] as const;
  const out: KernelParamSpec[] = types.map((t, i) => ({ name: t, type: t, perm: 0o644,
    flags: i % 5 === 0 ? 2 : 0 }));
  out.push({ name: 'arr', type: 'int', arrayMax: 3, perm: 0o444, flags: 0 });
  out.push({ name: 's', type: 'string', stringMaxLen: 8, perm: 0o644, flags: 0 });
  out.push({ name: 'cb', type: 'custom', opsSymbol: 'my_ops', perm: 0, flags: 1 });
  return out;
}

export function loadSeeds(): SeedSet {
  const notes: string[] = [];
  const plain: string[] = [
    path.join(REPO, 'examples/hello/hello.ko'),
    ...filesIn(path.join(REPO, 'test/fixtures'), '.ko'),
  ];
  const built = path.join(REPO, 'test/modules/build');
  for (const rel of [REL_61, REL_612]) {
    const own = filesIn(path.join(built, rel), '.ko');
    if (!own.length) notes.push(`no own test modules for ${rel} (run scripts/setup.sh)`);
    // The smallest two: the fuzz loop mutates small files faster and finds the same paths.
    plain.push(...own.sort((a, b) => fs.statSync(a).size - fs.statSync(b).size).slice(0, 2));
  }
  const tree61 = path.join(CACHE, 'root/lib/modules', REL_61);
  const tree612 = path.join(CACHE, 'root/lib/modules', REL_612);
  const debian61 = smallest(tree61, '.ko', 6);
  const debian612 = smallest(tree612, '.ko.xz', 4);
  if (!debian61.length) notes.push(`Debian ${REL_61} tree missing: its seeds are left out`);
  if (!debian612.length) notes.push(`Debian ${REL_612} tree missing: its seeds are left out`);
  plain.push(...debian61);

  const modules: Uint8Array[] = plain.map(read);
  const compressed = [
    ...['tiny-rsa.ko.xz', 'tiny-rsa.ko.gz', 'tiny-rsa.ko.zst', 'tiny-rsa-crc64.ko.xz']
      .map((f) => read(path.join(REPO, 'test/fixtures', f))),
    ...debian612.map(read),
  ];
  for (const xz of debian612.map(read)) {
    const r = decompressModule(xz, 'xz');
    if (r.ok) modules.push(r.bytes);
  }

  const profiles = [loadProfileFile(path.join(REPO, 'profiles/debian-6.1.0-57-amd64.json'))];
  const headers612 = path.join(CACHE, 'root/usr/src', `linux-headers-${REL_612}`);
  if (fs.existsSync(headers612)) {
    profiles.push(captureProfile(headers612,
      fs.existsSync(tree612) ? { modulesDir: tree612 } : {}));
  } else {
    notes.push(`no ${REL_612} headers: the load target runs the 6.1 series only`);
  }

  const paramSpecs = syntheticSpecs();
  for (const m of modules.slice(0, 8)) {
    try {
      for (const p of ModuleImage.open(m).params) {
        if (!paramSpecs.some((s) => s.name === p.name)) paramSpecs.push(p);
      }
    } catch {
      // A seed without a decodable __param just adds no specs.
    }
  }
  const paramSeeds = PARAM_STRINGS.map((s) => new Uint8Array(Buffer.from('\xff' + s, 'latin1')));

  const byTarget = new Map<string, Uint8Array[]>([
    ['elf', modules],
    ['module', modules],
    ['decompress', compressed],
    ['load', [...modules, ...compressed.slice(0, 1), ...debian612.slice(0, 1).map(read)]],
    ['params', paramSeeds],
    ['modprobe', MODPROBE_SEEDS.map((t) => new Uint8Array(Buffer.from(t, 'utf8')))],
  ]);
  return { byTarget, profiles, paramSpecs, notes };
}
