/**
 * Calls to the service: one place that adds the bearer token (asked for once, kept for the tab's
 * session) and turns any error answer into a one-line message naming the request.
 */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    /** The service's error code (`{ error: { code } }`), when it sent one. */
    readonly code?: string,
  ) {
    super(message);
  }
}

const KEY = 'simplenet-token';

export function token(): string {
  return sessionStorage.getItem(KEY) ?? '';
}

export function setToken(t: string): void {
  if (t) sessionStorage.setItem(KEY, t);
  else sessionStorage.removeItem(KEY);
}

/** The error code of an answer's `{ error: { code } }`, if any. */
function codeOf(body: unknown): string | undefined {
  const e = (body as { error?: unknown } | null)?.error;
  const c = e && typeof e === 'object' ? (e as { code?: unknown }).code : undefined;
  return typeof c === 'string' ? c : undefined;
}

/** The `error` of an answer: the service's `{ error: { code, message } }` (or a bare `{ error: string }`). */
function reason(body: unknown, fallback: string): string {
  const e = (body as { error?: unknown } | null)?.error;
  if (typeof e === 'string') return e;
  if (e && typeof e === 'object' && typeof (e as { message?: unknown }).message === 'string') return (e as { message: string }).message;
  return fallback;
}

export async function request(path: string, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  const t = token();
  if (t) headers.set('authorization', `Bearer ${t}`);
  let r: Response;
  try {
    r = await fetch(path, { ...init, headers });
  } catch (e) {
    throw new ApiError(0, `${path}: the server did not answer (${(e as Error).message})`);
  }
  if (!r.ok) {
    const body = await r.json().catch(() => null);
    throw new ApiError(r.status, reason(body, `${r.status} ${r.statusText}`), codeOf(body));
  }
  return r;
}

export async function getJson<T>(path: string): Promise<T> {
  return (await request(path)).json() as Promise<T>;
}

export async function postJson<T>(path: string, body?: unknown): Promise<T> {
  const init: RequestInit = { method: 'POST' };
  if (body !== undefined) Object.assign(init, { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
  return (await request(path, init)).json() as Promise<T>;
}
