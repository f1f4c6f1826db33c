/**
 * predict's images through the one scoring loop (scoring/scoreImages.ts): results in input order,
 * an image that cannot be decoded or scored as an error entry while the rest are still scored.
 */
import type { Scorer } from '../scoring/scorer.js';
import { type ImageResult, scoreImages } from '../scoring/scoreImages.js';
import type { InputImage } from './inputs.js';

export interface Prediction extends ImageResult {
  input: InputImage;
}

export type PredictionResult = { ok: true; prediction: Prediction } | { ok: false; input: InputImage; error: Error };

/**
 * `batch`: most images of one size per run of the graph (default 1).
 * @throws RangeError when `batch` is not a positive integer.
 * @example for await (const r of predictImages(scorer, expandInputs(['photos/']), { batch: 4 })) if (r.ok) console.log(r.prediction.score);
 */
export async function* predictImages(
  scorer: Scorer,
  inputs: readonly InputImage[],
  opts: { prefetch?: number; batch?: number } = {},
): AsyncGenerator<PredictionResult> {
  for await (const r of scoreImages(scorer, inputs, { source: (i) => i.path, prefetch: opts.prefetch ?? 1, batch: opts.batch })) {
    yield r.ok ? { ok: true, prediction: { input: r.item, ...r.result } } : { ok: false, input: r.item, error: r.error };
  }
}
