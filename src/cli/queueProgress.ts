/**
 * One progress line per running queue job: on a terminal the lines are redrawn in place; elsewhere
 * (CI, a log file) a job's line is printed when its task changes or an epoch ends, and at most
 * every few seconds otherwise, so a log of a long run stays readable.
 */
import type { QueueProgress } from '../queue/queueOptions.js';

const PLAIN_EVERY_MS = 5000;

function describe(label: string, p: QueueProgress): string {
  const r = p.progress;
  const task = r.task ? `${r.task}${r.steps > 0 ? ` ${r.step}/${r.steps}` : ''}` : 'starting';
  const epoch = r.epochs > 0 ? ` · epoch ${r.epoch}/${r.epochs}` : '';
  const loss = r.loss !== undefined ? ` · loss ${r.loss.toFixed(4)}` : '';
  return `${label}: ${task}${epoch}${loss}${p.worker ? ` · ${p.worker}` : ''}`;
}

export class QueueProgressLines {
  private readonly lines = new Map<string, string>();
  private readonly lastPlain = new Map<string, { at: number; task?: string; epoch: number }>();
  private drawn = 0;
  private readonly tty: boolean;

  constructor(
    private readonly labels: ReadonlyMap<string, string>,
    private readonly stream: NodeJS.WriteStream = process.stderr,
  ) {
    this.tty = Boolean(stream.isTTY) && process.env.CI !== 'true';
  }

  update(id: string, p: QueueProgress): void {
    const line = describe(this.labels.get(id) ?? `job ${id}`, p);
    this.lines.set(id, line);
    if (this.tty) {
      this.redraw();
      return;
    }
    const last = this.lastPlain.get(id);
    const now = Date.now();
    if (!last || last.task !== p.progress.task || last.epoch !== p.progress.epoch || now - last.at >= PLAIN_EVERY_MS) {
      this.lastPlain.set(id, { at: now, task: p.progress.task, epoch: p.progress.epoch });
      this.stream.write(`${line}\n`);
    }
  }

  /** The job is finished: its line is printed once more with `status` and leaves the block. */
  finish(id: string, status: string): void {
    const label = this.labels.get(id) ?? `job ${id}`;
    this.lines.delete(id);
    if (this.tty) this.clear();
    this.stream.write(`${label}: ${status}\n`);
    if (this.tty) this.redraw();
  }

  private clear(): void {
    if (this.drawn > 0) this.stream.write(`\x1b[${this.drawn}F\x1b[J`);
    this.drawn = 0;
  }

  private redraw(): void {
    this.clear();
    for (const line of this.lines.values()) this.stream.write(`${line.slice(0, (this.stream.columns ?? 120) - 1)}\n`);
    this.drawn = this.lines.size;
  }
}
