/**
 * Area under the per-region-overlap curve (Bergmann et al., MVTec AD), up to a false-positive rate,
 * normalised so that 1 is perfect. Same definition as anomalib's AUPRO without mask dilation.
 */
import { connectedComponents } from './connectedComponents.js';
import { sweepThresholds } from './sweep.js';

/**
 * The map geometry `aupro` needs to find connected defect regions, and how far to integrate.
 * @example const opts: AuproOptions = { width: 288, height: 288, fprLimit: 0.3 };
 */
export interface AuproOptions {
  /** Width of each map, in pixels. */
  width: number;
  /** Height of each map, in pixels. */
  height: number;
  /** Integrate up to this false-positive rate, in (0, 1]; default 0.3. */
  fprLimit?: number;
  /**
   * Which pixels count (1) and which do not (0), like `maps`; default all. Letterboxed images
   * (image.fit 'letterbox') leave out their padding: it is neither a false nor a true positive.
   */
  valid?: Uint8Array;
}

/**
 * `maps` and `masks` hold n images of width×height each, concatenated (mask 1 = defect). For each
 * threshold t over the distinct map values (predict defect when map >= t): FPR over all defect-free
 * pixels, PRO = mean over every 8-connected defect region of every image of the share of the region
 * predicted. PRO is integrated over FPR by trapezoids from 0 to `fprLimit` (interpolating at the limit)
 * and divided by `fprLimit`. Exact, from one sort. Throws RangeError without any defect region or any
 * defect-free pixel.
 * @throws RangeError when the sizes do not fit, `fprLimit` is outside (0, 1], a mask value is not
 * 0 or 1, a map value is not finite, or the masks hold no defect region or no defect-free pixel.
 * @example const pro = aupro(maps, masks, { width: 288, height: 288 }); // maps: n·288·288 values
 */
export function aupro(maps: Float32Array, masks: Uint8Array, opts: AuproOptions): number {
  const fprLimit = opts.fprLimit ?? 0.3;
  let lastFpr = 0;
  let lastPro = 0;
  let area = 0;
  sweepPro('aupro', maps, masks, opts, (fpr, pro) => {
    if (fpr >= fprLimit) {
      // Only the part of this segment up to the limit counts (lastFpr < fprLimit <= fpr).
      const proAtLimit = lastPro + ((pro - lastPro) * (fprLimit - lastFpr)) / (fpr - lastFpr);
      area += ((fprLimit - lastFpr) * (lastPro + proAtLimit)) / 2;
      return false;
    }
    area += ((fpr - lastFpr) * (lastPro + pro)) / 2;
    lastFpr = fpr;
    lastPro = pro;
    return true;
  });
  return area / fprLimit;
}

/**
 * The PRO curve itself (for plots): (FPR, PRO) at every threshold up to `fprLimit`, thinned to
 * about `maxPoints` points (a point is kept when it moves 1/maxPoints along either axis).
 */
export function proCurve(maps: Float32Array, masks: Uint8Array, opts: AuproOptions & { maxPoints?: number }): { fpr: number[]; pro: number[] } {
  const fprLimit = opts.fprLimit ?? 0.3;
  const step = 1 / (opts.maxPoints ?? 500);
  const out = { fpr: [0], pro: [0] };
  let pending: [number, number] | undefined;
  sweepPro('proCurve', maps, masks, opts, (fpr, pro) => {
    if (fpr > fprLimit) return false;
    pending = [fpr, pro];
    if (fpr - out.fpr[out.fpr.length - 1] >= step * fprLimit || pro - out.pro[out.pro.length - 1] >= step) {
      out.fpr.push(fpr);
      out.pro.push(pro);
      pending = undefined;
    }
    return true;
  });
  if (pending) {
    out.fpr.push(pending[0]);
    out.pro.push(pending[1]);
  }
  return out;
}

/** Visits (FPR, PRO) for each threshold from the highest down, while `visit` returns true. */
function sweepPro(fn: string, maps: Float32Array, masks: Uint8Array, opts: AuproOptions, visit: (fpr: number, pro: number) => boolean): void {
  const { width, height, fprLimit = 0.3 } = opts;
  if (!Number.isInteger(width) || width < 1 || !Number.isInteger(height) || height < 1) {
    throw new RangeError(`${fn}: 'width' and 'height' must be positive integers (${width}×${height})`);
  }
  if (!(fprLimit > 0 && fprLimit <= 1)) {
    throw new RangeError(`${fn}: 'fprLimit' must be in (0, 1] (got ${fprLimit})`);
  }
  const plane = width * height;
  if (maps.length % plane !== 0) {
    throw new RangeError(`${fn}: 'maps' must hold whole ${width}×${height} images (${maps.length} values)`);
  }
  if (masks.length !== maps.length) {
    throw new RangeError(`${fn}: 'masks' must have the same length as 'maps' (${masks.length} vs ${maps.length})`);
  }
  for (let i = 0; i < masks.length; i++) {
    if (masks[i] > 1) throw new RangeError(`${fn}: 'masks' must hold only 0 and 1 (masks[${i}] is ${masks[i]})`);
  }

  // Tag every pixel with its region, numbered across all images (0 = defect-free).
  const tags = new Uint32Array(maps.length);
  let regions = 0;
  for (let o = 0; o < maps.length; o += plane) {
    const { count } = connectedComponents(masks.subarray(o, o + plane), width, height, {
      out: tags.subarray(o, o + plane),
      firstLabel: regions + 1,
    });
    regions += count;
  }
  const valid = opts.valid;
  if (valid && valid.length !== maps.length) {
    throw new RangeError(`${fn}: 'valid' must have the same length as 'maps' (${valid.length} vs ${maps.length})`);
  }
  // Left-out pixels go to a last tag of weight 0, counted nowhere (masks there are 0: no region).
  const ignored = regions + 1;
  if (valid) for (let i = 0; i < tags.length; i++) if (!valid[i]) tags[i] = ignored;
  const areas = new Float64Array(regions + 2);
  for (let i = 0; i < tags.length; i++) areas[tags[i]]++;
  const negatives = areas[0];
  if (regions === 0) throw new RangeError(`${fn}: 'masks' contain no defect region; PRO is undefined`);
  if (negatives === 0) throw new RangeError(`${fn}: 'masks' contain no defect-free pixel; FPR is undefined`);

  // A region pixel adds 1/area to its region's overlap, hence 1/(regions·area) to the mean overlap.
  const weights = new Float64Array(regions + 2);
  for (let r = 1; r <= regions; r++) weights[r] = 1 / (regions * areas[r]);

  let fp = 0;
  let pro = 0;
  let done = false;
  sweepThresholds(fn, maps, tags, weights, (_t, fpStep, proStep) => {
    if (done) return;
    fp += fpStep;
    pro += proStep;
    done = !visit(fp / negatives, pro);
  });
}
