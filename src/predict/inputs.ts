/**
 * `predict`'s positional arguments → image paths: a file is taken as is, a folder is walked
 * recursively for image files (sorted, so runs are reproducible), anything with * ? [ is a glob
 * (`**` crosses folders). Each path keeps the part relative to its argument, used to name outputs.
 *
 * Symbolic links are followed, to images and to folders alike. A folder reached twice (a link
 * loop, or two links to one folder) is walked once, at its first path in sorted order. A dangling
 * link with an image's name is kept: decoding then fails naming it ("no such file or folder"), so
 * predict reports it as a failed image and exits with EXIT_SOME_FAILED, while the others are scored.
 * Our own outputs inside a walked folder (an earlier `predict --out`, a test report, a temporary
 * being written) are skipped: heatmaps of heatmaps are never what a rerun means.
 */
import { existsSync, type Dirent, readdirSync, realpathSync, statSync } from 'node:fs';
import { basename, join, relative, resolve, sep } from 'node:path';
import { isFolderOf } from '../io/artefacts.js';
import { FileError } from '../io/ioError.js';
import { parseTemporary } from '../io/temporaries.js';

import { IMAGE_EXTENSIONS } from '../images/decode.js';

export { IMAGE_EXTENSIONS };

export interface InputImage {
  path: string;
  /** Path relative to the folder or glob base it came from (the basename for plain files). */
  relative: string;
}

const isImage = (name: string) => IMAGE_EXTENSIONS.some((e) => name.toLowerCase().endsWith(e));

/** What an entry is once links are followed: 'missing' for a dangling link. */
function kindOf(e: Dirent, p: string): 'dir' | 'file' | 'other' | 'missing' {
  if (!e.isSymbolicLink()) return e.isDirectory() ? 'dir' : e.isFile() ? 'file' : 'other';
  try {
    const st = statSync(p);
    return st.isDirectory() ? 'dir' : st.isFile() ? 'file' : 'other';
  } catch {
    return 'missing';
  }
}

const ourOutput = (name: string, p: string) => parseTemporary(name) !== undefined || isFolderOf(p, 'predictions') || isFolderOf(p, 'report');

/** `seen` holds the real paths of the folders walked so far: it ends link loops. */
function walk(dir: string, out: string[], seen = new Set<string>()): void {
  let entries: Dirent[];
  try {
    const real = realpathSync(dir);
    if (seen.has(real)) return;
    seen.add(real);
    entries = readdirSync(dir, { withFileTypes: true });
  } catch (e) {
    throw new FileError(dir, 'cannot list the folder', e);
  }
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of entries) {
    const p = join(dir, e.name);
    const kind = kindOf(e, p);
    if (kind === 'dir' && !ourOutput(e.name, p)) walk(p, out, seen);
    else if ((kind === 'file' || kind === 'missing') && isImage(e.name)) out.push(p);
  }
}

function globToRegExp(pattern: string): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '*' && pattern[i + 1] === '*') {
      re += pattern[i + 2] === '/' ? '(?:.*/)?' : '.*';
      i += pattern[i + 2] === '/' ? 2 : 1;
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const end = pattern.indexOf(']', i);
      if (end < 0) re += '\\[';
      else {
        re += `[${pattern
          .slice(i + 1, end)
          .replace(/^!/, '^')
          .replace(/\\/g, '\\\\')}]`;
        i = end;
      }
    } else re += c.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

function expandGlob(pattern: string): InputImage[] {
  const posix = pattern.split(sep).join('/');
  const parts = posix.split('/');
  const firstGlob = parts.findIndex((p) => /[*?[]/.test(p));
  const base = parts.slice(0, firstGlob).join('/') || (posix.startsWith('/') ? '/' : '.');
  const re = globToRegExp(parts.slice(firstGlob).join('/'));
  if (!existsSync(base) || !statSync(base).isDirectory()) return [];
  const files: string[] = [];
  walk(base, files);
  return files.map((p) => ({ path: p, relative: relative(base, p).split(sep).join('/') })).filter((f) => re.test(f.relative));
}

/** Expands the arguments; throws naming the first argument that matches nothing. */
export function expandInputs(args: readonly string[]): InputImage[] {
  const out: InputImage[] = [];
  for (const arg of args) {
    if (existsSync(arg)) {
      if (statSync(arg).isDirectory()) {
        const files: string[] = [];
        walk(arg, files);
        if (files.length === 0) throw new Error(`${arg}: no image files in this folder (looked for ${IMAGE_EXTENSIONS.join(' ')})`);
        // The folder's own name is kept so that two folders with the same file names do not clash.
        const name = basename(resolve(arg));
        for (const f of files) out.push({ path: f, relative: [name, ...relative(arg, f).split(sep)].join('/') });
      } else out.push({ path: arg, relative: basename(arg) });
    } else if (/[*?[]/.test(arg)) {
      const found = expandGlob(arg);
      if (found.length === 0) throw new Error(`${arg}: no image files match this pattern`);
      out.push(...found);
    } else throw new Error(`${arg}: no such file or folder`);
  }
  return out;
}
