// The parameter box's text edit (client/src/paramText.ts): where a chosen completion goes.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { insertCompletion } from '../../client/src/paramText.js';

test('a parameter name replaces the word being typed', () => {
  assert.equal(insertCompletion('', 'times='), 'times=');
  assert.equal(insertCompletion('de', 'delays='), 'delays=');
  assert.equal(insertCompletion('times=2 gr', 'greeting='), 'times=2 greeting=');
});

test('a value replaces what follows the last = or , and ends the word', () => {
  assert.equal(insertCompletion('p_bool=', 'Y'), 'p_bool=Y ');
  assert.equal(insertCompletion('times=2 p_bool=t', 'Y'), 'times=2 p_bool=Y ');
  assert.equal(insertCompletion('delays=1,2,', '3'), 'delays=1,2,3 ');
});

test('a whole array value replaces the whole value', () => {
  assert.equal(insertCompletion('delays=1,', '5,10,15'), 'delays=5,10,15 ');
});
