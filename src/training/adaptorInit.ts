/**
 * The adaptor's starting point (config `head.adaptorInit`). The paper's Xavier init mixes the
 * features randomly, so a noise σ chosen from the features' statistics does not hold for what the
 * discriminator sees at step 0; 'identity' and 'standardize' start from the features themselves
 * (the latter per-dimension standardised), both still one linear layer (spec §3), so scoring and
 * export are unchanged.
 */
import { type HeadParams, withDiagonalAdaptor } from '../heads/params.js';
import type { SimpleNetConfig } from '../model/config.js';
import type { FeatureMoments } from './featureStats.js';

/** Guards dimensions that are constant over the training features (std 0). */
const MIN_STD_FRACTION = 1e-3;

export function initAdaptor(params: HeadParams, kind: SimpleNetConfig['head']['adaptorInit'], moments?: FeatureMoments): HeadParams {
  if (kind === 'xavier') return params;
  const D = params['adaptor.bias'].dims[0];
  if (kind === 'identity') return withDiagonalAdaptor(params, new Float32Array(D).fill(1), new Float32Array(D));
  if (!moments) throw new Error("initAdaptor: 'standardize' needs the features' measured moments");
  const scale = new Float32Array(D);
  const shift = new Float32Array(D);
  for (let i = 0; i < D; i++) {
    scale[i] = 1 / Math.max(moments.std[i], MIN_STD_FRACTION * moments.meanStd);
    shift[i] = -moments.mean[i] * scale[i];
  }
  return withDiagonalAdaptor(params, scale, shift);
}
