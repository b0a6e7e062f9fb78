// The language server, as far as it goes today: it answers `kmodsim/simulateInsmod` requests
// with the engine's report, logging through the connection. Watching built modules,
// diagnostics, modprobe.d checking, completions and hovers are the editor issue's work and
// are not here yet.

import * as fs from 'node:fs';
import {
  createConnection, ProposedFeatures, TextDocumentSyncKind,
} from 'vscode-languageserver/node';
import { insmod } from '../cli/insmod.js';
import { resolveKernel } from '../cli/target.js';
import { SimulatedKernel } from '../load/kernel.js';
import { formatInsmod, formatSteps } from '../report/text.js';

interface SimulateParams {
  file: string;
  params?: string;
  kernel?: string;
  forceVermagic?: boolean;
  forceModversion?: boolean;
  bootArgs?: string;
}

const connection = createConnection(ProposedFeatures.all);

connection.onInitialize(() => ({
  capabilities: { textDocumentSync: TextDocumentSyncKind.None },
}));

connection.onRequest('kmodsim/simulateInsmod', (p: SimulateParams) => {
  try {
    const profile = resolveKernel(p.kernel);
    const kernel = SimulatedKernel.boot(profile, p.bootArgs ?? '');
    const r = insmod(kernel, new Uint8Array(fs.readFileSync(p.file)), p.params ?? '', p);
    return { ok: r.ret === 0, errno: r.errno, lines: r.lines,
      report: formatInsmod(p.file, r) + '\nsteps:\n' + formatSteps(r) };
  } catch (e) {
    connection.console.error(`simulateInsmod ${p.file}: ${(e as Error).message}`);
    return { ok: false, errno: 0, lines: [], report: `kmodsim: ${(e as Error).message}\n` };
  }
});

connection.listen();
