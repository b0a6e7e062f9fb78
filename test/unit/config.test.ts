// Lines as Debian's linux-headers-6.1.0-57-amd64/.config writes them (kconfig output format).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isEnabled, parseKernelConfig, parseKernelRelease } from '../../server/src/kernel/config';

const sample = [
  '#',
  '# Automatically generated file; DO NOT EDIT.',
  '# Linux/x86 6.1.192 Kernel Configuration',
  '#',
  'CONFIG_CC_VERSION_TEXT="gcc-12 (Debian 12.2.0-14+deb12u1) 12.2.0"',
  'CONFIG_MODVERSIONS=y',
  'CONFIG_MODULE_SIG_HASH="sha256"',
  '# CONFIG_MODULE_SIG_FORCE is not set',
  'CONFIG_EXT4_FS=m',
  'CONFIG_NR_CPUS=8192',
  'CONFIG_PHYSICAL_START=0x1000000',
  'CONFIG_CMDLINE="a \\"quoted\\" \\\\ word"',
  '',
].join('\n');

test('reads y, m, strings, numbers and "is not set"', () => {
  const c = parseKernelConfig(sample);
  assert.deepEqual(c.errors, []);
  assert.equal(c.options.get('MODVERSIONS'), 'y');
  assert.equal(c.options.get('EXT4_FS'), 'm');
  assert.equal(c.options.get('MODULE_SIG_HASH'), 'sha256');
  assert.equal(c.options.get('MODULE_SIG_FORCE'), 'n');
  assert.equal(c.options.get('NR_CPUS'), '8192');
  assert.equal(c.options.get('PHYSICAL_START'), '0x1000000');
  assert.equal(c.options.get('CMDLINE'), 'a "quoted" \\ word');
  assert.equal(c.options.get('CC_VERSION_TEXT'), 'gcc-12 (Debian 12.2.0-14+deb12u1) 12.2.0');
  assert.equal(isEnabled(c, 'EXT4_FS'), true);
  assert.equal(isEnabled(c, 'MODULE_SIG_FORCE'), false);
  assert.equal(isEnabled(c, 'NO_SUCH'), false);
});

test('reports malformed lines and keeps going', () => {
  const c = parseKernelConfig('FOO=y\nCONFIG_BAR="unterminated\nCONFIG_=y\nCONFIG_OK=y\r\n');
  assert.deepEqual(c.errors.map((e) => e.line), [1, 2, 3]);
  assert.equal(c.options.get('OK'), 'y');
});

test('kernel.release is one line; anything else is undefined', () => {
  assert.equal(parseKernelRelease('6.1.0-57-amd64\n'), '6.1.0-57-amd64');
  assert.equal(parseKernelRelease(''), undefined);
  assert.equal(parseKernelRelease('a\nb\n'), undefined);
});
