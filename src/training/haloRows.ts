/**
 * The patches beside a synthetic defect (`train.haloReals`). A defect changes the features of the
 * patches around it too (the backbone's receptive field and the 3×3 aggregation reach past its
 * edge), while a pixel mask counts those patches normal. A discriminator that never saw such
 * features scores the ring around a real defect almost as high as the defect: on bottle that ring,
 * not the good images, is where SimpleNet's pixel AUROC fell behind the nearest neighbour's (docs/studies/fast-convergence.md,
 * "The ring around a defect"). Training those patches, as the synthetic copy has them, teaches where a
 * defect ends: as REAL rows, or (`train.haloTarget`) as between real and fake; from the adjacent
 * patches out, or (`train.haloFrom` 2) from the next ones.
 */
import { DEFECT_HITS } from '../validation/syntheticDefects.js';

/**
 * The grid rows between `from` (default 1, the adjacent patches) and `radius` patches (chessboard
 * distance) from the nearest defective patch (≥ DEFECT_HITS of its 3×3 sample points in the mask)
 * that have no sample point in the mask themselves, in increasing order. A patch the mask touches at
 * all is neither: part of its pixels are defect.
 * @throws RangeError when `radius` or `from` is not an integer ≥ 0 (`from` ≥ 1), or `hits` is not `grid.height × grid.width`.
 * @example haloRows(patchHits(mask, w, h, geometry, grid), grid, 2); // the ring two patches wide
 * @example haloRows(hits, grid, 2, 2); // only the patches two out, not the adjacent ones
 */
export function haloRows(hits: Uint8Array, grid: { height: number; width: number }, radius: number, from = 1): number[] {
  if (!(Number.isInteger(radius) && radius >= 0)) throw new RangeError(`haloRows: radius must be an integer ≥ 0, got ${radius}`);
  if (!(Number.isInteger(from) && from >= 1)) throw new RangeError(`haloRows: from must be an integer ≥ 1, got ${from}`);
  const { height, width } = grid;
  if (hits.length !== height * width) throw new RangeError(`haloRows: hits must have ${height}×${width} entries, got ${hits.length}`);
  // Each patch's distance to the nearest defective patch, where it is at most `radius`.
  const far = radius + 1;
  const distance = new Int32Array(hits.length).fill(far);
  for (let i = 0; i < height; i++) {
    for (let j = 0; j < width; j++) {
      if (hits[i * width + j] < DEFECT_HITS) continue;
      for (let a = Math.max(0, i - radius); a <= Math.min(height - 1, i + radius); a++) {
        for (let b = Math.max(0, j - radius); b <= Math.min(width - 1, j + radius); b++) {
          const d = Math.max(Math.abs(a - i), Math.abs(b - j));
          if (d < distance[a * width + b]) distance[a * width + b] = d;
        }
      }
    }
  }
  const rows: number[] = [];
  distance.forEach((d, r) => {
    if (d >= from && d < far && hits[r] === 0) rows.push(r);
  });
  return rows;
}
