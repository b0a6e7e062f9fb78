// Fixtures come from test/fixtures/make-fixtures.sh; sizes and check types below were read from
// `xz -l --robot` and `stat` (test/fixtures/expected.txt), kernel statuses from the oracle runs
// on Debian 6.12 (status 6 for CRC64, status 0 for a cut-off stream).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  decompressModule,
  detectCompression,
  kernelDecompress,
  readXzStreamHeader,
  xzDeclaredSize,
} from '../../server/src/module/decompress';
import { EINVAL, EOPNOTSUPP } from '../../server/src/load/errno';

const fixture = (name: string): Uint8Array =>
  new Uint8Array(fs.readFileSync(path.join(__dirname, '..', 'fixtures', name)));

const PLAIN_SIZE = 1435; // stat -c %s tiny-rsa.ko

test('detects xz, gzip, zstd and plain images by magic', () => {
  assert.equal(detectCompression(fixture('tiny-rsa.ko.xz')), 'xz');
  assert.equal(detectCompression(fixture('tiny-rsa.ko.gz')), 'gzip');
  assert.equal(detectCompression(fixture('tiny-rsa.ko.zst')), 'zstd');
  assert.equal(detectCompression(fixture('tiny-rsa.ko')), 'none');
  assert.equal(detectCompression(new Uint8Array()), 'none');
});

test('every compressed form decompresses to the signed module byte for byte', () => {
  const plain = fixture('tiny-rsa.ko');
  for (const name of ['tiny-rsa.ko.xz', 'tiny-rsa.ko.gz', 'tiny-rsa.ko.zst']) {
    const bytes = fixture(name);
    const result = decompressModule(bytes, detectCompression(bytes));
    assert.ok(result.ok, name);
    assert.deepEqual(new Uint8Array(result.bytes), plain, name);
  }
});

test('reads the xz check type from the stream flags as xz -l reports it', () => {
  const expected: [string, string][] = [
    ['tiny-rsa.ko.xz', 'crc32'],
    ['tiny-rsa-crc64.ko.xz', 'crc64'],
    ['tiny-rsa-none.ko.xz', 'none'],
    ['tiny-rsa-sha256.ko.xz', 'sha256'],
  ];
  for (const [name, check] of expected) {
    const header = readXzStreamHeader(fixture(name));
    assert.ok(header.ok, name);
    assert.equal(header.check, check, name);
  }
  const result = decompressModule(fixture('tiny-rsa-crc64.ko.xz'), 'xz');
  assert.ok(result.ok);
  assert.equal(result.xzCheck, 'crc64');
});

test('an xz stream with a SHA-256 check decodes, its check verified by liblzma', () => {
  const result = decompressModule(fixture('tiny-rsa-sha256.ko.xz'), 'xz');
  assert.ok(result.ok);
  assert.equal(result.xzCheck, 'sha256');
  assert.deepEqual(new Uint8Array(result.bytes), fixture('tiny-rsa.ko'));
});

/** Where the block's check field ends: the index follows it (xz format 3.1 and 4). */
function xzIndexStart(bytes: Uint8Array): number {
  const footer = bytes.length - 12;
  const backwardSize = new DataView(bytes.buffer, bytes.byteOffset).getUint32(footer + 4, true);
  return footer - (backwardSize + 1) * 4;
}

/** What `xz -t` says of the same bytes: its exit status and message. */
function xzTest(bytes: Uint8Array): { status: number | null; stderr: string } {
  const r = spawnSync('xz', ['-t', '-'], { input: bytes, encoding: 'utf8' });
  return { status: r.status, stderr: r.stderr };
}

test('a damaged SHA-256 check or payload is refused with liblzma\'s reason, as xz -t does', () => {
  const good = fixture('tiny-rsa-sha256.ko.xz');
  const checkEnd = xzIndexStart(good) - 1; // last byte of the 32-byte SHA-256
  const badCheck = good.slice();
  badCheck[checkEnd - 31] ^= 0x01;
  const blockHeaderSize = (good[12] + 1) * 4;
  const payloadByte = 12 + blockHeaderSize + 6 + 100; // inside the first LZMA2 chunk's data
  const badPayload = good.slice();
  badPayload[payloadByte] ^= 0x40;

  const cases = [['check', badCheck], ['payload', badPayload]] as const;
  const offsets: number[] = [];
  for (const [what, bytes] of cases) {
    const xz = xzTest(bytes);
    assert.equal(xz.status, 1, what);
    assert.match(xz.stderr, /Compressed data is corrupt/, what);

    const result = decompressModule(bytes, 'xz');
    assert.ok(!result.ok, what);
    assert.equal(result.error.code, 'corrupt', what);
    assert.match(result.error.what,
      /^xz: liblzma: data is corrupt \(LZMA_DATA_ERROR\): .*, noticed at offset \d+$/, what);
    offsets.push(result.error.offset ?? -1);
  }
  // A check is compared once all of it is read; damaged LZMA data shows after the damage.
  assert.equal(offsets[0], checkEnd);
  assert.ok(offsets[1] >= payloadByte && offsets[1] < checkEnd - 31, String(offsets[1]));
});

test('takes the uncompressed size from the xz index, as xz -l does', () => {
  const size = xzDeclaredSize(fixture('tiny-rsa.ko.xz'));
  assert.deepEqual(size, { ok: true, size: PLAIN_SIZE });
  const twoStreams = new Uint8Array([
    ...fixture('tiny-rsa.ko.xz'), 0, 0, 0, 0, ...fixture('tiny-rsa-none.ko.xz'),
  ]);
  assert.deepEqual(xzDeclaredSize(twoStreams), { ok: true, size: 2 * PLAIN_SIZE });
});

test('reports a truncated xz stream with the offset where the data ends', () => {
  const result = decompressModule(fixture('tiny-rsa-trunc.ko.xz'), 'xz');
  assert.equal(result.ok, false);
  if (result.ok) return;
  assert.equal(result.error.code, 'truncated');
  assert.equal(result.error.offset, 700);
  assert.deepEqual(decompressModule(new Uint8Array([0xfd, 0x37, 0x7a]), 'xz').ok, false);
});

test('refuses output beyond maxOutput for every format instead of allocating it', () => {
  for (const name of ['tiny-rsa.ko.xz', 'tiny-rsa.ko.gz', 'tiny-rsa.ko.zst']) {
    const bytes = fixture(name);
    const result = decompressModule(bytes, detectCompression(bytes), { maxOutput: 1000 });
    assert.equal(result.ok, false, name);
    if (!result.ok) assert.equal(result.error.code, 'too-large', name);
    assert.ok(decompressModule(bytes, detectCompression(bytes), { maxOutput: PLAIN_SIZE }).ok);
  }
});

test('corrupt gzip and zstd data are typed errors, not exceptions', () => {
  const gz = fixture('tiny-rsa.ko.gz');
  const cut = decompressModule(gz.subarray(0, 300), 'gzip');
  assert.ok(!cut.ok && cut.error.code === 'truncated');
  // fzstd does not verify the frame's XXH64 checksum, so only structural damage is caught.
  const zst = fixture('tiny-rsa.ko.zst');
  const zcut = decompressModule(zst.subarray(0, 400), 'zstd');
  assert.ok(!zcut.ok && zcut.error.code === 'truncated');
  const garbage = new Uint8Array([0x28, 0xb5, 0x2f, 0xfd, 0xff, 0xff, 0xff, 0xff, 0xff]);
  assert.equal(decompressModule(garbage, 'zstd').ok, false);
  assert.equal(decompressModule(new Uint8Array([1, 2, 3]), 'gzip').ok, false);
});

test('6.12 kernel: CRC32 and NONE xz load, CRC64 and SHA-256 fail with status 6', () => {
  assert.ok(kernelDecompress(fixture('tiny-rsa.ko.xz')).ok);
  assert.ok(kernelDecompress(fixture('tiny-rsa-none.ko.xz')).ok);
  for (const name of ['tiny-rsa-crc64.ko.xz', 'tiny-rsa-sha256.ko.xz']) {
    const v = kernelDecompress(fixture(name));
    assert.ok(!v.ok);
    assert.equal(v.errno, EINVAL);
    assert.deepEqual(v.lines, [{ level: 3, text: 'decompression failed with status 6' }]);
  }
});

test('6.12 kernel: a truncated xz stream fails with status 0', () => {
  const v = kernelDecompress(fixture('tiny-rsa-trunc.ko.xz'));
  assert.ok(!v.ok);
  assert.deepEqual(v.lines, [{ level: 3, text: 'decompression failed with status 0' }]);
});

test('6.12 kernel: plain, gzip and zstd files are "not an xz compressed module"', () => {
  for (const name of ['tiny-rsa.ko', 'tiny-rsa.ko.gz', 'tiny-rsa.ko.zst']) {
    const v = kernelDecompress(fixture(name));
    assert.ok(!v.ok);
    assert.equal(v.errno, EINVAL);
    assert.deepEqual(v.lines, [{ level: 3, text: 'not an xz compressed module' }]);
  }
});

test('6.12 kernel: a damaged xz stream header is XZ_DATA_ERROR (7)', () => {
  const bytes = fixture('tiny-rsa.ko.xz').slice();
  bytes[9] ^= 1;
  const v = kernelDecompress(bytes);
  assert.ok(!v.ok && v.xzStatus === 7);
});

test('6.1 kernel (no MODULE_DECOMPRESS): EOPNOTSUPP without a message', () => {
  assert.deepEqual(kernelDecompress(fixture('tiny-rsa.ko.xz'), 'none'), {
    ok: false,
    errno: EOPNOTSUPP,
    lines: [],
  });
});
