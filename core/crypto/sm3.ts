/**
 * SM3, the Chinese national standard hash (GB/T 32905-2016; GM/T 0004-2012;
 * draft-shen-sm3-hash-01). SM2 signatures and SM2 encryption hash with it.
 *
 * WebCrypto, `node:crypto` in Deno and `@noble/hashes` have no SM3, and the
 * npm packages that do (`sm-crypto`, `gm-crypto`) work on hex strings and are
 * not kept up. So the compression function lives here, on top of noble's
 * Merkle–Damgård base class: SM3 pads exactly as SHA-256 does (a 1 bit, zeros,
 * the 64-bit big-endian bit length, 64-byte blocks), so `HashMD` supplies the
 * buffering, padding and output, and this module only supplies the IV, the
 * message expansion and the 64 rounds (GB/T 32905-2016, sections 4 and 5).
 *
 * `sm3` is a noble `CHash`: call it on bytes, or `sm3.create().update(..).digest()`,
 * and pass it to anything that takes a hash (noble's `hmac`, `hkdf`, curves).
 *
 * @module
 */
import { HashMD } from "@noble/hashes/_md.js";
import { type CHash, clean, createHasher, rotl } from "@noble/hashes/utils.js";

/** SM3 digest length in bytes. */
export const SM3_OUTPUT_BYTES = 32;

/** Initial value IV (GB/T 32905-2016, section 4.1). */
const SM3_IV = Uint32Array.from([
  0x7380166f,
  0x4914b2b9,
  0x172442d7,
  0xda8a0600,
  0xa96f30bc,
  0x163138aa,
  0xe38dee4d,
  0xb0fb0e4e,
]);

/**
 * Round constants already rotated: `T_j <<< (j mod 32)`, with T_j = 79cc4519
 * for j < 16 and 7a879d8a otherwise (section 4.2 and step CF of 5.3.3).
 */
const SM3_T_ROTATED = Uint32Array.from(
  { length: 64 },
  (_, j) => rotl(j < 16 ? 0x79cc4519 : 0x7a879d8a, j % 32),
);

/** Message expansion buffers W_0..W_67 (section 5.3.2); W'_j = W_j ^ W_{j+4} is computed inline. */
const SM3_W = new Uint32Array(68);

/** Permutation P0 (section 4.4). */
function _p0(x: number): number {
  return x ^ rotl(x, 9) ^ rotl(x, 17);
}

/** Permutation P1 (section 4.4). */
function _p1(x: number): number {
  return x ^ rotl(x, 15) ^ rotl(x, 23);
}

/** SM3 hash state: eight 32-bit words A..H (section 5.3.3). */
class Sm3 extends HashMD<Sm3> {
  A = SM3_IV[0]! | 0;
  B = SM3_IV[1]! | 0;
  C = SM3_IV[2]! | 0;
  D = SM3_IV[3]! | 0;
  E = SM3_IV[4]! | 0;
  F = SM3_IV[5]! | 0;
  G = SM3_IV[6]! | 0;
  H = SM3_IV[7]! | 0;

  constructor() {
    super(64, SM3_OUTPUT_BYTES, 8, false);
  }

  protected override get(): number[] {
    const { A, B, C, D, E, F, G, H } = this;
    return [A, B, C, D, E, F, G, H];
  }

  protected override set(
    A: number,
    B: number,
    C: number,
    D: number,
    E: number,
    F: number,
    G: number,
    H: number,
  ): void {
    this.A = A | 0;
    this.B = B | 0;
    this.C = C | 0;
    this.D = D | 0;
    this.E = E | 0;
    this.F = F | 0;
    this.G = G | 0;
    this.H = H | 0;
  }

  /** Compression function CF on one 64-byte block (sections 5.3.2 and 5.3.3). */
  protected override process(view: DataView, offset: number): void {
    const W = SM3_W;
    for (let i = 0; i < 16; i++, offset += 4) W[i] = view.getUint32(offset, false);
    for (let j = 16; j < 68; j++) {
      W[j] = _p1(W[j - 16]! ^ W[j - 9]! ^ rotl(W[j - 3]!, 15)) ^ rotl(W[j - 13]!, 7) ^ W[j - 6]!;
    }
    let { A, B, C, D, E, F, G, H } = this;
    for (let j = 0; j < 64; j++) {
      const a12 = rotl(A, 12);
      const ss1 = rotl((a12 + E + SM3_T_ROTATED[j]!) | 0, 7);
      const ss2 = ss1 ^ a12;
      const wj = W[j]!;
      const ff = j < 16 ? A ^ B ^ C : (A & B) | (A & C) | (B & C);
      const gg = j < 16 ? E ^ F ^ G : (E & F) | (~E & G);
      const tt1 = (ff + D + ss2 + (wj ^ W[j + 4]!)) | 0;
      const tt2 = (gg + H + ss1 + wj) | 0;
      D = C;
      C = rotl(B, 9);
      B = A;
      A = tt1;
      H = G;
      G = rotl(F, 19);
      F = E;
      E = _p0(tt2);
    }
    this.set(
      A ^ this.A,
      B ^ this.B,
      C ^ this.C,
      D ^ this.D,
      E ^ this.E,
      F ^ this.F,
      G ^ this.G,
      H ^ this.H,
    );
  }

  protected override roundClean(): void {
    clean(SM3_W);
  }

  override _cloneInto(to?: Sm3): Sm3 {
    const target = to ?? new Sm3();
    target.set(...(this.get() as [number, number, number, number, number, number, number, number]));
    return this._cloneIntoMeta(target);
  }

  override destroy(): void {
    this.destroyed = true;
    this.set(0, 0, 0, 0, 0, 0, 0, 0);
    clean(this.buffer);
  }
}

/** DER encoding of the SM3 OID 1.2.156.10197.1.401 (GM/T 0006-2012). */
const SM3_OID = Uint8Array.from([0x06, 0x08, 0x2a, 0x81, 0x1c, 0xcf, 0x55, 0x01, 0x83, 0x11]);

/**
 * SM3 (GB/T 32905-2016) as a noble hash: `sm3(bytes)` gives the 32-byte digest,
 * `sm3.create()` an incremental hasher.
 * @see https://datatracker.ietf.org/doc/html/draft-shen-sm3-hash-01
 */
export const sm3: CHash<Sm3> = createHasher(() => new Sm3(), { oid: SM3_OID });
