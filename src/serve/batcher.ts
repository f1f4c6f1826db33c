/**
 * Micro-batching for one model: images that arrive while the graph is busy (or within
 * `maxWaitMs` of an idle graph) are scored together, up to `maxBatch` per run, through the
 * Detector's one scoring graph and its dynamic batch axis; up to `concurrency` runs are in flight
 * at once (the session's worker threads). The queue is bounded: `submit` refuses at once when
 * `queueLimit` images are waiting, so overload becomes 503s instead of memory.
 */
import type { ScoreResult } from '../api/detector.js';
import type { DecodedImage } from '../images/decode.js';

export class QueueFullError extends Error {
  override name = 'QueueFullError';
}

export interface BatcherOptions {
  /** Images per run of the graph (default 8). */
  maxBatch: number;
  /** How long an idle batcher waits for more images before running (default 10 ms). */
  maxWaitMs: number;
  /** Images allowed to wait (default 64); more are refused with QueueFullError. */
  queueLimit: number;
  /** Runs of the graph in flight at once (default 1): the session's workers (`SessionOptions.workers`). */
  concurrency?: number;
  /** Sizes of the batches run, for the batch-size histogram. */
  onBatch?: (size: number, seconds: number) => void;
}

interface Pending {
  image: DecodedImage;
  resolve: (r: ScoreResult) => void;
  reject: (e: Error) => void;
}

export class MicroBatcher {
  private readonly waiting: Pending[] = [];
  private running = 0;
  private timer: NodeJS.Timeout | undefined;
  private idleWaiters: (() => void)[] = [];

  constructor(
    private readonly run: (images: readonly DecodedImage[]) => Promise<ScoreResult[]>,
    private readonly opts: BatcherOptions,
  ) {}

  /** Images waiting for a run (the queue depth). */
  get depth(): number {
    return this.waiting.length;
  }

  /**
   * Queues an image; resolves with its result when its batch has run.
   * @throws QueueFullError (synchronously, as a rejected promise) when the queue is full.
   */
  submit(image: DecodedImage): Promise<ScoreResult> {
    if (this.waiting.length >= this.opts.queueLimit) return Promise.reject(new QueueFullError(`the queue is full (${this.opts.queueLimit} images waiting)`));
    return new Promise((resolve, reject) => {
      this.waiting.push({ image, resolve, reject });
      this.schedule();
    });
  }

  /** Resolves when nothing waits and nothing runs (a reload closes the old model then). */
  idle(): Promise<void> {
    if (this.running === 0 && this.waiting.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private get busy(): boolean {
    return this.running >= (this.opts.concurrency ?? 1);
  }

  private schedule(): void {
    if (this.busy) return;
    if (this.waiting.length >= this.opts.maxBatch) {
      this.start();
      return;
    }
    this.timer ??= setTimeout(() => this.start(), this.opts.maxWaitMs);
  }

  private start(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.busy || this.waiting.length === 0) return;
    // One image size per run of the graph: take the first image's size, up to maxBatch of them.
    const first = this.waiting[0].image;
    const batch: Pending[] = [];
    for (let i = 0; i < this.waiting.length && batch.length < this.opts.maxBatch; ) {
      const p = this.waiting[i];
      if (p.image.width === first.width && p.image.height === first.height) {
        batch.push(p);
        this.waiting.splice(i, 1);
      } else i++;
    }
    const t0 = performance.now();
    this.running++;
    const run = this.run(batch.map((p) => p.image)).then(
      (results) => {
        this.opts.onBatch?.(batch.length, (performance.now() - t0) / 1000);
        batch.forEach((p, i) => p.resolve(results[i]));
      },
      async (error: Error) => {
        // One bad image (a non-finite score) must not fail the others: score them one by one.
        if (batch.length === 1) return batch[0].reject(error);
        for (const p of batch) {
          try {
            p.resolve((await this.run([p.image]))[0]);
          } catch (e) {
            p.reject(e as Error);
          }
        }
      },
    );
    void run.finally(() => {
      this.running--;
      // Whatever arrived meanwhile runs at once: the graph was busy, so they have waited already.
      if (this.waiting.length > 0) this.start();
      else if (this.running === 0) {
        for (const w of this.idleWaiters.splice(0)) w();
      }
    });
    // A free worker takes the next images at once rather than after maxWaitMs.
    if (this.waiting.length > 0 && !this.busy) this.start();
  }
}
