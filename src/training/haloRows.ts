/**
 * The patches beside a synthetic defect (`train.haloReals`). A defect changes the features of the
 * patches around it too (the backbone's receptive field and the 3×3 aggregation reach past its
 * edge), while a pixel mask counts those patches normal. A discriminator that never saw such
 * features scores the ring around a real defect almost as high as the defect: on bottle that ring,
 * not the good images, is where SimpleNet's pixel AUROC fell behind the nearest neighbour's (docs/studies/fast-convergence.md,
 * "The ring around a defect"). Training those patches, as the synthetic copy has them, teaches where a
 * defect ends: as REAL rows, or (`train.haloTarget`) as between real and fake.
 */
import { DEFECT_HITS } from '../validation/syntheticDefects.js';

/**
 * The grid rows within `radius` patches (chessboard distance) of a defective patch (≥ DEFECT_HITS
 * of its 3×3 sample points in the mask) that have no sample point in the mask themselves, in
 * increasing order. A patch the mask touches at all is neither: part of its pixels are defect.
 * @throws RangeError when `radius` is not an integer ≥ 0 or `hits` is not `grid.height × grid.width`.
 * @example haloRows(patchHits(mask, w, h, geometry, grid), grid, 2); // the ring two patches wide
 */
export function haloRows(hits: Uint8Array, grid: { height: number; width: number }, radius: number): number[] {
  if (!(Number.isInteger(radius) && radius >= 0)) throw new RangeError(`haloRows: radius must be an integer ≥ 0, got ${radius}`);
  const { height, width } = grid;
  if (hits.length !== height * width) throw new RangeError(`haloRows: hits must have ${height}×${width} entries, got ${hits.length}`);
  const near = new Uint8Array(hits.length);
  for (let i = 0; i < height; i++) {
    for (let j = 0; j < width; j++) {
      if (hits[i * width + j] < DEFECT_HITS) continue;
      for (let a = Math.max(0, i - radius); a <= Math.min(height - 1, i + radius); a++) {
        for (let b = Math.max(0, j - radius); b <= Math.min(width - 1, j + radius); b++) near[a * width + b] = 1;
      }
    }
  }
  const rows: number[] = [];
  near.forEach((n, r) => {
    if (n && hits[r] === 0) rows.push(r);
  });
  return rows;
}
