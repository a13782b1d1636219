/**
 * The client's address behind load balancers (`server.trusted_proxies`). Only a trusted peer's X-Forwarded-For (or,
 * without one, its RFC 7239 `Forwarded`) is read, and it is walked from the right: every trusted proxy appends the
 * address it received the request from, so the right-most address that is not a trusted proxy is the client. What
 * lies left of it was written by the client itself and is ignored, so nobody can spoof past the trusted chain.
 */
import { isIP, type BlockList } from 'node:net';

export interface ClientAddress {
  /** the address failed-auth limits, logs and audit key on */
  address: string | undefined;
  /** the X-Forwarded-For the upstream receives: the client, then the trusted proxies, then the peer */
  forwardedFor: string;
}

/** An address as hops write it: `1.2.3.4`, `1.2.3.4:80`, `[2001:db8::1]:443`, `2001:db8::1`; else undefined. */
export function parseHop(text: string): string | undefined {
  let hop = text.trim();
  if (hop.length >= 2 && hop.startsWith('"') && hop.endsWith('"')) hop = hop.slice(1, -1).replace(/\\(.)/g, '$1');
  if (hop.startsWith('[')) {
    const end = hop.indexOf(']');
    const rest = end < 0 ? '' : hop.slice(end + 1);
    if (end < 0 || (rest !== '' && !/^:\d{1,5}$/.test(rest))) return undefined;
    hop = hop.slice(1, end);
    return isIP(hop) === 6 && !hop.includes('%') ? normalize(hop) : undefined;
  }
  const v4port = /^(\d{1,3}(?:\.\d{1,3}){3}):\d{1,5}$/.exec(hop);
  if (v4port) hop = v4port[1]!;
  return isIP(hop) !== 0 && !hop.includes('%') ? normalize(hop) : undefined;
}

/** IPv4-mapped IPv6 (`::ffff:10.0.0.1`, what a dual-stack socket reports) is the IPv4 address. */
function normalize(address: string): string {
  const lower = address.toLowerCase();
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/.exec(lower);
  return mapped ? mapped[1]! : lower;
}

function isTrusted(address: string, trusted: BlockList): boolean {
  return trusted.check(address, isIP(address) === 4 ? 'ipv4' : 'ipv6');
}

/**
 * RFC 7239 4: `Forwarded: for=192.0.2.60;proto=http, for="[2001:db8::17]:4711"`: the `for` of each element, in
 * order ("" for an element without one, which the walk cannot pass). Commas and semicolons inside quoted strings
 * do not split.
 */
export function forwardedForValues(header: string): string[] {
  const out: string[] = [];
  let element: string | undefined;
  let pair = '';
  let quoted = false;
  const endPair = () => {
    const eq = pair.indexOf('=');
    if (eq > 0 && pair.slice(0, eq).trim().toLowerCase() === 'for') element = pair.slice(eq + 1).trim();
    pair = '';
  };
  for (let i = 0; i < header.length; i++) {
    const c = header[i]!;
    if (quoted) {
      pair += c;
      if (c === '\\' && i + 1 < header.length) pair += header[++i]!;
      else if (c === '"') quoted = false;
    } else if (c === '"') {
      quoted = true;
      pair += c;
    } else if (c === ';') endPair();
    else if (c === ',') {
      endPair();
      out.push(element ?? '');
      element = undefined;
    } else pair += c;
  }
  endPair();
  out.push(element ?? '');
  return out;
}

/** The hops a trusted peer reports, left (client side) to right: X-Forwarded-For when sent, else Forwarded. */
function reportedHops(rawHeaders: readonly string[]): string[] {
  const xff: string[] = [];
  const forwarded: string[] = [];
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!.toLowerCase();
    if (name === 'x-forwarded-for') {
      for (const hop of rawHeaders[i + 1]!.split(',')) if (hop.trim() !== '') xff.push(hop);
    } else if (name === 'forwarded') forwarded.push(...forwardedForValues(rawHeaders[i + 1]!));
  }
  return xff.length > 0 ? xff : forwarded;
}

/**
 * The client address: the peer itself unless it is a trusted proxy; else the right-most reported hop that is not
 * a trusted proxy. The walk stops at a hop that is not an address (`unknown`, an obfuscated RFC 7239 name, garbage):
 * the last trusted address is then the best known one, as it is when every hop is trusted.
 */
export function clientAddress(
  peer: string | undefined,
  rawHeaders: readonly string[],
  trusted: BlockList | undefined,
): ClientAddress {
  const peerAddress = peer === undefined ? undefined : (parseHop(peer) ?? peer);
  if (!trusted || peerAddress === undefined || isIP(peerAddress) === 0 || !isTrusted(peerAddress, trusted)) {
    return { address: peerAddress, forwardedFor: peerAddress ?? '' };
  }
  const hops = reportedHops(rawHeaders);
  const kept = [peerAddress];
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = parseHop(hops[i]!);
    if (hop === undefined) break;
    kept.unshift(hop);
    if (!isTrusted(hop, trusted)) break;
  }
  return { address: kept[0], forwardedFor: kept.join(', ') };
}
