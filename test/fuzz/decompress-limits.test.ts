// Compressed modules that lie about their size. Both inputs below once made the decoder
// allocate far beyond what the file holds: the xz one expanded all 64 MiB its blocks hold
// before comparing with an index that says 1000 bytes; the 17-byte zstd one made fzstd
// allocate and zero the 2 GB its frame header declares. Both must now be refused from their
// headers, with what is wrong, and before any output is produced.

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import * as zlib from 'node:zlib';
import { decompressModule, kernelDecompress, xzDeclaredSize } from
  '../../server/src/module/decompress.js';

const REG = path.resolve(__dirname, '..', 'regressions');
const read = (name: string) => new Uint8Array(fs.readFileSync(path.join(REG, name)));

test('an xz index that understates its blocks is refused before decoding', () => {
  const lying = read('decompress-xz-index-lies.xz');
  const r = decompressModule(lying, 'xz');
  assert.ok(!r.ok);
  assert.equal(r.error.code, 'corrupt');
  // 64 MiB of zeros, as `xz -l` reported it before the index was edited to say 1000.
  assert.equal(r.error.what, "xz index says 1000 bytes but the blocks' LZMA2 chunks hold " +
    '67108864');
  assert.equal(xzDeclaredSize(lying).ok, false);
  // The kernel's decoder finds the same mismatch at the index: XZ_DATA_ERROR.
  const k = kernelDecompress(lying);
  assert.ok(!k.ok && k.xzStatus === 7);
});

test('a zstd frame header declaring 2 GB is refused without allocating it', () => {
  const r = decompressModule(read('decompress-zstd-frame-asks-2g.zst'), 'zstd');
  assert.ok(!r.ok);
  assert.equal(r.error.code, 'too-large');
  assert.equal(r.error.what, 'zstd frame header asks for a 2000000000-byte buffer, beyond the ' +
    'limit of 1073741824 bytes');
});

// Found by the fuzzer: 98 bytes whose frame declares a 50 MB content size but a 704 MiB
// window; fzstd's streaming decoder allocates the window, so RSS grew by 700 MB.
test('a zstd frame whose window is beyond the limit is refused, whatever its content size',
  () => {
    const r = decompressModule(read('decompress-zstd-window-704m.zst'), 'zstd',
      { maxOutput: 64 << 20 });
    assert.ok(!r.ok);
    assert.equal(r.error.what, 'zstd frame header asks for a 738197504-byte buffer, beyond the ' +
      'limit of 67108864 bytes');
  });

test('streams that really expand past the limit stop at it, in every format', () => {
  const zeros = new Uint8Array(8 << 20);
  const gz = zlib.gzipSync(zeros);
  const r = decompressModule(gz, 'gzip', { maxOutput: 1 << 20 });
  assert.ok(!r.ok && r.error.code === 'too-large');
  const zst = zstdOf(zeros);
  const z = decompressModule(zst, 'zstd', { maxOutput: 1 << 20 });
  assert.ok(!z.ok && z.error.code === 'too-large');
  assert.ok(decompressModule(zst, 'zstd', { maxOutput: 8 << 20 }).ok);
});

// A raw-block zstd frame without a content size: the limit must be met while decoding.
function zstdOf(data: Uint8Array): Uint8Array {
  const block = 1 << 17;
  const blocks = Math.ceil(data.length / block);
  const out = new Uint8Array(6 + blocks * 3 + data.length);
  out.set([0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x58]);
  let pos = 6;
  for (let at = 0; at < data.length; at += block) {
    const n = Math.min(block, data.length - at);
    const h = (n << 3) | (at + n >= data.length ? 1 : 0);
    out.set([h & 0xff, (h >> 8) & 0xff, (h >> 16) & 0xff], pos);
    out.set(data.subarray(at, at + n), pos + 3);
    pos += 3 + n;
  }
  return out;
}
