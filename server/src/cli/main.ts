#!/usr/bin/env node
// The kmodsim command line: insmod, check, modinfo, run, profile capture. Results go to
// stdout, progress and notes to stderr.
//
// Exit status, as insmod(8) has it where kmodsim stands for it: 0 when the module loads, 1
// when the kernel (or kmod, before any system call) refuses it, as insmod exits 1 on any
// failure; kmodsim's own errors (bad usage, an unreadable profile, an input it cannot decide)
// exit 2, so a script can tell them from a refusal.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import cliProgress from 'cli-progress';
import { captureProfile } from '../kernel/capture.js';
import type { KernelProfile } from '../kernel/profile.js';
import { profileToJson } from '../kernel/profile-json.js';
import { SimulatedKernel } from '../load/kernel.js';
import { dmesgText, formatInsmod, formatSteps, resultJson } from '../report/text.js';
import { findModules } from './check.js';
import { insmodPath, type InsmodResult } from './insmod.js';
import { bootArgNotes, collect, withConfig } from './options.js';
import { CheckPool } from './pool.js';
import { resolveKernel } from './target.js';

const EXIT_REFUSED = 1;
const EXIT_TOOL = 2;

// A reader that stops early (`| head`) closes the pipe: that is the end of the output, not
// an error worth a stack trace.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw e;
  });
}

function fail(message: string): never {
  process.stderr.write(`kmodsim: ${message}\n`);
  process.exit(EXIT_TOOL);
}

function guard<T>(f: () => T): T {
  try {
    return f();
  } catch (e) {
    fail((e as Error).message);
  }
}

function isDirectory(p: string): boolean {
  return fs.statSync(p, { throwIfNoEntry: false })?.isDirectory() ?? false;
}

function note(text: string) {
  process.stderr.write(`kmodsim: note: ${text}\n`);
}

// The target kernel of insmod, check and run: --kernel, then the --config overrides.
function targetOf(o: { kernel?: string; config?: string[]; bootArgs?: string }): KernelProfile {
  const profile = guard(() => withConfig(resolveKernel(o.kernel), o.config));
  for (const n of bootArgNotes(o.bootArgs ?? '')) note(`--boot-args ${n}`);
  return profile;
}

function versionOf(): string {
  for (const up of [['..'], ['..', '..', '..']]) {
    const file = path.join(__dirname, ...up, 'package.json');
    if (fs.existsSync(file)) return (JSON.parse(fs.readFileSync(file, 'utf8')) as
      { version: string }).version;
  }
  return 'unknown';
}

const KERNEL_HELP = 'target kernel: a profile .json, a /lib/modules/<release> tree (its build/ ' +
  'has the headers), a headers dir with ../../lib/modules/<release> beside it, or `running` ' +
  '(/lib/modules/$(uname -r)); default: the bundled Debian 6.1.0-57-amd64 profile';
const CONFIG_HELP = 'override a y/n option of the target\'s config, e.g. ' +
  'CONFIG_MODULE_SIG_FORCE=y ' +
  '(repeatable; the vermagic and exports stay the profile\'s)';

const EXIT_HELP = `
Exit status: 0 the module loads (check: all load); 1 the kernel, or kmod before any system
call, refuses it (insmod(8) exits 1 too); 2 kmodsim's own error: bad usage, an unreadable
profile or path, or an input kmodsim cannot decide.`;

const program = new Command();
program.name('kmodsim').description('Simulate the Linux kernel loading a module.')
  .version(versionOf(), '-V, --version')
  .showHelpAfterError('(kmodsim --help, or kmodsim COMMAND --help, for usage)')
  .addHelpText('after', EXIT_HELP)
  .exitOverride();

function kernelOptions(cmd: Command): Command {
  return cmd.option('-k, --kernel <profile>', KERNEL_HELP)
    .option('--config <CONFIG_X=y|n>', CONFIG_HELP, collect)
    .option('--boot-args <args>', 'kernel command line, e.g. "module.sig_enforce=1"', '');
}

kernelOptions(program.command('insmod')
  .description('load a module into a freshly booted simulated kernel, as Debian\'s insmod ' +
    '(kmod 30) would')
  .argument('<file>', 'the .ko (or .ko.xz/.ko.zst; a .ko.gz goes to the kernel as it is)')
  .argument('[params...]', 'module parameters, param=value'))
  .option('--force-vermagic', 'MODULE_INIT_IGNORE_VERMAGIC')
  .option('--force-modversion', 'MODULE_INIT_IGNORE_MODVERSIONS')
  .option('-f, --force', 'both force flags')
  .option('--loaded <file>', 'a module loaded first (repeatable, in order)', collect)
  .option('--steps', 'print every load step')
  .option('--json', 'print the result as JSON')
  .addHelpText('after', EXIT_HELP)
  .action((file: string, params: string[], o) => {
    const kernel = SimulatedKernel.boot(targetOf(o), o.bootArgs);
    for (const dep of (o.loaded ?? []) as string[]) {
      const r = guard(() => insmodPath(kernel, dep, '', {}));
      if (r.ret !== 0) {
        process.stdout.write(`kmodsim: --loaded ${dep} does not load:\n`);
        process.stdout.write(formatInsmod(dep, r));
        process.exit(exitOf(r));
      }
    }
    const opts = { forceVermagic: o.force || o.forceVermagic,
      forceModversion: o.force || o.forceModversion };
    const r = guard(() => insmodPath(kernel, file, params.join(' '), opts));
    if (o.json) process.stdout.write(JSON.stringify(resultJson(file, r), null, 2) + '\n');
    else {
      process.stdout.write(formatInsmod(file, r));
      if (o.steps) process.stdout.write('\nsteps:\n' + formatSteps(r));
    }
    process.exitCode = exitOf(r);
  });

function exitOf(r: InsmodResult): number {
  return r.undecidable ? EXIT_TOOL : r.ret === 0 ? 0 : EXIT_REFUSED;
}

kernelOptions(program.command('check')
  .description('check many modules (files or directories), one fresh boot each')
  .argument('<paths...>'))
  .option('--no-deps', 'do not assume the modules they depend on are loaded')
  .option('--json', 'one JSON object per module, one per line')
  .option('-q, --quiet', 'print only the modules that do not load')
  .addOption(new Option('-j, --jobs <n>', 'threads (default: one per core)').argParser(jobsOf))
  .addHelpText('after', EXIT_HELP + '\ncheck exits 2 when a path cannot be read or holds no ' +
    'module, or a module\'s load cannot be decided.')
  .action(async (paths: string[], o) => {
    const profile = targetOf(o);
    const opts = { bootArgs: o.bootArgs, withDependencies: o.deps, json: Boolean(o.json),
      jobs: o.jobs as number | undefined };
    // Workers start reading the profile while this thread walks the directories.
    const pool = new CheckPool(profile, opts, paths.some(isDirectory) ? Infinity : paths.length);
    const files = guard(() => findModules(paths));
    if (!files.length) fail(`no module (*.ko, *.ko.xz, *.ko.gz, *.ko.zst) in ${paths.join(' ')}`);
    const bar = files.length > 20 && process.stderr.isTTY
      ? new cliProgress.SingleBar({ stream: process.stderr, clearOnComplete: true },
        cliProgress.Presets.shades_classic) : undefined;
    bar?.start(files.length, 0);
    let ok = 0;
    let unreadable = 0;
    let undecidable = 0;
    await pool.run(files, (r) => {
      bar?.increment();
      if (r.ret === 0) ok++;
      if (r.unreadable) unreadable++;
      if (r.errnoName === 'undecidable') undecidable++;
      if (o.json) {
        process.stdout.write(JSON.stringify(r.json) + '\n');
      } else if (!o.quiet || r.ret !== 0) {
        const why = r.ret === 0 ? 'loads'
          : `${r.errnoName}${r.firstLine ? ': ' + dmesgText(r.firstLine) : ''}`;
        process.stdout.write(`${r.file}: ${why}\n`);
      }
    });
    bar?.stop();
    const summary = `${ok}/${files.length} modules load on ${profile.release}; ` +
      `${files.length - ok - undecidable} refused` +
      (unreadable ? `, ${unreadable} of them unreadable` : '') +
      (undecidable ? `; ${undecidable} undecidable` : '');
    if (o.json) process.stderr.write(summary + '\n');
    else process.stdout.write(summary + '\n');
    process.exitCode = unreadable || undecidable ? EXIT_TOOL
      : ok === files.length ? 0 : EXIT_REFUSED;
  });

function jobsOf(value: string): number {
  if (!/^[1-9][0-9]*$/.test(value)) {
    throw new InvalidArgumentError('expected a number of threads, 1 or more.');
  }
  return Number(value);
}

program.command('modinfo')
  .description('what Debian\'s modinfo (kmod 30) prints for module files, plus each ' +
    'parameter\'s default value')
  .argument('<files...>')
  .addHelpText('after', '\nExit status: 0 every file read; 1 one of them could not be, as ' +
    'modinfo(8); 2 bad usage.')
  .action(async (files: string[]) => {
    const { modinfoOne } = await import('./modinfo.js');
    let failed = false;
    for (const file of files) {
      const r = modinfoOne(file);
      process.stdout.write(r.out);
      if (r.error) {
        process.stderr.write(`modinfo: ERROR: ${r.error}\n`);
        failed = true;
      }
    }
    process.exitCode = failed ? EXIT_REFUSED : 0;
  });

kernelOptions(program.command('run')
  .description('replay an oracle cases file in one simulated boot; prints the oracle\'s JSON')
  .argument('<cases>'))
  .option('--modules <dir>', '/lib/modules/<release> for @mod/ paths')
  .addHelpText('after', '\nExit status: 0 every case ran (loaded or refused); 1 a line did ' +
    'not parse or a case could not open its file; 2 bad usage or an unreadable cases file.')
  .action(async (cases: string, o) => {
    const { runCasesCommand } = await import('./cases.js');
    const profile = targetOf(o);
    const r = guard(() => runCasesCommand(cases, { profile, bootArgs: o.bootArgs,
      modulesDir: o.modules ?? profile.modulesDir }));
    process.stdout.write(r.text);
    for (const p of r.problems) process.stderr.write(`kmodsim: ${cases}:${p}\n`);
    process.exitCode = r.problems.length ? EXIT_REFUSED : 0;
  });

const profileCmd = program.command('profile').description('kernel profiles');
profileCmd.command('capture')
  .description('capture a profile from a headers/build dir or /lib/modules/<release>')
  .argument('<dir>')
  .option('--modules <dir>', 'the kernel\'s module tree (/lib/modules/<release>)')
  .option('--vmlinuz <file>', 'the kernel image, for its module-signing certificates and BTF')
  .addOption(new Option('--struct-module-size <n>', 'sizeof(struct module), when no module ' +
    'tree is given').argParser(bytesOf))
  .requiredOption('-o, --output <file>', 'where to write the JSON')
  .action((dir: string, o) => {
    const p = guard(() => captureProfile(dir, { modulesDir: o.modules, vmlinuz: o.vmlinuz,
      structModuleSize: o.structModuleSize }));
    guard(() => fs.writeFileSync(o.output, profileToJson(p)));
    process.stderr.write(`${o.output}: ${p.release} (${p.series}, ${p.arch}), ` +
      `${p.exports.size} exports, struct module ${p.structModuleSize} bytes, ` +
      `${p.trustedSigners.length} trusted signer(s)\n`);
  });

function bytesOf(value: string): number {
  if (!/^[1-9][0-9]*$/.test(value) || !Number.isSafeInteger(Number(value))) {
    throw new InvalidArgumentError('expected a positive number of bytes.');
  }
  return Number(value);
}

program.parseAsync(process.argv).catch((e: Error) => {
  // Help and --version exit 0; every usage error exits 2 (commander has printed it).
  if (e instanceof CommanderError) {
    process.exit(e.exitCode === 0 ? 0 : EXIT_TOOL);
  }
  fail(e.message);
});
