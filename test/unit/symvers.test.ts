// The 5.10+ lines are copied from Debian's linux-headers-6.1.0-57-amd64 Module.symvers; the older
// layouts follow modpost's write_dump of those versions. The whole-file counts were taken with
// awk over the real file (and match shared/corpus/NOTES.md); that test is skipped without it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseSymvers } from '../../server/src/kernel/symvers';

test('reads the 5.10+ layout: crc, symbol, module, export, namespace', () => {
  const s = parseSymvers(
    '0x4c9d28b0\tphys_base\tvmlinux\tEXPORT_SYMBOL\t\n' +
      '0xeade228f\tdma_buf_export\tvmlinux\tEXPORT_SYMBOL_GPL\tDMA_BUF\n' +
      '0x9060323f\tmodule_layout\tvmlinux\tEXPORT_SYMBOL\t\n',
  );
  assert.deepEqual(s.errors, []);
  assert.deepEqual(s.exports.get('phys_base'), {
    crc: 0x4c9d28b0, module: 'vmlinux', gplOnly: false, namespace: '',
  });
  assert.deepEqual(s.exports.get('dma_buf_export'), {
    crc: 0xeade228f, module: 'vmlinux', gplOnly: true, namespace: 'DMA_BUF',
  });
  assert.equal(s.moduleLayoutCrc, 0x9060323f);
});

test('reads the 5.4-5.9 layout with the namespace third', () => {
  const s = parseSymvers('0x12345678\tusb_stor_probe1\tUSB_STORAGE\t' +
    'drivers/usb/storage/usb-storage\tEXPORT_SYMBOL_GPL\n');
  assert.deepEqual(s.exports.get('usb_stor_probe1'), {
    crc: 0x12345678, module: 'drivers/usb/storage/usb-storage', gplOnly: true,
    namespace: 'USB_STORAGE',
  });
});

test('reads the pre-5.4 four-column layout, CRLF and short CRCs', () => {
  const s = parseSymvers('0x0\tprintk\tvmlinux\tEXPORT_SYMBOL\r\n\n0xffffffff\tx\tfs/ext4/ext4\t' +
    'EXPORT_UNUSED_SYMBOL_GPL\n');
  assert.deepEqual(s.errors, []);
  assert.deepEqual(s.exports.get('printk'), {
    crc: 0, module: 'vmlinux', gplOnly: false, namespace: '',
  });
  assert.equal(s.exports.get('x')?.crc, 0xffffffff);
  assert.equal(s.exports.get('x')?.gplOnly, true);
});

test('reports bad lines by number and keeps the good ones', () => {
  const s = parseSymvers('junk\n0xzz\ta\tvmlinux\tEXPORT_SYMBOL\t\n0x123456789\tb\tvmlinux\t' +
    'EXPORT_SYMBOL\t\n0x1\tc\tvmlinux\tNOT_AN_EXPORT\t\n0x1\td\tvmlinux\tEXPORT_SYMBOL\t\n');
  assert.deepEqual(s.errors.map((e) => e.line), [1, 2, 3, 4]);
  assert.deepEqual([...s.exports.keys()], ['d']);
  assert.equal(s.moduleLayoutCrc, undefined);
});

test('parses 25k lines quickly', () => {
  const lines: string[] = [];
  for (let i = 0; i < 25000; i++) {
    lines.push(`0x${(i * 2654435761 >>> 0).toString(16).padStart(8, '0')}\tsym_${i}\tvmlinux\t` +
      `EXPORT_SYMBOL${i % 2 ? '_GPL' : ''}\t${i % 40 ? '' : 'NS'}`);
  }
  const text = lines.join('\n');
  parseSymvers(text);
  const t0 = performance.now();
  const s = parseSymvers(text);
  const ms = performance.now() - t0;
  assert.equal(s.exports.size, 25000);
  assert.ok(ms < 100, `took ${ms.toFixed(1)} ms`);
});

const debian = path.join(os.homedir(), '.cache/kmodsim/root/usr/src/linux-headers-6.1.0-57-amd64',
  'Module.symvers');

const skip = !fs.existsSync(debian);

test('Debian 6.1.0-57-amd64 Module.symvers: counts as awk gives them', { skip }, () => {
  const s = parseSymvers(fs.readFileSync(debian, 'utf8'));
  const all = [...s.exports.values()];
  assert.deepEqual(s.errors, []);
  assert.equal(s.exports.size, 24683);
  assert.equal(all.filter((e) => e.gplOnly).length, 13559);
  assert.equal(all.filter((e) => e.namespace !== '').length, 554);
  assert.equal(all.filter((e) => e.module === 'vmlinux').length, 10503);
  assert.equal(s.moduleLayoutCrc, 0x9060323f);
});
