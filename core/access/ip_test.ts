import assert from "node:assert/strict";
import { cidrContains, parseCidr, parseIp } from "./ip.ts";

Deno.test("parseIp and parseCidr handle compressed IPv6, embedded IPv4 and reject junk", () => {
  assert.deepEqual(parseIp("::1")?.words, [0, 0, 0, 1]);
  assert.deepEqual(parseIp("2001:db8::8a2e:370:7334")?.words, [0x20010db8, 0, 0x8a2e, 0x3707334]);
  assert.deepEqual(parseIp("64:ff9b::192.0.2.33")?.words, [0x0064ff9b, 0, 0, 0xc0000221]);
  assert.equal(parseIp("1::2::3"), null);
  assert.equal(parseIp("1.2.3"), null);
  assert.equal(parseIp("01.2.3.4"), null);
  assert.equal(parseIp("1:2:3:4:5:6:7:8:9"), null);
  assert.equal(parseCidr("10.0.0.0/x"), null);
  assert.equal(cidrContains(parseCidr("0.0.0.0/0")!, parseIp("255.255.255.255")!), true);
  assert.equal(cidrContains(parseCidr("::/0")!, parseIp("ffff::1")!), true);
  assert.equal(cidrContains(parseCidr("10.0.0.0/8")!, parseIp("::1")!), false);
});
