/**
 * HTTP(S) download into a partial file that survives interruptions: each attempt resumes with
 * `Range: bytes=<have>-`, a stalled connection times out, proxies from HTTPS_PROXY/HTTP_PROXY are
 * honoured (CONNECT tunnel for https), and progress (bytes, speed) goes to a Reporter;
 * `downloadVerified` then checks the sha256. The one downloader of the package: backbone weights
 * (src/weights/pull.ts) and datasets (src/datasets/pull/) both go through it. Only
 * node:http/https/net/tls: no extra dependency between a user and their files.
 */
import { existsSync, statSync } from 'node:fs';
import { open as openFile, rm } from 'node:fs/promises';
import http from 'node:http';
import { finished } from 'node:stream/promises';
import https from 'node:https';
import type { Socket } from 'node:net';
import tls from 'node:tls';
import { type Reporter, silentReporter } from '../core/progress.js';
import { VERSION } from '../core/version.js';
import { type Checksum, describeChecksum, matches, sha256File } from './checksum.js';

export interface DownloadOptions {
  /** No byte received for this long (connect, headers or body) aborts the attempt. Default 30 s or $SIMPLENET_DOWNLOAD_TIMEOUT (seconds). */
  timeoutMs?: number;
  /** Further attempts after a dropped or stalled connection, each resuming where the last stopped. Default 3. */
  retries?: number;
  /** Pause before a retry (doubled each time). Default 1000 ms. */
  retryDelayMs?: number;
  reporter?: Reporter;
  /** Progress label; default: the URL's file name. */
  label?: string;
  /** Where proxy variables come from (tests pass their own). Default: process.env. */
  env?: NodeJS.ProcessEnv;
  /** Extra trusted certificate authorities (tests with a self-signed server). */
  ca?: string | Buffer;
  maxRedirects?: number;
}

/** A failed download; `retryable` for failures a second attempt may get past (drops, stalls, 5xx). */
export class DownloadError extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
  ) {
    super(message);
  }
}

const USER_AGENT = `simplenet/${VERSION} node/${process.versions.node}`;

export function defaultTimeoutMs(env: NodeJS.ProcessEnv = process.env): number {
  const s = Number(env.SIMPLENET_DOWNLOAD_TIMEOUT);
  return Number.isFinite(s) && s > 0 ? s * 1000 : 30_000;
}

/** The proxy for a URL per the usual variables (lower case first, as in curl; empty means unset), unless NO_PROXY exempts the host. */
export function proxyFor(target: URL, env: NodeJS.ProcessEnv = process.env): URL | undefined {
  const noProxy = env.no_proxy || env.NO_PROXY || '';
  const host = target.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  for (const raw of noProxy.split(/[\s,]+/).filter(Boolean)) {
    const entry = raw.toLowerCase().replace(/:\d+$/, '');
    if (entry === '*') return undefined;
    const bare = entry.replace(/^\*?\./, '');
    if (host === bare || host.endsWith(`.${bare}`)) return undefined;
  }
  const value = target.protocol === 'https:' ? env.https_proxy || env.HTTPS_PROXY : env.http_proxy || env.HTTP_PROXY;
  if (!value) return undefined;
  const proxy = new URL(value.includes('://') ? value : `http://${value}`);
  if (proxy.protocol !== 'http:') throw new DownloadError(`proxy ${value}: only http:// proxies are supported`, false);
  return proxy;
}

function proxyAuth(proxy: URL): Record<string, string> {
  if (!proxy.username) return {};
  const cred = `${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`;
  return { 'proxy-authorization': `Basic ${Buffer.from(cred).toString('base64')}` };
}

function netError(e: NodeJS.ErrnoException, what: string): DownloadError {
  // DNS failures and refused connections mean offline or a wrong address: retrying only delays the message.
  const permanent = [
    'ENOTFOUND',
    'EAI_AGAIN',
    'ECONNREFUSED',
    'EHOSTUNREACH',
    'ENETUNREACH',
    'CERT_HAS_EXPIRED',
    'DEPTH_ZERO_SELF_SIGNED_CERT',
    'SELF_SIGNED_CERT_IN_CHAIN',
    'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
    'ERR_TLS_CERT_ALTNAME_INVALID',
  ];
  if (e instanceof DownloadError) return e;
  return new DownloadError(`${what}: ${e.message}`, !permanent.includes(e.code ?? ''));
}

/** CONNECT host:port through an HTTP proxy; resolves with the raw tunnel socket. */
function tunnel(proxy: URL, host: string, port: number, timeoutMs: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const authority = `${host.includes(':') ? `[${host}]` : host}:${port}`;
    const req = http.request({
      host: proxy.hostname,
      port: Number(proxy.port) || 80,
      method: 'CONNECT',
      path: authority,
      headers: { host: authority, 'user-agent': USER_AGENT, ...proxyAuth(proxy) },
      agent: false,
    });
    req.setTimeout(timeoutMs, () =>
      req.destroy(new DownloadError(`proxy ${proxy.host} did not answer CONNECT ${authority} within ${timeoutMs / 1000} s`, true)),
    );
    req.on('connect', (res, socket, head) => {
      req.setTimeout(0);
      if (res.statusCode !== 200) {
        socket.destroy();
        reject(new DownloadError(`proxy ${proxy.host} refused CONNECT ${authority}: HTTP ${res.statusCode} ${res.statusMessage ?? ''}`.trim(), false));
        return;
      }
      if (head.length) socket.unshift(head);
      resolve(socket);
    });
    req.on('error', (e) => reject(netError(e, `proxy ${proxy.host}`)));
    req.end();
  });
}

interface Opened {
  req: http.ClientRequest;
  res: http.IncomingMessage;
  timedOut: () => boolean;
}

/** One GET, direct or through a proxy; resolves when the response headers arrive. */
async function open(url: URL, headers: Record<string, string>, opts: Required<Pick<DownloadOptions, 'timeoutMs'>> & DownloadOptions): Promise<Opened> {
  const isHttps = url.protocol === 'https:';
  if (!isHttps && url.protocol !== 'http:') throw new DownloadError(`${url.href}: only http and https URLs are supported`, false);
  const port = Number(url.port) || (isHttps ? 443 : 80);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const proxy = proxyFor(url, opts.env ?? process.env);
  const path = `${url.pathname}${url.search}`;
  const base = { 'user-agent': USER_AGENT, accept: '*/*', ...headers };
  let request: () => http.ClientRequest;
  if (proxy && !isHttps) {
    // Plain http through a proxy: the absolute URL as the request target.
    request = () =>
      http.request({
        host: proxy.hostname,
        port: Number(proxy.port) || 80,
        path: url.href,
        headers: { ...base, host: url.host, ...proxyAuth(proxy) },
        agent: false,
      });
  } else if (proxy) {
    const raw = await tunnel(proxy, host, port, opts.timeoutMs);
    const secure = await new Promise<tls.TLSSocket>((resolve, reject) => {
      const s = tls.connect({
        socket: raw,
        servername: /^[\d.:]+$/.test(host) ? undefined : host,
        ca: opts.ca ? [...tls.rootCertificates, String(opts.ca)] : undefined,
      });
      s.setTimeout(opts.timeoutMs, () => s.destroy(new DownloadError(`TLS handshake with ${url.host} (via proxy ${proxy.host}) timed out`, true)));
      s.once('secureConnect', () => {
        s.setTimeout(0);
        resolve(s);
      });
      s.once('error', (e) => reject(netError(e, `TLS to ${url.host} via proxy ${proxy.host}`)));
    });
    // The tunnel is already TLS: plain http framing over it, no agent.
    request = () => http.request({ host, port, path, headers: { ...base, host: url.host }, createConnection: () => secure });
  } else {
    const mod = isHttps ? https : http;
    request = () =>
      mod.request({ host, port, path, headers: base, agent: false, ...(isHttps && opts.ca ? { ca: [...tls.rootCertificates, String(opts.ca)] } : {}) });
  }
  return new Promise((resolve, reject) => {
    let timedOut = false;
    const req = request();
    req.setTimeout(opts.timeoutMs, () => {
      timedOut = true;
      req.destroy(new DownloadError(`no data from ${url.host} for ${opts.timeoutMs / 1000} s (timed out)`, true));
    });
    req.on('response', (res) => resolve({ req, res, timedOut: () => timedOut }));
    req.on('error', (e) => reject(netError(e, url.host)));
    req.end();
  });
}

function contentRange(v: string | undefined): { start?: number; total?: number } {
  const m = /^bytes (?:(\d+)-\d+|\*)\/(\d+|\*)$/.exec(v ?? '');
  if (!m) return {};
  return { start: m[1] === undefined ? undefined : Number(m[1]), total: m[2] === '*' ? undefined : Number(m[2]) };
}

const sizeOf = (p: string) => (existsSync(p) ? statSync(p).size : 0);

/** One attempt: resumes `dest` if it has bytes; resolves when the whole body is on disk. */
async function attempt(url: URL, dest: string, opts: Required<Pick<DownloadOptions, 'timeoutMs' | 'maxRedirects'>> & DownloadOptions): Promise<void> {
  let current = url;
  for (let hop = 0; ; hop++) {
    const have = sizeOf(dest);
    const { req, res, timedOut } = await open(current, have > 0 ? { range: `bytes=${have}-` } : {}, opts);
    const status = res.statusCode ?? 0;
    if ([301, 302, 303, 307, 308].includes(status) && res.headers.location) {
      res.resume();
      req.destroy();
      if (hop >= opts.maxRedirects) throw new DownloadError(`${url.href}: more than ${opts.maxRedirects} redirects`, false);
      current = new URL(res.headers.location, current);
      continue;
    }
    if (status === 416) {
      // Our part may already be complete (interrupted between the last byte and the rename).
      res.resume();
      const { total } = contentRange(res.headers['content-range']);
      if (total !== undefined && total === have) return;
      await rm(dest, { force: true });
      throw new DownloadError(`${current.host} rejected resuming at byte ${have}; starting over`, true);
    }
    let append = false;
    let total: number | undefined;
    const length = Number(res.headers['content-length']);
    if (status === 206) {
      const range = contentRange(res.headers['content-range']);
      if (range.start !== have) {
        res.resume();
        req.destroy();
        await rm(dest, { force: true });
        throw new DownloadError(`${current.host} answered a resume at byte ${have} with ${res.headers['content-range']}; starting over`, true);
      }
      append = true;
      total = range.total ?? (Number.isFinite(length) ? have + length : undefined);
    } else if (status === 200) {
      total = Number.isFinite(length) ? length : undefined; // a server that ignores Range sends everything again
    } else {
      res.resume();
      req.destroy();
      throw new DownloadError(`HTTP ${status} ${res.statusMessage ?? ''}`.trim(), status >= 500 || status === 429);
    }
    const start = append ? have : 0;
    const bar = (opts.reporter ?? silentReporter).bar(opts.label ?? decodeURIComponent(url.pathname.split('/').pop() || url.host), total ?? 0, {
      bytes: true,
      initial: start,
    });
    // Every chunk the response emits is written, even when the connection drops right after it: a
    // write stream (or an async iterator) torn down by the drop discards what it still holds, and the
    // resume then starts before bytes that had arrived (a one-chunk body restarted from 0). So the
    // listener is attached before anything is awaited, and reading pauses while a write is pending.
    const file = openFile(dest, append ? 'a' : 'w');
    // Awaited below; without a handler now, a failed open would be an unhandled rejection meanwhile.
    file.catch(() => undefined);
    let written: Promise<unknown> = file;
    res.on('data', (chunk: Buffer) => {
      res.pause();
      written = written
        .then(async () => {
          await (await file).write(chunk);
          bar.tick(chunk.length);
          res.resume();
        })
        .catch((e: unknown) => {
          res.destroy(); // a disk error: stop reading (finished() then settles)
          throw e;
        });
      written.catch(() => undefined);
    });
    try {
      const dropped = await finished(res).then(
        () => undefined,
        (e: Error) => e,
      );
      await written; // a disk error is thrown as it is
      if (dropped) {
        if (timedOut()) throw new DownloadError(`no data from ${current.host} for ${opts.timeoutMs / 1000} s (timed out after ${sizeOf(dest)} bytes)`, true);
        throw new DownloadError(`connection to ${current.host} dropped after ${sizeOf(dest)} bytes (${dropped.message})`, true);
      }
    } finally {
      await file.then(
        (f) => f.close(),
        () => undefined,
      );
    }
    const got = sizeOf(dest);
    if (total !== undefined && got !== total) {
      throw new DownloadError(`connection to ${current.host} ended after ${got} of ${total} bytes`, true);
    }
    bar.done();
    return;
  }
}

/**
 * Downloads `url` into `dest` (a partial file: existing bytes are resumed, never discarded
 * unless the server cannot resume). Throws the last DownloadError when attempts run out.
 */
export async function download(url: string, dest: string, options: DownloadOptions = {}): Promise<void> {
  const opts = { ...options, timeoutMs: options.timeoutMs ?? defaultTimeoutMs(options.env), maxRedirects: options.maxRedirects ?? 5 };
  const retries = options.retries ?? 3;
  const reporter = options.reporter ?? silentReporter;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new DownloadError(`'${url}' is not a URL`, false);
  }
  for (let i = 0; ; i++) {
    try {
      await attempt(parsed, dest, opts);
      return;
    } catch (e) {
      const err = e instanceof DownloadError ? e : netError(e as NodeJS.ErrnoException, parsed.host);
      if (!err.retryable || i >= retries) throw err;
      reporter.line(`${err.message}; retrying (${i + 1}/${retries})`);
      await new Promise((r) => setTimeout(r, (options.retryDelayMs ?? 1000) * 2 ** i));
    }
  }
}

/** A downloaded file whose sha256 is not the expected one (it has been deleted). */
export class ChecksumMismatchError extends Error {
  constructor(
    message: string,
    readonly url: string,
    readonly file: string,
    readonly sha256: string,
    readonly expected: Checksum,
  ) {
    super(message);
  }
}

export interface VerifiedDownloadOptions extends DownloadOptions {
  /** What a mismatch message calls the file: "the downloaded <what> has sha256 …". Default 'file'. */
  what?: string;
  /** Where the file was going, for a mismatch message: "nothing was added to <into>". Default 'the cache'. */
  into?: string;
}

/**
 * Downloads `url` into the partial file `part` (resuming what is there), then checks its sha256
 * against `expected` when one is given. On a mismatch `part` is deleted, so the next try starts
 * afresh, and the error names the URL and both checksums. The file stays at `part` for the caller
 * to rename into place.
 * @returns the file's sha256.
 * @throws DownloadError when the download fails (`part` keeps what arrived); ChecksumMismatchError.
 * @example const sha = await downloadVerified(url, `${dest}.part`, { hex: sha256 }, { reporter });
 */
export async function downloadVerified(url: string, part: string, expected: Checksum | undefined, options: VerifiedDownloadOptions = {}): Promise<string> {
  await download(url, part, options);
  const sha = await sha256File(part);
  if (expected && !matches(expected, sha)) {
    await rm(part, { force: true });
    throw new ChecksumMismatchError(
      `${url}: the downloaded ${options.what ?? 'file'} has sha256 ${sha}, expected ${describeChecksum(expected)}; ` +
        `it was discarded and nothing was added to ${options.into ?? 'the cache'}`,
      url,
      part,
      sha,
      expected,
    );
  }
  return sha;
}
