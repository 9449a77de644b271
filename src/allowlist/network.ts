/** Where a session is used from, as theft detection compares it: the IP's network and the user agent's browser family and OS. */
import Bowser from 'bowser';
import ipaddr from 'ipaddr.js';

/** How many leading bits of an address name its network: coarse enough that one household or office stays one network. */
export interface NetworkPrefixes {
  ipv4: number;
  ipv6: number;
}

/** A /24 is one IPv4 site; a /48 is what one IPv6 site is usually given. */
export const DEFAULT_PREFIXES: NetworkPrefixes = { ipv4: 24, ipv6: 48 };

/** The two things compared between uses of one session; null where the use did not tell. */
export interface UseOrigin {
  network: string | null;
  agent: string | null;
}

/** Which of the two changed between uses. */
export interface OriginChanges {
  network: boolean;
  agent: boolean;
}

/**
 * The network an IP belongs to, as compared: `203.0.113.0/24`, `2001:db8:1::/48`. IPv4-mapped IPv6
 * (`::ffff:1.2.3.4`, what express gives for IPv4 on a dual-stack socket) counts as IPv4. Null for no IP or one
 * that does not parse. Prefixes outside 0..32 / 0..128 throw: they are configuration, validated at start.
 */
export function networkOf(ip: string | null, prefixes: NetworkPrefixes): string | null {
  // Only dotted-quad IPv4: ipaddr also reads legacy forms ("127.1", "0x7f.1") that no socket reports.
  if (ip === null || !(ipaddr.IPv4.isValidFourPartDecimal(ip) || ipaddr.IPv6.isValid(ip))) return null;
  const address = ipaddr.process(ip);
  const prefix = address.kind() === 'ipv4' ? prefixes.ipv4 : prefixes.ipv6;
  const cidr = `${address.toString()}/${prefix}`;
  // An IPv6 zone (`%eth0`) names the receiving host's interface, not the network; the network address drops it.
  const network = address.kind() === 'ipv4' ? ipaddr.IPv4.networkAddressFromCIDR(cidr) : ipaddr.IPv6.networkAddressFromCIDR(cidr);
  return `${network.toString()}/${prefix}`;
}

/**
 * The user agent's browser family and OS without versions (`Chrome on Linux`, `Firefox on macOS`), so that an
 * update is not a change; only the one Bowser knows when it knows one; null for none, empty or unrecognised.
 */
export function agentOf(userAgent: string | null): string | null {
  if (userAgent === null || userAgent.trim() === '') return null;
  const parsed = Bowser.parse(userAgent);
  const browser = parsed.browser.name ?? '';
  const os = parsed.os.name ?? '';
  if (browser !== '' && os !== '') return `${browser} on ${os}`;
  return browser || os || null;
}

/** Which of network and agent changed between two uses; a side that did not tell (null) is never a change. */
export function changesBetween(a: UseOrigin, b: UseOrigin): OriginChanges {
  return {
    network: a.network !== null && b.network !== null && a.network !== b.network,
    agent: a.agent !== null && b.agent !== null && a.agent !== b.agent,
  };
}
