// The language server on the stress workspace of server-stress.ts: 5,000 modules, one rewritten
// during the scan and one deleted, a 1 GB file, symlink loops (`loop -> .`, `a/b/up -> ../..`),
// a FIFO, a directory and a dangling link named *.ko, and a modprobe.d file of 100,000 lines.
// What must hold: the server answers throughout, lists every module once and by its one real
// path, says why it does not read the 1 GB file, shows the last version of the rewritten
// module and nothing of the deleted one, reports each bad modprobe.d line once, and its peak
// memory stays bounded. Latency figures come from running server-stress.ts directly.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Diagnostic } from 'vscode-languageserver-protocol';
import { fileUri } from '../lsp/client.js';
import {
  HUGE_LINES, makeStressWorkspace, peakRssMb, removeStressWorkspace, runStress,
  type StressRun, type StressWorkspace,
} from './server-stress.js';

const MODULES = 5000;
// Far below the 1 GB file plus the workspace, well above what the server needs (about 450 MB;
// 1,200 MB when the modprobe.d reader kept an object per character).
const PEAK_RSS_MB = 800;

const text = (d: Diagnostic) => (typeof d.message === 'string' ? d.message : d.message.value);

interface ModulesResult {
  modules: { file: string; name: string; ok: boolean; verdict: string }[];
}

let w: StressWorkspace;
let run: StressRun;
let listed: ModulesResult['modules'];

before(async () => {
  w = makeStressWorkspace(MODULES);
  run = await runStress(w);
  // The rewrite and the delete may settle after the scan: wait until both show.
  const settled = async () => {
    const r = await run.client.request<ModulesResult>('kmodsim/modules', { wait: true });
    listed = r.modules;
    const rewritten = listed.find((m) => m.file === w.rewritten);
    return !listed.some((m) => m.file === w.deleted) && /overflow/.test(rewritten?.verdict ?? '');
  };
  for (let i = 0; i < 50 && !(await settled()); i++) await new Promise((r) => setTimeout(r, 200));
}, { timeout: 600_000 });

after(async () => {
  await run?.client.stop();
  if (w) removeStressWorkspace(w);
});

test('every module is listed once, by its real path, never through a symlink loop', () => {
  const files = listed.map((m) => m.file);
  assert.equal(new Set(files).size, files.length);
  assert.deepEqual(files.filter((f) => /\/loop\/|\/up\//.test(f)), []);
  const expected = w.modules.filter((f) => f !== w.deleted);
  for (const f of expected) assert.ok(files.includes(f), f);
  // The cut copy of hello.ko (noperm.ko: root reads it whatever its mode) and big.ko.
  assert.equal(files.length, expected.length + 2);
  assert.equal(listed.filter((m) => m.ok).length, expected.length - 1);
});

test('the 1 GB file is not read, and its report says why', () => {
  const big = listed.find((m) => m.file === w.big)!;
  assert.equal(big.ok, false);
  assert.equal(big.verdict, 'not simulated: 1073741824 bytes is more than any module ' +
    '(kmodsim reads at most 268435456 bytes of one)');
});

test('the rewritten module shows its last version; the deleted one is gone', () => {
  const m = listed.find((x) => x.file === w.rewritten)!;
  assert.equal(m.verdict, 'ENOEXEC: Invalid ELF section header overflow');
  assert.equal(listed.some((x) => x.file === w.deleted), false);
  const d = run.client.diagnostics.get(`kmodsim-report:${encodeURI(w.deleted)}.report`);
  assert.ok(d === undefined || d.length === 0);
});

test('each bad line of the 100,000-line modprobe.d file is reported once', async () => {
  const diags = await run.client.diagnosticsOf(fileUri(w.conf));
  const bad = diags.filter((d) => /ignoring bad line/.test(text(d)));
  assert.deepEqual(bad.map((d) => d.range.start.line), w.badLines);
  for (const d of bad) {
    assert.equal(text(d), `${w.conf} line ${d.range.start.line + 1}: ignoring bad line ` +
      "starting with 'optoins'");
  }
  const keys = diags.map((d) => `${d.range.start.line}:${d.range.start.character}:${text(d)}`);
  assert.equal(new Set(keys).size, keys.length);
  assert.ok(diags.every((d) => d.range.start.line < HUGE_LINES));
});

test('the server answered completions throughout and its peak memory stayed bounded', () => {
  assert.ok(run.completionMs.length > 0);
  assert.ok(peakRssMb(run.pid) < PEAK_RSS_MB, `${peakRssMb(run.pid)} MB`);
});
