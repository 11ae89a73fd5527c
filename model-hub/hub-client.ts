/**
 * A small Hugging Face hub client: file listings (`/api/models/<repo>/tree/<rev>`, paginated by Link
 * headers, with `/api/models/<repo>/revision/<rev>` siblings as the fallback) and file requests against
 * `<endpoint>/<repo>/resolve/<rev>/<path>`, following redirects by hand so that the hub's own headers
 * (X-Linked-Etag = an LFS file's sha256, X-Linked-Size, X-Repo-Commit) are seen before the CDN's.
 * Endpoint and token follow huggingface_hub's environment variables (HF_ENDPOINT, HF_TOKEN).
 */
import { HubAuthError, HubNotFoundError, HubRequestError, ModelSpecError } from './errors.js';

export const DEFAULT_HF_ENDPOINT = 'https://huggingface.co';
/** NOTE: the hub's pages are 1000 entries; more redirects than this means a loop. */
const MAX_REDIRECTS = 10;

export interface HubOptions {
  /** Base URL of the hub or a mirror (HF_ENDPOINT). */
  endpoint?: string;
  /** Access token sent as `Authorization: Bearer` to the endpoint's origin only (HF_TOKEN). */
  token?: string;
  fetch?: typeof fetch;
}

/** A file of a repository as the listing describes it. */
export interface HubFile {
  /** Path inside the repository, '/'-separated. */
  readonly path: string;
  readonly size?: number;
  /** sha256 of the content, given for LFS files. */
  readonly sha256?: string;
  /** Git blob sha1 (for files stored in git itself, not LFS). */
  readonly gitOid?: string;
}

export interface RepoSpec {
  readonly repo: string;
  readonly revision: string;
}

/** Headers the hub puts on its own (first) response for a file, before any redirect to a CDN. */
export interface LinkedHeaders {
  readonly sha256?: string;
  readonly size?: number;
  readonly commit?: string;
  readonly etag?: string;
}

export interface HubResponse {
  readonly response: Response;
  readonly linked: LinkedHeaders;
}

/** The endpoint and token from the environment (huggingface_hub's variable names). */
export function hubOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): HubOptions {
  const token = env.HF_TOKEN ?? env.HUGGING_FACE_HUB_TOKEN;
  return { endpoint: env.HF_ENDPOINT || DEFAULT_HF_ENDPOINT, token: token ? token.trim() : undefined };
}

const REPO_RE = /^[A-Za-z0-9][\w.-]*\/[\w.-]+$/;

/** "org/name" or "org/name@revision" (revision defaults to main). */
export function parseRepoSpec(spec: string): RepoSpec {
  const at = spec.indexOf('@');
  const repo = at < 0 ? spec : spec.slice(0, at);
  const revision = at < 0 ? 'main' : spec.slice(at + 1);
  if (!REPO_RE.test(repo) || repo.includes('..')) {
    throw new ModelSpecError(`'${spec}' is not a hub repository: expected <owner>/<name>[@revision], e.g. stabilityai/sd-turbo`);
  }
  if (revision === '') throw new ModelSpecError(`'${spec}': empty revision after '@'`);
  return { repo, revision };
}

const unquote = (v: string | null): string | undefined => (v ? v.replace(/^W\//, '').replace(/^"|"$/g, '') : undefined);

function positiveInt(v: string | null): number | undefined {
  if (v === null) return undefined;
  const n = Number(v);
  return Number.isSafeInteger(n) && n >= 0 ? n : undefined;
}

/** The `rel="next"` target of a Link header (RFC 8288), if any. */
export function nextLink(header: string | null): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(/,(?=\s*<)/)) {
    const m = /^\s*<([^>]*)>(.*)$/.exec(part);
    if (m && /;\s*rel="?next"?/i.test(m[2])) return m[1];
  }
  return undefined;
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const int = (v: unknown): number | undefined => (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? v : undefined);

/** One entry of the tree API, or of `siblings` in the revision API (with `blobs=true`). */
function hubFileFrom(v: unknown): HubFile | undefined {
  if (!isObj(v)) return undefined;
  const type = str(v.type);
  if (type !== undefined && type !== 'file') return undefined;
  const p = str(v.path) ?? str(v.rfilename);
  if (!p) return undefined;
  const lfs = isObj(v.lfs) ? v.lfs : undefined;
  const sha256 = lfs ? (str(lfs.sha256) ?? str(lfs.oid)) : undefined;
  return {
    path: p,
    size: int(v.size) ?? (lfs ? int(lfs.size) : undefined),
    sha256: sha256 && /^[0-9a-f]{64}$/i.test(sha256) ? sha256.toLowerCase() : undefined,
    gitOid: lfs ? undefined : (str(v.oid) ?? str(v.blobId)),
  };
}

export class HubClient {
  readonly endpoint: string;
  private readonly token: string | undefined;
  private readonly fetchFn: typeof fetch;

  constructor(opts: HubOptions = {}) {
    this.endpoint = (opts.endpoint ?? DEFAULT_HF_ENDPOINT).replace(/\/+$/, '');
    this.token = opts.token || undefined;
    this.fetchFn = opts.fetch ?? fetch;
  }

  get hasToken(): boolean {
    return this.token !== undefined;
  }

  /** `<endpoint>/<repo>/resolve/<revision>/<path>`, each segment URL-encoded (revisions like refs/pr/1 included). */
  fileUrl(spec: RepoSpec, file: string): string {
    const p = file.split('/').map(encodeURIComponent).join('/');
    return `${this.endpoint}/${spec.repo}/resolve/${encodeURIComponent(spec.revision)}/${p}`;
  }

  /**
   * GET with redirects followed by hand. The token goes only to the endpoint's origin (the CDN gets a
   * signed URL instead); other headers (Range) are kept on every hop.
   */
  async get(url: string, init: { signal?: AbortSignal; headers?: Record<string, string>; what: string }): Promise<HubResponse> {
    const origin = new URL(this.endpoint).origin;
    let current = url;
    let linked: LinkedHeaders | undefined;
    for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
      const headers: Record<string, string> = { ...init.headers };
      if (this.token && new URL(current).origin === origin) headers.authorization = `Bearer ${this.token}`;
      const response = await this.fetchFn(current, { headers, signal: init.signal, redirect: 'manual' });
      linked ??= {
        sha256: unquote(response.headers.get('x-linked-etag')),
        size: positiveInt(response.headers.get('x-linked-size')),
        commit: response.headers.get('x-repo-commit') ?? undefined,
        etag: unquote(response.headers.get('etag')),
      };
      const location = response.headers.get('location');
      if (response.status >= 300 && response.status < 400 && location) {
        await response.body?.cancel();
        current = new URL(location, current).href;
        continue;
      }
      if (!response.ok && response.status !== 416) throw await this.statusError(response, current, init.what);
      return { response, linked };
    }
    throw new HubRequestError(`${init.what}: more than ${MAX_REDIRECTS} redirects from ${url}`, 310, url);
  }

  private async statusError(res: Response, url: string, what: string): Promise<HubRequestError> {
    const code = res.headers.get('x-error-code');
    const serverMsg = res.headers.get('x-error-message') ?? (await res.text().catch(() => '')).slice(0, 200).trim();
    await res.body?.cancel().catch(() => undefined);
    const detail = serverMsg ? ` (hub says: ${serverMsg})` : '';
    if (res.status === 401 || res.status === 403) {
      const hint = this.token
        ? 'HF_TOKEN was sent but refused: check that the token is valid, has read access, and that you accepted the model\'s terms on its page if it is gated'
        : 'the repository may be private or gated (or may not exist): set HF_TOKEN to a read token from https://huggingface.co/settings/tokens';
      return new HubAuthError(`${what}: access denied (${res.status}); ${hint}${detail}`, res.status, url);
    }
    if (res.status === 404) {
      const which =
        code === 'RevisionNotFound' ? 'revision not found' :
        code === 'EntryNotFound' ? 'file not found at this revision' :
        code === 'RepoNotFound' ? 'repository not found' : 'not found (check the repository name, revision and file path)';
      return new HubNotFoundError(`${what}: ${which} (404)${detail}`, 404, url);
    }
    return new HubRequestError(`${what}: the hub answered ${res.status} ${res.statusText}${detail}`, res.status, url);
  }

  private async getJson(url: string, what: string, signal?: AbortSignal): Promise<{ body: unknown; next?: string }> {
    const { response } = await this.get(url, { signal, what, headers: { accept: 'application/json' } });
    const text = await response.text();
    try {
      return { body: JSON.parse(text), next: nextLink(response.headers.get('link')) };
    } catch {
      throw new HubRequestError(`${what}: ${url} did not return JSON`, response.status, url);
    }
  }

  /** Every file of the repository at `revision` (tree API, all pages; the revision API when the tree API is missing). */
  async listFiles(spec: RepoSpec, signal?: AbortSignal): Promise<HubFile[]> {
    const what = `listing ${spec.repo}@${spec.revision}`;
    const rev = encodeURIComponent(spec.revision);
    let url: string | undefined = `${this.endpoint}/api/models/${spec.repo}/tree/${rev}?recursive=true`;
    const files: HubFile[] = [];
    try {
      for (let page = 0; url !== undefined; page++) {
        const { body, next }: { body: unknown; next?: string } = await this.getJson(url, what, signal);
        if (!Array.isArray(body)) throw new HubRequestError(`${what}: the tree API returned no list`, 200, url);
        for (const e of body) {
          const f = hubFileFrom(e);
          if (f) files.push(f);
        }
        url = next ? new URL(next, url).href : undefined;
      }
      return files;
    } catch (e) {
      // Mirrors without the tree API answer 404/405 here; the revision API then tells a missing repo apart.
      if (!(e instanceof HubRequestError) || ![400, 404, 405, 501].includes(e.status) || files.length > 0) throw e;
    }
    const { body } = await this.getJson(`${this.endpoint}/api/models/${spec.repo}/revision/${rev}?blobs=true`, what, signal);
    const siblings = isObj(body) && Array.isArray(body.siblings) ? body.siblings : undefined;
    if (!siblings) throw new HubRequestError(`${what}: the revision API returned no siblings`, 200, url ?? this.endpoint);
    return siblings.map(hubFileFrom).filter((f): f is HubFile => f !== undefined);
  }
}
