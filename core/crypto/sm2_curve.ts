/**
 * The SM2 elliptic curve (GB/T 32918.5-2017, "SM2 recommended curve
 * parameters"; the same values as OpenSSL's `SM2` curve, OID
 * 1.2.156.10197.1.301) as a @noble/curves Weierstrass point type.
 *
 * WebCrypto has no SM2, so key generation, signatures (SM2DSA with SM3) and
 * SM2PKE build on this point type.
 *
 * @module
 */

import { weierstrass, type WeierstrassOpts } from "@noble/curves/abstract/weierstrass.js";

/** Curve parameters from GB/T 32918.5-2017, section 2. */
export const SM2_CURVE: WeierstrassOpts<bigint> = Object.freeze({
  p: 0xfffffffeffffffffffffffffffffffffffffffff00000000ffffffffffffffffn,
  a: 0xfffffffeffffffffffffffffffffffffffffffff00000000fffffffffffffffcn,
  b: 0x28e9fa9e9d9f5e344d5a9e4bcf6509a7f39789f515ab8f92ddbcbd414d940e93n,
  n: 0xfffffffeffffffffffffffffffffffff7203df6b21c6052b53bbf40939d54123n,
  h: 1n,
  Gx: 0x32c4ae2c1f1981195f9904466a39c9948fe30bbff2660be1715a4589334c74c7n,
  Gy: 0xbc3736a2f4f6779c59bdcee36b692153d0a9877cc62a474002df32e52139f0a0n,
});

/** Points on the SM2 curve: `Sm2Point.BASE.multiply(d)` is the public key of `d`. */
export const Sm2Point = weierstrass(SM2_CURVE);

/** Byte length of an SM2 scalar or field element. */
export const SM2_SCALAR_BYTES = 32;
