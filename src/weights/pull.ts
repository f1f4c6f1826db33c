/**
 * `weights pull`: a cached file answers without any network access; otherwise download into a
 * partial file, check the sha256, and only then rename it into the cache. Failing downloads end
 * in one message that says what to fetch, how to recognise it and where to put it by hand.
 */
import { existsSync } from 'node:fs';
import { mkdir, open, rename, rm, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { sha256File } from '../io/checksum.js';
import { DownloadError, type DownloadOptions, downloadVerified } from '../io/download.js';
import { customPaths, findCached, officialPath, partPath, simplenetHome, weightsDir } from './cache.js';
import { type Checksum, checksumFromUrl, checksumOf, describeChecksum, type KnownWeights, knownWeightsOrThrow, matches, parseChecksum } from './known.js';
import { detectFormat } from './load.js';

export interface PullOptions extends DownloadOptions {
  /** Download from here instead of the catalogue's URLs. */
  url?: string;
  /** Expected sha256 (full, or a prefix of ≥ 8 hex digits). */
  sha256?: string;
  /** Cache root; default simplenetHome(). */
  home?: string;
  /** Catalogue entry to use instead of the built-in one (tests). */
  entry?: KnownWeights;
}

export interface PullResult {
  name: string;
  path: string;
  sha256: string;
  /** torchvision's own file (matches the catalogue checksum). */
  official: boolean;
  /** False when the cache already held it (no network access at all). */
  downloaded: boolean;
  url?: string;
}

export { sha256File };

async function firstBytes(path: string, n: number): Promise<Uint8Array> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(n);
    const { bytesRead } = await fh.read(buf, 0, n, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

function damaged(path: string, sha: string, want: Checksum, name: string): Error {
  return new Error(
    `${path}: the cached weights have sha256 ${sha}, expected ${describeChecksum(want)}; the file is damaged or not the right one — ` +
      `delete it and run 'simplenet weights pull ${name}'`,
  );
}

/** One partial file per source, so a resume never mixes bytes of two files. */
function partFor(entry: KnownWeights, dir: string, url: string): string {
  let file = '';
  try {
    file = basename(new URL(url).pathname);
  } catch {
    // not a URL: download() reports that
  }
  return partPath(join(dir, file === entry.file ? entry.file : `${entry.name}--${file || 'download'}`));
}

export async function pullWeights(name: string, opts: PullOptions = {}): Promise<PullResult> {
  const entry = opts.entry ?? knownWeightsOrThrow(name);
  const home = opts.home ?? simplenetHome(opts.env ?? process.env);
  const official = checksumOf(entry);
  const explicit = opts.sha256 ? parseChecksum(opts.sha256, '--sha256') : undefined;
  if (opts.url && !/^https?:\/\/[^/]/.test(opts.url)) throw new Error(`--url '${opts.url}' is not an http(s) URL`);

  const cached = findCached(entry, home);
  if (cached) {
    const sha = await sha256File(cached.path);
    if (cached.official && !matches(official, sha)) throw damaged(cached.path, sha, official, entry.name);
    if (explicit && !matches(explicit, sha)) {
      throw new Error(
        `${cached.path}: the cache already holds ${entry.name} with sha256 ${sha}, not ${describeChecksum(explicit)}; delete it to pull another file`,
      );
    }
    return { name: entry.name, path: cached.path, sha256: sha, official: cached.official && matches(official, sha), downloaded: false };
  }

  const urls = opts.url ? [opts.url] : entry.urls;
  const expected = explicit ?? (opts.url ? checksumFromUrl(opts.url) : official);
  if (!expected) throw new Error(`--url ${opts.url}: no checksum is known for this file; pass --sha256 <hex> so the download can be verified`);
  const dir = weightsDir(home);
  await mkdir(dir, { recursive: true });
  const dest = officialPath(entry, home);

  let lastError = '';
  for (const url of urls) {
    const part = partFor(entry, dir, url);
    const fileName = basename(part)
      .replace(/\.part$/, '')
      .replace(`${entry.name}--`, '');
    let sha: string;
    try {
      sha = await downloadVerified(url, part, expected, { ...opts, label: opts.label ?? `${entry.name} ${fileName}` });
    } catch (e) {
      if (!(e instanceof DownloadError)) throw e;
      lastError = `${url}: ${e.message}`;
      continue;
    }
    const isOfficial = matches(official, sha);
    let final = dest;
    if (!isOfficial) {
      const format = detectFormat(await firstBytes(part, 64), (await stat(part)).size);
      if (!format) {
        await rm(part, { force: true });
        throw new Error(`${url}: the downloaded file is not a weights file (neither safetensors nor a PyTorch .pth); it was discarded`);
      }
      final = customPaths(entry, home)[format === 'safetensors' ? 0 : 1];
    }
    await rename(part, final);
    return { name: entry.name, path: final, sha256: sha, official: isOfficial, downloaded: true, url };
  }
  const partial = urls.map((u) => partFor(entry, dir, u)).find((p) => existsSync(p));
  // The official slot is only right for torchvision's file; anything else goes through import.
  const compatible = official.hex.startsWith(expected.hex) || expected.hex.startsWith(official.hex);
  throw new Error(
    [
      `cannot download the ${entry.name} weights (${lastError})`,
      `  expected: ${urls[0]} with ${describeChecksum(expected)}`,
      ...(compatible ? [`  to install by hand: download that file on a machine with access and put it at`, `    ${dest}`] : []),
      `  ${compatible ? 'or run' : 'to install by hand, run'}: simplenet weights import <file> --name ${entry.name}`,
      ...(partial ? [`  (the partial download ${partial} resumes on the next pull)`] : []),
    ].join('\n'),
  );
}

/**
 * The weights file a builtin backbone uses when no --weights is given: the cached file, or a
 * pull on first use. `check` is the checksum the caller must verify on the bytes it reads
 * (official cached files are re-checked on every use; pulled ones were just verified).
 */
export async function weightsForBuiltin(name: string, opts: PullOptions = {}): Promise<{ path: string; check?: Checksum; pulled: boolean }> {
  const entry = opts.entry ?? knownWeightsOrThrow(name);
  const cached = findCached(entry, opts.home ?? simplenetHome(opts.env ?? process.env));
  if (cached) return { path: cached.path, check: cached.official ? checksumOf(entry) : undefined, pulled: false };
  const r = await pullWeights(name, opts);
  return { path: r.path, pulled: true };
}

export { damaged as damagedWeightsError };
