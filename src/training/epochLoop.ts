/**
 * One training epoch at a time, with what issue 6 adds around the paper's loop, each off by
 * default: a learning-rate schedule, an EMA of the weights, the divergence guard, and validation on
 * synthetic defects that can choose the model. The paper's configuration runs exactly the plain
 * loop: constant rates, final weights.
 */
import type { Reporter } from '../core/progress.js';
import type { HeadParams } from '../heads/params.js';
import type { Rng } from '../core/rng.js';
import type { TrainStep } from '../heads/trainStep.js';
import type { SimpleNetConfig } from '../model/config.js';
import type { EpochLog } from '../model/modelDir.js';
import type { SyntheticValidation } from '../validation/syntheticValidation.js';
import type { LoopState, TrainCheckpoint } from './checkpoint.js';

export type { LoopState } from './checkpoint.js';
import { ParamsEma } from './ema.js';
import type { FeatureCache } from '../embedding/featureCache.js';
import { DivergenceGuard, type GuardEvent } from './guard.js';
import { batchFactors } from './localScale.js';
import type { SyntheticFakes } from './syntheticFakes.js';
import { lrFactor, noiseFactor } from './schedule.js';

export interface Selection {
  by: 'final' | 'validation';
  epoch: number;
  /** Validation image AUROC + patch AUROC of the chosen weights (when validated). */
  score?: number;
}

export class EpochLoop {
  readonly log: EpochLog[];
  private readonly order: number[];
  private readonly guard?: DivergenceGuard;
  private ema?: ParamsEma;
  private best?: { epoch: number; score: number; params: HeadParams };
  private lastEpoch = 0;

  constructor(
    private readonly o: {
      config: SimpleNetConfig;
      step: TrainStep;
      cache: FeatureCache;
      rng: Rng;
      reporter: Reporter;
      validation?: SyntheticValidation;
      state: LoopState;
      stepsPerEpoch: number;
      /** Checked before every step: an aborted run stops there (its last checkpoint stays). */
      signal?: AbortSignal;
      /** Each cached row's σ factor (`head.noiseLocality` > 0; localScale.ts), image-major. */
      rowScales?: Float32Array;
      /** Image-level fakes (`train.syntheticFakes`), given to every step for its images' rows. */
      givenFakes?: SyntheticFakes;
    },
  ) {
    const t = o.config.train;
    this.log = [...o.state.log];
    this.order = o.state.order;
    if (t.guard.enabled) this.guard = new DivergenceGuard(t.guard, o.state.resumed?.lrScale ?? 1);
    if (t.ema > 0) this.ema = new ParamsEma(o.state.resumed?.ema ?? o.step.params(), t.ema);
    this.best = o.state.resumed?.best;
  }

  get guardEvents(): GuardEvent[] {
    return this.guard?.events ?? [];
  }

  currentParams(): HeadParams {
    return this.ema ? this.ema.params() : this.o.step.params();
  }

  async runEpoch(epoch: number): Promise<EpochLog> {
    const { config, step, cache, rng, reporter, stepsPerEpoch } = this.o;
    const t = config.train;
    const start = Date.now();
    rng.shuffle(this.order);
    let loss = 0;
    let pTrue = 0;
    let pFake = 0;
    let factor = 1;
    const bar = reporter.bar(`epoch ${epoch}/${t.epochs}`, stepsPerEpoch);
    const totalSteps = t.epochs * stepsPerEpoch;
    const ring = this.o.givenFakes?.keepsReals ? this.o.givenFakes : undefined;
    for (let b = 0, k = 0; b < this.order.length; b += t.batchSize, k++) {
      this.o.signal?.throwIfAborted();
      const global = (epoch - 1) * stepsPerEpoch + k;
      factor = lrFactor(global, totalSteps, stepsPerEpoch, { kind: t.schedule, minFactor: t.minLrFactor, warmupEpochs: t.warmupEpochs });
      factor *= this.guard?.lrScale ?? 1;
      const images = this.order.slice(b, b + t.batchSize);
      const r = await step.step(cache.batch(images), {
        adaptorLr: config.head.adaptorLr * factor,
        discLr: config.head.discLr * factor,
        noiseFactor: noiseFactor(global, totalSteps, t.noiseDecay),
        ...(this.o.rowScales ? { noiseRowScale: batchFactors(this.o.rowScales, images, cache.rowsPerImage) } : {}),
        ...(this.o.givenFakes ? { givenFakes: this.o.givenFakes.batch(images) } : {}),
        ...(ring ? { givenReals: ring.reals(images) } : {}),
      });
      if (!Number.isFinite(r.loss) && !this.guard) throw new Error(`training diverged: loss is ${r.loss} at epoch ${epoch}`);
      loss += r.loss;
      pTrue += r.pTrue;
      pFake += r.pFake;
      this.ema?.update(step.params());
      bar.tick(1, `loss ${r.loss.toFixed(4)}`);
    }
    const e: EpochLog = { epoch, loss: loss / stepsPerEpoch, pTrue: pTrue / stepsPerEpoch, pFake: pFake / stepsPerEpoch, seconds: 0, lrFactor: factor };
    let info = `loss ${e.loss.toFixed(4)} p_true ${e.pTrue.toFixed(3)} p_fake ${e.pFake.toFixed(3)}`;
    if (this.guard?.afterEpoch(epoch, e.loss, step)) {
      const ev = this.guard.events.at(-1)!;
      e.event = `rollback to epoch ${ev.restoredEpoch}, learning rates ×${ev.lrScale}`;
      info += `; ${e.event}`;
      if (this.ema) this.ema = new ParamsEma(step.params(), t.ema);
    }
    const v = this.o.validation;
    if (v && (epoch % config.validation.every === 0 || epoch === t.epochs)) {
      const params = this.currentParams();
      const r = await v.evaluate(params);
      e.valImageAuroc = r.imageAuroc;
      e.valPatchAuroc = r.patchAuroc;
      if (Number.isFinite(r.patchAupro)) e.valPatchAupro = r.patchAupro;
      info += ` val image AUROC ${r.imageAuroc.toFixed(4)} patch AUROC ${r.patchAuroc.toFixed(4)} AUPRO ${r.patchAupro.toFixed(4)}`;
      if (t.select === 'validation' && (!this.best || r.score > this.best.score)) this.best = { epoch, score: r.score, params };
    }
    e.seconds = (Date.now() - start) / 1000;
    this.log.push(e);
    this.lastEpoch = epoch;
    bar.done(info);
    reporter.event?.({
      type: 'epoch',
      epoch,
      epochs: t.epochs,
      loss: e.loss,
      pTrue: e.pTrue,
      pFake: e.pFake,
      seconds: e.seconds,
      ...(e.valImageAuroc !== undefined ? { valImageAuroc: e.valImageAuroc, valPatchAuroc: e.valPatchAuroc } : {}),
    });
    return e;
  }

  /** The model: the best-by-validation weights when asked for, else the final ones. */
  chosen(): { params: HeadParams; selected: Selection } {
    if (this.o.config.train.select === 'validation' && this.best) {
      return { params: this.best.params, selected: { by: 'validation', epoch: this.best.epoch, score: this.best.score } };
    }
    return { params: this.currentParams(), selected: { by: 'final', epoch: this.lastEpoch } };
  }

  checkpointState(epoch: number): Omit<TrainCheckpoint, 'fingerprint' | 'resumedAt'> {
    const { step, rng } = this.o;
    return {
      epoch,
      rng: rng.getState(),
      order: this.order,
      log: this.log,
      params: step.params(),
      optimizer: step.optimizerState(),
      lrScale: this.guard?.lrScale ?? 1,
      ...(this.best ? { best: this.best } : {}),
      ...(this.ema ? { ema: this.ema.params() } : {}),
    };
  }
}
