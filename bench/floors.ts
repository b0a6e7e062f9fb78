// Parts of a load timed by themselves, each in its own process (`npm run bench` starts it):
// `signature PROFILE` checks every module's signature with the profile's certificate and
// nothing else (a .ko.xz is decompressed first, outside the timed part); `xz` only
// decompresses with kmodsim's xz decoder. One thread each. File names come on stdin, one per
// line; prints the seconds the loop took.

import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import type { KernelProfile } from '../server/src/kernel/profile.js';
import { decompressModule } from '../server/src/module/decompress.js';
import { readModuleSignature, readPkcs7Der } from '../server/src/module/signature.js';

const [what, profileFile] = process.argv.slice(2);
const files = fs.readFileSync(0, 'utf8').split('\n').filter(Boolean);
let start = process.hrtime.bigint();

if (what === 'signature') {
  const profile = JSON.parse(fs.readFileSync(profileFile, 'utf8')) as KernelProfile;
  const key = new crypto.X509Certificate(profile.trustedSigners[0].certificatePem!).publicKey;
  let untimed = 0n;
  for (const f of files) {
    let bytes: Uint8Array = fs.readFileSync(f);
    if (f.endsWith('.xz')) {
      const t = process.hrtime.bigint();
      const r = decompressModule(bytes, 'xz');
      if (!r.ok) throw new Error(`${f}: ${r.error.what}`);
      bytes = r.bytes;
      untimed += process.hrtime.bigint() - t;
    }
    const sig = readModuleSignature(bytes);
    if (!sig.present) continue;
    const der = bytes.subarray(sig.elfLength, sig.elfLength + sig.sigLength);
    const signature = readPkcs7Der(der)?.signature;
    if (!signature || !crypto.verify('sha256', bytes.subarray(0, sig.elfLength), key,
      signature)) {
      throw new Error(`${f}: the signature does not verify`);
    }
  }
  start += untimed;
} else if (what === 'xz') {
  for (const f of files) {
    const r = decompressModule(fs.readFileSync(f), 'xz');
    if (!r.ok) throw new Error(`${f}: ${r.error.what}`);
  }
} else {
  throw new Error(`unknown floor ${what}`);
}
process.stdout.write(String(Number(process.hrtime.bigint() - start) / 1e9));
