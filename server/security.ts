import { createHash, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';
import type { IncomingMessage } from 'node:http';

/** Listening beyond loopback without a token; the server refuses to start. */
export class InsecureListenError extends Error {
  override name = 'InsecureListenError';
}

export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost' || h === '::1' || h === '0:0:0:0:0:0:0:1') return true;
  return isIP(h) === 4 && h.startsWith('127.');
}

/** The hostname part of a Host header (`[::1]:8188` -> `::1`). */
function hostnameOf(hostHeader: string): string {
  const m = /^\[([^\]]+)\](?::\d+)?$/.exec(hostHeader);
  if (m) return m[1]!;
  return hostHeader.replace(/:\d+$/, '');
}

/**
 * Origin check on every POST and on the WebSocket upgrade (cross-site requests and drive-by
 * websockets): absent Origin (non-browser clients) passes; otherwise its host:port must equal Host.
 */
export function originAllowed(req: IncomingMessage): boolean {
  const origin = req.headers.origin;
  if (origin === undefined) return true;
  const host = req.headers.host;
  if (!host) return false;
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return false;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return false;
  return url.host.toLowerCase() === host.toLowerCase();
}

/**
 * On a loopback bind without a token, the Host must be a loopback name too: a DNS-rebinding page
 * would otherwise send requests whose Origin matches its own (attacker) host.
 */
export function hostAllowed(req: IncomingMessage, loopbackOnly: boolean): boolean {
  if (!loopbackOnly) return true;
  const host = req.headers.host;
  if (host === undefined) return true;
  return isLoopbackHost(hostnameOf(host));
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

/** Bearer-token check in constant time; `queryToken` is accepted where headers cannot be set (WS, <img>). */
export function tokenAllowed(req: IncomingMessage, token: string | undefined, queryToken: string | null): boolean {
  if (!token) return true;
  const auth = req.headers.authorization;
  const given = auth?.startsWith('Bearer ') ? auth.slice(7).trim() : (queryToken ?? undefined);
  if (given === undefined) return false;
  return timingSafeEqual(digest(given), digest(token));
}

/** Refuses a non-loopback bind without a token. */
export function checkListen(listen: string, token: string | undefined): void {
  if (!isLoopbackHost(listen) && !token) {
    throw new InsecureListenError(`listening on ${listen} (beyond loopback) requires --token; refusing to start`);
  }
}
