#!/usr/bin/env node
// The kmodsim command line: insmod, check, modinfo, run, profile capture. Results go to
// stdout, progress to stderr; the exit status is non-zero when the kernel would refuse.

import * as fs from 'node:fs';
import { Command } from 'commander';
import cliProgress from 'cli-progress';
import { captureProfile } from '../kernel/capture.js';
import { profileToJson } from '../kernel/profile-json.js';
import { SimulatedKernel } from '../load/kernel.js';
import { formatInsmod, formatSteps, resultJson } from '../report/text.js';
import { findModules } from './check.js';
import { checkFiles } from './pool.js';
import { insmod } from './insmod.js';
import { resolveKernel } from './target.js';

function fail(message: string): never {
  process.stderr.write(`kmodsim: ${message}\n`);
  process.exit(2);
}

function readFile(file: string): Uint8Array {
  try {
    return new Uint8Array(fs.readFileSync(file));
  } catch (e) {
    fail(`${file}: ${(e as Error).message}`);
  }
}

const program = new Command();
program.name('kmodsim').description('Simulate the Linux kernel loading a module.')
  .showHelpAfterError();

program.command('insmod')
  .description('load a module into a freshly booted simulated kernel, as insmod would')
  .argument('<file>', 'the .ko (or .ko.xz/.gz/.zst)')
  .argument('[params...]', 'module parameters, param=value')
  .option('-k, --kernel <profile>', 'profile JSON, headers dir or /lib/modules/<release>')
  .option('--force-vermagic', 'MODULE_INIT_IGNORE_VERMAGIC')
  .option('--force-modversion', 'MODULE_INIT_IGNORE_MODVERSIONS')
  .option('-f, --force', 'both force flags')
  .option('--boot-args <args>', 'kernel command line, e.g. "module.sig_enforce=1"', '')
  .option('--loaded <files...>', 'modules loaded first, in order')
  .option('--steps', 'print every load step')
  .option('--json', 'print the result as JSON')
  .action((file: string, params: string[], o) => {
    const profile = guard(() => resolveKernel(o.kernel));
    const kernel = SimulatedKernel.boot(profile, o.bootArgs);
    for (const dep of o.loaded ?? []) {
      const r = insmod(kernel, readFile(dep), '', {});
      if (r.ret !== 0) {
        process.stdout.write(`kmodsim: --loaded ${dep} does not load:\n`);
        process.stdout.write(formatInsmod(dep, r));
        process.exit(1);
      }
    }
    const opts = { forceVermagic: o.force || o.forceVermagic,
      forceModversion: o.force || o.forceModversion };
    const r = insmod(kernel, readFile(file), params.join(' '), opts);
    if (o.json) process.stdout.write(JSON.stringify(resultJson(file, r), null, 2) + '\n');
    else {
      process.stdout.write(formatInsmod(file, r));
      if (o.steps) process.stdout.write('\nsteps:\n' + formatSteps(r));
    }
    process.exitCode = r.ret === 0 ? 0 : 1;
  });

program.command('check')
  .description('check many modules (files or directories), one fresh boot each')
  .argument('<paths...>')
  .option('-k, --kernel <profile>', 'profile JSON, headers dir or /lib/modules/<release>')
  .option('--boot-args <args>', 'kernel command line', '')
  .option('--no-deps', 'do not assume the modules they depend on are loaded')
  .option('--json', 'one JSON object per module, one per line')
  .option('-q, --quiet', 'print only the modules that do not load')
  .option('-j, --jobs <n>', 'worker threads (default: one per core)')
  .action(async (paths: string[], o) => {
    const profile = guard(() => resolveKernel(o.kernel));
    const files = guard(() => findModules(paths));
    const bar = files.length > 20 && process.stderr.isTTY
      ? new cliProgress.SingleBar({ stream: process.stderr, clearOnComplete: true },
        cliProgress.Presets.shades_classic) : undefined;
    bar?.start(files.length, 0);
    let ok = 0;
    let relocations = 0;
    const opts = { bootArgs: o.bootArgs, withDependencies: o.deps, json: Boolean(o.json),
      jobs: o.jobs === undefined ? undefined : Number(o.jobs) };
    await checkFiles(profile, files, opts, (r) => {
      bar?.increment();
      relocations += r.relocationsApplied;
      if (r.ret === 0) ok++;
      if (o.json) {
        process.stdout.write(JSON.stringify(r.json) + '\n');
      } else if (!o.quiet || r.ret !== 0) {
        const first = r.firstLine;
        const why = r.ret === 0 ? 'loads' : `${r.errnoName}${first ? ': ' + first : ''}`;
        process.stdout.write(`${r.file}: ${why}\n`);
      }
    });
    bar?.stop();
    const summary = `${ok}/${files.length} modules load on ${profile.release}; ` +
      `${files.length - ok} refused; ${relocations} relocations applied`;
    if (o.json) process.stderr.write(summary + '\n');
    else process.stdout.write(summary + '\n');
    process.exitCode = ok === files.length ? 0 : 1;
  });

program.command('modinfo')
  .description('what modinfo prints, plus each parameter\'s default value')
  .argument('<files...>')
  .action(async (files: string[]) => {
    const { formatModinfo, formatParamDefaults } = await import('../report/modinfo.js');
    const { readModuleFile } = await import('../kernel/capture.js');
    const { ModuleImage } = await import('../module/image.js');
    const { readModuleSignature } = await import('../module/signature.js');
    for (const file of files) {
      const bytes = guard(() => readModuleFile(file));
      process.stdout.write(formatModinfo(file, bytes));
      const sig = readModuleSignature(bytes);
      const image = guard(() => ModuleImage.open(sig.present
        ? bytes.subarray(0, sig.elfLength) : bytes));
      process.stdout.write(formatParamDefaults(image));
    }
  });

program.command('run')
  .description('replay an oracle cases file in one simulated boot; prints the oracle\'s JSON')
  .argument('<cases>')
  .option('-k, --kernel <profile>', 'profile JSON, headers dir or /lib/modules/<release>')
  .option('--modules <dir>', '/lib/modules/<release> for @mod/ paths')
  .option('--boot-args <args>', 'kernel command line', '')
  .action(async (cases: string, o) => {
    const { runCasesCommand } = await import('./cases.js');
    const profile = guard(() => resolveKernel(o.kernel));
    process.stdout.write(runCasesCommand(cases, { profile, bootArgs: o.bootArgs,
      modulesDir: o.modules ?? profile.modulesDir }));
  });

const profileCmd = program.command('profile').description('kernel profiles');
profileCmd.command('capture')
  .description('capture a profile from a headers/build dir or /lib/modules/<release>')
  .argument('<dir>')
  .option('--modules <dir>', 'the kernel\'s module tree (/lib/modules/<release>)')
  .option('--vmlinuz <file>', 'the kernel image, for its module-signing certificates')
  .option('--struct-module-size <n>', 'sizeof(struct module), when no module tree is given')
  .requiredOption('-o, --output <file>', 'where to write the JSON')
  .action((dir: string, o) => {
    const p = guard(() => captureProfile(dir, { modulesDir: o.modules, vmlinuz: o.vmlinuz,
      structModuleSize: o.structModuleSize ? Number(o.structModuleSize) : undefined }));
    fs.writeFileSync(o.output, profileToJson(p));
    process.stderr.write(`${o.output}: ${p.release} (${p.series}, ${p.arch}), ` +
      `${p.exports.size} exports, struct module ${p.structModuleSize} bytes, ` +
      `${p.trustedSigners.length} trusted signer(s)\n`);
  });

function guard<T>(f: () => T): T {
  try {
    return f();
  } catch (e) {
    fail((e as Error).message);
  }
}

program.parseAsync(process.argv).catch((e: Error) => fail(e.message));
