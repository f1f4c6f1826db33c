/**
 * A session that runs in worker threads (`SessionOptions.workers`): each worker holds its own
 * onnxruntime session of the same graph (sessionWorker.ts), and runs go to whichever worker is
 * free, in the order they were asked for. onnxruntime-node's `run` holds its calling thread for the
 * whole graph, so on the main thread a service can neither read requests nor start decoding while
 * a batch is scored; in workers it can, and with two workers two batches score at once.
 */
import { Worker } from 'node:worker_threads';
import type { InternalSessionOptions } from './sessionOptions.js';
import type { HostTensor } from './tensor.js';

/** What a worker is started with. */
export interface WorkerInit {
  model: Uint8Array | string;
  /** The pool's own options, for `Session.create` in the worker (without `workers`). */
  options: InternalSessionOptions;
  label: string;
}

export type WireRequest = { id: number; feeds: Record<string, HostTensor>; fetches?: string[]; close?: false } | { close: true };
export type WireResponse = { id: number; outputs: Record<string, HostTensor> } | { id: number; error: string };
type Ready = { ready: true; inputNames: string[]; outputNames: string[] } | { ready: false; error: string };

interface Job {
  id: number;
  feeds: Record<string, HostTensor>;
  fetches?: string[];
  resolve: (out: Record<string, HostTensor>) => void;
  reject: (e: Error) => void;
}

interface Slot {
  worker: Worker;
  job?: Job;
  dead?: Error;
}

/** The worker script beside this file (dist/src/onnx/sessionWorker.js once built). */
const WORKER_URL = new URL('./sessionWorker.js', import.meta.url);

export class WorkerSessions {
  private readonly queue: Job[] = [];
  private nextId = 0;
  private closing = false;

  private constructor(
    private readonly slots: Slot[],
    readonly inputNames: readonly string[],
    readonly outputNames: readonly string[],
    private readonly label: string,
  ) {
    for (const slot of slots) {
      slot.worker.on('message', (res: WireResponse) => this.done(slot, res));
      slot.worker.on('error', (e) => this.fail(slot, e));
      slot.worker.on('exit', (code) => {
        if (!this.closing) this.fail(slot, new Error(`its worker thread exited (code ${code})`));
      });
      // An idle worker does not keep the process alive (a Detector never closed must not hang it); a busy
      // one does. After the listeners: adding a 'message' listener refs the worker's port again.
      slot.worker.unref();
    }
  }

  /**
   * Starts `count` workers, each opening the graph as `Session.create(model, label, options)` does
   * on this thread; resolves when all are ready.
   * @throws Error naming `label` when a worker cannot open the graph (the others are stopped).
   */
  static async create(model: Uint8Array | string, options: InternalSessionOptions, count: number, label: string): Promise<WorkerSessions> {
    if (!Number.isInteger(count) || count < 1) throw new RangeError(`workers must be a positive integer, got ${count}`);
    const workers = Array.from(
      { length: count },
      () => new Worker(WORKER_URL, { workerData: { model, options: { ...options, workers: 0 }, label } satisfies WorkerInit }),
    );
    const ready = await Promise.allSettled(
      workers.map(
        (w) =>
          new Promise<Ready & { ready: true }>((resolve, reject) => {
            // Only this promise's own listeners come off: Worker keeps internal ones of its own.
            const off = () => {
              w.off('message', onMessage);
              w.off('error', onError);
              w.off('exit', onExit);
            };
            const onMessage = (m: Ready) => {
              off();
              if (m.ready) resolve(m);
              else reject(new Error(m.error));
            };
            const onError = (e: Error) => {
              off();
              reject(e);
            };
            const onExit = (code: number) => {
              off();
              reject(new Error(`its worker thread exited (code ${code}) before the graph was open`));
            };
            w.on('message', onMessage).on('error', onError).on('exit', onExit);
          }),
      ),
    );
    const failed = ready.find((r) => r.status === 'rejected');
    if (failed) {
      await Promise.all(workers.map((w) => w.terminate()));
      // Session.create in the worker names the graph already; a worker that died did not.
      const message = (failed.reason as Error).message;
      throw new Error(message.startsWith(`${label}: `) ? message : `${label}: onnxruntime could not load the model: ${message}`);
    }
    const first = (ready[0] as PromiseFulfilledResult<Ready & { ready: true }>).value;
    return new WorkerSessions(
      workers.map((worker) => ({ worker })),
      first.inputNames,
      first.outputNames,
      label,
    );
  }

  /** Runs the graph on the first free worker (feeds are copied to it, outputs moved back). */
  run(feeds: Record<string, HostTensor>, fetches?: string[]): Promise<Record<string, HostTensor>> {
    if (this.closing) return Promise.reject(new Error(`${this.label}: the session is released`));
    return new Promise((resolve, reject) => {
      this.queue.push({ id: this.nextId++, feeds, fetches, resolve, reject });
      this.dispatch();
    });
  }

  /** Finishes the runs already asked for, then stops every worker. */
  async release(): Promise<void> {
    if (this.closing) return;
    await Promise.allSettled(this.inFlight());
    this.closing = true;
    await Promise.all(
      this.slots.map((s) => {
        if (s.dead) return undefined;
        const exited = new Promise<void>((r) => s.worker.once('exit', () => r()));
        s.worker.ref();
        s.worker.postMessage({ close: true } satisfies WireRequest);
        return exited;
      }),
    );
  }

  private inFlight(): Promise<void>[] {
    const all = [...this.queue, ...this.slots.flatMap((s) => (s.job ? [s.job] : []))];
    return all.map(
      (j) =>
        new Promise<void>((r) => {
          const { resolve, reject } = j;
          j.resolve = (o) => {
            resolve(o);
            r();
          };
          j.reject = (e) => {
            reject(e);
            r();
          };
        }),
    );
  }

  private dispatch(): void {
    for (const slot of this.slots) {
      if (this.queue.length === 0) return;
      if (slot.job || slot.dead) continue;
      const job = this.queue.shift()!;
      slot.job = job;
      slot.worker.ref();
      slot.worker.postMessage({ id: job.id, feeds: job.feeds, fetches: job.fetches } satisfies WireRequest);
    }
    if (this.queue.length > 0 && this.slots.every((s) => s.dead)) {
      const why = this.slots[0].dead!.message;
      for (const job of this.queue.splice(0)) job.reject(new Error(`${this.label}: no worker left to run the graph (${why})`));
    }
  }

  private done(slot: Slot, res: WireResponse): void {
    const job = slot.job;
    slot.job = undefined;
    slot.worker.unref();
    if (job && job.id === res.id) {
      // The worker's Session.run names the graph in its errors already.
      if ('error' in res) job.reject(new Error(res.error));
      else job.resolve(res.outputs);
    }
    this.dispatch();
  }

  private fail(slot: Slot, e: Error): void {
    if (slot.dead) return;
    slot.dead = e;
    const job = slot.job;
    slot.job = undefined;
    job?.reject(new Error(`${this.label}: ${e.message}`));
    this.dispatch();
  }
}
