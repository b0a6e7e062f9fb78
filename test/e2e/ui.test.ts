// One pass through the real UI, the way a module developer meets kmodsim: the packaged .vsix
// installed into code-server, the workspace opened in Debian's chromium, the modprobe.d
// file's problems in the Problems panel, then *Simulate insmod* from the command palette with
// every question answered by keyboard (module, target, flags, parameters typed with a
// completion from the server), and the report it opens. Screenshots go to
// test/e2e/artifacts/. The selectors are VS Code's own classes (pinned by code-server 4.100.3).

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import type { Page } from 'playwright-core';
import {
  ARTIFACTS, REPO, checkTools, installVsix, launchChromium, makeWorkspace, prepareRoot,
  startCodeServer,
} from './harness.js';

const VSCE = path.join(REPO, 'node_modules', '.bin', 'vsce');

function packageVsix(out: string): void {
  const build = spawnSync(process.execPath, ['esbuild.mjs'], { cwd: REPO, encoding: 'utf8' });
  assert.equal(build.status, 0, build.stderr);
  // As `npm run package` does, to another output file.
  const pack = spawnSync(VSCE, ['package', '--target', 'linux-x64', '-o', out],
    { cwd: REPO, encoding: 'utf8' });
  assert.equal(pack.status, 0, pack.stdout + pack.stderr);
}

// The quick input's rows, once one with `text` is there.
async function quickPickRow(page: Page, text: string) {
  const row = page.locator('.quick-input-widget .monaco-list-row', { hasText: text }).first();
  await row.waitFor({ timeout: 20_000 });
  return row;
}

async function typeIntoQuickInput(page: Page, text: string): Promise<void> {
  const box = page.locator('.quick-input-widget .quick-input-box input');
  await box.waitFor();
  await box.pressSequentially(text, { delay: 20 });
}

// Types a filter into the Problems panel until its badge says it took effect: the panel builds
// its filter box lazily and, while the first markers arrive, can drop what was typed.
async function filterProblems(page: Page, glob: string, badge: RegExp): Promise<void> {
  const filter = page.locator('.viewpane-filter input:visible').first();
  for (let attempt = 1; ; attempt++) {
    await filter.fill(glob);
    if (glob === '') return;
    try {
      await page.getByText(badge).first().waitFor({ timeout: 3_000 });
      return;
    } catch (e) {
      if (attempt === 3) throw e;
    }
  }
}

// The report's tokens are coloured: the grammar runs (in a worker) by the time of the shot.
async function waitForColouredHeading(page: Page, heading: string): Promise<void> {
  await page.waitForFunction((text) => {
    // Runs in the page; this project's lib has no DOM types.
    type Span = { textContent: string | null; className: string };
    const doc = (globalThis as unknown as
      { document: { querySelectorAll(sel: string): ArrayLike<Span> } }).document;
    const spans = Array.from(doc.querySelectorAll(
      '.editor-group-container.active .view-lines span'));
    // Monaco renders blanks as no-break spaces.
    return spans.some((s) => s.textContent?.replace(/\u00a0/g, ' ') === text &&
      s.className !== 'mtk1');
  }, heading, { timeout: 20_000 });
}

test('Problems panel, Simulate insmod from the palette, the report', { timeout: 180_000 },
  async () => {
    checkTools();
    const root = prepareRoot();
    const vsix = path.join(root, 'kmodsim.vsix');
    packageVsix(vsix);
    await installVsix(root, vsix);

    const ws = makeWorkspace();
    const cs = await startCodeServer(root, () => {});
    const browser = await launchChromium(root);
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    const page = await browser.newPage();
    // The workbench's console (grammar and extension errors show up there), for the artifacts.
    const consoleLines: string[] = [];
    page.on('console', (m) => consoleLines.push(`${m.type()}: ${m.text()}`));
    try {
      await page.goto(`${cs.url}?folder=${encodeURIComponent(ws)}`);

      // Open the modprobe.d file from the explorer.
      const row = (name: string) =>
        page.locator('.explorer-folders-view .monaco-list-row', { hasText: name }).first();
      await row('modprobe.d').waitFor({ timeout: 60_000 });
      await row('modprobe.d').click();
      await row('kmodsim.conf').click();
      await page.locator('.tabs-container .tab', { hasText: 'kmodsim.conf' }).waitFor();

      // The server's verdicts on the options lines, in the kernel's words, in the Problems
      // panel filtered to this file (hello.c gets some of the same messages).
      await page.keyboard.press('Control+Shift+M');
      await page.locator('.markers-panel').waitFor();
      await filterProblems(page, '**/modprobe.d/kmodsim.conf', /Showing 3 of \d+/);
      const problem = (text: string) =>
        page.locator('.markers-panel .monaco-list-row', { hasText: text }).first();
      for (const [text, icon] of [["hello: `lots' invalid for parameter `times'", 'error'],
        ['delays: can only take 3 arguments', 'error'],
        ["hello: unknown parameter 'nosuch' ignored", 'warning']]) {
        await problem(text).waitFor({ timeout: 30_000 });
        assert.equal(await problem(text).locator(`.codicon-${icon}`).count(), 1,
          `${text} is shown as ${icon}`);
      }
      await page.screenshot({ path: path.join(ARTIFACTS, 'ui-problems.png') });
      await filterProblems(page, '', /^$/);

      // kmodsim: Simulate insmod, from the command palette.
      await page.keyboard.press('F1');
      await typeIntoQuickInput(page, 'kmodsim: Simulate insmod');
      await (await quickPickRow(page, 'Simulate insmod')).waitFor();
      await page.keyboard.press('Enter');

      // The module: hello.ko from the workspace.
      await quickPickRow(page, 'hello.ko');
      await typeIntoQuickInput(page, 'hello.ko');
      await page.keyboard.press('Enter');

      // The target: the current setting, which is the bundled 6.1.0-57-amd64 profile.
      await quickPickRow(page, 'current setting');
      await page.keyboard.press('Enter');

      // The flags: all off, as the settings have them.
      await quickPickRow(page, '--force-modversion');
      await page.keyboard.press('Enter');

      // The parameters: "de" offers delays= with its type and default; take it and go on.
      await quickPickRow(page, 'Enter: load with these parameters');
      await typeIntoQuickInput(page, 'de');
      const completion = await quickPickRow(page, 'delays=');
      assert.match(await completion.innerText(), /array of int, default 5,10,15/);
      await page.keyboard.press('ArrowDown');
      await page.keyboard.press('Enter');
      const box = page.locator('.quick-input-widget .quick-input-box input');
      // (The page's DOM types are not in this project's lib; the input has a value.)
      await page.waitForFunction((el) => (el as unknown as { value: string }).value === 'delays=',
        await box.elementHandle());
      await box.pressSequentially('1,2,3,4', { delay: 20 });
      await quickPickRow(page, 'delays=1,2,3,4');
      await page.keyboard.press('Enter');

      // The report opens with the kernel's lines for one element too many.
      await page.locator('.tabs-container .tab', { hasText: 'hello.ko.report' }).waitFor();
      const editor = page.locator('.editor-group-container.active .monaco-editor .view-lines');
      await editor.getByText('delays: can only take 3 arguments').first().waitFor();
      await editor.getByText("hello: `1' invalid for parameter `delays'").first().waitFor();
      // The status bar: the target's release and this module's verdict.
      await page.locator('.statusbar-item', { hasText:
        "6.1.0-57-amd64 hello: EINVAL: hello: `1' invalid for parameter `delays'" }).first()
        .waitFor();
      await waitForColouredHeading(page, 'kernel log:');
      await page.screenshot({ path: path.join(ARTIFACTS, 'ui-report.png') });
    } catch (e) {
      await page.screenshot({ path: path.join(ARTIFACTS, 'ui-failure.png') }).catch(() => {});
      throw e;
    } finally {
      fs.writeFileSync(path.join(ARTIFACTS, 'ui-console.log'), consoleLines.join('\n') + '\n');
      await browser.close();
      await cs.stop();
      fs.rmSync(ws, { recursive: true, force: true });
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
