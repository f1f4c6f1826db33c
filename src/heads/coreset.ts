/**
 * Greedy k-center coreset (PatchCore, Roth et al. 2022, §3.2): start from one seeded point, then
 * repeatedly add the point farthest from the points chosen so far. As PatchCore does for speed, the
 * distances are computed on a random linear projection of the features (to 128 dimensions by
 * default; `randomProjection`), and the chosen rows of the full features form the memory bank.
 *
 * The plain algorithm updates every point's distance to the set after every step: a pass over all N
 * projected rows per step, memory-bound (on bottle, N ≈ 244k rows × 128 floats, 24k steps: ≈ 5 ms
 * a pass, 2 minutes or more). This implementation selects exactly the same points (up to
 * floating-point ties) with far fewer passes, by a lazy search:
 *  - a *refresh* applies every centre chosen since the last refresh to all rows in one Gemm per
 *    chunk of rows (compute-bound: [rows, P] × [P, L]), and keeps the T rows farthest from the set
 *    (the candidates; TopK per chunk, merged here) and U, the (T+1)-th largest distance;
 *  - between refreshes each step updates only the candidates' distances (one small onnxruntime run
 *    per step, [T, P] × [P]) and takes the farthest candidate. Distances to the set only shrink, so
 *    every other row is still at most U away: while the farthest candidate is farther than U it is
 *    the farthest row of all, exactly as a full pass would find. When it is not, refresh.
 * The first choice after a refresh is the global farthest row (the refresh's top entry), so every
 * refresh makes progress. On bottle (T = 1024) 24k steps take about 50 refreshes.
 * Ties are broken towards the lower row index, as argmax does in a full pass.
 */
import type { Reporter } from '../core/progress.js';
import type { Rng } from '../core/rng.js';
import { float, GraphBuilder } from '../onnx/builder.js';
import { ortTensor, Session } from '../onnx/session.js';
import { f32, type HostTensor } from '../onnx/tensor.js';

/** Projected rows in chunks: each [rows_c, dim] row-major; row numbers run on across the chunks. */
export interface ProjectedRows {
  chunks: Float32Array[];
  dim: number;
}

export interface CoresetOptions {
  /** How many rows to choose (1 ≤ count ≤ total rows). */
  count: number;
  /** The first row chosen (PatchCore: a random one; the caller draws it from its seed). */
  start: number;
  /** Candidates kept between refreshes (default 1024); any value gives the same selection. */
  candidates?: number;
  reporter?: Reporter;
  signal?: AbortSignal;
}

export interface CoresetResult {
  /** The chosen rows, in the order chosen (indices[0] = start). */
  indices: Int32Array;
  /** Full passes over the rows (refreshes) and the steps between them, for the record. */
  refreshes: number;
}

/**
 * A Gaussian random projection [inDim, outDim] with entries N(0, 1/outDim) (Johnson–Lindenstrauss:
 * squared distances are kept in expectation), drawn from `rng` in row-major order.
 * @example const w = randomProjection(1536, 128, new Rng(0));
 */
export function randomProjection(inDim: number, outDim: number, rng: Rng): HostTensor<'float32'> {
  const t = f32([inDim, outDim]);
  const scale = 1 / Math.sqrt(outDim);
  for (let i = 0; i < t.data.length; i++) t.data[i] = rng.normal() * scale;
  return t;
}

/**
 * A graph projecting feature rows [rows, D] (float32, or float16 cast in-graph) by `projection`
 * [D, P] to `projected` [rows, P]: what the knn coreset and the per-patch noise scale measure on.
 * @example const model = projectionModel('float32', randomProjection(1536, 128, new Rng(0)));
 */
export function projectionModel(dtype: 'float32' | 'float16', projection: HostTensor<'float32'>): Uint8Array {
  const g = new GraphBuilder('feature_projection');
  let x = g.input('features', dtype, ['rows', projection.dims[0]]);
  if (dtype === 'float16') x = g.cast(x, 'float32');
  g.output(g.op('MatMul', [x, g.constant(projection, 'projection')]), 'projected', 'float32', ['rows', projection.dims[1]]);
  return g.toModel();
}

/** d' = min(d, ‖x − c‖²) for every row against every centre in `c`, and the chunk's top k of d'. */
function buildRefreshModel(dim: number): Uint8Array {
  const g = new GraphBuilder('coreset_refresh');
  const x = g.input('x', 'float32', ['rows', dim]);
  const d = g.input('d', 'float32', ['rows']);
  const c = g.input('c', 'float32', ['centres', dim]);
  const k = g.input('k', 'int64', [1]);
  const xNorm = g.op('ReduceSum', [g.op('Mul', [x, x]), g.ints([1])], { keepdims: 0 });
  const cNorm = g.op('ReduceSum', [g.op('Mul', [c, c]), g.ints([1])], { keepdims: 0 });
  const cross = g.op('Gemm', [x, c, cNorm], { transB: 1, alpha: float(-2), beta: float(1) }); // [rows, centres]
  const nearest = g.op('Relu', [g.op('Add', [g.op('ReduceMin', [cross], { axes: [1], keepdims: 0 }), xNorm])]);
  const next = g.op('Min', [d, nearest]);
  g.output(next, 'next', 'float32', ['rows']);
  const [values, indices] = g.opN('TopK', [next, k], 2, { axis: 0, largest: 1, sorted: 1 });
  g.output(values, 'top_values', 'float32', ['k']);
  g.output(indices, 'top_indices', 'int64', ['k']);
  return g.toModel();
}

/** The candidates' distances after adding candidate `i` as a centre, and the farthest candidate. */
function buildStepModel(dim: number): Uint8Array {
  const g = new GraphBuilder('coreset_step');
  const x = g.input('x', 'float32', ['candidates', dim]);
  const d = g.input('d', 'float32', ['candidates']);
  const i = g.input('i', 'int64', [1]);
  const c = g.op('Gather', [x, i], { axis: 0 }); // [1, dim]
  const xNorm = g.op('ReduceSum', [g.op('Mul', [x, x]), g.ints([1])], { keepdims: 0 });
  const cNorm = g.op('ReduceSum', [g.op('Mul', [c, c]), g.ints([1])], { keepdims: 0 });
  const cross = g.op('Gemm', [x, c, cNorm], { transB: 1, alpha: float(-2), beta: float(1) }); // [candidates, 1]
  const dist = g.op('Relu', [g.op('Add', [g.op('Reshape', [cross, g.ints([-1])]), xNorm])]);
  const next = g.op('Min', [d, dist]);
  g.output(next, 'next', 'float32', ['candidates']);
  // ArgMax takes the first maximum: candidates are in row order, so ties go to the lower row.
  g.output(g.op('ArgMax', [next], { axis: 0, keepdims: 1 }), 'arg', 'int64', [1]);
  g.output(g.op('ReduceMax', [next], { keepdims: 1 }), 'max', 'float32', [1]);
  return g.toModel();
}

/**
 * Chooses `count` rows by greedy k-center selection on `rows` (see the module comment).
 * @throws RangeError when count or start is out of range or the chunks do not match `dim`.
 * @example const { indices } = await kCenterGreedy({ chunks: [projected], dim: 128 }, { count: 100, start: 0 });
 */
export async function kCenterGreedy(rows: ProjectedRows, opts: CoresetOptions): Promise<CoresetResult> {
  const { dim, chunks } = rows;
  const offsets: number[] = [];
  let n = 0;
  for (const c of chunks) {
    if (c.length % dim !== 0) throw new RangeError(`kCenterGreedy: a chunk of ${c.length} values is not a whole number of ${dim}-d rows`);
    offsets.push(n);
    n += c.length / dim;
  }
  const { count, start } = opts;
  if (!Number.isInteger(count) || count < 1 || count > n) throw new RangeError(`kCenterGreedy: count must be in [1, ${n}], got ${count}`);
  if (!Number.isInteger(start) || start < 0 || start >= n) throw new RangeError(`kCenterGreedy: start must be in [0, ${n}), got ${start}`);
  const t = Math.max(1, Math.min(opts.candidates ?? 1024, n));
  const rowOf = (index: number): Float32Array => {
    let c = chunks.length - 1;
    while (offsets[c] > index) c--;
    const r = index - offsets[c];
    return chunks[c].subarray(r * dim, (r + 1) * dim);
  };

  const chosen = new Int32Array(count);
  chosen[0] = start;
  let size = 1;
  const bar = opts.reporter?.bar('coreset (greedy k-center)', count);
  bar?.tick();
  if (count === 1) {
    bar?.done();
    return { indices: chosen, refreshes: 0 };
  }
  const refresh = await Session.create(buildRefreshModel(dim), 'coreset refresh');
  const step = await Session.create(buildStepModel(dim), 'coreset step');
  try {
    const xs = chunks.map((c) => ortTensor('float32', [c.length / dim, dim], c));
    const dist: Float32Array[] = chunks.map((c) => new Float32Array(c.length / dim).fill(Number.POSITIVE_INFINITY));
    let pending: number[] = [start];
    let refreshes = 0;
    while (size < count) {
      opts.signal?.throwIfAborted();
      // Refresh: apply the pending centres to every row; keep the top t + 1 of each chunk.
      const centres = new Float32Array(pending.length * dim);
      pending.forEach((p, k) => centres.set(rowOf(p), k * dim));
      const cTensor = ortTensor('float32', [pending.length, dim], centres);
      const top: { value: number; index: number }[] = [];
      for (let c = 0; c < chunks.length; c++) {
        const k = Math.min(t + 1, dist[c].length);
        const out = await refresh.run({
          x: xs[c],
          d: ortTensor('float32', [dist[c].length], dist[c]),
          c: cTensor,
          k: ortTensor('int64', [1], BigInt64Array.of(BigInt(k))),
        });
        dist[c] = out.next.data as Float32Array;
        const values = out.top_values.data as Float32Array;
        const indices = out.top_indices.data as BigInt64Array;
        for (let j = 0; j < values.length; j++) top.push({ value: values[j], index: offsets[c] + Number(indices[j]) });
      }
      refreshes++;
      pending = [];
      top.sort((a, b) => b.value - a.value || a.index - b.index);
      // Every row outside the candidates is at most `bound` from the set, now and after any later step.
      const bound = top.length > t ? top[t].value : Number.NEGATIVE_INFINITY;
      const candidates = top.slice(0, t).sort((a, b) => a.index - b.index);
      const cx = new Float32Array(candidates.length * dim);
      const cd = new Float32Array(candidates.length);
      candidates.forEach((cand, k) => {
        cx.set(rowOf(cand.index), k * dim);
        cd[k] = cand.value;
      });
      const cxTensor = ortTensor('float32', [candidates.length, dim], cx);
      // The first choice is the farthest row of all (the top entry), then candidates while they beat the bound.
      let pick = candidates.findIndex((cand) => cand.index === top[0].index);
      let values: Float32Array = cd;
      for (;;) {
        const index = candidates[pick].index;
        chosen[size++] = index;
        pending.push(index);
        bar?.tick();
        if (size === count) break;
        const out = await step.run({
          x: cxTensor,
          d: ortTensor('float32', [values.length], values),
          i: ortTensor('int64', [1], BigInt64Array.of(BigInt(pick))),
        });
        values = out.next.data as Float32Array;
        const best = (out.max.data as Float32Array)[0];
        if (!(best > bound)) break;
        pick = Number((out.arg.data as BigInt64Array)[0]);
      }
    }
    bar?.done(`${count} of ${n} rows, ${refreshes} passes`);
    return { indices: chosen, refreshes };
  } finally {
    await Promise.all([refresh.release(), step.release()]);
  }
}
