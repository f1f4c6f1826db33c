/** Field paths and bad values the fuzz corpus writes into configs and manifests (one per case). */

/** Values of the wrong type, sign or size, and the strings that parse as numbers in some languages. */
export const BAD_VALUES: unknown[] = [
  null,
  -1,
  0,
  1e308,
  -1e-308,
  2 ** 53 + 1,
  1.5,
  'NaN',
  'Infinity',
  '1e9',
  '',
  'x'.repeat(5000),
  true,
  [],
  [1, 2, 3, 4],
  {},
  { a: 1 },
  '../../../etc/passwd',
  '/dev/zero',
  4294967296,
  -0,
];

export const CONFIG_FIELDS = [
  'image.resize',
  'image.crop',
  'embed.pretrainDim',
  'embed.targetDim',
  'embed.patchSize',
  'head.hiddenDim',
  'head.noiseStd',
  'head.bnEps',
  'train.epochs',
  'train.batchSize',
  'train.lr',
  'train.seed',
  'train.cacheMemoryMB',
  'threshold.quantile',
  'threshold.validationFraction',
  'validation.every',
  'map.sigma',
  'unknownSection',
  'train.select',
  'image',
];

/** simplenet.json paths a damaged model folder may carry wrong. */
export const MANIFEST_FIELDS = [
  'format',
  'formatVersion',
  'config',
  'config.image.crop',
  'config.embed.targetDim',
  'config.head.hiddenDim',
  'backbone',
  'backbone.file',
  'backbone.inputName',
  'backbone.layers',
  'backbone.layers.0',
  'backbone.mean',
  'backbone.layerShapes',
  'backbone.layerShapes.0',
  'heads.file',
  'scoring',
  'scoring.imageThreshold',
  'scoring.min',
  'scoring.max',
  'training',
  'training.seed',
  'training.validation',
];

/** Sets `obj` at a dotted path (numeric parts index arrays), creating objects on the way. */
export function setPath(obj: Record<string, unknown>, path: string, value: unknown): void {
  const parts = path.split('.');
  let o: Record<string, unknown> = obj;
  for (const p of parts.slice(0, -1)) {
    if (typeof o[p] !== 'object' || o[p] === null) o[p] = {};
    o = o[p] as Record<string, unknown>;
  }
  o[parts.at(-1)!] = value;
}
