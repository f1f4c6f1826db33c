/**
 * Divergence guard: SimpleNet's discriminator can blow up mid-training (the loss jumps from ~0.99 to
 * 1.2 and the detector collapses; spec §6.6, issue 6). After each epoch the guard compares the
 * epoch's mean loss with the last accepted epoch's; on a rise above `spike` (or a non-finite loss)
 * it restores the weights and optimizer state of the last accepted epoch and lowers the learning
 * rates by `lrFactor`, at most `maxRollbacks` times.
 */
import type { HeadParams } from '../heads/params.js';
import type { HeadOptimizerState } from '../heads/trainStep.js';

export interface GuardOptions {
  /** Allowed rise of the epoch-mean loss over the last accepted epoch's. */
  spike: number;
  lrFactor: number;
  maxRollbacks: number;
}

/** What the guard needs of a training step. */
export interface Restorable {
  params(): HeadParams;
  optimizerState(): HeadOptimizerState;
  load(params?: HeadParams, optimizer?: HeadOptimizerState): void;
}

export interface GuardEvent {
  epoch: number;
  loss: number;
  restoredEpoch: number;
  lrScale: number;
}

export class DivergenceGuard {
  private snapshot: { epoch: number; loss: number; params: HeadParams; optimizer: HeadOptimizerState } | undefined;
  private scale: number;
  readonly events: GuardEvent[] = [];

  /** `lrScale`: the multiplier already in force (a resumed run). */
  constructor(
    private readonly opts: GuardOptions,
    lrScale = 1,
  ) {
    this.scale = lrScale;
  }

  /** The learning-rate multiplier after the rollbacks so far. */
  get lrScale(): number {
    return this.scale;
  }

  /** Call after every epoch; returns true when it rolled back. */
  afterEpoch(epoch: number, loss: number, step: Restorable): boolean {
    const s = this.snapshot;
    const diverged = !Number.isFinite(loss) || (s !== undefined && loss > s.loss + this.opts.spike);
    if (diverged && s && this.events.length < this.opts.maxRollbacks) {
      step.load(s.params, s.optimizer);
      this.scale *= this.opts.lrFactor;
      this.events.push({ epoch, loss, restoredEpoch: s.epoch, lrScale: this.scale });
      return true;
    }
    if (diverged && !s) throw new Error(`training diverged at epoch ${epoch} (loss ${loss}) before any epoch could be kept`);
    this.snapshot = { epoch, loss, params: step.params(), optimizer: step.optimizerState() };
    return false;
  }
}
