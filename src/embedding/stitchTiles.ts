/**
 * Fit 'tile' (images/fit.ts): the preprocessing cuts each image into rows × columns crop×crop
 * tiles, row-major, and the backbone sees each tile as an image of its own. Their patch grids
 * are stitched back into one grid over the whole image, so that everything after the backbone
 * (patch labels, image scores, maps, the training cache's rows) sees one grid per image, as with
 * every other fit. The tiles do not overlap, so the stitched grid is a uniform grid of patch
 * centres over the canvas, and the map's bilinear upsampling stays exact across tile seams.
 */
import type { GraphBuilder } from '../onnx/builder.js';

/**
 * The grid one image's stitched patches form: tiles × each tile's grid.
 * @example stitchedGrid({ height: 36, width: 36 }, [1, 3]); // { height: 36, width: 108 }
 */
export function stitchedGrid(grid: { height: number; width: number }, tiles: readonly [number, number]): { height: number; width: number } {
  return { height: tiles[0] * grid.height, width: tiles[1] * grid.width };
}

/**
 * Adds the stitching: `x` holds rows in tile order (image, tile row, tile column, patch row,
 * patch column) followed by `trailing` axes; the result is [N, rows·gh, columns·gw, ...trailing],
 * image by image in patch-grid order. One tile: only the reshape.
 * @example
 * const perImage = addStitchTiles(g, patchScores, { height: 36, width: 36 }, [1, 3]); // [N, 36, 108]
 */
export function addStitchTiles(
  g: GraphBuilder,
  x: string,
  grid: { height: number; width: number },
  tiles: readonly [number, number],
  trailing: number[] = [],
): string {
  const [rows, cols] = tiles;
  const whole = stitchedGrid(grid, tiles);
  if (rows === 1 && cols === 1) return g.op('Reshape', [x, g.ints([-1, grid.height, grid.width, ...trailing])]);
  const split = g.op('Reshape', [x, g.ints([-1, rows, cols, grid.height, grid.width, ...trailing])]);
  const perm = [0, 1, 3, 2, 4, ...trailing.map((_, i) => 5 + i)];
  return g.op('Reshape', [g.op('Transpose', [split], { perm }), g.ints([-1, whole.height, whole.width, ...trailing])]);
}
