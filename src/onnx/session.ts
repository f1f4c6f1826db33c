/**
 * The only place that talks to onnxruntime-node: sessions from model bytes, runs with named feeds,
 * results as plain host tensors.
 */
import * as ort from 'onnxruntime-node';
import type { InternalSessionOptions } from './sessionOptions.js';
import type { DType, HostTensor } from './tensor.js';
import { WorkerSessions } from './workerSessions.js';

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

export type { InternalSessionOptions, SessionOptions } from './sessionOptions.js';
export { sideBySideSession } from './sessionOptions.js';

/** What runs the graph: onnxruntime's session on this thread, or a pool of worker threads. */
interface Runner {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  run(feeds: Record<string, ort.Tensor>, fetches?: string[]): Promise<Record<string, ort.Tensor>>;
  release(): Promise<void>;
}

/** Host tensors cross the threads (sessionWorker.ts converts them the same way on its side). */
function inWorkers(pool: WorkerSessions): Runner {
  const map = <A, B>(o: Record<string, A>, f: (a: A) => B) => Object.fromEntries(Object.entries(o).map(([k, v]) => [k, f(v)]));
  return {
    inputNames: pool.inputNames,
    outputNames: pool.outputNames,
    run: async (feeds, fetches) => map(await pool.run(map(feeds, fromOrt), fetches), toOrt),
    release: () => pool.release(),
  };
}

export class Session {
  private constructor(
    private readonly inner: Runner,
    readonly label: string,
  ) {}

  static async create(model: Uint8Array | string, label: string, opts: InternalSessionOptions = {}): Promise<Session> {
    if (opts.workers) return new Session(inWorkers(await WorkerSessions.create(model, opts, opts.workers, label)), label);
    const options: ort.InferenceSession.SessionOptions = {
      graphOptimizationLevel: opts.optimization ?? 'all',
      executionMode: 'sequential',
    };
    if (opts.memoryPattern === false) options.enableMemPattern = false;
    if (opts.intraOpThreads) options.intraOpNumThreads = opts.intraOpThreads;
    if (opts.memoryArena === false) options.enableCpuMemArena = false;
    if (opts.spinning === false) options.extra = { session: { intra_op: { allow_spinning: '0' } } };
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
