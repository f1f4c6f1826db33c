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
 * @example for await (const r of predictImages(scorer, expandInputs(['photos/']))) if (r.ok) console.log(r.prediction.score);
 */
export async function* predictImages(scorer: Scorer, inputs: readonly InputImage[], opts: { prefetch?: number } = {}): AsyncGenerator<PredictionResult> {
  for await (const r of scoreImages(scorer, inputs, { source: (i) => i.path, prefetch: opts.prefetch ?? 1 })) {
    yield r.ok ? { ok: true, prediction: { input: r.item, ...r.result } } : { ok: false, input: r.item, error: r.error };
  }
}
