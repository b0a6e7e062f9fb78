// The DER reader that reads a module signature on every load is checked against pkijs, the
// full decoder it stands in for: same fields on the fixtures (test/fixtures/make-fixtures.sh),
// and the same verdict, field for field, on every one-byte corruption of a real signature.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  parsePkcs7WithPkijs, readModuleSignature, readPkcs7Der, type Pkcs7Detail, type Pkcs7Result,
} from '../../server/src/module/signature';

const dir = path.join(__dirname, '..', 'fixtures');
const fixture = (name: string): Uint8Array => new Uint8Array(fs.readFileSync(path.join(dir, name)));

function plain(d: Pkcs7Detail) {
  const hex = (b?: Uint8Array) => b && Buffer.from(b).toString('hex');
  return { ...d, signature: hex(d.signature), serialBytes: hex(d.serialBytes) };
}

function pkcs7Of(name: string): Uint8Array {
  const bytes = fixture(name);
  const sig = readModuleSignature(bytes);
  assert.ok(sig.present);
  return bytes.subarray(sig.elfLength, sig.elfLength + sig.sigLength);
}

function pkijs(der: Uint8Array): Pkcs7Detail {
  const r: Pkcs7Result = parsePkcs7WithPkijs(der);
  assert.ok(r.ok, r.ok ? '' : r.error.what);
  return r.detail;
}

test('the DER reader gives what pkijs gives on the RSA and ECDSA signatures', () => {
  const cases: [string, Uint8Array][] = [
    ['tiny-rsa.ko', pkcs7Of('tiny-rsa.ko')],
    ['tiny-ec.ko', pkcs7Of('tiny-ec.ko')],
  ];
  for (const [name, der] of cases) {
    const fast = readPkcs7Der(der);
    assert.ok(fast, `${name}: the DER reader should read it`);
    assert.deepEqual(plain(fast), plain(pkijs(der)), name);
  }
});

test('signed attributes and a signer named by subjectKeyIdentifier are left to pkijs', () => {
  assert.equal(readPkcs7Der(pkcs7Of('tiny-skid.ko')), null);
  assert.equal(readPkcs7Der(fixture('authattrs.p7')), null);
  assert.equal(pkijs(fixture('authattrs.p7')).summary.hasAuthenticatedAttributes, true);
});

for (const name of ['tiny-rsa.ko', 'tiny-ec.ko']) {
  test(`on every one-byte corruption of ${name}'s signature the DER reader agrees with pkijs ` +
    'or defers to it', () => {
    const der = pkcs7Of(name);
    let read = 0;
    for (let i = 0; i < der.length; i++) {
      for (const flip of [0x01, 0x80, 0xff]) {
        const bad = der.slice();
        bad[i] ^= flip;
        const fast = readPkcs7Der(bad);
        if (!fast) continue;
        read++;
        const ref = parsePkcs7WithPkijs(bad);
        assert.ok(ref.ok, `byte ${i} ^ ${flip}: pkijs refuses what the DER reader read`);
        assert.deepEqual(plain(fast), plain(ref.detail), `byte ${i} ^ ${flip}`);
      }
    }
    // Most bytes are content (names, signature): those corruptions are still plain DER.
    assert.ok(read > der.length, `${read} corruptions read`);
  });
}
