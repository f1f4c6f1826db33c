/**
 * How the library tells its caller what it is doing, without printing anything itself: a
 * `Reporter` (bars, lines, warnings; the CLI's prints them on stderr) and the same as typed
 * `ProgressEvent`s for programs (`eventReporter`), plus structured events such as an epoch's
 * numbers through the optional `event` method.
 */

export interface ProgressBar {
  tick(n?: number, info?: string): void;
  done(info?: string): void;
}

export interface BarOptions {
  /** Counts are bytes: shown as MB with a MB/s rate (downloads). A total of 0 means unknown. */
  bytes?: boolean;
  /** Already done before this bar started (a resumed download): shown, but not counted in the rate. */
  initial?: number;
}

export interface Reporter {
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

/** What a program receives through `onProgress`. */
export type ProgressEvent =
  | { type: 'start'; task: string; total: number; unit: 'items' | 'bytes' }
  | { type: 'progress'; task: string; done: number; total: number; info?: string }
  | { type: 'end'; task: string; done: number; info?: string }
  | { type: 'info'; message: string }
  | { type: 'warning'; message: string }
  | EpochEvent;

/** One finished training epoch. */
export interface EpochEvent {
  type: 'epoch';
  epoch: number;
  epochs: number;
  loss: number;
  pTrue: number;
  pFake: number;
  seconds: number;
  valImageAuroc?: number;
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
