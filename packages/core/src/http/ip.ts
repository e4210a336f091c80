// The client IP as a caller identity: IPv4 as is, IPv6 grouped by the subnet one client owns.
import { isIPv6 } from 'node:net';
import { invalidOption } from '../errors.js';

/** An IPv6 prefix length from 32 to 128, or false to limit each IPv6 address on its own. */
export type Ipv6Subnet = number | false;

/** Validates the `ipv6Subnet` option. */
export function parseIpv6Subnet(value: unknown): Ipv6Subnet {
  if (value === undefined) return 56;
  if (value === false) return false;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 32 || value > 128) {
    invalidOption('ipv6Subnet', value, 'an integer prefix length from 32 to 128 (56 groups a typical home network), or false to limit each IPv6 address alone');
  }
  return value;
}

/**
 * The identity of a client IP for limiting:
 * - an IPv4 address, and an IPv4-mapped IPv6 address (`::ffff:1.2.3.4`), give the IPv4 address;
 * - any other IPv6 address gives its `/ipv6Subnet` network, e.g. `2001:db8:0:100::/56`
 *   (a `%zone` suffix dropped, `::` compression in any spelling), or the whole address in
 *   canonical form (RFC 5952) when `ipv6Subnet` is false or 128;
 * - anything that is not an IP address is returned unchanged.
 * One client usually owns a whole /64 or more, so limiting each IPv6 address alone is
 * trivially bypassed by changing the address.
 */
export function ipCallerKey(ip: string, ipv6Subnet: Ipv6Subnet): string {
  const zoneless = ip.includes('%') ? ip.slice(0, ip.indexOf('%')) : ip;
  if (!isIPv6(zoneless)) return ip;
  const groups = ipv6Groups(zoneless);
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    return `${groups[6]! >> 8}.${groups[6]! & 0xff}.${groups[7]! >> 8}.${groups[7]! & 0xff}`;
  }
  const bits = ipv6Subnet === false ? 128 : ipv6Subnet;
  for (let i = 0; i < 8; i++) {
    const keep = Math.min(16, Math.max(0, bits - i * 16)); // bits of this group inside the prefix
    groups[i] = groups[i]! & ((0xffff << (16 - keep)) & 0xffff);
  }
  const address = formatIpv6(groups);
  return bits === 128 ? address : `${address}/${bits}`;
}

/** The eight 16-bit groups of a valid IPv6 address (a dotted IPv4 tail counts as two). */
function ipv6Groups(address: string): number[] {
  const parse = (part: string): number[] => {
    if (part === '') return [];
    return part.split(':').flatMap((g) => {
      if (!g.includes('.')) return [parseInt(g, 16)];
      const [a, b, c, d] = g.split('.').map(Number) as [number, number, number, number];
      return [(a << 8) | b, (c << 8) | d];
    });
  };
  const gap = address.indexOf('::');
  if (gap < 0) return parse(address);
  const head = parse(address.slice(0, gap));
  const tail = parse(address.slice(gap + 2));
  return [...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail];
}

/** RFC 5952: lower-case hex, no leading zeros, the longest run (>= 2) of zero groups as `::`. */
function formatIpv6(groups: number[]): string {
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) [bestStart, bestLength] = [i, j - i];
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLength).join(':')}`;
}
