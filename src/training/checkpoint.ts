/**
 * Training checkpoints: after every N epochs the head weights, optimizer moments, the shuffle
 * generator's state and the epoch log go to one safetensors file beside the model directory
 * (`<out>.checkpoint`, written atomically), so an interrupted run continues with `--resume`
 * instead of starting over. A fingerprint of everything that shapes training (config except the
 * epoch count, the training images, the backbone) keeps a checkpoint from being resumed into a
 * different run. The in-graph noise generator cannot be restored, so a resumed run draws its noise
 * from a seed derived from the resume epoch: deterministic, but not the uninterrupted run's draws.
 */
import { createHash } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { z } from 'zod';
import { oneLine } from '../core/progress.js';
import { readRegularFile } from '../io/readRegular.js';
import type { BackboneIdentity } from '../backbones/backbone.js';
import type { Sample } from '../datasets/dataset.js';
import type { HeadOptimizerState } from '../heads/trainStep.js';
import { type HeadParams, PARAM_NAMES } from '../heads/params.js';
import { writeFileAtomic } from '../io/atomic.js';
import { decodeSafetensors, encodeSafetensors } from '../io/safetensors.js';
import type { SimpleNetConfig } from '../model/config.js';
import type { EpochLog } from '../model/modelDir.js';
import type { Reporter } from '../core/progress.js';
import type { Rng } from '../core/rng.js';
import type { HostTensor } from '../onnx/tensor.js';

const FORMAT = 'simplenet-checkpoint';

const count = z.number().int().nonnegative();
const finite = z.number().finite();
/** The JSON state beside the tensors: checked, because a damaged file must fail with its name, not a raw parse error. */
const StateSchema = z.object({
  epoch: count,
  fingerprint: z.string(),
  rng: z.array(finite),
  order: z.array(count),
  // A diverged epoch's NaN loss is stored as null, so only the epoch number is required.
  log: z.array(z.object({ epoch: count }).passthrough()),
  resumedAt: z.array(count),
  step: count,
  lrScale: finite.optional(),
  best: z.object({ epoch: count, score: z.number() }).optional(),
});

export interface TrainCheckpoint {
  /** Epochs completed. */
  epoch: number;
  fingerprint: string;
  rng: number[];
  order: number[];
  log: EpochLog[];
  /** Epochs after which earlier runs were resumed (each restarts the noise stream). */
  resumedAt: number[];
  params: HeadParams;
  optimizer: HeadOptimizerState;
  /** The divergence guard's learning-rate multiplier. */
  lrScale?: number;
  /** Best-by-validation weights so far, and the EMA weights (when those mechanisms are on). */
  best?: { epoch: number; score: number; params: HeadParams };
  ema?: HeadParams;
}

/** Where a run starts: epoch 1, or a checkpoint's state. */
export interface LoopState {
  firstEpoch: number;
  resumedAt: number[];
  resumed?: TrainCheckpoint;
  order: number[];
  log: EpochLog[];
}

export function checkpointPath(modelDir: string): string {
  return `${modelDir.replace(/[/\\]+$/, '')}.checkpoint`;
}

export function trainingFingerprint(config: SimpleNetConfig, train: readonly Sample[], backbone: BackboneIdentity): string {
  const { epochs: _epochs, ...trainRest } = config.train;
  const what = { ...config, train: trainRest, images: train.map((s) => s.path), backbone };
  return createHash('sha256').update(JSON.stringify(what)).digest('hex');
}

/** The noise seed after resuming at `epoch` (the original seed when never resumed). */
export function resumedNoiseSeed(seed: number, resumedAt: readonly number[]): number {
  let s = seed;
  for (const e of resumedAt) s = (Math.imul(s ^ 0x5bd1e995, 31) + e) | 0;
  return s >>> 0;
}

export async function saveCheckpoint(path: string, ck: TrainCheckpoint): Promise<void> {
  const tensors: Record<string, HostTensor> = {};
  for (const name of PARAM_NAMES) tensors[`param.${name}`] = ck.params[name];
  for (const [k, t] of Object.entries(ck.optimizer.tensors)) tensors[`adam.${k}`] = t;
  for (const name of PARAM_NAMES) {
    if (ck.best) tensors[`best.${name}`] = ck.best.params[name];
    if (ck.ema) tensors[`ema.${name}`] = ck.ema[name];
  }
  const best = ck.best && { epoch: ck.best.epoch, score: ck.best.score };
  const state = {
    epoch: ck.epoch,
    fingerprint: ck.fingerprint,
    rng: ck.rng,
    order: ck.order,
    log: ck.log,
    resumedAt: ck.resumedAt,
    step: ck.optimizer.step,
    lrScale: ck.lrScale,
    best,
  };
  await writeFileAtomic(path, encodeSafetensors(tensors, { format: FORMAT, state: JSON.stringify(state) }), 'checkpoint');
}

/** The checkpoint at `path`, or undefined when there is none. Errors name the file. */
export async function loadCheckpoint(path: string): Promise<TrainCheckpoint | undefined> {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await readRegularFile(path));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new Error(`${path}: cannot read checkpoint (${(e as Error).message})`);
  }
  const st = decodeSafetensors(bytes, path);
  if (st.metadata.format !== FORMAT || !st.metadata.state) throw new Error(`${path}: not a simplenet training checkpoint`);
  const state = parseState(st.metadata.state, path);
  const groups: Record<string, Record<string, HostTensor<'float32'>>> = { param: {}, adam: {}, best: {}, ema: {} };
  for (const [k, t] of st.tensors) {
    if (t.dtype !== 'float32') throw new Error(`${path}: tensor ${k} is ${t.dtype}, expected float32`);
    const dot = k.indexOf('.');
    const group = groups[k.slice(0, dot)];
    if (!group) throw new Error(`${path}: unexpected tensor ${k}`);
    group[k.slice(dot + 1)] = t as HostTensor<'float32'>;
  }
  const headParams = (group: string): HeadParams => {
    for (const name of PARAM_NAMES) if (!groups[group][name]) throw new Error(`${path}: missing tensor ${group}.${name}`);
    return groups[group] as HeadParams;
  };
  const { step, best, ...rest } = state;
  return {
    ...rest,
    params: headParams('param'),
    optimizer: { step, tensors: groups.adam },
    ...(best ? { best: { ...best, params: headParams('best') } } : {}),
    ...(Object.keys(groups.ema).length ? { ema: headParams('ema') } : {}),
  };
}

function parseState(text: string, path: string): z.infer<typeof StateSchema> & { log: EpochLog[] } {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new Error(`${path}: damaged checkpoint (its state is not valid JSON: ${oneLine((e as Error).message)})`);
  }
  const parsed = StateSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`${path}: damaged checkpoint (${['state', ...issue.path].join('.')}: ${issue.message})`);
  }
  return parsed.data as z.infer<typeof StateSchema> & { log: EpochLog[] };
}

export async function removeCheckpoint(path: string): Promise<void> {
  await rm(path, { force: true });
}

/** The loop's starting state: fresh, or the checkpoint's when resuming (checked against the run). */
export async function resumeOrStart(
  ckpt: { path: string; resume?: boolean } | undefined,
  fingerprint: string,
  epochs: number,
  nTrain: number,
  rng: Rng,
  reporter: Reporter,
): Promise<LoopState> {
  const fresh: LoopState = { firstEpoch: 1, resumedAt: [], order: Array.from({ length: nTrain }, (_, i) => i), log: [] };
  if (!ckpt?.resume) return fresh;
  const resumed = await loadCheckpoint(ckpt.path);
  if (!resumed) {
    reporter.warn(`${ckpt.path}: no checkpoint to resume from; starting at epoch 1`);
    return fresh;
  }
  if (resumed.fingerprint !== fingerprint) {
    throw new Error(`${ckpt.path}: the checkpoint belongs to a different configuration, training set or backbone; remove it or drop --resume`);
  }
  if (resumed.epoch >= epochs) throw new Error(`${ckpt.path}: the checkpoint already holds ${resumed.epoch} epochs; ask for more with --epochs`);
  rng.setState(resumed.rng);
  reporter.line(`resuming from ${ckpt.path} after epoch ${resumed.epoch} (the noise stream restarts from a seed derived from it)`);
  return {
    firstEpoch: resumed.epoch + 1,
    resumedAt: [...resumed.resumedAt, resumed.epoch],
    resumed,
    order: resumed.order,
    log: resumed.log,
  };
}
