/**
 * How the library tells its caller what it is doing, without printing anything itself: a
 * `Reporter` (bars, lines, warnings; the CLI's prints them on stderr) and the same as typed
 * `ProgressEvent`s for programs (`eventReporter`), plus structured events such as an epoch's
 * numbers through the optional `event` method.
 */

/**
 * One task's progress, from `Reporter.bar`: tick as items (or bytes) are done, then `done`.
 * @example
 * const bar = reporter.bar('features', paths.length);
 * for (const p of paths) { await work(p); bar.tick(1, p); }
 * bar.done();
 */
export interface ProgressBar {
  /** `n` more items done (default 1); `info` is a short note for the current item. */
  tick(n?: number, info?: string): void;
  /** The task has finished; `info` is a closing note. */
  done(info?: string): void;
}

/**
 * How a progress bar counts: items (default) or bytes, and what was done before it started.
 * @example const bar = reporter.bar('weights', totalBytes, { bytes: true, initial: resumedBytes });
 */
export interface BarOptions {
  /** Counts are bytes: shown as MB with a MB/s rate (downloads). A total of 0 means unknown. */
  bytes?: boolean;
  /** Already done before this bar started (a resumed download): shown, but not counted in the rate. */
  initial?: number;
}

/**
 * Where the library's long tasks report to, without printing anything themselves: progress bars,
 * information lines, warnings and structured epoch events. The CLI's prints on stderr; programs
 * usually pass `onProgress` instead, which gets the same as `ProgressEvent`s.
 * @example
 * const reporter: Reporter = { bar: () => ({ tick() {}, done() {} }), line: console.log, warn: console.warn };
 * await train({ data, backbone: 'mobilenet_v2', out: 'runs/bottle', reporter });
 */
export interface Reporter {
  /** Starts a progress bar for a task of `total` items (or bytes). */
  bar(label: string, total: number, opts?: BarOptions): ProgressBar;
  /** A line of information (epoch summaries). */
  line(text: string): void;
  /** Something the user must see even with --quiet (printed as 'warning: ...'). */
  warn(text: string): void;
  /** A structured event (an epoch's numbers) for programs; printers may ignore it. */
  event?(e: EpochEvent): void;
}

export const silentReporter: Reporter = {
  bar: () => ({ tick() {}, done() {} }),
  line() {},
  warn() {},
};

/**
 * What a program receives through `onProgress` (`train`, `Detector.load`, `Detector.evaluate`): a
 * task's start, progress and end, information lines, warnings and finished epochs.
 * @example
 * const onProgress = (e: ProgressEvent) => {
 *   if (e.type === 'progress') console.log(`${e.task} ${e.done}/${e.total}`);
 *   else if (e.type === 'warning') console.warn(e.message);
 * };
 */
export type ProgressEvent =
  | { type: 'start'; task: string; total: number; unit: 'items' | 'bytes' }
  | { type: 'progress'; task: string; done: number; total: number; info?: string }
  | { type: 'end'; task: string; done: number; info?: string }
  | { type: 'info'; message: string }
  | { type: 'warning'; message: string }
  | EpochEvent;

/**
 * One finished training epoch: its loss, the discriminator's mean outputs on real and fake
 * features, and the synthetic-defect validation when it ran this epoch.
 * @example
 * await train({ ...opts, onProgress: (e) => { if (e.type === 'epoch') console.log(`${e.epoch}/${e.epochs} loss ${e.loss.toFixed(4)}`); } });
 */
export interface EpochEvent {
  type: 'epoch';
  /** The epoch just finished, from 1. */
  epoch: number;
  /** Epochs in the run. */
  epochs: number;
  /** Mean training loss of the epoch. */
  loss: number;
  /** Share of real (adapted) features the discriminator scored at or above the margin. */
  pTrue: number;
  /** Share of fake (noised) features the discriminator scored below −margin. */
  pFake: number;
  /** Wall time of the epoch. */
  seconds: number;
  /** Image AUROC on the held-out good images and their synthetic-defect copies, when validated. */
  valImageAuroc?: number;
  /** Patch AUROC of the same validation, when validated. */
  valPatchAuroc?: number;
}

/**
 * A Reporter that turns everything into ProgressEvents for `onProgress`.
 * @example const reporter = eventReporter((e) => { if (e.type === 'epoch') console.log(e.epoch, e.loss); });
 */
export function eventReporter(onProgress: (e: ProgressEvent) => void): Reporter {
  return {
    bar(task, total, opts = {}) {
      let done = opts.initial ?? 0;
      onProgress({ type: 'start', task, total, unit: opts.bytes ? 'bytes' : 'items' });
      return {
        tick(n = 1, info) {
          done += n;
          onProgress({ type: 'progress', task, done, total, ...(info !== undefined ? { info } : {}) });
        },
        done(info) {
          onProgress({ type: 'end', task, done, ...(info !== undefined ? { info } : {}) });
        },
      };
    },
    line: (message) => onProgress({ type: 'info', message }),
    warn: (message) => onProgress({ type: 'warning', message }),
    event: (e) => onProgress(e),
  };
}

/**
 * A message as one line: parsers (JSON, YAML) quote the offending source with line breaks and a
 * caret; an error of ours is one line naming the file (README, "Your files are safe").
 * @example throw new Error(`${path}: not valid JSON (${oneLine((e as Error).message)})`);
 */
export function oneLine(message: string): string {
  return message.replace(/\s+/g, ' ').trim();
}
