/**
 * Streams predictions over many images with bounded memory: one image is decoded while the
 * previous one is scored, and each result is handed out before the next is read. An image that
 * cannot be decoded yields an error entry; the rest are still scored.
 */
import { type DecodedImage, decodeImage } from '../images/decode.js';
import type { Scorer } from '../scoring/scorer.js';
import type { InputImage } from './inputs.js';

export interface Prediction {
  input: InputImage;
  score: number;
  scoreNormalized: number;
  /** 1 = anomalous. */
  label: 0 | 1;
  /** Raw anomaly map [mapSize, mapSize] (crop frame). */
  map: Float32Array;
  /** The map with the model's normalisation (the overlay's colour scale). */
  mapNormalized: Float32Array;
  /** The resized, cropped RGB image [mapSize, mapSize, 3] when the scorer has it. */
  crop?: Uint8Array;
  mapSize: number;
}

export type PredictionResult = { ok: true; prediction: Prediction } | { ok: false; input: InputImage; error: Error };

type Decoded = { image: DecodedImage } | { error: Error };

const decodeSafe = (input: InputImage): Promise<Decoded> =>
  decodeImage(input.path).then(
    (image) => ({ image }),
    (error: Error) => ({ error }),
  );

export async function* predictImages(scorer: Scorer, inputs: readonly InputImage[]): AsyncGenerator<PredictionResult> {
  let next: Promise<Decoded> | undefined = inputs.length > 0 ? decodeSafe(inputs[0]) : undefined;
  for (let i = 0; i < inputs.length; i++) {
    const current = await next!;
    next = i + 1 < inputs.length ? decodeSafe(inputs[i + 1]) : undefined;
    if ('error' in current) {
      yield { ok: false, input: inputs[i], error: current.error };
      continue;
    }
    let r;
    try {
      r = await scorer.score([current.image]);
    } catch (error) {
      yield { ok: false, input: inputs[i], error: error as Error };
      continue;
    }
    yield {
      ok: true,
      prediction: {
        input: inputs[i],
        score: r.scores[0],
        scoreNormalized: r.normalized[0],
        label: r.labels[0] ? 1 : 0,
        map: r.maps,
        mapNormalized: r.mapsNormalized,
        crop: r.crops,
        mapSize: r.mapSize,
      },
    };
  }
}
