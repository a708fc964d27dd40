/**
 * IPv4 and IPv6 addresses and CIDR networks for the `IpAddress` / `NotIpAddress` condition
 * operators: dotted IPv4 without leading zeros, textual IPv6 with `::` compression and an embedded
 * IPv4 tail, IPv4-mapped IPv6 treated as IPv4, and a bare address read as a host route.
 *
 * @see https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html#Conditions_IPAddress
 * @module
 */
/** An IP address as 32-bit words: one for IPv4, four for IPv6. */
export interface IpAddr {
  readonly v6: boolean;
  readonly words: readonly number[];
}

/** A network: address, prefix length and per-word masks. */
export interface Cidr extends IpAddr {
  readonly masks: readonly number[];
}

const V4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

/** Parses an IPv4 or IPv6 address (IPv4-mapped IPv6 becomes IPv4); `null` when invalid. */
export function parseIp(s: string): IpAddr | null {
  const v4 = _parseV4(s);
  if (v4 !== null) return { v6: false, words: [v4] };
  const words = _parseV6(s);
  if (words === null) return null;
  if (words[0] === 0 && words[1] === 0 && words[2] === 0xffff) {
    return { v6: false, words: [words[3]!] };
  }
  return { v6: true, words };
}

/** Parses `a.b.c.d[/n]` or an IPv6 address with optional `/n`; a bare address is a host route. */
export function parseCidr(s: string): Cidr | null {
  const slash = s.indexOf("/");
  const addr = slash < 0 ? s : s.slice(0, slash);
  const v4 = _parseV4(addr);
  const v6 = v4 === null ? _parseV6(addr) : null;
  if (v4 === null && v6 === null) return null;
  const bits = v4 !== null ? 32 : 128;
  let prefix = bits;
  if (slash >= 0) {
    const p = s.slice(slash + 1);
    if (!/^\d{1,3}$/.test(p) || Number(p) > bits) return null;
    prefix = Number(p);
  }
  const words = v4 !== null ? [v4] : v6!;
  const masks = words.map((_, i) => {
    const n = Math.min(32, Math.max(0, prefix - 32 * i));
    return n === 0 ? 0 : (0xffffffff << (32 - n)) >>> 0;
  });
  return { v6: v4 === null, words, masks };
}

/** True when `ip` is inside `net` (address families must agree). */
export function cidrContains(net: Cidr, ip: IpAddr): boolean {
  if (net.v6 !== ip.v6) return false;
  for (let i = 0; i < net.words.length; i++) {
    if (((net.words[i]! ^ ip.words[i]!) & net.masks[i]!) !== 0) return false;
  }
  return true;
}

function _parseV4(s: string): number | null {
  const m = V4.exec(s);
  if (!m) return null;
  let n = 0;
  for (let i = 1; i <= 4; i++) {
    const part = m[i]!;
    if (part.length > 1 && part[0] === "0") return null;
    const b = Number(part);
    if (b > 255) return null;
    n = n * 256 + b;
  }
  return n >>> 0;
}

function _parseV6(s: string): number[] | null {
  if (!/^[0-9a-fA-F:.]+$/.test(s)) return null;
  const halves = s.split("::");
  if (halves.length > 2) return null;
  const parse = (part: string): number[] | null => {
    if (part === "") return [];
    const groups: number[] = [];
    const items = part.split(":");
    for (let i = 0; i < items.length; i++) {
      const g = items[i]!;
      if (i === items.length - 1 && g.includes(".")) {
        const v4 = _parseV4(g);
        if (v4 === null) return null;
        groups.push(v4 >>> 16, v4 & 0xffff);
      } else if (/^[0-9a-fA-F]{1,4}$/.test(g)) groups.push(parseInt(g, 16));
      else return null;
    }
    return groups;
  };
  const head = parse(halves[0]!);
  const tail = halves.length === 2 ? parse(halves[1]!) : [];
  if (head === null || tail === null) return null;
  const fill = 8 - head.length - tail.length;
  if (halves.length === 2 ? fill < 1 : fill !== 0) return null;
  const g = [...head, ...new Array<number>(fill).fill(0), ...tail];
  return [0, 2, 4, 6].map((i) => ((g[i]! << 16) | g[i + 1]!) >>> 0);
}
