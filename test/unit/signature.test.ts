// Fixtures and expected values come from test/fixtures/make-fixtures.sh: the signatures were
// made by `openssl cms -sign -binary -noattr -nocerts` the way scripts/sign-file lays them out,
// and the modinfo lines below are kmod 30's `modinfo` output for them (expected.txt).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  formatModinfoField,
  kernelSignatureCheck,
  kmodHex,
  modinfoSignatureFields,
  readModuleSignature,
} from '../../server/src/module/signature';
import { EBADMSG, EKEYREJECTED, ENODATA, ENOKEY, ENOPKG } from '../../server/src/load/errno';

const dir = path.join(__dirname, '..', 'fixtures');
const fixture = (name: string): Uint8Array => new Uint8Array(fs.readFileSync(path.join(dir, name)));
const text = (name: string): string => fs.readFileSync(path.join(dir, name), 'utf8');

/** The modinfo block recorded for one fixture in expected.txt. */
function realModinfo(name: string): string {
  const blocks = text('expected.txt').split(/^== /m);
  const block = blocks.find((b) => b.startsWith(`modinfo ${name}\n`));
  assert.ok(block !== undefined, name);
  return block.slice(block.indexOf('\n') + 1).replace(/\n$/, '');
}

function ourModinfo(name: string): string {
  return modinfoSignatureFields(fixture(name))
    .map(([k, v]) => formatModinfoField(k, v))
    .join('\n');
}

const ELF_LENGTH = 976; // stat -c %s tiny.ko

test('decodes the trailer and PKCS#7 of an RSA-signed module', () => {
  const sig = readModuleSignature(fixture('tiny-rsa.ko'));
  assert.ok(sig.present);
  assert.equal(sig.elfLength, ELF_LENGTH);
  assert.equal(sig.sigLength, 1435 - ELF_LENGTH - 40);
  assert.deepEqual(sig.info, {
    algo: 0, hash: 0, idType: 2, signerLen: 0, keyIdLen: 0, pad: [0, 0, 0],
  });
  // openssl x509: serial=A1B2C3D4E5, issuer=O = kmodsim test, CN = kmodsim RSA test key
  assert.deepEqual(sig.pkcs7, {
    signerIssuer: 'CN=kmodsim RSA test key,O=kmodsim test',
    serialHex: 'A1B2C3D4E5',
    digestAlgorithm: 'sha256',
    signatureAlgorithm: 'rsa',
    hasAuthenticatedAttributes: false,
    contentType: 'data',
  });
});

test('an unsigned module has no signature', () => {
  assert.deepEqual(readModuleSignature(fixture('tiny.ko')), { present: false });
  assert.deepEqual(readModuleSignature(new Uint8Array(3)), { present: false });
});

test('modinfo signature fields match kmod byte for byte (RSA and ECDSA)', () => {
  assert.equal(ourModinfo('tiny-rsa.ko'), realModinfo('tiny-rsa.ko'));
  assert.equal(ourModinfo('tiny-ec.ko'), realModinfo('tiny-ec.ko'));
});

test('modinfo prints no signature fields for a SKID-identified signer, like kmod', () => {
  assert.equal(realModinfo('tiny-skid.ko'), '');
  assert.deepEqual(modinfoSignatureFields(fixture('tiny-skid.ko')), []);
  const sig = readModuleSignature(fixture('tiny-skid.ko'));
  // openssl x509 -ext subjectKeyIdentifier: 47:D1:98:2A:...:8E:BB
  const skid = '47D1982A2F644398F3CEF984A94910DDC7428EBB';
  assert.ok(sig.present && sig.pkcs7?.subjectKeyIdHex === skid);
});

test('kmod hex wraps after every 20 bytes with a newline and two tabs', () => {
  const bytes = Uint8Array.from({ length: 21 }, (_, i) => i);
  assert.equal(kmodHex(bytes).split('\n\t\t').length, 2);
  assert.ok(kmodHex(bytes).endsWith(':13:\n\t\t14'));
  assert.equal(kmodHex(new Uint8Array()), '');
  assert.equal(formatModinfoField('sig_hashalgo', 'x'), 'sig_hashalgo:   x');
});

const rsaCert = { certificate: text('rsa.crt.pem') };
const ecCert = { certificate: text('ec.crt.pem') };

test('a signer in the trusted set with a matching signature loads (RSA, ECDSA, SKID)', () => {
  for (const name of ['tiny-rsa.ko', 'tiny-ec.ko', 'tiny-skid.ko']) {
    const v = kernelSignatureCheck(fixture(name), [rsaCert, ecCert]);
    assert.equal(v.outcome, 'ok', name);
    assert.equal(v.verifiedBy, 'crypto', name);
    assert.equal(v.elfLength, ELF_LENGTH, name);
  }
  const spki = { spki: text('rsa.spki.pem'), issuer: 'CN=kmodsim RSA test key,O=kmodsim test',
    serialHex: '00a1b2c3d4e5' };
  assert.equal(kernelSignatureCheck(fixture('tiny-rsa.ko'), [spki]).verifiedBy, 'crypto');
});

test('an unknown signer is ENOKEY, non-fatal', () => {
  const v = kernelSignatureCheck(fixture('tiny-rsa.ko'), [ecCert]);
  assert.equal(v.errno, ENOKEY);
  assert.equal(v.fatal, false);
});

test('a trusted signer over modified bytes is EKEYREJECTED, fatal', () => {
  const bytes = fixture('tiny-rsa.ko').slice();
  bytes[100] ^= 1;
  const v = kernelSignatureCheck(bytes, [rsaCert]);
  assert.equal(v.errno, EKEYREJECTED);
  assert.equal(v.fatal, true);
});

test('trust by identity only accepts without crypto and says so', () => {
  const id = { issuer: 'CN=kmodsim RSA test key,O=kmodsim test', serialHex: 'A1:B2:C3:D4:E5' };
  const v = kernelSignatureCheck(fixture('tiny-rsa.ko'), [id]);
  assert.equal(v.outcome, 'ok');
  assert.equal(v.verifiedBy, 'identity-only');
});

test('no marker is ENODATA ("unsigned module")', () => {
  const v = kernelSignatureCheck(fixture('tiny.ko'));
  assert.equal(v.errno, ENODATA);
  assert.equal(v.fatal, false);
});

/** Rewrites the 12-byte trailer of a signed fixture. */
function withTrailer(edit: (t: Uint8Array) => void): Uint8Array {
  const bytes = fixture('tiny-rsa.ko').slice();
  edit(bytes.subarray(bytes.length - 40, bytes.length - 28));
  return bytes;
}

test('mod_check_sig: id_type != 2 is ENOPKG with the PKCS#7 message', () => {
  const v = kernelSignatureCheck(withTrailer((t) => { t[2] = 1; }));
  assert.equal(v.errno, ENOPKG);
  assert.deepEqual(v.lines, [
    { level: 3, text: 'module: not signed with expected PKCS#7 message' },
  ]);
});

test('mod_check_sig: non-zero params are EBADMSG with their message', () => {
  const v = kernelSignatureCheck(withTrailer((t) => { t[6] = 1; }));
  assert.equal(v.errno, EBADMSG);
  assert.equal(v.fatal, true);
  assert.deepEqual(v.lines, [
    { level: 3, text: 'module: PKCS#7 signature info has unexpected non-zero params' },
  ]);
});

test('mod_check_sig: sig_len >= modlen - 12 and modlen <= 12 are EBADMSG', () => {
  const big = kernelSignatureCheck(withTrailer((t) => { t[8] = 0x7f; }));
  assert.equal(big.errno, EBADMSG);
  const marker = new TextEncoder().encode('~Module signature appended~\n');
  const tiny = new Uint8Array([...new Uint8Array(12), ...marker]);
  assert.equal(kernelSignatureCheck(tiny).errno, EBADMSG);
});

test('PKCS#7 with signed attributes is rejected ("has authattrs")', () => {
  const elf = fixture('tiny.ko');
  const p7 = fixture('authattrs.p7');
  const trailer = new Uint8Array(12);
  new DataView(trailer.buffer).setUint32(8, p7.length);
  trailer[2] = 2;
  const marker = new TextEncoder().encode('~Module signature appended~\n');
  const signed = new Uint8Array([...elf, ...p7, ...trailer, ...marker]);
  const v = kernelSignatureCheck(signed, [rsaCert]);
  assert.equal(v.errno, EKEYREJECTED);
  assert.deepEqual(v.lines, [{ level: 3, text: 'PKCS7: Invalid module sig (has authattrs)' }]);
});

test('garbage in place of the PKCS#7 blob is EBADMSG and never throws', () => {
  const bytes = fixture('tiny-rsa.ko').slice();
  bytes.fill(0x41, ELF_LENGTH, ELF_LENGTH + 50);
  assert.equal(kernelSignatureCheck(bytes, [rsaCert]).errno, EBADMSG);
  const sig = readModuleSignature(bytes);
  assert.ok(sig.present && sig.pkcs7Error !== undefined);
  assert.deepEqual(modinfoSignatureFields(bytes), []);
});
