/**
 * Image-level fakes (`train.syntheticFakes`; GLASS's "local anomaly synthesis" in our form): one
 * stained copy of every training image (validation/stains.ts, a kind of defect validation never
 * shows) and, with 'stains+rescaled', a second copy with content at the wrong scale in ellipses
 * (validation/rescaledContent.ts), their features extracted once, and for each patch inside a
 * defect the offset it caused, X_copy − X (a patch in both keeps the stain's: rows are distinct).
 * Each training step then uses those offsets as the fakes of those rows, in place of their
 * Gaussian ε (heads/stepGraph.ts, `givenFakes`), so the discriminator also learns what an
 * image-space defect does to the features, not only what isotropic noise does. With a halo radius
 * (`train.haloReals`), the copies' patches beside a defect (training/haloRows.ts) are kept too, as
 * offsets of REAL rows: those rows train as normal with the copy's feature (or between normal and
 * defect, `train.haloTarget`). With `train.partialPatches: 'coverage'` the patches a defect covers
 * only in part (1 to DEFECT_HITS − 1 of their 9 sample points) train with the copy's feature too,
 * each against the share of it that is defect (hits / 9). Only these rows are kept (a few % of
 * the patches), not the copies' whole features.
 */
import type { Reporter } from '../core/progress.js';
import { concatTyped } from '../core/concat.js';
import { Rng } from '../core/rng.js';
import type { Sample } from '../datasets/dataset.js';
import type { FeatureCache } from '../embedding/featureCache.js';
import type { FeatureExtractor } from '../embedding/featureExtractor.js';
import { type DecodedImage, decodeImage } from '../images/decode.js';
import type { GivenFakes } from '../heads/trainStep.js';
import { GraphBuilder } from '../onnx/builder.js';
import { ortTensor, Session } from '../onnx/session.js';
import { synthesizeRescaled } from '../validation/rescaledContent.js';
import { synthesizeStain } from '../validation/stains.js';
import { DEFECT_HITS, patchHits, type SyntheticDefect } from '../validation/syntheticDefects.js';
import { haloRows } from './haloRows.js';

/** Its own stream: the stains depend on the seed only (validation's defects use DEFECT_STREAM). */
export const STAIN_STREAM = 0x57a1;
/** The rescaled copies' own stream, so adding them leaves the stains as they were. */
export const RESCALED_FAKE_STREAM = 0x5ca1;

/** Which synthetic copies of every training image (`train.syntheticFakes` other than 'none'). */
export type SyntheticFakeKind = 'stains' | 'stains+rescaled';

export interface ImageFakes {
  /** Row numbers within the image (0 … rowsPerImage − 1) of the stained patches. */
  rows: Int32Array;
  /** Their offsets, [rows.length, dim] row-major. */
  offsets: Float32Array;
  /** Rows beside a defect that train as real with the copy's feature (none when absent); distinct from `rows`. */
  haloRows?: Int32Array;
  /** Their offsets (copy − clean), [haloRows.length, dim] row-major. */
  haloOffsets?: Float32Array;
  /** Their soft targets (`TrainStep`'s `givenRealsTarget: 'per-row'`), one per halo row; absent: none given. */
  haloTargets?: Float32Array;
}

/** A patch's 3×3 sample points (`patchHits`). */
const SAMPLE_POINTS = 9;

/** A batch's given rows and offsets, in reusable buffers (`SyntheticFakes.batch`, `.reals`). */
class RowBuffer {
  private rows = new Int32Array(0);
  private offsets = new Float32Array(0);
  private targets = new Float32Array(0);

  constructor(private readonly dim: number) {}

  /** With `withTargets`, every part's `targets` (absent: 0) are laid out beside its rows. */
  fill(parts: readonly { rows: Int32Array; offsets: Float32Array; targets?: Float32Array; base: number }[], withTargets = false): GivenFakes {
    const k = parts.reduce((n, p) => n + p.rows.length, 0);
    if (this.rows.length < k) {
      this.rows = new Int32Array(k);
      this.offsets = new Float32Array(k * this.dim);
      this.targets = new Float32Array(k);
    }
    const rows = this.rows.subarray(0, k);
    const offsets = this.offsets.subarray(0, k * this.dim);
    const targets = this.targets.subarray(0, k);
    let at = 0;
    for (const p of parts) {
      for (let j = 0; j < p.rows.length; j++) rows[at + j] = p.base + p.rows[j];
      offsets.set(p.offsets, at * this.dim);
      if (withTargets) targets.set(p.targets ?? new Float32Array(p.rows.length), at);
      at += p.rows.length;
    }
    return withTargets ? { rows, offsets, targets } : { rows, offsets };
  }
}

/** (stained − clean) features at the given rows, as float32. */
function buildOffsetModel(dtype: 'float32' | 'float16', dim: number): Uint8Array {
  const g = new GraphBuilder('simplenet_stain_offsets');
  const cast = (n: string) => (dtype === 'float16' ? g.cast(n, 'float32') : n);
  const clean = cast(g.input('clean', dtype, ['rows', dim]));
  const stained = cast(g.input('stained', dtype, ['rows', dim]));
  const rows = g.input('picked', 'int64', ['k']);
  g.output(g.op('Gather', [g.op('Sub', [stained, clean]), rows], { axis: 0 }), 'offsets', 'float32', ['k', dim]);
  return g.toModel();
}

export class SyntheticFakes {
  private readonly fakeBuffer: RowBuffer;
  private readonly realBuffer: RowBuffer;
  /** It keeps real rows (a ring or partly covered patches): a step takes `reals` (TrainStep's `givenReals`). */
  readonly keepsReals: boolean;
  /** Those rows carry soft targets: `reals` gives one per row (TrainStep's `givenRealsTarget: 'per-row'`). */
  readonly softReals: boolean;

  private constructor(
    private readonly images: ImageFakes[],
    private readonly rowsPerImage: number,
    private readonly dim: number,
  ) {
    this.fakeBuffer = new RowBuffer(dim);
    this.realBuffer = new RowBuffer(dim);
    // `create` gives every image halo rows (maybe none) exactly when it keeps reals, and targets when they are soft.
    this.keepsReals = images.some((f) => f.haloRows !== undefined);
    this.softReals = images.some((f) => f.haloTargets !== undefined);
  }

  /**
   * Fakes from offsets already measured, one entry per cached image (what `create` builds).
   * @throws RangeError when an entry's rows and offsets disagree or a row is outside the image.
   * @example const fakes = SyntheticFakes.fromOffsets([{ rows: Int32Array.of(2), offsets: new Float32Array(4) }], 6, 4);
   */
  static fromOffsets(images: ImageFakes[], rowsPerImage: number, dim: number): SyntheticFakes {
    images.forEach((f, i) => {
      if (f.offsets.length !== f.rows.length * dim)
        throw new RangeError(`SyntheticFakes: image ${i} has ${f.rows.length} rows but ${f.offsets.length} offset values (dim ${dim})`);
      if (f.rows.some((r) => r < 0 || r >= rowsPerImage)) throw new RangeError(`SyntheticFakes: image ${i} has a row outside 0 … ${rowsPerImage - 1}`);
      const halo = f.haloRows ?? new Int32Array(0);
      if ((f.haloOffsets?.length ?? 0) !== halo.length * dim)
        throw new RangeError(`SyntheticFakes: image ${i} has ${halo.length} halo rows but ${f.haloOffsets?.length ?? 0} halo offset values (dim ${dim})`);
      const fake = new Set(f.rows);
      if (halo.some((r) => r < 0 || r >= rowsPerImage || fake.has(r)))
        throw new RangeError(`SyntheticFakes: image ${i} has a halo row outside 0 … ${rowsPerImage - 1} or among its fake rows`);
      if (f.haloTargets && !(f.haloTargets.length === halo.length && f.haloTargets.every((t) => t >= 0 && t < 1)))
        throw new RangeError(`SyntheticFakes: image ${i} needs one halo target in [0, 1) per halo row (${halo.length})`);
    });
    return new SyntheticFakes(images, rowsPerImage, dim);
  }

  /** Stained rows over all images (for the log). */
  get rowCount(): number {
    return this.images.reduce((s, f) => s + f.rows.length, 0);
  }

  /** Halo rows (real rows beside a defect) over all images. */
  get haloCount(): number {
    return this.images.reduce((s, f) => s + (f.haloRows?.length ?? 0), 0);
  }

  /**
   * One stained copy of every image of `train` (cached as `cache`, image i at index i), and with
   * `kind: 'stains+rescaled'` (default 'stains') one rescaled copy too, through `extractor`, each kind
   * drawn from `seed` on its own stream. `haloRadius` (default 0, none) also keeps each copy's rows
   * within that many patches of its defect, from `haloFrom` patches out (default 1, the adjacent
   * ones), as real rows (training/haloRows.ts), each with the soft target `haloTarget` (default 0);
   * `partial` (default false) keeps the patches a defect covers in part as real rows too, each with
   * its covered share as its target (both in `haloTargets`). A row
   * that is a fake in any copy, or already kept from an earlier one, is not.
   * @throws the decoder's error naming the file when an image cannot be read.
   * @example const fakes = await SyntheticFakes.create(extractor, dataset.train, cache, { seed: 0, reporter });
   */
  static async create(
    extractor: FeatureExtractor,
    train: readonly Sample[],
    cache: FeatureCache,
    opts: {
      seed: number;
      kind?: SyntheticFakeKind;
      haloRadius?: number;
      haloFrom?: number;
      haloTarget?: number;
      partial?: boolean;
      reporter: Reporter;
      signal?: AbortSignal;
    },
  ): Promise<SyntheticFakes> {
    const geometry = extractor.options.image;
    const makers: ((image: DecodedImage) => SyntheticDefect)[] = [];
    const stainRng = new Rng(opts.seed ^ STAIN_STREAM);
    makers.push((image) => synthesizeStain(image, geometry, stainRng));
    if (opts.kind === 'stains+rescaled') {
      const rescaledRng = new Rng(opts.seed ^ RESCALED_FAKE_STREAM);
      makers.push((image) => synthesizeRescaled(image, geometry, rescaledRng));
    }
    const radius = opts.haloRadius ?? 0;
    const partial = opts.partial === true;
    const keepsReals = radius > 0 || partial;
    const soft = partial || (radius > 0 && (opts.haloTarget ?? 0) > 0);
    const images: ImageFakes[] = [];
    const session = await Session.create(buildOffsetModel(cache.plan.dtype, cache.dim), 'stain offsets');
    const bar = opts.reporter.bar('image-level fakes (synthetic copies)', train.length);
    try {
      for (let i = 0; i < train.length; i++) {
        opts.signal?.throwIfAborted();
        const image = await decodeImage(train[i].path);
        const taken = new Set<number>();
        const fakes: { rows: Int32Array; offsets: Float32Array }[] = [];
        const halos: { rows: Int32Array; offsets: Float32Array; targets: Float32Array }[] = [];
        // Every maker draws for every image, so each stream's draws never depend on another's.
        for (const make of makers) {
          const copy = make(image);
          const hits = patchHits(copy.mask, image.width, image.height, geometry, extractor.grid);
          const picked: number[] = [];
          hits.forEach((h, r) => {
            if (h >= DEFECT_HITS && !taken.has(r)) picked.push(r);
          });
          if (picked.length === 0) continue;
          for (const r of picked) taken.add(r);
          const ring = radius > 0 ? haloRows(hits, extractor.grid, radius, opts.haloFrom) : [];
          const part: number[] = [];
          if (partial) hits.forEach((h, r) => h > 0 && h < DEFECT_HITS && part.push(r));
          const halo = [...ring, ...part];
          const rows = [...picked, ...halo];
          const out = await session.run({
            clean: cache.batch([i]),
            stained: await extractor.extract([copy.image]),
            picked: ortTensor('int64', [rows.length], BigInt64Array.from(rows, BigInt)),
          });
          const all = out.offsets.data as Float32Array;
          const d = cache.dim;
          fakes.push({ rows: Int32Array.from(picked), offsets: all.slice(0, picked.length * d) });
          const targets = Float32Array.from(halo, (r, j) => (j < ring.length ? (opts.haloTarget ?? 0) : hits[r] / SAMPLE_POINTS));
          halos.push({ rows: Int32Array.from(halo), offsets: all.slice(picked.length * d), targets });
        }
        const entry: ImageFakes = {
          rows: concatTyped(
            Int32Array,
            fakes.map((f) => f.rows),
          ),
          offsets: concatTyped(
            Float32Array,
            fakes.map((f) => f.offsets),
          ),
        };
        if (keepsReals) {
          const { haloTargets, ...kept } = keptHalo(halos, taken, cache.dim);
          // Targets only where some row has one (TrainStep's 'per-row'); otherwise every kept row is a plain real.
          Object.assign(entry, kept, soft ? { haloTargets } : {});
        }
        images.push(entry);
        bar.tick();
      }
    } finally {
      await session.release();
    }
    const fakes = SyntheticFakes.fromOffsets(images, cache.rowsPerImage, cache.dim);
    const halo = keepsReals ? `, ${fakes.haloCount} patches beside or partly in them kept as reals` : '';
    bar.done(`${fakes.rowCount} synthetic-defect patches of ${train.length * cache.rowsPerImage}${halo}`);
    return fakes;
  }

  /**
   * The given fakes of a batch whose rows are laid out as `FeatureCache.batch(images)` lays them
   * out: the stained rows' numbers in that batch and their offsets [rows × D]. Only those rows are
   * fed (a few % of the batch). The buffers are reused by the next call.
   * @example const given = fakes.batch([3, 0, 7]); // { rows, offsets } for TrainStep.step
   */
  batch(images: readonly number[]): GivenFakes {
    return this.fakeBuffer.fill(images.map((img, b) => ({ rows: this.images[img].rows, offsets: this.images[img].offsets, base: b * this.rowsPerImage })));
  }

  /**
   * The given reals of the same batch (`TrainStep.step`'s `givenReals`): the kept rows' numbers and
   * their offsets, laid out as `batch` lays out the fakes, and their targets when any is soft; empty
   * without a halo radius or partly covered patches. The buffers are reused by the next call.
   * @example const reals = fakes.reals([3, 0, 7]); // { rows, offsets } for TrainStep.step
   */
  reals(images: readonly number[]): GivenFakes {
    const none = { rows: new Int32Array(0), offsets: new Float32Array(0) };
    return this.realBuffer.fill(
      images.map((img, b) => {
        const f = this.images[img];
        return f.haloRows && f.haloOffsets
          ? { rows: f.haloRows, offsets: f.haloOffsets, targets: f.haloTargets, base: b * this.rowsPerImage }
          : { ...none, base: 0 };
      }),
      this.softReals,
    );
  }
}

/** The halo rows of an image's copies that no copy made a fake and no earlier copy kept, with their offsets and targets. */
function keptHalo(
  halos: readonly { rows: Int32Array; offsets: Float32Array; targets: Float32Array }[],
  fakeRows: ReadonlySet<number>,
  dim: number,
): Required<Pick<ImageFakes, 'haloRows' | 'haloOffsets' | 'haloTargets'>> {
  const seen = new Set<number>();
  const rows: number[] = [];
  const parts: Float32Array[] = [];
  const targets: number[] = [];
  for (const h of halos) {
    h.rows.forEach((r, j) => {
      if (fakeRows.has(r) || seen.has(r)) return;
      seen.add(r);
      rows.push(r);
      parts.push(h.offsets.subarray(j * dim, (j + 1) * dim));
      targets.push(h.targets[j]);
    });
  }
  return { haloRows: Int32Array.from(rows), haloOffsets: concatTyped(Float32Array, parts), haloTargets: Float32Array.from(targets) };
}
