/**
 * matplotlib's 'jet' colour map as a 256-entry RGB table (its piecewise-linear segment data,
 * sampled at i/255 like `cm.jet(i)`), used for heatmap overlays. Browser-safe (no Node imports):
 * the web app bundles this very module, so the page's overlays use the same colours as the CLI's
 * and the service's. PNG encoding is in overlayPng.ts.
 */

type Segments = [number, number][];

const JET: Record<'r' | 'g' | 'b', Segments> = {
  r: [
    [0, 0],
    [0.35, 0],
    [0.66, 1],
    [0.89, 1],
    [1, 0.5],
  ],
  g: [
    [0, 0],
    [0.125, 0],
    [0.375, 1],
    [0.64, 1],
    [0.91, 0],
    [1, 0],
  ],
  b: [
    [0, 0.5],
    [0.11, 1],
    [0.34, 1],
    [0.65, 0],
    [1, 0],
  ],
};

function sample(seg: Segments, x: number): number {
  for (let k = 1; k < seg.length; k++) {
    const [x1, y1] = seg[k];
    const [x0, y0] = seg[k - 1];
    if (x <= x1) return y0 + ((x - x0) / (x1 - x0)) * (y1 - y0);
  }
  return seg[seg.length - 1][1];
}

/** [256 × 3] uint8 RGB. */
export const JET_LUT: Uint8Array = (() => {
  const lut = new Uint8Array(256 * 3);
  for (let i = 0; i < 256; i++) {
    const x = i / 255;
    lut[3 * i] = Math.round(255 * sample(JET.r, x));
    lut[3 * i + 1] = Math.round(255 * sample(JET.g, x));
    lut[3 * i + 2] = Math.round(255 * sample(JET.b, x));
  }
  return lut;
})();

/** jet(value) per pixel as [n × 3] uint8 RGB (values clamped to [0, 1]): the heatmap layer alone. */
export function jetRgb(values: Float32Array): Uint8Array {
  const out = new Uint8Array(values.length * 3);
  for (let p = 0; p < values.length; p++) {
    const i = Math.round(Math.min(1, Math.max(0, values[p])) * 255) * 3;
    out[3 * p] = JET_LUT[i];
    out[3 * p + 1] = JET_LUT[i + 1];
    out[3 * p + 2] = JET_LUT[i + 2];
  }
  return out;
}

/**
 * Blends jet(value) over `rgb` (both [n] pixels, values in [0, 1]) with weight `alpha` for the
 * colour: the overlay convention of SimpleNet's and anomalib's visualisers.
 */
export function overlayJet(rgb: Uint8Array, values: Float32Array, alpha = 0.5): Uint8Array {
  if (rgb.length !== values.length * 3) throw new RangeError(`overlayJet: ${rgb.length / 3} pixels but ${values.length} values`);
  const out = new Uint8Array(rgb.length);
  for (let p = 0; p < values.length; p++) {
    const v = Math.min(1, Math.max(0, values[p]));
    const i = Math.round(v * 255) * 3;
    for (let c = 0; c < 3; c++) out[3 * p + c] = Math.round((1 - alpha) * rgb[3 * p + c] + alpha * JET_LUT[i + c]);
  }
  return out;
}
