/**
 * The nearest-neighbour head (PatchCore-style; issue 13's baseline): a memory bank of training patch
 * features, and patch score = Euclidean distance to the nearest bank feature, computed inside the
 * scoring graph as a matrix product and a reduction:
 *   ‖x − m‖² = ‖x‖² − 2·x·mᵀ + ‖m‖²,  score = √max(0, min_m ‖x − m‖²).
 * Both sides are centred on the bank's mean first (the same distances, less cancellation in float32),
 * and the bank is split into chunks of rows so that the [rows, bank] product never exists whole: each
 * chunk is one Gemm and a ReduceMin, and the chunks' minima meet in one Min. The bank's mean, the
 * centred chunks and their norms depend on constants only, so onnxruntime folds them at load.
 */
import { float, type GraphBuilder } from '../onnx/builder.js';
import type { HostTensor } from '../onnx/tensor.js';
import type { HeadParams } from './params.js';

/** The safetensors key of the memory bank in a knn model's heads.safetensors. */
export const KNN_BANK = 'knn.memory_bank';

/**
 * A knn head's parameters: the memory bank, [M, D] float32, one row per kept training patch feature.
 * @example const params: KnnParams = { 'knn.memory_bank': { dtype: 'float32', dims: [2, 3], data: new Float32Array(6) } };
 */
export interface KnnParams {
  /** The memory bank, [M, D]: patch score = distance to the nearest row. */
  readonly 'knn.memory_bank': HostTensor<'float32'>;
}

/**
 * The parameters a model folder holds: SimpleNet's adaptor + discriminator, or a knn memory bank.
 * @example const kind = isKnnParams(model.params) ? 'knn' : 'simplenet';
 */
export type ModelParams = HeadParams | KnnParams;

/** Bank rows per Gemm in the scoring graph: bounds the intermediate to [rows, 4096]. */
export const KNN_BANK_CHUNK = 4096;

/** Whether `p` is a knn head's parameters (else SimpleNet's adaptor + discriminator). */
export function isKnnParams(p: object): p is KnnParams {
  return KNN_BANK in p;
}

/**
 * Checks that `params` holds a finite-shaped float32 [M, featureDim] memory bank with M ≥ 1.
 * @throws TypeError / RangeError naming `arg` and what is wrong.
 */
export function checkKnnParams(params: unknown, featureDim: number, arg = 'params'): KnnParams {
  if (typeof params !== 'object' || params === null) throw new TypeError(`${arg}: expected an object holding '${KNN_BANK}'`);
  const t = (params as Record<string, HostTensor | undefined>)[KNN_BANK];
  if (!t) throw new TypeError(`${arg}: missing '${KNN_BANK}'`);
  if (t.dtype !== 'float32') throw new TypeError(`${arg}['${KNN_BANK}']: expected float32, got ${t.dtype}`);
  if (t.dims.length !== 2 || t.dims[0] < 1 || t.dims[1] !== featureDim) {
    throw new RangeError(`${arg}['${KNN_BANK}']: expected shape [M ≥ 1, ${featureDim}], got [${t.dims.join(', ')}]`);
  }
  return params as KnnParams;
}

/**
 * Adds nodes computing patch scores [N] (distance to the nearest bank row) from `features`
 * ([N, D] float32 value name).
 */
export function addKnnPatchScores(g: GraphBuilder, features: string, params: KnnParams, opts: { chunkRows?: number } = {}): string {
  const bankT = params[KNN_BANK];
  const [m] = bankT.dims;
  const chunk = opts.chunkRows ?? KNN_BANK_CHUNK;
  const bank = g.constant(bankT, 'knn_bank');
  const mean = g.op('ReduceMean', [bank], { axes: [0], keepdims: 1 }); // [1, D]
  const centred = g.op('Sub', [bank, mean]);
  const x = g.op('Sub', [features, mean]);
  const xNorm = g.op('ReduceSum', [g.op('Mul', [x, x]), g.ints([1])], { keepdims: 1 }); // [N, 1]
  const minima: string[] = [];
  for (let start = 0; start < m; start += chunk) {
    const part = g.op('Slice', [centred, g.ints([start]), g.ints([Math.min(m, start + chunk)]), g.ints([0])]);
    const partNorm = g.op('ReduceSum', [g.op('Mul', [part, part]), g.ints([1])], { keepdims: 0 }); // [m_c]
    // −2·x·mᵀ + ‖m‖²: [N, m_c]
    const cross = g.op('Gemm', [x, part, partNorm], { transB: 1, alpha: float(-2), beta: float(1) });
    minima.push(g.op('ReduceMin', [cross], { axes: [1], keepdims: 1 }));
  }
  const nearest = minima.length === 1 ? minima[0] : g.op('Min', minima);
  const squared = g.op('Relu', [g.op('Add', [nearest, xNorm])]); // clamp at 0 before the root
  return g.op('Reshape', [g.op('Sqrt', [squared]), g.ints([-1])]);
}
