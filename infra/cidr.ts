/**
 * IPv4 CIDR arithmetic for config validation: address ranges are checked for overlap and
 * containment at synth, before Azure would reject them halfway through a deploy.
 */

export interface Ipv4Range {
  /** The CIDR as written in the config. */
  text: string;
  /** First address of the range, as an unsigned 32-bit number. */
  first: number;
  /** Last address of the range, as an unsigned 32-bit number. */
  last: number;
  prefix: number;
}

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

/** The address as an unsigned 32-bit number, or undefined when it is not a dotted IPv4 address. */
export function parseIpv4(text: string): number | undefined {
  const match = IPV4.exec(text);
  if (!match) return undefined;
  const octets = match.slice(1).map(Number);
  if (octets.some((octet) => octet > 255)) return undefined;
  return octets.reduce((value, octet) => value * 256 + octet, 0);
}

/**
 * Parses `a.b.c.d/n` strictly: host bits must be zero, because Azure rejects `10.0.0.1/24` as an
 * address prefix and a silent normalization would hide a typo.
 */
export function parseCidr(text: string): Ipv4Range | undefined {
  const [address, prefixText, ...rest] = text.split('/');
  if (address === undefined || prefixText === undefined || rest.length > 0) return undefined;
  if (!/^\d{1,2}$/.test(prefixText)) return undefined;
  const prefix = Number(prefixText);
  const first = parseIpv4(address);
  if (first === undefined || prefix > 32) return undefined;
  const size = 2 ** (32 - prefix);
  if (first % size !== 0) return undefined;
  return { text, first, last: first + size - 1, prefix };
}

export function overlaps(a: Ipv4Range, b: Ipv4Range): boolean {
  return a.first <= b.last && b.first <= a.last;
}

export function contains(outer: Ipv4Range, inner: Ipv4Range): boolean {
  return outer.first <= inner.first && inner.last <= outer.last;
}

/** True for ranges that mean "anywhere", which an admin port must never be opened to. */
export function isAnywhere(range: Ipv4Range): boolean {
  return range.prefix === 0;
}

/** RFC 1918 private ranges. */
export const PRIVATE_RANGES: readonly Ipv4Range[] = ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16'].map((text) => parseCidr(text) as Ipv4Range);

/** The RFC 1918 range `range` overlaps, if any. */
export function privateRangeIn(range: Ipv4Range): Ipv4Range | undefined {
  return PRIVATE_RANGES.find((candidate) => overlaps(candidate, range));
}

/** Dotted form of an unsigned 32-bit address. */
export function formatIpv4(address: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(address / 2 ** shift) % 256).join('.');
}

/**
 * Addresses of a subnet that Azure hands out: it keeps the first four (network, gateway, two for
 * DNS) and the last (broadcast) of every subnet.
 */
export function usableAddresses(range: Ipv4Range): { first: number; last: number; count: number } {
  const first = range.first + 4;
  const last = range.last - 1;
  return { first, last, count: Math.max(0, last - first + 1) };
}
