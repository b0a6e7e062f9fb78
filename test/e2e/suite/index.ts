// The extension-tests entry point code-server's extension host calls (the contract of
// @vscode/test-electron's extensionTestsPath): run the mocha suite, reject on any failure.

import * as path from 'node:path';
import Mocha from 'mocha';

export function runFiles(files: string[]): Promise<void> {
  const mocha = new Mocha({ ui: 'bdd', timeout: 20_000, color: false, reporter: 'spec' });
  for (const f of files) mocha.addFile(path.join(__dirname, f));
  return new Promise((resolve, reject) => {
    mocha.run((failures) => failures ? reject(new Error(`${failures} test(s) failed`)) : resolve());
  });
}

export function run(): Promise<void> {
  return runFiles(['editor.test.js']);
}
