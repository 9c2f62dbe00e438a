import { randomFillSync } from 'node:crypto';

/*
 * The reference design samples with a cryptographically secure generator ("values between
 * [0 and 1] use cryptographically secure RNG", doc/04-rule-engine/expression-language.md), so
 * which events a rule evaluates cannot be predicted from other output of the process, as
 * Math.random's xorshift state can. Random bytes are drawn in blocks, not per event: one
 * system call per 512 numbers keeps sampling as cheap as Math.random in practice.
 */

const pool = new Uint32Array(1024);
let next = pool.length;

const TWO_POW_26 = 2 ** 26;
const TWO_POW_53 = 2 ** 53;

/** A uniform number in [0, 1) with 53 random bits (a double's full precision). */
export function secureRandom(): number {
  if (next + 2 > pool.length) {
    randomFillSync(pool);
    next = 0;
  }
  const high = pool[next++]! >>> 5; // 27 bits
  const low = pool[next++]! >>> 6; // 26 bits
  return (high * TWO_POW_26 + low) / TWO_POW_53;
}
