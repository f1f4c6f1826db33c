/**
 * Runs the one-graph training step and keeps every parameter, BN buffer and optimizer state as
 * onnxruntime tensors between steps: each step's outputs are fed straight back as the next
 * step's inputs, so no JS loop ever touches the ~10 M-element state.
 */
import type * as ort from 'onnxruntime-node';
import { type InternalSessionOptions, Session, type SessionOptions, ortTensor } from '../onnx/session.js';
import type { HostTensor } from '../onnx/tensor.js';
import { adamFactors } from './adamGraph.js';
import { type HeadConfig, headConfig } from './config.js';
import { checkHeadParams, type HeadParams, PARAM_NAMES, paramShapes, TRAINABLE } from './params.js';
import { buildStepGraph, expAvgName, expAvgSqName, NEXT, type NoiseSource, STATE_NAMES, STEP_IO, takesNoiseFactor, takesRowScale } from './stepGraph.js';

export interface TrainStepOptions {
  noise: NoiseSource;
  /** dtype of the features fed to step(); float16 is cast to float32 inside the graph. Default float32. */
  featureDtype?: 'float32' | 'float16';
  /** The run schedules σ: step() then takes `noiseFactor` (in-graph noise only). Default false. */
  noiseSchedule?: boolean;
  /** step() then takes `givenFakes` (`StepGraphOptions.givenFakes`). Default false. */
  givenFakes?: boolean;
  /** step() then takes `givenReals` (`StepGraphOptions.givenReals`). Default false. */
  givenReals?: boolean;
  /** The given reals' soft target (`StepGraphOptions.givenRealsTarget`); 'per-row': step() then takes `givenReals.targets`. Default 0. */
  givenRealsTarget?: number | 'per-row';
  session?: SessionOptions;
  /** onnxruntime's per-shape memory pattern (default false: see `InternalSessionOptions`); for benchmarks. */
  memoryPattern?: boolean;
}

/** Fakes (or reals) given to one step: the rows of the batch that take them and their offsets, [rows.length × D] row-major. */
export interface GivenFakes {
  rows: Int32Array;
  offsets: Float32Array;
  /** Given reals only, with `givenRealsTarget: 'per-row'`: each row's soft target in [0, 1). */
  targets?: Float32Array;
}

export interface StepResult {
  loss: number;
  pTrue: number;
  pFake: number;
}

/** Optimizer state for checkpoints: the step count t and exp_avg / exp_avg_sq per trainable param. */
export interface HeadOptimizerState {
  step: number;
  /** Keys `<param>.exp_avg` and `<param>.exp_avg_sq`, e.g. `adaptor.weight.exp_avg`. */
  tensors: Record<string, HostTensor<'float32'>>;
}

type FeatureTensor = HostTensor<'float32'> | HostTensor<'float16'> | ort.Tensor;

export class TrainStep {
  private t = 0;

  private constructor(
    readonly cfg: HeadConfig,
    private readonly session: Session,
    private readonly opts: Required<Pick<TrainStepOptions, 'noise' | 'featureDtype' | 'noiseSchedule' | 'givenFakes' | 'givenReals' | 'givenRealsTarget'>>,
    private state: Record<string, ort.Tensor>,
  ) {}

  /** Builds the graph for `cfg` and starts from `params` with zero optimizer state (t = 0). */
  static async create(cfg: HeadConfig, params: HeadParams, opts: TrainStepOptions): Promise<TrainStep> {
    cfg = headConfig(cfg); // validates every number before a graph is built from it
    checkHeadParams(params, cfg);
    const noise = opts?.noise;
    if (noise !== 'input' && !(typeof noise === 'object' && noise !== null && Number.isInteger(noise.seed))) {
      throw new TypeError(`TrainStep.create: opts.noise must be 'input' or {seed: integer}, got ${JSON.stringify(noise)}`);
    }
    const featureDtype = opts.featureDtype ?? 'float32';
    if (featureDtype !== 'float32' && featureDtype !== 'float16') {
      throw new TypeError(`TrainStep.create: opts.featureDtype must be 'float32' or 'float16', got ${String(featureDtype)}`);
    }
    const noiseSchedule = opts.noiseSchedule === true;
    const givenFakes = opts.givenFakes === true;
    const givenReals = opts.givenReals === true;
    const givenRealsTarget = opts.givenRealsTarget ?? 0;
    const model = buildStepGraph(cfg, { noise, featureDtype, noiseSchedule, givenFakes, givenReals, givenRealsTarget });
    // Issue 16: without the per-shape memory pattern the step's peak is 0.75 GiB instead of 1.3 at
    // bottle's 10,368 rows, with the same results (memoryPattern, session.ts).
    const stepSession: InternalSessionOptions = { ...opts.session, memoryPattern: opts.memoryPattern ?? false };
    const session = await Session.create(model, 'head training step', stepSession);
    const state: Record<string, ort.Tensor> = {};
    for (const name of PARAM_NAMES) state[name] = copyToOrt(params[name]);
    const shapes = paramShapes(cfg);
    for (const name of TRAINABLE) {
      state[expAvgName(name)] = zeros(shapes[name]);
      state[expAvgSqName(name)] = zeros(shapes[name]);
    }
    return new TrainStep(cfg, session, { noise, featureDtype, noiseSchedule, givenFakes, givenReals, givenRealsTarget }, state);
  }

  /** Optimizer steps taken so far (PyTorch's `state['step']`). */
  get stepCount(): number {
    return this.t;
  }

  /**
   * One optimizer step on a batch of features [R, D]. `noise` [R, D] float32 is required when the
   * step was created with noise 'input' and refused otherwise. Learning rates default to the config;
   * `noiseFactor` (default 1) scales in-graph noise's σ for this step when created with `noiseSchedule`
   * (ignored for noise fed as input); any other factor than 1 without a schedule is refused.
   * `noiseRowScale` [R] (finite, ≥ 0) is each row's factor on σ, required exactly when the config's
   * `noiseLocality` > 0 with in-graph noise of σ > 0 (training/localScale.ts). `givenFakes` (K
   * distinct row numbers in [0, R) and their offsets [K·D]; K may be 0) is required exactly when the
   * step was created with `givenFakes: true`; `givenReals` (the same form) exactly when created with
   * `givenReals: true`, with `targets` (K values in [0, 1)) exactly when created with `givenRealsTarget: 'per-row'`.
   * @throws TypeError / RangeError naming the option when features, noise, noiseFactor, noiseRowScale, givenFakes or givenReals are not as created.
   * @example const r = await step.step(cache.batch([0, 1, 2, 3]), { discLr: 1e-4, noiseFactor: 0.8 });
   */
  async step(
    features: FeatureTensor,
    opts: {
      noise?: HostTensor<'float32'> | ort.Tensor;
      adaptorLr?: number;
      discLr?: number;
      noiseFactor?: number;
      noiseRowScale?: Float32Array;
      givenFakes?: GivenFakes;
      givenReals?: GivenFakes;
    } = {},
  ): Promise<StepResult> {
    const D = this.cfg.featureDim;
    const dims = features?.dims;
    // HostTensor carries .dtype, ort.Tensor carries .type.
    const dtype = 'dtype' in features ? features.dtype : features.type;
    if (dtype !== this.opts.featureDtype) {
      throw new TypeError(`TrainStep.step: features must be ${this.opts.featureDtype} (as created), got ${dtype}`);
    }
    if (dims?.length !== 2 || dims[1] !== D || dims[0] < 1) {
      throw new RangeError(`TrainStep.step: features must be [R ≥ 1, ${D}], got [${dims?.join(', ')}]`);
    }
    const feeds: Record<string, HostTensor | ort.Tensor> = { ...this.state, [STEP_IO.features]: features };
    if (this.opts.noise === 'input') {
      const n = opts.noise;
      if (!n) throw new TypeError(`TrainStep.step: opts.noise [${dims[0]}, ${D}] float32 is required (created with noise 'input')`);
      const nt = 'dtype' in n ? n.dtype : n.type;
      if (nt !== 'float32' || n.dims.length !== 2 || n.dims[0] !== dims[0] || n.dims[1] !== D) {
        throw new RangeError(`TrainStep.step: opts.noise must be float32 [${dims[0]}, ${D}], got ${nt} [${n.dims.join(', ')}]`);
      }
      feeds[STEP_IO.noise] = n;
    } else if (opts.noise) {
      throw new TypeError("TrainStep.step: opts.noise is only accepted when created with noise 'input'");
    }
    const noiseFactor = opts.noiseFactor ?? 1;
    if (!(Number.isFinite(noiseFactor) && noiseFactor >= 0))
      throw new RangeError(`TrainStep.step: opts.noiseFactor must be a finite number ≥ 0, got ${noiseFactor}`);
    if (takesNoiseFactor(this.cfg, this.opts)) feeds[STEP_IO.noiseFactor] = scalar(noiseFactor);
    else if (noiseFactor !== 1 && takesNoiseFactor(this.cfg, { noise: this.opts.noise, noiseSchedule: true }))
      throw new TypeError('TrainStep.step: opts.noiseFactor needs a step created with noiseSchedule: true');
    const rowScale = opts.noiseRowScale;
    if (takesRowScale(this.cfg, this.opts)) {
      if (!(rowScale instanceof Float32Array) || rowScale.length !== dims[0]) {
        throw new TypeError(`TrainStep.step: opts.noiseRowScale must be a Float32Array of ${dims[0]} factors (noiseLocality > 0)`);
      }
      feeds[STEP_IO.noiseRowScale] = ortTensor('float32', [dims[0], 1], rowScale);
    } else if (rowScale) {
      throw new TypeError('TrainStep.step: opts.noiseRowScale needs noiseLocality > 0 and noise drawn in-graph with σ > 0');
    }
    const rowSets = [
      { key: 'givenFakes', created: this.opts.givenFakes, given: opts.givenFakes, rows: STEP_IO.givenRows, offset: STEP_IO.givenOffset },
      { key: 'givenReals', created: this.opts.givenReals, given: opts.givenReals, rows: STEP_IO.realsRows, offset: STEP_IO.realsOffset },
    ] as const;
    for (const r of rowSets) {
      if (r.created) Object.assign(feeds, givenRowFeeds(r.key, r.given, dims[0], D, r.rows, r.offset));
      else if (r.given) throw new TypeError(`TrainStep.step: opts.${r.key} needs a step created with ${r.key}: true`);
    }
    const targets = opts.givenReals?.targets;
    if (this.opts.givenRealsTarget === 'per-row' && this.opts.givenReals) {
      const k = opts.givenReals?.rows.length ?? 0;
      if (!(targets instanceof Float32Array && targets.length === k && targets.every((v) => v >= 0 && v < 1))) {
        throw new RangeError(
          `TrainStep.step: opts.givenReals.targets must be a Float32Array of ${k} values in [0, 1) (created with givenRealsTarget 'per-row')`,
        );
      }
      feeds[STEP_IO.realsTarget] = ortTensor('float32', [k], targets);
    } else if (targets) {
      throw new TypeError("TrainStep.step: opts.givenReals.targets needs a step created with givenRealsTarget: 'per-row'");
    }
    const t = this.t + 1;
    const a = adamFactors(t, opts.adaptorLr ?? this.cfg.adaptorLr, this.cfg.adaptorWeightDecay, this.cfg);
    const d = adamFactors(t, opts.discLr ?? this.cfg.discLr, this.cfg.discWeightDecay, this.cfg);
    feeds[STEP_IO.adaptor.stepSize] = scalar(a.stepSize);
    feeds[STEP_IO.adaptor.bc2Sqrt] = scalar(a.bc2Sqrt);
    feeds[STEP_IO.adaptor.decay] = scalar(a.decay);
    feeds[STEP_IO.disc.stepSize] = scalar(d.stepSize);
    feeds[STEP_IO.disc.bc2Sqrt] = scalar(d.bc2Sqrt);
    feeds[STEP_IO.disc.l2] = scalar(d.l2);

    const out = await this.session.run(feeds);
    const next: Record<string, ort.Tensor> = {};
    for (const name of STATE_NAMES) next[name] = out[name + NEXT];
    this.state = next;
    this.t = t;
    const num = (k: string): number => (out[k].data as Float32Array)[0];
    return { loss: num(STEP_IO.loss), pTrue: num(STEP_IO.pTrue), pFake: num(STEP_IO.pFake) };
  }

  /** Current parameters and BN running stats (copies). */
  params(): HeadParams {
    const p = {} as HeadParams;
    for (const name of PARAM_NAMES) p[name] = copyToHost(this.state[name]);
    return p;
  }

  optimizerState(): HeadOptimizerState {
    const tensors: Record<string, HostTensor<'float32'>> = {};
    for (const name of TRAINABLE) {
      for (const k of [expAvgName(name), expAvgSqName(name)]) tensors[k] = copyToHost(this.state[k]);
    }
    return { step: this.t, tensors };
  }

  /**
   * Restores parameters and/or optimizer state (for resuming). With in-graph noise the generator
   * restarts from the seed: a resumed run draws different noise than an uninterrupted one.
   */
  load(params?: HeadParams, optimizer?: HeadOptimizerState): void {
    if (params) {
      checkHeadParams(params, this.cfg);
      for (const name of PARAM_NAMES) this.state[name] = copyToOrt(params[name]);
    }
    if (optimizer) {
      if (!Number.isInteger(optimizer.step) || optimizer.step < 0) {
        throw new RangeError(`TrainStep.load: optimizer.step must be an integer ≥ 0, got ${optimizer.step}`);
      }
      const shapes = paramShapes(this.cfg);
      const next: Record<string, ort.Tensor> = {};
      for (const name of TRAINABLE) {
        for (const k of [expAvgName(name), expAvgSqName(name)]) {
          const t = optimizer.tensors?.[k];
          const want = shapes[name];
          if (t?.dtype !== 'float32' || t.dims.length !== want.length || t.dims.some((d, i) => d !== want[i])) {
            throw new RangeError(`TrainStep.load: optimizer.tensors['${k}'] must be float32 [${want.join(', ')}]`);
          }
          next[k] = copyToOrt(t);
        }
      }
      Object.assign(this.state, next);
      this.t = optimizer.step;
    }
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}

/** The feeds of given rows (fakes or reals): K distinct rows in [0, R) and their offsets [K, D]. */
function givenRowFeeds(key: string, given: GivenFakes | undefined, r: number, D: number, rowsName: string, offsetName: string): Record<string, ort.Tensor> {
  const k = given?.rows.length ?? -1;
  if (!(given?.rows instanceof Int32Array && given.offsets instanceof Float32Array && given.offsets.length === k * D)) {
    throw new TypeError(`TrainStep.step: opts.${key} must be { rows: Int32Array of K, offsets: Float32Array of K×${D} } (created with ${key})`);
  }
  const rows = new BigInt64Array(k);
  const seen = new Set<number>();
  for (let i = 0; i < k; i++) {
    const row = given.rows[i];
    if (!(row >= 0 && row < r) || seen.has(row))
      throw new RangeError(`TrainStep.step: opts.${key}.rows must be distinct rows in [0, ${r}), got ${row} at ${i}`);
    seen.add(row);
    rows[i] = BigInt(row);
  }
  return { [rowsName]: ortTensor('int64', [k], rows), [offsetName]: ortTensor('float32', [k, D], given.offsets) };
}

function scalar(v: number): ort.Tensor {
  return ortTensor('float32', [], Float32Array.of(v));
}

function zeros(dims: number[]): ort.Tensor {
  return ortTensor('float32', dims, new Float32Array(dims.reduce((a, b) => a * b, 1)));
}

function copyToOrt(t: HostTensor<'float32'>): ort.Tensor {
  return ortTensor('float32', t.dims, Float32Array.from(t.data));
}

function copyToHost(t: ort.Tensor): HostTensor<'float32'> {
  return { dtype: 'float32', dims: [...t.dims], data: (t.data as Float32Array).slice() };
}
