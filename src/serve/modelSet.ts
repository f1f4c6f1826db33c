/**
 * The models a server holds, by name, each with its Detector and micro-batcher. Names come from the
 * command line (`--model name=dir`, or the folder's name) or from the model folders inside
 * `--models-dir`; a request can only pick one of these names, so no path from a request ever
 * reaches the file system. `reload` opens and warms the new set before swapping it in; requests
 * that hold a model finish on it, and it is closed once they have.
 */
import { readdirSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { Detector } from '../api/detector.js';
import { type SessionOptions, sideBySideSession } from '../onnx/session.js';
import type { Precision } from '../scoring/precision.js';
import { isFolderOf } from '../io/artefacts.js';
import { type BatcherOptions, MicroBatcher } from './batcher.js';

export interface ModelSource {
  name: string;
  dir: string;
}

export interface ServedModel {
  name: string;
  dir: string;
  detector: Detector;
  batcher: MicroBatcher;
  /** The exported graph, built on the first request for it. */
  exported?: Promise<Uint8Array>;
}

/**
 * The service's onnxruntime settings for `workers` worker threads per model (default 2) of
 * `threads` onnxruntime threads each (default: the cores shared out among the workers):
 * onnx/sessionOptions.ts `sideBySideSession`. In workers the event loop also keeps reading requests
 * and starting decodes while a graph runs. Measured in the README's service section (issue 14).
 * @throws RangeError when `workers` or `threads` is not a non-negative integer.
 * @example const session = serveSession(2); // { workers: 2, intraOpThreads: cores / 2, spinning: false, memoryArena: true }
 */
export function serveSession(workers = 2, threads?: number): SessionOptions {
  return sideBySideSession(workers, threads);
}

/** `serveSession()`: what `simplenet serve` runs with unless told otherwise. */
export const SERVE_SESSION: SessionOptions = serveSession();

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

/**
 * `--model` values (`dir` or `name=dir`) and `--models-dir` folders as named sources. Hidden
 * entries of a models folder (the jobs folder, temporaries of a model being written) are skipped.
 * @throws Error naming a bad name, a duplicate, or a folder that is not a simplenet model; and,
 * unless `allowEmpty` (a server that trains its models), when there is no model at all.
 * @example modelSources(['runs/bottle', 'cable=runs/cable'], []);
 */
export function modelSources(models: readonly string[], modelsDirs: readonly string[], allowEmpty = false): ModelSource[] {
  const out: ModelSource[] = [];
  for (const m of models) {
    const eq = m.indexOf('=');
    const [name, dir] = eq > 0 ? [m.slice(0, eq), m.slice(eq + 1)] : [basename(resolve(m)), m];
    out.push({ name, dir });
  }
  for (const d of modelsDirs) {
    let names: string[];
    try {
      names = readdirSync(d).sort();
    } catch (e) {
      throw new Error(`${d}: cannot list the models folder (${(e as Error).message})`);
    }
    for (const n of names) {
      if (n.startsWith('.')) continue;
      const dir = join(d, n);
      if (statSync(dir).isDirectory() && isFolderOf(dir, 'model')) out.push({ name: n, dir });
    }
  }
  const seen = new Set<string>();
  for (const s of out) {
    if (!NAME.test(s.name))
      throw new Error(`model name '${s.name}' (${s.dir}): use letters, digits, '.', '_' and '-' (at most 64), or give one with --model <name>=<dir>`);
    if (seen.has(s.name)) throw new Error(`two models are named '${s.name}'; give one another name with --model <name>=<dir>`);
    seen.add(s.name);
  }
  if (out.length === 0 && !allowEmpty) throw new Error('no models to serve: give --model <dir> or --models-dir <dir>');
  return out;
}

export class ModelSet {
  private models = new Map<string, ServedModel>();
  private leases = new Map<ServedModel, number>();
  private retired = new Set<ServedModel>();
  /** `load` and `add` one at a time: each swaps in a map built from the one before. */
  private swapping: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly sources: () => ModelSource[],
    private readonly batcher: Omit<BatcherOptions, 'onBatch'> & { onBatch?: (model: string, size: number, seconds: number) => void },
    /** The backbone's arithmetic of every served model (default 'fp32'). */
    private readonly precision: Precision = 'fp32',
    /** onnxruntime settings of every served model's session (default: SERVE_SESSION). */
    private readonly session: SessionOptions = SERVE_SESSION,
  ) {}

  /** Opens and warms every model (the first call), or a new set that replaces the old one (reload). */
  load(): Promise<string[]> {
    return this.exclusive(() => this.loadAll());
  }

  /**
   * Opens and warms one model and serves it under its name, replacing a model of that name (a
   * newly trained one); the others are untouched. Requests in flight finish on the old one.
   */
  add(source: ModelSource): Promise<void> {
    return this.exclusive(async () => {
      const m = await this.open(source);
      const next = new Map(this.models);
      const old = next.get(source.name);
      next.set(source.name, m);
      this.models = next;
      if (old) this.retire(old);
    });
  }

  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.swapping.then(fn, fn);
    this.swapping = run.catch(() => undefined);
    return run;
  }

  private async loadAll(): Promise<string[]> {
    const next = new Map<string, ServedModel>();
    try {
      for (const s of this.sources()) next.set(s.name, await this.open(s));
    } catch (e) {
      for (const m of next.values()) await m.detector.close();
      throw e;
    }
    const old = [...this.models.values()];
    this.models = next;
    for (const m of old) this.retire(m);
    return [...next.keys()];
  }

  names(): string[] {
    return [...this.models.keys()];
  }

  /** The model for a request; `release` it when the request is done with it. */
  acquire(name: string): ServedModel | undefined {
    const m = this.models.get(name);
    if (m) this.leases.set(m, (this.leases.get(m) ?? 0) + 1);
    return m;
  }

  release(m: ServedModel): void {
    const n = (this.leases.get(m) ?? 1) - 1;
    if (n > 0) this.leases.set(m, n);
    else {
      this.leases.delete(m);
      if (this.retired.has(m)) void this.closeWhenIdle(m);
    }
  }

  /** Images waiting in every model's queue. */
  depth(): number {
    let d = 0;
    for (const m of this.models.values()) d += m.batcher.depth;
    return d;
  }

  async close(): Promise<void> {
    const all = [...this.models.values(), ...this.retired];
    this.models = new Map();
    await Promise.all(all.map((m) => m.batcher.idle().then(() => m.detector.close())));
  }

  private async open(s: ModelSource): Promise<ServedModel> {
    const detector = await Detector.load(s.dir, { withCrop: true, precision: this.precision, session: this.session });
    const batcher = new MicroBatcher((images) => detector.scoreBatch(images), {
      ...this.batcher,
      concurrency: Math.max(1, this.session.workers ?? 0),
      onBatch: (size, seconds) => this.batcher.onBatch?.(s.name, size, seconds),
    });
    // Warm-up: build the session and run the graph once per worker, so no first request is the slow one.
    const size = detector.info.mapSize;
    const grey = { data: new Uint8Array(size * size * 3).fill(128), width: size, height: size, channels: 3 as const, source: 'warm-up' };
    await Promise.all(Array.from({ length: Math.max(1, this.session.workers ?? 0) }, () => detector.scoreBatch([grey])));
    return { name: s.name, dir: s.dir, detector, batcher };
  }

  private retire(m: ServedModel): void {
    this.retired.add(m);
    if (!this.leases.has(m)) void this.closeWhenIdle(m);
  }

  private async closeWhenIdle(m: ServedModel): Promise<void> {
    await m.batcher.idle();
    if (this.leases.has(m) || !this.retired.delete(m)) return;
    await m.detector.close();
  }
}
