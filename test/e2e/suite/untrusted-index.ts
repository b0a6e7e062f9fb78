// The entry point of the untrusted-workspace suite (see index.ts).

import { runFiles } from './index.js';

export function run(): Promise<void> {
  return runFiles(['untrusted.test.js']);
}
