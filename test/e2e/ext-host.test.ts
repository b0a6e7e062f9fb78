// Runs test/e2e/suite (mocha) inside code-server's real extension host, as
// @vscode/test-electron would in desktop VS Code (which cannot be downloaded here). The
// workbench's `payload` URL parameter loads the extension from this checkout
// (extensionDevelopmentPath) and runs the suite (extensionTestsPath); the workbench reports
// the suite's end through window.codeAutomationExit and its output through codeAutomationLog.
// Two runs: the main suite (trust off, so trusted) and one in an untrusted workspace.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { before, test } from 'node:test';
import * as util from 'node:util';
import * as esbuild from 'esbuild';
import {
  ARTIFACTS, REPO, TREE_612, checkTools, launchChromium, makeWorkspace, prepareRoot, remoteUri,
  startCodeServer,
} from './harness.js';

const SUITE_OUT = path.join(REPO, 'test', 'out', 'e2e', 'suite');

async function buildSuite(): Promise<void> {
  await esbuild.build({
    entryPoints: ['index.ts', 'editor.test.ts', 'untrusted-index.ts', 'untrusted.test.ts']
      .map((f) => path.join(__dirname, 'suite', f)),
    outdir: SUITE_OUT, bundle: true, platform: 'node', target: 'node20', format: 'cjs',
    sourcemap: 'inline', logLevel: 'warning',
    // The extension host provides vscode; mocha is loaded from node_modules so that the
    // runner and the test files share one instance.
    external: ['vscode', 'mocha'],
  });
}

interface Run {
  name: string;             // the suite's entry (suite/<name>.ts) and its log's name
  title: string;            // the mocha suite's title, where its report starts in the log
  trusted: boolean;         // false: Workspace Trust on, and the workspace not trusted
  workspaceSettings?: Record<string, unknown>;
}

async function runSuite(run: Run): Promise<void> {
  const ws = makeWorkspace(run.workspaceSettings);
  const root = prepareRoot(run.trusted ? {} : {
    'security.workspace.trust.enabled': true,
    'security.workspace.trust.startupPrompt': 'never',
    'security.workspace.trust.banner': 'never',
  });
  const log: string[] = [];
  const mocha: string[] = [];
  const cs = await startCodeServer(root, () => {}, { trust: run.trusted });
  const browser = await launchChromium(root);
  try {
    const page = await browser.newPage();
    let exit!: (code: number) => void;
    const exited = new Promise<number>((resolve) => (exit = resolve));
    await page.exposeFunction('codeAutomationExit', (code: number) => exit(code));
    // The workbench's own log lines (offline gallery errors and the like) go to the artifact
    // only; mocha's report, which starts with the suite's title, also to stderr.
    let mochaStarted = false;
    await page.exposeFunction('codeAutomationLog', (_level: string, args: unknown[]) => {
      const line = util.format(...args);
      log.push(line);
      mochaStarted ||= line.trim() === run.title;
      if (!mochaStarted) return;
      mocha.push(line);
      process.stderr.write(line + '\n');
    });
    const payload = JSON.stringify([
      ['extensionDevelopmentPath', remoteUri(cs.url, REPO)],
      ['extensionTestsPath', remoteUri(cs.url, path.join(SUITE_OUT, `${run.name}.js`))],
    ]);
    await page.goto(`${cs.url}?folder=${encodeURIComponent(ws)}` +
      `&payload=${encodeURIComponent(payload)}`);
    // A workbench that ignores the payload never calls codeAutomationExit: say so.
    let timer: NodeJS.Timeout | undefined;
    const code = await Promise.race([exited, new Promise<number>((_, reject) => {
      timer = setTimeout(() => reject(new Error('the extension host did not finish the suite ' +
        `in 150 s; the workbench's log:\n${log.slice(-40).join('\n')}`)), 150_000);
    })]).finally(() => clearTimeout(timer));
    assert.equal(code, 0, `the suite failed in the extension host:\n${mocha.join('\n')}`);
    assert.ok(mocha.some((l) => /^\s*\d+ passing/.test(l)), 'mocha reported its run');
  } finally {
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    fs.writeFileSync(path.join(ARTIFACTS, `ext-host-${run.name}.log`), log.join('\n') + '\n');
    await browser.close();
    await cs.stop();
    fs.rmSync(ws, { recursive: true, force: true });
    fs.rmSync(root, { recursive: true, force: true });
  }
}

before(async () => {
  checkTools();
  const build = spawnSync(process.execPath, ['esbuild.mjs'], { cwd: REPO, encoding: 'utf8' });
  assert.equal(build.status, 0, build.stderr);
  await buildSuite();
});

test('the mocha suite passes in code-server\'s extension host', { timeout: 180_000 },
  () => runSuite({ name: 'index', title: 'kmodsim in code-server', trusted: true }));

test('in an untrusted workspace, a kernel path outside it is not used', { timeout: 180_000 },
  () => runSuite({ name: 'untrusted-index', title: 'kmodsim in an untrusted workspace',
    trusted: false, workspaceSettings: { 'kmodsim.kernel': TREE_612 } }));
