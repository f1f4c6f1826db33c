/** 8-connected component labelling of a binary mask (skimage.measure.label's default in 2D). */

export interface Components {
  /** Per pixel: 0 for background, else the component's label. */
  labels: Uint32Array;
  /** Number of components; labels run from `firstLabel` to `firstLabel + count - 1`. */
  count: number;
}

/**
 * Labels the connected foreground (nonzero) regions of a row-major `width`×`height` mask, pixels that
 * touch only at a corner included. Labels are given in raster order of each region's first pixel, as
 * skimage does. `out` (reused and overwritten) and `firstLabel` let a caller label many images into one
 * array with globally distinct labels.
 */
export function connectedComponents(mask: Uint8Array, width: number, height: number, opts: { out?: Uint32Array; firstLabel?: number } = {}): Components {
  if (!Number.isInteger(width) || width < 1 || !Number.isInteger(height) || height < 1) {
    throw new RangeError(`connectedComponents: 'width' and 'height' must be positive integers (${width}×${height})`);
  }
  const plane = width * height;
  if (mask.length !== plane) {
    throw new RangeError(`connectedComponents: 'mask' must have width×height = ${plane} elements (got ${mask.length})`);
  }
  const labels = opts.out ?? new Uint32Array(plane);
  if (labels.length !== plane) {
    throw new RangeError(`connectedComponents: 'out' must have ${plane} elements (got ${labels.length})`);
  }
  const firstLabel = opts.firstLabel ?? 1;
  if (!Number.isInteger(firstLabel) || firstLabel < 1) {
    throw new RangeError(`connectedComponents: 'firstLabel' must be a positive integer (got ${firstLabel})`);
  }
  labels.fill(0);

  // Depth-first flood fill; a pixel is labelled when pushed, so the stack never holds more than the plane.
  const stack = new Int32Array(plane);
  let next = firstLabel;
  for (let start = 0; start < plane; start++) {
    if (mask[start] === 0 || labels[start] !== 0) continue;
    const label = next++;
    labels[start] = label;
    stack[0] = start;
    let top = 1;
    while (top > 0) {
      const p = stack[--top];
      const x = p % width;
      const y = (p - x) / width;
      const x0 = x > 0 ? x - 1 : x;
      const x1 = x < width - 1 ? x + 1 : x;
      const y0 = y > 0 ? y - 1 : y;
      const y1 = y < height - 1 ? y + 1 : y;
      for (let yy = y0; yy <= y1; yy++) {
        for (let q = yy * width + x0, end = yy * width + x1; q <= end; q++) {
          if (mask[q] !== 0 && labels[q] === 0) {
            labels[q] = label;
            stack[top++] = q;
          }
        }
      }
    }
  }
  return { labels, count: next - firstLabel };
}
