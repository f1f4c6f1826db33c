/**
 * `datasets pull`: an official dataset archive from the catalogue to a folder `train` reads.
 *
 * 1. A root that already holds everything the archive provides answers at once, without any
 *    network access.
 * 2. The archive is downloaded with the package's one downloader (io/download.ts: a `.part` file
 *    that resumes, proxies, timeouts, progress) into `<root>/.simplenet-downloads/`, its sha256
 *    checked (a mismatch deletes it and adds nothing), then renamed to its own name.
 * 3. It is unpacked by io/archive.ts (no path outside the folder, links that lead nowhere outside,
 *    bounded size) into a temporary folder beside the dataset's entries; files the dataset must
 *    hold (VisA's split CSV) are fetched into it when missing; the format's own loader
 *    (`loadDataset`) reads every category before anything is published.
 * 4. Each top-level entry is renamed into the root, where one of that name is not already there
 *    (existing folders are never replaced or deleted); a record of what was pulled goes to
 *    `<root>/.simplenet-dataset.json`; the downloaded archive is deleted.
 * An interrupted pull continues where it stopped: the `.part` resumes, a complete archive is
 * unpacked again, a temporary folder left by a dead process is removed (io/temporaries.ts).
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { mkdir, readdir, rename, rm, rmdir } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { type Reporter, silentReporter } from '../../core/progress.js';
import { ArchiveError, extractArchive } from '../../io/archive.js';
import { DATASET_RECORD_FORMAT } from '../../io/artefacts.js';
import { writeFileAtomic } from '../../io/atomic.js';
import { type Checksum, describeChecksum, matches, parseChecksum, sha256File } from '../../io/checksum.js';
import { ChecksumMismatchError, DownloadError, type DownloadOptions, downloadVerified } from '../../io/download.js';
import { simplenetHome } from '../../io/home.js';
import { FileError } from '../../io/ioError.js';
import { cleanStaleTemporaries, temporaryPath, trackTemporary, untrackTemporary } from '../../io/temporaries.js';
import { loadDataset } from '../load.js';
import { archiveFor, type DatasetArchive, type DatasetFile, KNOWN_DATASETS, type KnownDataset, knownDataset } from './catalogue.js';

/** Where downloads wait inside a dataset root until they are unpacked. */
export const DOWNLOADS_DIR = '.simplenet-downloads';
/** The record of what `datasets pull` put in a root. */
export const RECORD_FILE = '.simplenet-dataset.json';

export interface DatasetPullOptions extends DownloadOptions {
  /** One category (its own archive where one is published); default: the whole dataset. */
  category?: string;
  /** The dataset root; default `$SIMPLENET_HOME/datasets/<name>`. */
  out?: string;
  /** Cache root; default simplenetHome(). */
  home?: string;
  /** Download from here instead of the catalogue's URLs (checked against `sha256` or the catalogue's checksum). */
  url?: string;
  /** Expected sha256 of the archive (full, or a prefix of ≥ 8 hex digits). */
  sha256?: string;
  /** An archive already on disk (downloaded by hand): checked and unpacked, never moved or deleted. */
  archive?: string;
  /** Catalogue entry to use instead of the built-in one (tests, mirrors). */
  entry?: KnownDataset;
}

export interface DatasetPullResult {
  dataset: string;
  title: string;
  /** The `--format` that reads it. */
  format: string;
  root: string;
  /** What the archive held: a category, or 'all'. */
  part: string;
  /** The category the next command names. */
  category: string;
  /** False when the root already held everything: no network access at all. */
  downloaded: boolean;
  /** Entries this pull put in the root. */
  added: string[];
  /** Entries that were there already and were left as they were. */
  kept: string[];
  url?: string;
  sha256?: string;
  /** Whether the archive's sha256 was checked against a published or given checksum. */
  verified: boolean;
  /** What to run next. */
  next: string;
}

/** `$SIMPLENET_HOME/datasets/<name>`. */
export function datasetRoot(name: string, home = simplenetHome()): string {
  return join(home, 'datasets', name);
}

function shellQuote(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** The `train` command for a pulled dataset. */
export function nextCommand(d: KnownDataset, root: string, category: string): string {
  const format = d.format === 'mvtec' ? '' : `--format ${d.format} `;
  return `simplenet train ${format}--data ${shellQuote(root)} --category ${category} --backbone mobilenet_v2 --epochs 8 --out runs/${category}`;
}

const fileAt = (root: string, f: DatasetFile) => join(root, ...f.path.split('/'));

/** Whether `root` holds everything the archive provides and the dataset's fixed files. */
function complete(root: string, archive: DatasetArchive, d: KnownDataset): boolean {
  return archive.provides.every((e) => existsSync(join(root, e))) && (d.files ?? []).every((f) => existsSync(fileAt(root, f)));
}

/** The folder of an unpacked archive that holds the provided entries: its top, or its one top-level folder. */
async function unpackedRoot(tmp: string, provides: string[]): Promise<string | undefined> {
  if (provides.every((e) => existsSync(join(tmp, e)))) return tmp;
  const top = await readdir(tmp, { withFileTypes: true });
  if (top.length === 1 && top[0].isDirectory()) {
    const inner = join(tmp, top[0].name);
    if (provides.every((e) => existsSync(join(inner, e)))) return inner;
  }
  return undefined;
}

async function removeIfEmpty(dir: string): Promise<boolean> {
  return rmdir(dir).then(
    () => true,
    () => false,
  );
}

/** Removes `dir` and its parents up to `top` while they are empty (what a failed pull created). */
async function removeEmptyUpTo(dir: string, top: string | undefined): Promise<void> {
  if (!top) return;
  for (let d = dir; d.startsWith(top) && (await removeIfEmpty(d)) && d !== top; d = dirname(d)) {
    // removed; go up
  }
}

interface Ctx {
  d: KnownDataset;
  root: string;
  reporter: Reporter;
  opts: DatasetPullOptions;
}

/** One partial file per source, so a resume never mixes bytes of two files. */
function partFor(dir: string, archive: DatasetArchive, url: string, official: boolean): string {
  if (official) return join(dir, `${archive.file}.part`);
  let base = 'download';
  try {
    base = new URL(url).pathname.split('/').pop() || base;
  } catch {
    // not a URL: download() reports that
  }
  return join(dir, `${archive.file}--${base.replace(/[^\w.-]/g, '_')}.part`);
}

/** The archive on disk: the user's, one verified earlier, or a fresh download. */
async function obtainArchive(
  ctx: Ctx,
  archive: DatasetArchive,
  expected: Checksum | undefined,
): Promise<{ path: string; sha256: string; url?: string; ours: boolean; downloaded: boolean }> {
  const { d, root, opts } = ctx;
  if (opts.archive) {
    let sha: string;
    try {
      sha = await sha256File(opts.archive);
    } catch (e) {
      throw new FileError(opts.archive, 'cannot read the archive', e);
    }
    if (expected && !matches(expected, sha)) {
      throw new Error(`${opts.archive}: has sha256 ${sha}, expected ${describeChecksum(expected)}; it is not the ${d.title} archive ${archive.file}`);
    }
    return { path: opts.archive, sha256: sha, ours: false, downloaded: false };
  }
  const downloads = join(root, DOWNLOADS_DIR);
  const done = join(downloads, archive.file);
  if (!opts.url && existsSync(done)) {
    // Downloaded and verified by an earlier pull that stopped before unpacking finished.
    const sha = await sha256File(done);
    if (!expected || matches(expected, sha)) return { path: done, sha256: sha, ours: true, downloaded: false };
    await rm(done, { force: true });
  }
  await mkdir(downloads, { recursive: true });
  const urls = opts.url ? [opts.url] : archive.urls;
  const errors: string[] = [];
  for (const url of urls) {
    const part = partFor(downloads, archive, url, !opts.url);
    let sha: string;
    try {
      sha = await downloadVerified(url, part, expected, {
        ...opts,
        reporter: ctx.reporter,
        label: opts.label ?? `${d.name} ${archive.file}`,
        what: `archive ${part}`,
        into: root,
      });
    } catch (e) {
      if (e instanceof DownloadError) {
        errors.push(`${url}: ${e.message}`);
        continue;
      }
      if (e instanceof ChecksumMismatchError) await removeIfEmpty(downloads);
      throw e;
    }
    await rename(part, done);
    return { path: done, sha256: sha, url, ours: true, downloaded: true };
  }
  const partial = urls.map((u) => partFor(downloads, archive, u, !opts.url)).find((p) => existsSync(p));
  if (!partial) await removeIfEmpty(downloads);
  const again = `simplenet datasets pull ${d.name}${archive.part === 'all' ? '' : ` --category ${archive.part}`}`;
  throw new Error(
    [
      `cannot download the ${d.title} archive ${archive.file} (${errors.join('; ')})`,
      `  expected: ${urls[0]}${expected ? ` with ${describeChecksum(expected)}` : ''}`,
      `  to install by hand: download it on a machine with access, then run: ${again} --archive <file>${opts.out ? ` --out ${shellQuote(root)}` : ''}`,
      ...(partial ? [`  (the partial download ${partial} resumes on the next pull)`] : []),
    ].join('\n'),
  );
}

/** Puts each fixed file of the dataset in place: the unpacked one when its sha256 matches, else downloaded. */
async function ensureFiles(ctx: Ctx, src: string): Promise<void> {
  for (const f of ctx.d.files ?? []) {
    const path = fileAt(src, f);
    if (existsSync(path) && (await sha256File(path)) === f.sha256) continue;
    await mkdir(dirname(path), { recursive: true });
    const errors: string[] = [];
    let ok = false;
    for (const url of f.urls) {
      try {
        await downloadVerified(
          url,
          `${path}.part`,
          { hex: f.sha256 },
          { ...ctx.opts, reporter: ctx.reporter, label: `${ctx.d.name} ${f.path}`, what: f.path, into: ctx.root },
        );
      } catch (e) {
        if (!(e instanceof DownloadError)) throw e;
        errors.push(`${url}: ${e.message}`);
        continue;
      }
      await rename(`${path}.part`, path);
      ok = true;
      break;
    }
    if (!ok) throw new Error(`cannot download ${f.path} of ${ctx.d.title} (${errors.join('; ')}); expected sha256 ${f.sha256}`);
  }
}

interface PullRecord {
  format: typeof DATASET_RECORD_FORMAT;
  dataset: string;
  title: string;
  datasetFormat: string;
  pulls: Record<string, { file: string; url?: string; archive?: string; sha256: string; verified: boolean; added: string[]; at: string }>;
}

/** The record in `root`, when there is one of ours. */
export function readRecord(root: string): PullRecord | undefined {
  try {
    const r = JSON.parse(readFileSync(join(root, RECORD_FILE), 'utf8')) as PullRecord;
    return r && r.format === DATASET_RECORD_FORMAT && typeof r.pulls === 'object' ? r : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Downloads, verifies and unpacks a dataset (or one category of it) into a folder `train` reads.
 * @throws Error naming the URL, the file or the entry at fault; nothing is published unless the
 * whole archive was unpacked and read by the format's loader.
 * @example const r = await pullDataset('mvtec_ad', { category: 'bottle' }); // r.root, r.next
 */
export async function pullDataset(name: string, opts: DatasetPullOptions = {}): Promise<DatasetPullResult> {
  const d = opts.entry ?? knownDataset(name);
  const archive = archiveFor(d, opts.category);
  const category = opts.category ?? d.defaultCategory;
  const root = resolve(opts.out ?? datasetRoot(d.name, opts.home ?? simplenetHome(opts.env ?? process.env)));
  const reporter = opts.reporter ?? silentReporter;
  if (opts.url && !/^https?:\/\/[^/]/.test(opts.url)) throw new Error(`--url '${opts.url}' is not an http(s) URL`);
  if (opts.url && opts.archive) throw new Error('--url and --archive exclude each other: give one source');
  const explicit = opts.sha256 ? parseChecksum(opts.sha256, '--sha256') : undefined;
  const expected = explicit ?? (archive.sha256 ? { hex: archive.sha256 } : undefined);
  const base = { dataset: d.name, title: d.title, format: d.format, root, part: archive.part, category, next: nextCommand(d, root, category) };

  if (existsSync(root) && !statSync(root).isDirectory()) throw new Error(`${root}: is a file; datasets pull needs a folder for the dataset`);
  if (complete(root, archive, d)) {
    const pulled = readRecord(root)?.pulls[archive.part];
    return {
      ...base,
      downloaded: false,
      added: [],
      kept: [...archive.provides],
      sha256: pulled?.sha256,
      url: pulled?.url,
      verified: pulled?.verified ?? false,
    };
  }
  // The first folder this pull creates (root or a parent of it): removed again if it stays empty.
  const created = await mkdir(root, { recursive: true });
  const tidy = () => removeEmptyUpTo(root, created);
  await cleanStaleTemporaries(root);
  const ctx: Ctx = { d, root, reporter, opts };
  let got: Awaited<ReturnType<typeof obtainArchive>>;
  try {
    got = await obtainArchive(ctx, archive, expected);
  } catch (e) {
    await tidy();
    throw e;
  }
  if (!expected) {
    reporter.warn(`${got.path}: no checksum is published for ${archive.file}; its sha256 is ${got.sha256} (recorded in ${join(root, RECORD_FILE)})`);
  }

  const target = join(root, archive.file);
  const tmp = temporaryPath(target, 'tmp');
  // Created here, without `recursive`, so it fails rather than adopt a folder that exists: the
  // recursive removal below can only ever delete what this run unpacked.
  await mkdir(dirname(tmp), { recursive: true });
  await mkdir(tmp);
  trackTemporary(tmp, 'tmp', target);
  const added: string[] = [];
  const kept: string[] = [];
  try {
    try {
      const unpacked = await extractArchive(got.path, tmp, { maxBytes: archive.maxBytes, reporter, label: `${d.name} unpacking ${archive.file}` });
      // Entries the dataset's fixed files create (VisA's split_csv) need not be in the archive.
      const required = archive.provides.filter((e) => !(d.files ?? []).some((f) => f.path.split('/')[0] === e));
      const src = await unpackedRoot(tmp, required);
      if (!src) {
        const missing = required.filter((e) => !existsSync(join(tmp, e)));
        throw new ArchiveError(
          `${got.path}: is not the ${d.title} archive ${archive.file}: it lacks ${missing.join(', ')} (it holds ${unpacked.top.slice(0, 8).join(', ') || 'nothing'})`,
        );
      }
      await ensureFiles(ctx, src);
      for (const c of archive.part === 'all' ? d.categories : [archive.part]) {
        reporter.line(`${d.name}: checking ${c}`);
        await loadDataset({ format: d.format, root: src, category: c });
      }
      for (const entry of (await readdir(src)).sort()) {
        if (existsSync(join(root, entry))) kept.push(entry);
        else {
          await rename(join(src, entry), join(root, entry));
          added.push(entry);
        }
      }
    } catch (e) {
      if (!(e instanceof ArchiveError) && (e as Error).name !== 'DatasetError') throw e;
      // A refused archive is refused again next time, and one nobody vouched for (no checksum) may be
      // a wrong file: either is deleted, so nothing is left behind. A verified archive that does not
      // read as the dataset is kept for the next try (the loader may be what is at fault).
      const discard = got.ours && (e instanceof ArchiveError || !expected);
      if (discard) {
        await rm(got.path, { force: true });
        await removeIfEmpty(join(root, DOWNLOADS_DIR));
      }
      const layout = e instanceof ArchiveError ? '' : `the unpacked archive does not read as ${d.title}: `;
      const left = discard ? ' and the download was discarded' : got.ours ? ` (the archive stays at ${got.path})` : '';
      throw new Error(`${got.url ? `${got.url}: ` : ''}${layout}${(e as Error).message}; nothing was added to ${root}${left}`);
    }
  } finally {
    await rm(tmp, { recursive: true, force: true });
    untrackTemporary(tmp);
    if (added.length === 0) await tidy();
  }

  const record: PullRecord = readRecord(root) ?? { format: DATASET_RECORD_FORMAT, dataset: d.name, title: d.title, datasetFormat: d.format, pulls: {} };
  record.pulls[archive.part] = {
    file: archive.file,
    ...(got.url ? { url: got.url } : got.ours ? {} : { archive: resolve(got.path) }),
    sha256: got.sha256,
    verified: expected !== undefined,
    added,
    at: new Date().toISOString(),
  };
  await writeFileAtomic(join(root, RECORD_FILE), `${JSON.stringify(record, null, 1)}\n`, 'dataset-record');
  if (got.ours) {
    await rm(got.path, { force: true });
    await removeIfEmpty(join(root, DOWNLOADS_DIR));
  }
  return { ...base, downloaded: got.downloaded, added, kept, url: got.url, sha256: got.sha256, verified: expected !== undefined };
}

export interface CachedDataset {
  dataset: string;
  title: string;
  root: string;
  /** Categories whose folder is in the root. */
  categories: string[];
  /** Downloads that will resume: path and bytes so far. */
  partial: { path: string; bytes: number }[];
  record?: PullRecord;
}

/** What `$SIMPLENET_HOME/datasets/` holds, per known dataset; never touches the network. */
export function listDatasets(home = simplenetHome(), catalogue: readonly KnownDataset[] = KNOWN_DATASETS): CachedDataset[] {
  return catalogue.map((d) => {
    const root = datasetRoot(d.name, home);
    const downloads = join(root, DOWNLOADS_DIR);
    const partial = existsSync(downloads)
      ? readdirSync(downloads)
          .filter((f) => f.endsWith('.part'))
          .map((f) => ({ path: join(downloads, f), bytes: statSync(join(downloads, f)).size }))
      : [];
    return {
      dataset: d.name,
      title: d.title,
      root,
      categories: d.categories.filter((c) => existsSync(join(root, c))),
      partial,
      record: readRecord(root),
    };
  });
}
