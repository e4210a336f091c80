// The client IP as a caller identity: IPv4-mapped addresses unwrapped, IPv6 grouped by subnet.
import { ipCallerKey } from '../../packages/core/src/http/ip';
import { plainLimiter as createHttpLimiter } from '../support/plain-adapter';

describe('ipCallerKey', () => {
  test.each([
    ['IPv4 as is', '203.0.113.7', 56, '203.0.113.7'],
    ['IPv4-mapped IPv6 is the IPv4 address', '::ffff:203.0.113.7', 56, '203.0.113.7'],
    ['IPv4-mapped in hex groups too', '::ffff:cb00:7107', 56, '203.0.113.7'],
    ['IPv4-mapped, upper case, subnet off', '::FFFF:203.0.113.7', false, '203.0.113.7'],
    ['IPv6 masked to the /56', '2001:db8:abcd:12ff:1:2:3:4', 56, '2001:db8:abcd:1200::/56'],
    ['the same /56 in another spelling', '2001:0DB8:ABCD:1234::', 56, '2001:db8:abcd:1200::/56'],
    ['/64', '2001:db8:abcd:12ff:1:2:3:4', 64, '2001:db8:abcd:12ff::/64'],
    ['/48', '2001:db8:abcd:12ff:1:2:3:4', 48, '2001:db8:abcd::/48'],
    ['/32', '2001:db8:abcd:12ff:1:2:3:4', 32, '2001:db8::/32'],
    ['a prefix inside a group', '2001:db8:ffff::', 33, '2001:db8:8000::/33'],
    ['/128 is the whole address, canonical', '2001:DB8:0:0:0:0:0:1', 128, '2001:db8::1'],
    ['false is the whole address, canonical', '2001:db8:0000:0:1:0:0:1', false, '2001:db8::1:0:0:1'],
    ['a zone is dropped', 'fe80::1234:5678%eth0', false, 'fe80::1234:5678'],
    ['a zone is dropped before masking', 'fe80::1234:5678%eth0', 56, 'fe80::/56'],
    ['a zone is dropped from an IPv4-mapped address', '::ffff:203.0.113.7%eth0', 56, '203.0.113.7'],
    ['ffff in the sixth group after non-zero groups is not IPv4-mapped', '1::ffff:cb00:7107', false, '1::ffff:cb00:7107'],
    ['ffff in the sixth group after one non-zero group is not IPv4-mapped', '0:0:0:0:1:ffff:cb00:7107', false, '::1:ffff:cb00:7107'],
    ['loopback', '::1', 56, '::/56'],
    ['loopback, subnet off', '::1', false, '::1'],
    ['a dotted tail that is not IPv4-mapped', '64:ff9b::198.51.100.1', false, '64:ff9b::c633:6401'],
    ['no zero run to compress', '1:2:3:4:5:6:7:8', false, '1:2:3:4:5:6:7:8'],
    ['a single zero group is not compressed', '1:0:3:4:5:6:7:8', false, '1:0:3:4:5:6:7:8'],
    ['the first of two equal zero runs is compressed', '1:0:0:4:5:0:0:8', false, '1::4:5:0:0:8'],
    ['not an IP address: unchanged', 'unknown', 56, 'unknown'],
    ['a bracketed address is not an IP: unchanged', '[::1]', 56, '[::1]'],
  ] as const)('%s', (_label, ip, subnet, expected) => {
    expect(ipCallerKey(ip, subnet)).toBe(expected);
  });
});

describe('the ipv6Subnet option', () => {
  test.each([31, 129, 56.5, NaN, true, '56', null])('%p is refused when the limiter is created', (value) => {
    expect(() => createHttpLimiter({ capacity: 1, refillPerSecond: 1, ipv6Subnet: value as never })).toThrow(
      /`ipv6Subnet` must be an integer prefix length from 32 to 128.*or false/,
    );
  });

  test.each<number | false>([32, 56, 64, 128, false])('%p is accepted', (value) => {
    expect(() => createHttpLimiter({ capacity: 1, refillPerSecond: 1, ipv6Subnet: value })).not.toThrow();
  });
});
