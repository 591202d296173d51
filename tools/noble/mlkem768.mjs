// Line protocol over stdin/stdout to @noble/post-quantum's ML-KEM-768, for the differential test
// tests/unit/crypto/mlkem_differential.py (our tests/mlkem_tool speaks the same protocol).
// One command per line, hex arguments; one answer line each:
//   keygen <d> <z>      -> <ek> <dk>          (keygen from the 64-byte seed d || z)
//   encaps <ek> [<m>]   -> <ct> <K>           (m drawn by noble when absent); "refused" on a bad ek
//   decaps <dk> <ct>    -> <K>                 "refused" on a bad dk
import { ml_kem768 } from '@noble/post-quantum/ml-kem.js';
import { readFileSync } from 'node:fs';

const hex = (b) => Buffer.from(b).toString('hex');
const bytes = (h) => Uint8Array.from(Buffer.from(h, 'hex'));

const out = [];
for (const line of readFileSync(0, 'utf8').split('\n')) {
  if (line.trim() === '') continue;
  const [cmd, ...args] = line.trim().split(' ');
  try {
    if (cmd === 'keygen') {
      const seed = new Uint8Array([...bytes(args[0]), ...bytes(args[1])]);
      const { publicKey, secretKey } = ml_kem768.keygen(seed);
      out.push(`${hex(publicKey)} ${hex(secretKey)}`);
    } else if (cmd === 'encaps') {
      const r = args.length > 1 ? ml_kem768.encapsulate(bytes(args[0]), bytes(args[1]))
                                : ml_kem768.encapsulate(bytes(args[0]));
      out.push(`${hex(r.cipherText)} ${hex(r.sharedSecret)}`);
    } else if (cmd === 'decaps') {
      out.push(hex(ml_kem768.decapsulate(bytes(args[1]), bytes(args[0]))));
    } else {
      process.stderr.write(`unknown command ${cmd}\n`);
      process.exit(2);
    }
  } catch (e) {
    out.push('refused');
  }
}
process.stdout.write(out.join('\n') + '\n');
