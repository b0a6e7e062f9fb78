// Conformance with the real kernel, as a figure: every case of the matrix that
// `npm run oracle:record` recorded on Debian's 6.1.0-57-amd64 and 6.12.107 kernels
// (test/conformance/matrix/<release>.json) is rebuilt from the fetched Debian modules and the
// project's own test modules (matrix.ts), replayed through `kmodsim run`'s case runner in the
// same boots, and compared: verdict, errno, every kernel line, taint, what sysfs showed.
// A disagreement fails; a case marked undecidable in its record is shown but not counted.

import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseCases, runCases } from '../../server/src/cli/cases.js';
import { debianProfile, differences } from './compare.js';
import { buildMatrix, casesText, ownModulePath, releaseOf, type Series } from './matrix.js';
import { haveTrees, modulesDirOf } from './oracle-cases.js';
import { inputSha256, type RecordedCase, type RecordedKernel } from './record.js';

const RECORDS = path.join(__dirname, 'matrix');

interface Outcome {
  boot: string;
  id: string;
  verdict: 'agree' | 'disagree' | 'undecidable';
  diffs: string[];
  why?: string;
}

function replaySeries(series: Series): Outcome[] {
  const release = releaseOf(series);
  const rec = JSON.parse(fs.readFileSync(path.join(RECORDS, `${release}.json`), 'utf8')) as
    RecordedKernel;
  assert.equal(rec.kernel.release, release);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `kmodsim-matrix-${series}-`));
  try {
    const matrix = buildMatrix(series, dir);
    const profile = debianProfile(release);
    const outcomes: Outcome[] = [];
    for (const boot of rec.batches) {
      const batch = { name: boot.name, bootArgs: boot.boot_args, cases: boot.cases.map((c) =>
        ({ id: c.id, ko: c.ko, flags: c.flags, params: c.params, options: c.options })) };
      const got = runCases(parseCases(casesText(batch)), { profile, bootArgs: boot.boot_args,
        comm: boot.comm, modulesDir: modulesDirOf(release), baseDir: matrix.inputsDir });
      assert.equal(got.length, boot.cases.length, `${boot.name}: one answer per case`);
      boot.cases.forEach((exp: RecordedCase, i) => {
        assert.equal(got[i].id, exp.id);
        const own = (exp.own_output ?? []).map((s) => new RegExp(s));
        const diffs = exp.stage === 'crashed' ? []
          : differences(exp, got[i], own, exp.address_values);
        const input = exp.ko_sha256 && inputSha256(path.join(matrix.inputsDir, exp.ko));
        if (input && input !== exp.ko_sha256) {
          diffs.unshift(`input ${exp.ko} is not the file the kernel answered (sha256 ${input}, ` +
            `recorded ${exp.ko_sha256}): the matrix or the test modules changed since ` +
            '`npm run oracle:record`');
        }
        const why = exp.undecidable ?? got[i].undecidable;
        let verdict: Outcome['verdict'] = why ? 'undecidable' : diffs.length ? 'disagree' : 'agree';
        // Another input than the one answered is no comparison at all, undecidable or not.
        if (input && input !== exp.ko_sha256) verdict = 'disagree';
        // Where the real kernel oopsed the simulator must at least say it cannot follow.
        if (exp.stage === 'crashed' && !got[i].unknowns.some((u) => /oops/.test(u))) {
          diffs.push(`the real kernel crashed (${exp.crash}); the simulation does not say so`);
          verdict = 'disagree';
        }
        outcomes.push({ boot: boot.name, id: exp.id, verdict, diffs, why });
      });
    }
    const wanted = matrix.batches.reduce((n, b) => n + b.cases.length, 0);
    assert.equal(outcomes.length, wanted,
      `${release}: the record holds another matrix (npm run oracle:record)`);
    return outcomes;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function report(release: string, outcomes: Outcome[]): string {
  const agree = outcomes.filter((o) => o.verdict === 'agree').length;
  const undecided = outcomes.filter((o) => o.verdict === 'undecidable');
  const lines = [`conformance: ${agree}/${outcomes.length} cases agree (${release}; ` +
    `${undecided.length} undecidable)`];
  for (const o of outcomes.filter((x) => x.verdict === 'disagree')) {
    lines.push(`  DISAGREE ${o.boot}/${o.id}`);
    for (const d of o.diffs) lines.push(`    ${d}`);
  }
  for (const o of undecided) {
    lines.push(`  undecidable ${o.boot}/${o.id}: ${o.why}` +
      `${o.diffs.length ? ` (differs: ${o.diffs.map((d) => d.split(':')[0]).join(', ')})` : ''}`);
  }
  return lines.join('\n');
}

const missing = !haveTrees() ? 'the Debian trees are not in the cache (bash scripts/setup.sh)'
  : !fs.existsSync(ownModulePath(releaseOf('6.12'), 'kmsim_params'))
    ? 'the project\'s test modules are not built (scripts/build-modules.sh)' : false;

for (const series of ['6.1', '6.12'] as Series[]) {
  const release = releaseOf(series);
  test(`${release}: the simulator answers every recorded case as the real kernel did`,
    { skip: missing }, () => {
      const outcomes = replaySeries(series);
      console.log(report(release, outcomes));
      const bad = outcomes.filter((o) => o.verdict === 'disagree');
      assert.equal(bad.length, 0, `disagreements: ${bad.map((o) => o.id).join(', ')}`);
    });
}
