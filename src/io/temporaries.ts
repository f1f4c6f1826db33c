/**
 * Our temporaries beside an output: `.<name>.sn-<host>-<pid>-<random>.tmp` (being written) and
 * `.<name>.sn-<host>-<pid>-<random>.old` (the previous output, moved aside while the new one is
 * renamed in). The name carries who made it, so a later run can tell a temporary of a process
 * that died (kill -9, power loss) from one that another run is still writing, and clean only the
 * first kind; `<host>` keeps a run on one machine from judging pids of another that shares the
 * folder. A live process removes its own on SIGINT/SIGTERM through `removeLiveTemporariesSync`.
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, renameSync, rmSync } from 'node:fs';
import { readdir, rename, rm } from 'node:fs/promises';
import { hostname } from 'node:os';
import { basename, dirname, join } from 'node:path';

const HOST = createHash('sha256').update(hostname()).digest('hex').slice(0, 6);
const PATTERN = /^\.(.+)\.sn-([0-9a-f]{6})-(\d+)-([0-9a-f]{8})\.(tmp|old)$/;

export type TemporaryKind = 'tmp' | 'old';

/** A fresh temporary name beside `path` for this process. */
export function temporaryPath(path: string, kind: TemporaryKind): string {
  return join(dirname(path), `.${basename(path)}.sn-${HOST}-${process.pid}-${randomBytes(4).toString('hex')}.${kind}`);
}

/** What a temporary's name says: the output it belongs to, the process that made it, its kind. */
export function parseTemporary(name: string): { target: string; host: string; pid: number; kind: TemporaryKind } | undefined {
  const m = PATTERN.exec(name);
  return m ? { target: m[1], host: m[2], pid: Number(m[3]), kind: m[5] as TemporaryKind } : undefined;
}

function processAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: it exists but belongs to someone else.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Temporaries this process is writing now, with the output each belongs to. */
const live = new Map<string, { kind: TemporaryKind; target: string }>();

export function trackTemporary(tmp: string, kind: TemporaryKind, target: string): void {
  live.set(tmp, { kind, target });
}

export function untrackTemporary(tmp: string): void {
  live.delete(tmp);
}

/**
 * Removes this process's temporaries, for a signal handler (synchronous: the process exits right
 * after). A previous output moved aside is put back when nothing has replaced it yet.
 */
export function removeLiveTemporariesSync(): void {
  for (const [tmp, { kind, target }] of live) {
    try {
      if (kind === 'old' && !existsSync(target)) renameSync(tmp, target);
      else rmSync(tmp, { recursive: true, force: true });
    } catch {
      // Best effort while exiting; the next run's cleanStaleTemporaries finishes the job.
    }
  }
  live.clear();
}

/**
 * Cleans the temporaries that dead processes of this machine left in `dir`: a `.tmp` is removed; an
 * `.old` is the complete previous output, so it is renamed back when its output is missing (the
 * process died between the two renames of a replacement) and removed otherwise. Anything else,
 * including temporaries of live processes and of other machines, is left alone.
 * @returns the paths removed or restored.
 */
export async function cleanStaleTemporaries(dir: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  const done: string[] = [];
  // `.old` first: restoring an output must happen before anything else looks at it.
  const stale = names
    .map((name) => ({ name, t: parseTemporary(name) }))
    .filter((x) => x.t && x.t.host === HOST && !processAlive(x.t.pid))
    .sort((a, b) => (a.t!.kind === b.t!.kind ? 0 : a.t!.kind === 'old' ? -1 : 1));
  for (const { name, t } of stale) {
    const path = join(dir, name);
    const target = join(dir, t!.target);
    try {
      if (t!.kind === 'old' && !existsSync(target)) await rename(path, target);
      else await rm(path, { recursive: true, force: true });
      done.push(path);
    } catch {
      // Another run may be cleaning the same folder; whatever is left, it or the next run removes.
    }
  }
  return done;
}
