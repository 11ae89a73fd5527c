/**
 * The server's access token (`latentflow serve --token`), for a server reached beyond loopback.
 * It arrives once in the page address (`/?token=...`, as `serve` prints it) or is typed in after a
 * 401, and is kept in this origin's localStorage. Fetches send it as a bearer header; the WebSocket
 * and image URLs, which cannot carry headers, as `?token=` (the two places the server accepts it).
 */
const KEY = 'latentflow.token';

/** Moves a `?token=` of the page address into storage and out of the address bar (history, screenshots). */
export function adoptTokenFromAddress(): void {
  const url = new URL(location.href);
  const given = url.searchParams.get('token');
  if (given === null) return;
  if (given) localStorage.setItem(KEY, given);
  url.searchParams.delete('token');
  history.replaceState(history.state, '', url);
}

export function storedToken(): string | undefined {
  return localStorage.getItem(KEY) ?? undefined;
}

export function storeToken(token: string): void {
  if (token) localStorage.setItem(KEY, token);
  else localStorage.removeItem(KEY);
}

export function authHeaders(): Record<string, string> {
  const t = storedToken();
  return t ? { Authorization: `Bearer ${t}` } : {};
}

/** `url` with the token as a query parameter, when there is one. */
export function withTokenParam(url: URL): URL {
  const t = storedToken();
  if (t) url.searchParams.set('token', t);
  return url;
}
