// The "default" completions of a parameter value (modprobe.d and the insmod box share
// paramCompletions) must be input: text that parse_args turns back into the default. A NULL
// charp has none ("(null)" is only what sysfs prints for it), so a default holding one is not
// offered, whole or as that element. Checked on the project's kmsim_params (p_names is
// { "alpha", "beta", NULL }) and on Debian 6.12's snd-hda-intel, whose `model` is 32 NULLs.

import assert from 'node:assert/strict';
import * as path from 'node:path';
import { test } from 'node:test';
import { paramCompletions } from '../../server/src/lsp/modprobe-docs.js';
import { readFacts, type ModuleFacts } from '../../server/src/lsp/simulate.js';
import { parseArgs } from '../../server/src/params/parse-args.js';
import { modulesDir, need, REL_612, testModule } from '../support/corpus.js';

const BOOLS = ['bool', 'invbool', 'bint', 'bool_enable_only'];

const labels = (facts: ModuleFacts, text: string) =>
  paramCompletions(facts, text, text.length).map((c) => c.label);

// Every offered whole-value default, given to parse_args, leaves the parameter as it was.
function assertDefaultsRoundTrip(facts: ModuleFacts) {
  const offered: string[] = [];
  for (const p of facts.params) {
    for (const v of labels(facts, `${p.name}=`)) {
      // A scalar bool offers every spelling of true and false, not its default.
      if (BOOLS.includes(p.type) && p.arrayMax === undefined) continue;
      const r = parseArgs(facts.name, `${p.name}=${v}`, facts.params);
      assert.equal(r.errno, 0, `${p.name}=${v}`);
      assert.equal(r.values.get(p.name), p.defaultValue, `${p.name}=${v}`);
      offered.push(p.name);
    }
  }
  return offered;
}

test('kmsim_params: a default with a NULL charp element is not offered; the others parse back',
  () => {
    const facts = readFacts(testModule(REL_612, 'kmsim_params'));
    assert.equal(facts.decodeError, undefined);
    const names = facts.params.find((p) => p.name === 'p_names');
    assert.equal(names?.defaultValue, 'alpha,beta,(null)');

    assert.deepEqual(labels(facts, 'p_names='), []);
    assert.deepEqual(labels(facts, 'p_names=x,'), ['beta']);
    assert.deepEqual(labels(facts, 'p_names=x,y,'), []);
    assert.deepEqual(labels(facts, 'p_charp='), ['kmsim-default']);
    assert.deepEqual(labels(facts, 'p_ints='), ['11,22,33,44']);
    assert.deepEqual(labels(facts, 'p_hexint='), ['0xc0ffee']);

    // All but p_names, p_even (custom ops) and the scalar bools (Y/N/1/0), in __param order.
    assert.deepEqual(assertDefaultsRoundTrip(facts), ['p_hidden', 'p_unsafe', 'p_ports',
      'p_flags', 'p_ints', 'p_string', 'p_charp', 'p_hexint', 'p_ullong', 'p_ulong', 'p_long',
      'p_uint', 'p_int', 'p_ushort', 'p_short', 'p_byte']);
  });

test('snd-hda-intel on 6.12: model (32 NULL charps) offers no default, element or whole', () => {
  const file = need(path.join(modulesDir(REL_612), 'kernel/sound/pci/hda/snd-hda-intel.ko.xz'));
  const facts = readFacts(file);
  assert.equal(facts.decodeError, undefined);
  const model = facts.params.find((p) => p.name === 'model');
  assert.equal(model?.defaultValue, new Array(32).fill('(null)').join(','));

  assert.deepEqual(labels(facts, 'model='), []);
  assert.deepEqual(labels(facts, 'model=x,'), []);
  assert.ok(assertDefaultsRoundTrip(facts).length > 0);
});
