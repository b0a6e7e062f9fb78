// Every input that ever made a fuzz target fail, replayed through that target (the file name
// starts with it: elf-, module-, decompress-, load-, params-). Each one once escaped the engine
// as an exception, broke a property, hung or allocated without bound; see README.md here for
// what each was. New ones come from `npm run fuzz`, which writes them to its output directory.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { loadSeeds } from '../fuzz/seeds.js';
import { makeTargets } from '../fuzz/targets.js';

const HERE = __dirname;
const seeds = loadSeeds();
const targets = new Map(makeTargets(seeds).map((t) => [t.name, t]));
const files = fs.readdirSync(HERE).filter((f) => !/\.(ts|md)$/.test(f)).sort();

test('the regression inputs are all here and all name a target', () => {
  for (const f of files) {
    if (!targets.has(f.split('-')[0])) throw new Error(`${f}: no target ${f.split('-')[0]}`);
  }
  if (files.length < 5) throw new Error(`only ${files.length} regression inputs`);
});

for (const f of files) {
  test(`regression ${f}`, () => {
    targets.get(f.split('-')[0])?.run(new Uint8Array(fs.readFileSync(path.join(HERE, f))));
  });
}
