/**
 * `precision`: which arithmetic the backbone and head of the one scoring graph run in. 'fp32' is the
 * model as trained; 'int8' swaps in the backbone's static int8 twin (QDQ, src/onnx/quantize.ts),
 * rebuilt from the activation ranges `simplenet quantize` stored in the model folder, and runs the
 * folded head's Linear in int8 (heads/int8Linear.ts: weights per channel, activations per run).
 * Everything else (patch embedding, the head's last layer, map, thresholds) stays float32 and the
 * same graph nodes, so `test`, `predict`, the service and `export` still share one scoring path
 * whichever is chosen.
 */
import { applyQuantization } from '../backbones/quantizeBackbone.js';
import { specializedBackbone } from '../backbones/specialize.js';
import type { SimpleNetModel } from '../model/modelDir.js';
import { backboneSha256, loadQuantization, QUANTIZATION_FILE } from '../model/quantization.js';
import { type ScoringSpec, scoringSpecOf } from './fullScoringModel.js';
import { join } from 'node:path';

/**
 * The backbone's arithmetic: 'fp32' (as trained, the default) or 'int8' (after `simplenet quantize`).
 * @example const detector = await Detector.load('runs/bottle', { precision: 'int8' });
 */
export type Precision = 'fp32' | 'int8';

/**
 * Every precision, in the order the CLI lists them.
 * @example if (!PRECISIONS.includes(flag as Precision)) throw new Error(`unknown precision ${flag}`);
 */
export const PRECISIONS: readonly Precision[] = ['fp32', 'int8'];

/**
 * A model folder that cannot be scored at the precision asked for: it has no int8 calibration, or
 * the calibration belongs to another backbone. The message says which and what to run.
 * @example
 * try { await Detector.load('runs/bottle', { precision: 'int8' }).then((d) => d.score('a.png')); }
 * catch (e) { if (e instanceof PrecisionError) console.error(e.message); }
 */
export class PrecisionError extends Error {
  override name = 'PrecisionError';
}

/**
 * What the scoring graph is built from for `model` at `precision`: `scoringSpecOf(model)` for
 * 'fp32'; for 'int8' the same with the backbone replaced by its QDQ twin.
 * @throws PrecisionError when 'int8' is asked for and the folder has no quantization.json, or its
 * backbone sha256 differs from the folder's backbone; FileError when that file is unreadable.
 * @example const spec = await scoringSpecAt(await loadModel('runs/bottle'), 'int8');
 */
export async function scoringSpecAt(model: SimpleNetModel, precision: Precision = 'fp32'): Promise<ScoringSpec> {
  const spec = scoringSpecOf(model);
  if (precision === 'fp32') return spec;
  const q = await loadQuantization(model.dir);
  const quantize = `simplenet quantize --model ${model.dir}`;
  if (!q) throw new PrecisionError(`${model.dir}: has no int8 calibration (${QUANTIZATION_FILE}); run '${quantize}' first, or score with --precision fp32`);
  if (q.backboneSha256 !== backboneSha256(model.backbone.onnx)) {
    throw new PrecisionError(`${join(model.dir, QUANTIZATION_FILE)}: was measured on another backbone than this folder's; run '${quantize}' again`);
  }
  // Quantized from the float graph already specialised to the crop (and memoised): its values keep
  // the names the ranges were measured under (only shape arithmetic and Pads are gone), and the
  // int8 graph then has nothing left to specialise on each load.
  const specialised = { ...model.backbone, onnx: await specializedBackbone(model.backbone, model.config.image.crop, spec.backboneSource) };
  const backbone = applyQuantization(specialised, q.ranges, { weightBits: q.weightBits, float: q.float });
  return { ...spec, backbone, int8Head: true, backboneSource: `${spec.backboneSource ?? 'backbone.onnx'} (int8, ${QUANTIZATION_FILE})` };
}
