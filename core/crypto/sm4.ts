/**
 * SM4, the Chinese national standard block cipher (GB/T 32907-2016; GM/T
 * 0002-2012): 128-bit blocks, a 128-bit key, 32 rounds.
 *
 * The cipher itself is `sm-crypto`'s (npm `sm-crypto` 0.5.8, MIT), used in its
 * ECB mode without padding, which encrypts each 16-byte block on its own: a
 * run of blocks costs one key schedule. Nothing here re-implements the cipher;
 * this module only adapts byte arrays in and out and checks lengths. Modes
 * (SM4-GCM) are built on `sm4EncryptBlocks` in `sm4_gcm.ts`.
 *
 * @module
 */
// sm-crypto is CommonJS without type declarations: its `sm4` export is typed here.
import smCrypto from "sm-crypto";

/** SM4 key length in bytes. */
export const SM4_KEY_BYTES = 16;
/** SM4 block length in bytes. */
export const SM4_BLOCK_BYTES = 16;

interface SmCryptoSm4 {
  encrypt(
    input: Uint8Array,
    key: Uint8Array,
    options: { padding: "none"; output: "array" },
  ): number[];
}

const sm4 = (smCrypto as { sm4: SmCryptoSm4 }).sm4;

/**
 * Encrypts every 16-byte block of `blocks` independently under `key` (ECB, no padding), the
 * building block of counter-mode constructions.
 * @throws {RangeError} when the key is not 16 bytes or `blocks` not a whole number of blocks.
 */
export function sm4EncryptBlocks(key: Uint8Array, blocks: Uint8Array): Uint8Array {
  if (key.length !== SM4_KEY_BYTES) throw new RangeError("SM4 needs a 16-byte key");
  if (blocks.length % SM4_BLOCK_BYTES !== 0) {
    throw new RangeError("SM4 encrypts whole 16-byte blocks");
  }
  if (blocks.length === 0) return new Uint8Array(0);
  return Uint8Array.from(sm4.encrypt(blocks, key, { padding: "none", output: "array" }));
}
