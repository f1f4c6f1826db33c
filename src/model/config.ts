/**
 * Every hyper-parameter of a SimpleNet run in one validated object. The defaults are the
 * 'validated' preset: the paper's algorithm (spec §1–§7) with the noise σ relative to the
 * features' measured std, the adaptor starting as the identity (issue 13: the paper's σ hardly
 * moves these features, so the discriminator learned nothing for epochs) and a logistic loss for
 * the discriminator, 10 % of the good images held out, synthetic-defect validation after every
 * epoch choosing the weights, 192 optimizer steps (8 epochs on bottle; README, "Fast
 * convergence"; the paper's rule, final weights after 160 epochs, collapses on some seeds and
 * only its test-set selection hides it: "Honest numbers"). `preset: paper` restores the paper exactly.
 * `--config` files and CLI flags override parts of it.
 */
import { readRegularFile } from '../io/readRegular.js';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { DEFAULT_HEAD_CONFIG } from '../heads/config.js';
import { oneLine } from '../core/progress.js';
import { type ImageFit, IMAGE_FITS } from '../images/fit.js';

const positiveInt = z.number().int().positive();
/** The 'validated' preset's `image.fit`: the whole image, whatever its aspect (see the schema). */
const DEFAULT_FIT: ImageFit = 'tile';
/** The discriminator's hidden width by default (the paper's is DEFAULT_HEAD_CONFIG.hiddenDim, 1024). */
const VALIDATED_HIDDEN_DIM = 512;
const nonNegative = z.number().nonnegative();
/** The 'validated' preset's `map.transform` (the paper's is 'none'). */
const DEFAULT_MAP_TRANSFORM = 'sigmoid';

/** The noise σ when none is given: the paper's 0.015 for an absolute σ, 0.5 of the feature std for a relative one (README, "Fast convergence": three seeds reached validation patch AUROC 0.9 at epoch 2, against 3–4 with 0.3). */
export function defaultNoiseStd(scale: 'absolute' | 'feature-std'): number {
  return scale === 'absolute' ? DEFAULT_HEAD_CONFIG.noiseStd : 0.5;
}

/**
 * `train.minSteps` only sets the default's epochs: an epoch count given without it runs exactly
 * those epochs (minSteps 0), however the configuration is parsed.
 */
function givenEpochsRunAsGiven(train: unknown): unknown {
  if (!train || typeof train !== 'object') return train;
  const t = train as { epochs?: unknown; minSteps?: unknown };
  return t.epochs !== undefined && t.minSteps === undefined ? { ...t, minSteps: 0 } : train;
}

/**
 * What the patch scores pass through before upsampling and smoothing: 'none' (the paper: the
 * discriminator's −D as it is) or 'sigmoid' (σ(−D), under the logistic loss the discriminator's
 * probability that the patch is a fake). Both keep each image's ranking of its patches; they differ
 * in what the smoothing mixes: with 'none' a strong defect's large −D spills, through the upsampling
 * and smoothing, over the normal pixels beside it, above the pixels of fainter defects elsewhere; a
 * probability is at most 1 (docs/studies/fast-convergence.md, "Probability maps").
 * @example const t: MapTransform = 'sigmoid';
 */
export type MapTransform = 'none' | 'sigmoid';

/** Every `MapTransform`, as the schema lists them. */
const MAP_TRANSFORMS = ['none', 'sigmoid'] as const satisfies readonly MapTransform[];

/** The 'knn' head's settings. */
const KnnSchema = z
  .object({
    /** Share of the training patch features kept in the memory bank (greedy k-center coreset). */
    coresetFraction: z.number().gt(0).max(1).default(0.1),
    /** Dimension of the random projection the coreset's distances are computed on (PatchCore: 128). */
    projectionDim: positiveInt.default(128),
  })
  .strict();

/**
 * Every hyper-parameter of a run, with its default (the 'validated' preset), as a zod schema;
 * exported as `SimpleNetConfigSchema`. Parsing a partial object fills in the defaults and refuses
 * unknown fields. `resolveConfig` is the usual way in (it also applies presets and files).
 * @example
 * const config = SimpleNetConfigSchema.parse({ train: { epochs: 8 } });
 * console.log(config.image.crop, config.head.hiddenDim); // 288 512
 */
export const ConfigSchema = z
  .object({
    /** The preset asked for ('custom' only in models saved before presets had defaults of their own). */
    preset: z.enum(['validated', 'paper', 'custom']).default('validated'),
    /** How images become the model's square input: sizes and fit (all fields below). */
    image: z
      .object({
        /** Shorter side after resizing, read by fit 'crop' only (default 329, the paper's). */
        resize: positiveInt.default(329),
        /** Side of the square frame the model sees, and of every anomaly map (default 288). */
        crop: positiveInt.default(288),
        /**
         * How an image of any aspect fills the crop×crop frame (images/fit.ts, issue 13):
         * 'crop' (the paper: shorter side to `resize`, centre crop; keeps 77 % of a square image
         * and less of an elongated one: defects outside are never seen), 'squash' (both axes
         * resized to `crop`, PIL-exact bilinear; nothing discarded, the aspect is not kept),
         * 'letterbox' (longer side to `crop` keeping the aspect, padded with the backbone's mean
         * colour, which normalises to 0) or 'tile' (`tiles` crop×crop tiles, their patch grids
         * stitched over the whole image). Default 'tile' with 'auto' tiles: every pixel of any
         * aspect at the resolution a square image gets ('squash' exactly for square images, one
         * backbone run per tile for elongated ones); a model folder keeps the fit it was trained
         * with (folders saved before this field: 'crop').
         */
        fit: z.enum(IMAGE_FITS).default(DEFAULT_FIT),
        /**
         * Fit 'tile' only: [rows, columns] of crop×crop tiles the image is resized to and cut into
         * (each scored by the backbone, their patch grids stitched into one map over the whole
         * image), or 'auto' (default): square tiles along the longer side of the first training
         * image, as many as its aspect rounds to (at most 8), stored resolved in the model.
         */
        tiles: z.union([z.literal('auto'), z.tuple([positiveInt, positiveInt])]).default('auto'),
      })
      .strict()
      .refine((v) => v.resize >= v.crop, { message: 'image.resize must be >= image.crop' })
      .prefault({}),
    /** Patch embedding: neighbourhood size (default 3) and pooled dimensions (default 1536 each). */
    embed: z
      .object({
        patchSize: positiveInt.default(3),
        pretrainDim: positiveInt.default(1536),
        targetDim: positiveInt.default(1536),
      })
      .strict()
      .refine((v) => v.patchSize % 2 === 1, { message: 'embed.patchSize must be odd' })
      .prefault({}),
    /** The adaptor and discriminator and their optimisers (heads/config.ts lists the defaults). */
    head: z
      .object({
        /**
         * The scoring head: 'simplenet' (absent means this: adaptor + discriminator trained on
         * synthetic anomalies) or 'knn' (PatchCore-style distance to the nearest feature of a coreset
         * of the training patch features; no training, settings in `knn`). The other head fields
         * are SimpleNet's and unused by 'knn'.
         */
        kind: z.enum(['simplenet', 'knn']).optional(),
        /**
         * The discriminator's hidden width: 512 (default) or the paper's 1024. Half the width scored
         * higher on validation on four of five seeds with a higher mean validation patch AUROC, and
         * halves the step's time (docs/studies/fast-convergence.md, "A narrower discriminator, adopted").
         */
        hiddenDim: positiveInt.default(VALIDATED_HIDDEN_DIM),
        /** σ of the noise, or its fraction of the feature std; absent: 0.015 with 'absolute' (paper), 0.5 with 'feature-std'. */
        noiseStd: nonNegative.optional(),
        /**
         * 'absolute': σ = noiseStd (paper, tuned there for WideResNet-50-2); 'feature-std' (default):
         * σ = noiseStd × the features' measured mean per-dimension std, so fakes leave the normal
         * features by a distance that follows the backbone's own scale (README, "Fast convergence").
         */
        noiseScale: z.enum(['absolute', 'feature-std']).default('feature-std'),
        /**
         * Each fake patch's σ is drawn log-uniform in [σ / noiseSpread, σ · noiseSpread], so fakes lie
         * at a range of distances from the normal features (`HeadConfig.noiseSpread`); 1 (default,
         * the paper): one σ for all.
         */
        noiseSpread: z.number().min(1).default(1),
        /**
         * The adaptor's starting weights: 'xavier' (paper: Xavier-normal, a random mixing of the
         * features), 'identity' (starts as the features themselves, so the noise scale measured on
         * them holds at step 0), or 'standardize' (starts as per-dimension standardisation with the
         * training features' mean and std: an affine map, so it stays one linear layer).
         */
        adaptorInit: z.enum(['xavier', 'identity', 'standardize']).default('identity'),
        /**
         * The discriminator's loss: 'logistic' (default: binary cross-entropy on the logit, a proper
         * scoring rule; README, "Fast convergence") or the paper's 'truncated-l1' (`HeadConfig.loss`).
         */
        loss: z.enum(['truncated-l1', 'logistic']).default('logistic'),
        /**
         * Each step trains on this fraction of the real and of the fake patches with the largest
         * loss (`HeadConfig.hardFraction`); 1 (default, the paper): every patch.
         */
        hardFraction: z.number().gt(0).max(1).default(1),
        /**
         * Gradient-ascent steps that turn each fake towards where the discriminator finds it most
         * normal, at its drawn distance (`HeadConfig.ascentSteps`, GLASS); 1 (default: adopted by the
         * five-seed confirmation in the README, "Fast convergence"); 0 (the paper): none.
         */
        ascentSteps: z.number().int().nonnegative().default(1),
        /**
         * How far each ascent step turns a fake, as a fraction of its offset's length
         * (`HeadConfig.ascentSize`); default 0.1 (a turn of about 6°; 0.5 collapsed the discriminator).
         */
        ascentSize: z.number().positive().default(DEFAULT_HEAD_CONFIG.ascentSize),
        /**
         * Share of the fakes whose offset points from their patch towards another training patch of
         * the batch, at the Gaussian offset's length (`HeadConfig.dataDirections`); 0 (default, the
         * paper): every offset Gaussian.
         */
        dataDirections: z.number().min(0).max(1).default(DEFAULT_HEAD_CONFIG.dataDirections),
        /**
         * Share of the fakes that lie past another training patch of the batch, half to one pair
         * distance beyond it on the line from their own (`HeadConfig.extrapolatedFakes`); default 0.25,
         * adopted by the five-seed validation rule on top of the rescaled content and the fakes through
         * the adaptor (docs/studies/fast-convergence.md, "Fakes past the data"); the paper: 0.
         */
        extrapolatedFakes: z.number().min(0).max(1).default(0.25),
        /**
         * Fakes made from the data (the stains, `dataDirections`, `extrapolatedFakes`) as the adaptor of
         * the synthetic backbone feature X + δ (true, default), or A + δ (false)
         * (`HeadConfig.fakesThroughAdaptor`). Adopted by the five-seed validation rule on top of the
         * rescaled content, once the per-patch int8 head let its one-epoch models pass the int8 rank
         * check (docs/studies/fast-convergence.md, "Fakes through the adaptor"). Changes nothing without data-made fakes.
         */
        fakesThroughAdaptor: z.boolean().default(true),
        /**
         * How much each fake's σ follows its patch's distance to the nearest patch of other training
         * images, (d_i / mean d)^noiseLocality clamped to [1/4, 4] (`HeadConfig.noiseLocality`);
         * 0 (default, the paper): one σ for all.
         */
        noiseLocality: z.number().min(0).max(2).default(DEFAULT_HEAD_CONFIG.noiseLocality),
        margin: nonNegative.default(DEFAULT_HEAD_CONFIG.margin),
        leakySlope: nonNegative.default(DEFAULT_HEAD_CONFIG.leakySlope),
        bnMomentum: z.number().min(0).lt(1).default(DEFAULT_HEAD_CONFIG.bnMomentum),
        bnEps: z.number().positive().default(DEFAULT_HEAD_CONFIG.bnEps),
        adaptorLr: nonNegative.default(DEFAULT_HEAD_CONFIG.adaptorLr),
        adaptorWeightDecay: nonNegative.default(DEFAULT_HEAD_CONFIG.adaptorWeightDecay),
        discLr: nonNegative.default(DEFAULT_HEAD_CONFIG.discLr),
        discWeightDecay: nonNegative.default(DEFAULT_HEAD_CONFIG.discWeightDecay),
        beta1: z.number().min(0).lt(1).default(DEFAULT_HEAD_CONFIG.beta1),
        beta2: z.number().min(0).lt(1).default(DEFAULT_HEAD_CONFIG.beta2),
        adamEps: z.number().positive().default(DEFAULT_HEAD_CONFIG.adamEps),
      })
      .strict()
      .transform((h) => ({ ...h, noiseStd: h.noiseStd ?? defaultNoiseStd(h.noiseScale) }))
      .prefault({}),
    /** Epochs (default 6, more to reach `minSteps`), batch size (default 8), seed (default 0) and the training mechanisms. */
    train: z
      .preprocess(
        givenEpochsRunAsGiven,
        z
          .object({
            epochs: positiveInt.default(6),
            /**
             * At least this many optimizer steps (default 192: 8 epochs of 24 steps on bottle, where
             * validation was still rising after the 144 steps of 6 epochs, and the two more epochs kept
             * a higher validation score on each of seeds 5–9; docs/studies/fast-convergence.md, "Two
             * more epochs, adopted"): on a smaller training set the epochs rise to ⌈minSteps / steps per
             * epoch⌉, and the model records the epochs it ran (training/epochs.ts). 0: exactly `epochs`
             * (the paper; also whenever `epochs` is given and `minSteps` is not).
             */
            minSteps: z.number().int().nonnegative().default(192),
            batchSize: positiveInt.default(8),
            seed: z.number().int().nonnegative().default(0),
            /**
             * Memory for the cached training and validation features; past it they go, still float32,
             * to an unlinked temporary file read back batch by batch (issue 16: bottle with
             * WideResNet-50-2 features needs 1.4 GiB, which the page cache holds without counting
             * against the process). cacheDtype 'float16' halves them at the cost of rounding.
             */
            cacheMemoryMB: positiveInt.default(512),
            cacheDtype: z.enum(['auto', 'float32', 'float16']).default('auto'),
            /** Learning-rate schedule (paper: constant) with optional warm-up; cosine decays to minLrFactor. */
            schedule: z.enum(['constant', 'cosine']).default('constant'),
            minLrFactor: z.number().min(0).max(1).default(0.4),
            warmupEpochs: z.number().int().nonnegative().default(0),
            /**
             * σ at the last step as a fraction of σ at the first, reached linearly over the steps
             * (`noiseFactor` in training/schedule.ts): fakes move closer to the normal features as the
             * discriminator learns to separate them. 1 (default, the paper): one σ throughout.
             */
            noiseDecay: z.number().gt(0).max(1).default(1),
            /**
             * Image-level fakes: 'stains' trains on one stained copy of every training image, each
             * stained patch's feature offset used as its row's fake in place of the Gaussian one
             * (training/syntheticFakes.ts; kinds of defect validation never shows; adopted by the
             * five-seed rule in docs/studies/fast-convergence.md, "Image-level fakes"). 'stains+rescaled' (the default,
             * adopted by the same rule, "Content at the wrong scale") adds a second copy with the
             * image's own content magnified or minified in ellipses (validation/rescaledContent.ts).
             * 'none' (the paper): only the Gaussian fakes.
             */
            syntheticFakes: z.enum(['none', 'stains', 'stains+rescaled']).default('stains+rescaled'),
            /**
             * The ring around each synthetic defect, in patches, whose features (changed by the
             * defect next to them) train with the copy's features as their own rows: pixel masks count
             * those patches normal, and a discriminator that never saw them scores the ring around a
             * real defect almost as high as the defect (training/haloRows.ts;
             * docs/studies/fast-convergence.md, "The ring around a defect"). 2 (default, with
             * `haloFrom` 2 and `haloTarget` 0: the patches two out only, trained as normal; adopted
             * by the five-seed rule, "The ring two patches out"); 0 (the paper): none. Only with
             * `syntheticFakes`: the ring is around their defects.
             */
            haloReals: z.number().int().min(0).max(4).default(2),
            /**
             * The ring's inner radius, in patches: the ring is the patches from `haloFrom` to
             * `haloReals` patches (chessboard distance) from the nearest defective patch. 2
             * (default) leaves the adjacent patches as clean reals, as without a ring: they are
             * moved nearly as far as the defect's own patches, a target on them pulls the defects'
             * scores down too, and a tiny defect's pixels take their values partly from them
             * (training/haloRows.ts); 1 starts at the adjacent patches ("The ring between normal and
             * defect": higher validation, lower small defects). At most `haloReals`.
             */
            haloFrom: z.number().int().min(1).max(4).default(2),
            /**
             * The ring's target: each ring row trains as "a fake with probability haloTarget".
             * 0 (default, used when `haloReals` asks for a ring): the ring trains as real, which
             * is what the masks call it; with the adjacent patches left out (`haloFrom` 2) this
             * no longer costs small defects (adopted by a five-seed confirmation on unused seeds,
             * "The ring two out trained as normal, confirmed" in docs/studies/fast-convergence.md).
             * Above 0 (binary cross-entropy) the discriminator learns the ring as between normal
             * and defect (its optimum there is the logit log((1 − t)/t)); such a soft target runs
             * only under `head.loss: logistic` on every row (`head.hardFraction` 1), otherwise the
             * trainer warns and trains no ring (`effectiveHalo`).
             */
            haloTarget: z.number().min(0).lt(1).default(0),
            /**
             * The patches a synthetic defect covers only in part (1 to 4 of their 9 sample points;
             * 5 or more make a fake): 'clean' (the paper; default) leaves them out, their rows
             * training as the clean image's; 'coverage' trains each with the copy's feature against
             * the share of it that is defect (hits / 9, binary cross-entropy), the label a pixel mask
             * gives that patch on average, so the discriminator learns where a defect's edge is
             * (training/syntheticFakes.ts). It scored higher validation on five of five seeds, but
             * lower pixel AUROC on validation's small defects on five of five, so it is not the
             * default (docs/studies/fast-convergence.md, "Partly covered patches"). Only with
             * `syntheticFakes` and `head.loss: logistic` on every row (`effectiveHalo`).
             */
            partialPatches: z.enum(['clean', 'coverage']).default('clean'),
            /** EMA decay of the weights per step (0: off); the EMA weights are validated and saved. */
            ema: z.number().min(0).lt(1).default(0),
            /** Roll back to the last good epoch and lower the learning rates on a loss spike. */
            guard: z
              .object({
                enabled: z.boolean().default(false),
                spike: z.number().positive().default(0.05),
                lrFactor: z.number().positive().max(1).default(0.5),
                maxRollbacks: z.number().int().nonnegative().default(5),
              })
              .strict()
              .prefault({}),
            /** The model: the best on the synthetic-defect validation, or the final weights (paper). */
            select: z.enum(['final', 'validation']).default('validation'),
          })
          .strict()
          .refine((t) => t.haloReals === 0 || t.haloFrom <= t.haloReals, {
            message:
              'must be at most train.haloReals: the ring runs from haloFrom (default 2) to haloReals patches out; haloFrom 1 starts it at the adjacent patches',
            path: ['haloFrom'],
          }),
      )
      .prefault({}),
    /**
     * Validation on the held-out good images plus synthetic-defect copies of them (no test labels),
     * every `every` epochs (0: never) and after the last.
     */
    validation: z
      .object({
        every: z.number().int().nonnegative().default(1),
        syntheticPerImage: positiveInt.default(1),
        /** 'large' (0.5–35 % of the crop, strong blend) or 'graded' (down to about two patches, faint too). */
        defects: z.enum(['large', 'graded']).default('graded'),
      })
      .strict()
      .prefault({}),
    /** Thresholds come from good training images held out of training (never from test data). */
    threshold: z
      .object({
        validationFraction: z.number().min(0).lt(1).default(0.1),
        /** Image threshold = this quantile of the held-out images' scores (pixel: of their map maxima). */
        quantile: z.number().min(0).max(1).default(0.995),
        /**
         * How that quantile is estimated (model/calibration.ts `upperQuantile`): 'empirical' (numpy's
         * quantile of the held-out scores; with 21 images the 0.995-quantile is their maximum, which
         * new good images exceed about 1 time in 22) or 'normal' (default: the larger of that and
         * mean + z_q · sample std, z_q the normal quantile, so a small held-out set still asks for
         * the rarity `quantile` says).
         */
        estimator: z.enum(['empirical', 'normal']).default('normal'),
        /**
         * 'training' (default): the thresholds never go below the same estimates from the training
         * images' own scores (model/calibration.ts `withTrainingFloor`; up to 256 of them, scored
         * once after training), because ~20 held-out images understated how good images vary on
         * two of three fresh seeds (docs/studies/fast-convergence.md, "The threshold's floor"); 'none': the held-out estimates
         * alone (the paper preset). Ignored by the knn head, whose training patches are its memory bank.
         */
        floor: z.enum(['training', 'none']).default('training'),
      })
      .strict()
      .prefault({}),
    /** The 'knn' head's settings (absent: the defaults); only read when head.kind is 'knn'. */
    knn: KnnSchema.optional(),
    /**
     * The anomaly map: the patch scores' transform (`MapTransform`; default 'sigmoid', adopted by the
     * rule in docs/studies/fast-convergence.md, "Probability maps"; 'none' under the paper preset,
     * in models saved before the field; ignored by the knn head, whose maps are its distances),
     * then Gaussian smoothing: σ in pixels (default 4) and truncation (default 4σ).
     */
    map: z
      .object({ transform: z.enum(MAP_TRANSFORMS).default(DEFAULT_MAP_TRANSFORM), sigma: nonNegative.default(4), truncate: z.number().positive().default(4) })
      .strict()
      .prefault({}),
  })
  .strict();

/**
 * A complete, validated configuration: every field present. From `resolveConfig`, `defaultConfig`
 * or a model (`detector.model.config`).
 * @example
 * const config: SimpleNetConfig = await resolveConfig(undefined, { train: { epochs: 8 } });
 * console.log(config.train.epochs, config.threshold.quantile); // 8 0.995
 */
export type SimpleNetConfig = z.infer<typeof ConfigSchema>;

/**
 * A configuration preset: 'validated' (the default: relative noise, identity adaptor, logistic loss, held-out validation chooses
 * the weights, at least 6 epochs and 192 steps) or 'paper' (the paper's rule: the final weights after 160 epochs).
 * @example const detector = await train({ data, backbone: 'wide_resnet50_2', out: 'runs/paper', preset: 'paper' });
 */
export type PresetName = 'validated' | 'paper';

/** The scoring head a configuration trains: 'simplenet' (the default) or 'knn'. */
export type HeadKind = 'simplenet' | 'knn';

/**
 * Which head a configuration trains ('simplenet' when head.kind is absent).
 * @example if (headKind(config) === 'knn') console.log(knnSettings(config).coresetFraction);
 */
export function headKind(c: Pick<SimpleNetConfig, 'head'>): HeadKind {
  return c.head.kind ?? 'simplenet';
}

/** The knn head's settings with their defaults filled in. */
export function knnSettings(c: Pick<SimpleNetConfig, 'knn'>): NonNullable<SimpleNetConfig['knn']> {
  return c.knn ?? KnnSchema.parse({});
}

/**
 * Which preset a configuration is, judged by every choice that changes the trained model or its
 * maps (the epoch count aside): 'paper' (constant rates and σ, final weights, absolute σ, Xavier adaptor, truncated
 * L1, Gaussian fakes only, no EMA or guard, the centre crop, maps of −D), 'validated' (σ relative to the
 * feature std, identity adaptor, logistic loss, the ascent, image-level and extrapolated fakes, the ring two out,
 * best-by-validation weights, the default fit, maps of σ(−D)), else 'custom'.
 */
export function presetOf(c: SimpleNetConfig): PresetName | 'custom' {
  const t = c.train;
  const plainTraining = t.schedule === 'constant' && t.warmupEpochs === 0 && t.noiseDecay === 1 && t.ema === 0 && !t.guard.enabled;
  if (!plainTraining) return 'custom';
  // Judged from the mechanism lists themselves, so a new head mechanism needs adding there only.
  const headIs = (m: { head: Partial<SimpleNetConfig['head']> }) => Object.entries(m.head).every(([k, v]) => c.head[k as keyof SimpleNetConfig['head']] === v);
  const halo = effectiveHalo(c);
  const fakesAre = (m: { train: { syntheticFakes: string; haloReals: number; haloFrom: number; haloTarget: number; partialPatches: string } }) =>
    t.syntheticFakes === m.train.syntheticFakes &&
    halo.radius === m.train.haloReals &&
    halo.from === m.train.haloFrom &&
    halo.target === m.train.haloTarget &&
    (halo.partial ? 'coverage' : 'clean') === m.train.partialPatches;
  const paperHead = headIs(PAPER_MECHANISMS) && fakesAre(PAPER_MECHANISMS);
  const validatedHead = headIs(VALIDATED_MECHANISMS) && fakesAre(VALIDATED_MECHANISMS);
  // Without validation, 'validation' falls back to the final weights (trainer): the paper's rule.
  const validates = c.validation.every > 0 && c.threshold.validationFraction > 0;
  const selects = t.select === 'validation' && validates;
  // The fit changes what the model sees, the transform what its maps say: the paper crops and maps
  // −D, the validated preset tiles and maps σ(−D).
  if (paperHead && !selects && c.image.fit === PAPER_MECHANISMS.image.fit && c.map.transform === PAPER_MECHANISMS.map.transform) return 'paper';
  if (validatedHead && selects && c.image.fit === DEFAULT_FIT && c.map.transform === DEFAULT_MAP_TRANSFORM) return 'validated';
  return 'custom';
}

/** The ring a run trains: its radii in patches (outer 0: none) and its rows' soft target; and whether partly covered patches train. */
export interface Halo {
  radius: number;
  /** The inner radius (`train.haloFrom`); 1 when no ring is trained. */
  from: number;
  target: number;
  /** `train.partialPatches: 'coverage'` as it can run. */
  partial: boolean;
  /** Why a configured ring is not trained, for a warning; absent when it is as configured. */
  dropped?: string;
}

/**
 * The ring and the partly covered patches as they can run. Without synthetic fakes there is no
 * defect to have either; a soft target is a cross-entropy target, so under the truncated L1 or hard
 * rows neither a soft ring nor the partly covered patches are trained at all, rather than silently
 * as reals (the whole ring as normal cost faint defects: docs/studies/fast-convergence.md, "The ring
 * as normal"); the default ring, already real (`haloTarget` 0), trains under any loss.
 * @example effectiveHalo(parseConfig({})); // { radius: 2, from: 2, target: 0, partial: false }
 */
export function effectiveHalo(config: Pick<SimpleNetConfig, 'train' | 'head'>): Halo {
  const { haloReals, haloFrom, haloTarget, syntheticFakes, partialPatches } = config.train;
  const none = { radius: 0, from: 1, target: 0, partial: false };
  if (syntheticFakes === 'none') return none;
  const crossEntropy = config.head.loss === 'logistic' && config.head.hardFraction === 1;
  const partial = partialPatches === 'coverage';
  const dropped: string[] = [];
  if (partial && !crossEntropy) dropped.push("train.partialPatches 'coverage' (the partly covered patches are not trained)");
  const ring = haloReals > 0 && (haloTarget === 0 || crossEntropy);
  if (haloReals > 0 && !ring)
    dropped.push(`train.haloTarget ${haloTarget} (no ring around the synthetic defects is trained; set train.haloTarget 0 to train it as real)`);
  const halo = { radius: ring ? haloReals : 0, from: ring ? haloFrom : 1, target: ring ? haloTarget : 0, partial: partial && crossEntropy };
  if (dropped.length === 0) return halo;
  return { ...halo, dropped: `soft targets are cross-entropy targets (head.loss 'logistic' on every row, head.hardFraction 1): ${dropped.join('; ')}` };
}

/**
 * What a field meant before it existed, for models saved then (their config has every other field):
 * the image was centre-cropped, the adaptor Xavier-initialised, the loss the paper's truncated L1,
 * the fakes as drawn (no ascent, no image-level fakes), validation used the large defects, the epochs were exactly `train.epochs`
 * and the maps were of −D as it is.
 */
export const FIELDS_BEFORE_THEY_EXISTED = {
  image: { fit: 'crop' },
  head: { adaptorInit: 'xavier', loss: 'truncated-l1', ascentSteps: 0, fakesThroughAdaptor: false },
  validation: { defects: 'large' },
  threshold: { estimator: 'empirical', floor: 'none' },
  train: { minSteps: 0, syntheticFakes: 'none', haloReals: 0, haloFrom: 1, haloTarget: 0, partialPatches: 'clean' },
  map: { transform: 'none' },
} as const;

/** The 'validated' preset's head mechanisms (issue 13: the schema's defaults; the hidden width is a size, not judged here). */
export const VALIDATED_MECHANISMS = {
  head: {
    noiseScale: 'feature-std',
    noiseSpread: 1,
    hardFraction: 1,
    ascentSteps: 1,
    ascentSize: 0.1,
    dataDirections: 0,
    extrapolatedFakes: 0.25,
    fakesThroughAdaptor: true,
    noiseLocality: 0,
    adaptorInit: 'identity',
    loss: 'logistic',
  },
  // The ring as it runs (`effectiveHalo`): the patches two out, trained as normal.
  train: { syntheticFakes: 'stains+rescaled', haloReals: 2, haloFrom: 2, haloTarget: 0, partialPatches: 'clean' },
} as const;

/** The paper's values of every issue-6 mechanism and of `image.fit` (what `preset: paper` forces). */
export const PAPER_MECHANISMS = {
  image: { fit: 'crop' },
  head: {
    noiseScale: 'absolute',
    noiseSpread: 1,
    hardFraction: 1,
    ascentSteps: 0,
    dataDirections: 0,
    extrapolatedFakes: 0,
    noiseLocality: 0,
    adaptorInit: 'xavier',
    loss: 'truncated-l1',
    hiddenDim: DEFAULT_HEAD_CONFIG.hiddenDim,
  },
  train: {
    schedule: 'constant',
    warmupEpochs: 0,
    noiseDecay: 1,
    ema: 0,
    guard: { enabled: false },
    select: 'final',
    minSteps: 0,
    syntheticFakes: 'none',
    haloReals: 0,
    haloFrom: 1,
    haloTarget: 0,
    partialPatches: 'clean',
  },
  // The paper has no validation; where a study still scores one (benchmark --eval-every), it is issue 6's.
  validation: { defects: 'large' },
  // Nor thresholds: the held-out quantile as issue 6 estimated it.
  threshold: { estimator: 'empirical', floor: 'none' },
  map: { transform: 'none' },
} as const;

/**
 * Lays a preset under a partial configuration: 'paper' defaults to the paper's 160 epochs (an
 * explicit epoch count still wins) and forces the paper's mechanisms over anything else given;
 * 'validated' is the schema's defaults.
 */
export function applyPreset(partial: Record<string, unknown>, preset?: PresetName): Record<string, unknown> {
  const name = preset ?? (partial.preset as PresetName | undefined);
  if (name !== 'paper') return name ? mergeConfig(partial, { preset: name }) : partial;
  return mergeConfig({ train: { epochs: 160 } }, partial, PAPER_MECHANISMS, { preset: 'paper' });
}

/**
 * The default configuration (the 'validated' preset), every field filled in.
 * @example const { image, embed } = defaultConfig(); // { resize: 329, crop: 288, fit: 'tile', tiles: 'auto' }, { patchSize: 3, pretrainDim: 1536, targetDim: 1536 }
 */
export function defaultConfig(): SimpleNetConfig {
  return ConfigSchema.parse({});
}

function formatIssues(err: z.ZodError): string {
  return err.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
}

/** Validates a partial config (from a file and/or flags) over the defaults. */
export function parseConfig(input: unknown, source = 'config'): SimpleNetConfig {
  const r = ConfigSchema.safeParse(input ?? {});
  if (!r.success) throw new Error(`${source}: ${formatIssues(r.error)}`);
  return r.data;
}

/**
 * Reads a JSON or YAML config file (partial; unspecified values keep their defaults). An argument
 * that names no file and starts with `{` is the JSON itself, so a one-field change needs no file:
 * `--config '{"train":{"haloReals":3}}'` (a file of that name still wins).
 * @throws Error naming the argument: unreadable, or not valid JSON / YAML.
 * @example await readConfigFile('my.yaml'); await readConfigFile('{"train":{"epochs":8}}');
 */
export async function readConfigFile(path: string): Promise<unknown> {
  let text: string;
  try {
    text = await readRegularFile(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (path.trimStart().startsWith('{') && (code === 'ENOENT' || code === 'ENOTDIR' || code === 'ENAMETOOLONG')) return inlineConfig(path);
    throw new Error(`${path}: cannot read config file (${code ?? (e as Error).message})`);
  }
  try {
    return /\.ya?ml$/i.test(path) ? parseYaml(text) : JSON.parse(text);
  } catch (e) {
    throw new Error(`${path}: not valid ${/\.ya?ml$/i.test(path) ? 'YAML' : 'JSON'} (${oneLine((e as Error).message)})`);
  }
}

/** JSON text that starts with `{` can only parse to an object. */
function inlineConfig(json: string): Record<string, unknown> {
  try {
    return JSON.parse(json) as Record<string, unknown>;
  } catch (e) {
    throw new Error(`${json}: no such config file, and not valid JSON either (${oneLine((e as Error).message)})`);
  }
}

/** Deep-merges plain objects; later sources win. */
export function mergeConfig(...parts: unknown[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const p of parts) {
    if (!p || typeof p !== 'object') continue;
    for (const [k, v] of Object.entries(p as Record<string, unknown>)) {
      if (v === undefined) continue;
      const prev = out[k];
      out[k] = v && typeof v === 'object' && !Array.isArray(v) && prev && typeof prev === 'object' ? mergeConfig(prev, v) : v;
    }
  }
  return out;
}

/**
 * A run's configuration: the defaults, then `file` (JSON or YAML), then `overrides`, with the preset
 * (from either) applied last, so `preset: 'paper'` is the paper whatever else is asked.
 * @throws Error naming the file (or "options") and the field that is wrong.
 * @example const config = await resolveConfig('my.yaml', { train: { epochs: 8 } });
 */
export async function resolveConfig(file: string | undefined, overrides: Record<string, unknown> = {}): Promise<SimpleNetConfig> {
  const fromFile = file ? await readConfigFile(file) : {};
  return parseConfig(applyPreset(mergeConfig(fromFile, overrides)), file ?? 'options');
}
