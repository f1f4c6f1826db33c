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
import { readFile, rm } from 'node:fs/promises';
import type { BackboneIdentity } from '../backbones/backbone.js';
import type { Sample } from '../datasets/dataset.js';
import type { HeadOptimizerState } from '../heads/trainStep.js';
import { type HeadParams, PARAM_NAMES } from '../heads/params.js';
import { writeFileAtomic } from '../io/atomic.js';
import { decodeSafetensors, encodeSafetensors } from '../io/safetensors.js';
import type { SimpleNetConfig } from '../model/config.js';
import type { EpochLog } from '../model/modelDir.js';
import type { HostTensor } from '../onnx/tensor.js';

const FORMAT = 'simplenet-checkpoint';

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
  const state = { epoch: ck.epoch, fingerprint: ck.fingerprint, rng: ck.rng, order: ck.order, log: ck.log, resumedAt: ck.resumedAt, step: ck.optimizer.step };
  await writeFileAtomic(path, encodeSafetensors(tensors, { format: FORMAT, state: JSON.stringify(state) }));
}

/** The checkpoint at `path`, or undefined when there is none. Errors name the file. */
export async function loadCheckpoint(path: string): Promise<TrainCheckpoint | undefined> {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await readFile(path));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new Error(`${path}: cannot read checkpoint (${(e as Error).message})`);
  }
  const st = decodeSafetensors(bytes, path);
  if (st.metadata.format !== FORMAT || !st.metadata.state) throw new Error(`${path}: not a simplenet training checkpoint`);
  const state = JSON.parse(st.metadata.state) as Omit<TrainCheckpoint, 'params' | 'optimizer'> & { step: number };
  const params = {} as HeadParams;
  const adam: Record<string, HostTensor<'float32'>> = {};
  for (const [k, t] of st.tensors) {
    if (t.dtype !== 'float32') throw new Error(`${path}: tensor ${k} is ${t.dtype}, expected float32`);
    if (k.startsWith('param.')) params[k.slice(6) as keyof HeadParams] = t as HostTensor<'float32'>;
    else if (k.startsWith('adam.')) adam[k.slice(5)] = t as HostTensor<'float32'>;
  }
  for (const name of PARAM_NAMES) if (!params[name]) throw new Error(`${path}: missing tensor param.${name}`);
  const { step, ...rest } = state;
  return { ...rest, params, optimizer: { step, tensors: adam } };
}

export async function removeCheckpoint(path: string): Promise<void> {
  await rm(path, { force: true });
}
