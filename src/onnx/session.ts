/**
 * The only place that talks to onnxruntime-node: sessions from model bytes, runs with named feeds,
 * results as plain host tensors.
 */
import * as ort from 'onnxruntime-node';
import type { DType, HostTensor } from './tensor.js';
import { type WireTensor, WorkerSessions } from './workerSessions.js';

/**
 * onnxruntime-node's tensor, as sessions return it (`FeatureExtractor.extract` gives one). Its
 * `data` is a typed array, `dims` its shape.
 * @example const features: OrtTensor = await extractor.extract(images); console.log(features.dims);
 */
export type OrtTensor = ort.Tensor;

// onnxruntime-node 1.30's native library starts a telemetry client with its first session, which
// leaves an empty `mat-debug-<pid>.log` and a `.ses` file in the temp folder of every process
// (issue 11, row 11). It reads this variable then; a user's own setting wins.
process.env.ORT_DISABLE_TELEMETRY ??= '1';

/**
 * onnxruntime settings for a detector's session: threads and graph optimisation. Both optional.
 * @example const detector = await Detector.load('runs/bottle', { session: { intraOpThreads: 4, optimization: 'all' } });
 */
export interface SessionOptions {
  /** Threads for one operator; defaults to onnxruntime's choice (all cores). */
  intraOpThreads?: number;
  /** 'all' lets onnxruntime fuse ops; 'basic' keeps the graph as built (used by fidelity tests). Default 'all'. */
  optimization?: 'disabled' | 'basic' | 'extended' | 'all';
  /**
   * onnxruntime's CPU memory arena (default true): buffers are kept for the next run, fastest for
   * one input shape; false returns them after each run, so memory follows the current batch
   * instead of the largest batch seen (the service, whose batches vary).
   */
  memoryArena?: boolean;
  /**
   * Whether idle intra-op threads spin waiting for work (default true, onnxruntime's own default):
   * lowest latency for one caller; false leaves the cores to other work between operators (image
   * decoding in the service).
   */
  spinning?: boolean;
  /**
   * Worker threads that run the graph, each with its own copy of the session (memory grows with
   * the weights × workers). Default 0: runs hold the calling thread, as onnxruntime-node's `run`
   * does. With workers the event loop stays free while a graph runs, and up to `workers` runs are
   * in flight at once (the service: `simplenet serve --workers`); `intraOpThreads` applies to each.
   */
  workers?: number;
}

/**
 * Settings only the library sets. memoryPattern false: onnxruntime then does not plan one block per
 * input shape on top of what its arena already holds from the first run. For the training step
 * (64 MB per [10368, 1536] intermediate, about twenty of them) that pair was 1.3 GiB against 0.75
 * without it (issue 16), for the same numbers: where a buffer lives changes no arithmetic.
 */
export interface InternalSessionOptions extends SessionOptions {
  memoryPattern?: boolean;
}

/** What runs the graph: onnxruntime's session on this thread, or a pool of worker threads. */
interface Runner {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  run(feeds: Record<string, ort.Tensor>, fetches?: string[]): Promise<Record<string, ort.Tensor>>;
  release(): Promise<void>;
}

function inWorkers(pool: WorkerSessions): Runner {
  const wire = (t: ort.Tensor): WireTensor => ({ type: t.type, dims: [...t.dims], data: t.data as WireTensor['data'] });
  return {
    inputNames: pool.inputNames,
    outputNames: pool.outputNames,
    async run(feeds, fetches) {
      const f: Record<string, WireTensor> = {};
      for (const [k, v] of Object.entries(feeds)) f[k] = wire(v);
      const out = await pool.run(f, fetches);
      const r: Record<string, ort.Tensor> = {};
      for (const [k, t] of Object.entries(out)) r[k] = new ort.Tensor(t.type as ort.Tensor.Type, t.data as never, t.dims);
      return r;
    },
    release: () => pool.release(),
  };
}

export class Session {
  private constructor(
    private readonly inner: Runner,
    readonly label: string,
  ) {}

  static async create(model: Uint8Array | string, label: string, opts: InternalSessionOptions = {}): Promise<Session> {
    const options: ort.InferenceSession.SessionOptions = {
      graphOptimizationLevel: opts.optimization ?? 'all',
      executionMode: 'sequential',
    };
    if (opts.memoryPattern === false) options.enableMemPattern = false;
    if (opts.intraOpThreads) options.intraOpNumThreads = opts.intraOpThreads;
    if (opts.memoryArena === false) options.enableCpuMemArena = false;
    if (opts.spinning === false) options.extra = { session: { intra_op: { allow_spinning: '0' } } };
    if (opts.workers) return new Session(inWorkers(await WorkerSessions.create(model, options, opts.workers, label)), label);
    try {
      const s = typeof model === 'string' ? await ort.InferenceSession.create(model, options) : await ort.InferenceSession.create(model, options);
      return new Session(s as Runner, label);
    } catch (e) {
      throw new Error(`${label}: onnxruntime could not load the model: ${(e as Error).message}`);
    }
  }

  get inputNames(): readonly string[] {
    return this.inner.inputNames;
  }

  get outputNames(): readonly string[] {
    return this.inner.outputNames;
  }

  async run(feeds: Record<string, HostTensor | OrtTensor>, fetches?: string[]): Promise<Record<string, OrtTensor>> {
    const f: Record<string, ort.Tensor> = {};
    for (const [k, v] of Object.entries(feeds)) f[k] = v instanceof ort.Tensor ? v : toOrt(v as HostTensor);
    try {
      return fetches ? await this.inner.run(f, fetches) : await this.inner.run(f);
    } catch (e) {
      const message = (e as Error).message;
      throw new Error(message.startsWith(`${this.label}: `) ? message : `${this.label}: ${message}`);
    }
  }

  async release(): Promise<void> {
    await this.inner.release();
  }
}

export function toOrt(t: HostTensor): ort.Tensor {
  return new ort.Tensor(t.dtype as ort.Tensor.Type, t.data as never, [...t.dims]);
}

export function fromOrt(t: ort.Tensor): HostTensor {
  return { dtype: t.type as DType, dims: [...t.dims], data: t.data as never };
}

export function ortTensor(dtype: DType, dims: readonly number[], data: HostTensor['data']): ort.Tensor {
  return new ort.Tensor(dtype as ort.Tensor.Type, data as never, [...dims]);
}
