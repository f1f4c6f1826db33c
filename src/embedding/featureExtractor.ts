/**
 * Decoded pixels → patch features for training: the preprocessing graph (resize, crop, normalise),
 * the frozen backbone and the patch-embedding graph, built from the same `addPreprocess` and
 * `addPatchEmbedding` nodes and the same backbone ONNX that the one scoring graph
 * (`buildFullScoringModel`) inlines. Training caches `extract()`'s output.
 */
import type { Backbone } from '../backbones/backbone.js';
import { specializedBackbone } from '../backbones/specialize.js';
import type { DecodedImage } from '../images/decode.js';
import { type ImageGeometry, tileGrid } from '../images/fit.js';
import { addPreprocess } from '../images/preprocess.js';
import { GraphBuilder } from '../onnx/builder.js';
import { type OrtTensor, ortTensor, Session } from '../onnx/session.js';
import { addPatchEmbedding, type LayerShape, type PatchEmbedOptions } from './patchEmbed.js';
import { addStitchTiles, stitchedGrid } from './stitchTiles.js';

/**
 * What `FeatureExtractor.create` builds its graphs for: the image size and the patch embedding,
 * normally the model configuration's `image` and `embed`.
 * @example
 * const opts: FeatureExtractorOptions = { image: { resize: 329, crop: 288 }, embed: DEFAULT_PATCH_EMBED, featureDtype: 'float16' };
 */
export interface FeatureExtractorOptions {
  /** Resize, frame side and fit (config `image`; fit absent: the paper's 'crop'). */
  image: ImageGeometry;
  /** Patch size and pooled dimensions (config `embed`). */
  embed: PatchEmbedOptions;
  /** dtype of `extract()`'s output (float16 halves the training cache). Default 'float32'. */
  featureDtype?: 'float32' | 'float16';
}

export function buildPreprocessModel(backbone: Pick<Backbone, 'mean' | 'std'>, image: ImageGeometry) {
  const g = new GraphBuilder('preprocess');
  const input = g.input('image', 'uint8', ['batch', 'height', 'width', 3]);
  const pixels = addPreprocess(g, input, { ...image, mean: backbone.mean, std: backbone.std });
  g.output(pixels, 'pixels', 'float32', ['inputs', 3, image.crop, image.crop]);
  return g.toModel();
}

/** Graph inputs of the embedding graph: one per backbone layer. */
export function layerInputs(g: GraphBuilder, shapes: readonly LayerShape[]): string[] {
  return shapes.map((s, i) => g.input(`layer${i}`, 'float32', ['batch', s.channels, s.height, s.width]));
}

function buildEmbedModel(shapes: LayerShape[], embed: PatchEmbedOptions, dtype: 'float32' | 'float16', tiles: readonly [number, number]) {
  const g = new GraphBuilder('patch_embedding');
  let features = addPatchEmbedding(g, layerInputs(g, shapes), shapes, embed);
  if (tiles[0] * tiles[1] > 1) {
    // Fit 'tile': rows in each image's stitched grid order, as the scoring graph sees them.
    const grid = { height: shapes[0].height, width: shapes[0].width };
    features = g.op('Reshape', [addStitchTiles(g, features, grid, tiles, [embed.targetDim]), g.ints([-1, embed.targetDim])]);
  }
  if (dtype === 'float16') features = g.cast(features, 'float16');
  g.output(features, 'features', dtype, ['patches', embed.targetDim]);
  return g.toModel();
}

/** Concatenates [n_i, ...] tensors of one item shape along the batch axis (a memcpy per part). */
function concatBatch(parts: OrtTensor[]): OrtTensor {
  if (parts.length === 1) return parts[0];
  const out = new Float32Array(parts.reduce((a, p) => a + p.data.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p.data as Float32Array, at);
    at += p.data.length;
  }
  return ortTensor('float32', [parts.reduce((a, p) => a + p.dims[0], 0), ...parts[0].dims.slice(1)], out);
}

/**
 * Decoded images → patch features (Liu et al., CVPR 2023: the frozen feature extractor and local
 * feature aggregation), run as three onnxruntime sessions: preprocessing, the backbone, the patch
 * embedding. Training uses it to cache the features the head learns from; the nodes are the same
 * as in the scoring graph. Release it when done.
 * @example
 * const extractor = await FeatureExtractor.create(await resolveBackbone({ backbone: 'mobilenet_v2' }), { image: { resize: 329, crop: 288 }, embed: DEFAULT_PATCH_EMBED });
 * const features = await extractor.extract([await decodeImage('good.png')]);
 * await extractor.release();
 */
export class FeatureExtractor {
  /** Undefined after `releaseSessions` until the next use builds them again. */
  private sessions: Promise<{ prep: Session; net: Session; embed: Session }> | undefined;
  private closed = false;

  private constructor(
    readonly backbone: Backbone,
    readonly options: FeatureExtractorOptions,
    sessions: { prep: Session; net: Session; embed: Session },
    readonly layerShapes: LayerShape[],
  ) {
    this.sessions = Promise.resolve(sessions);
  }

  private open(): Promise<{ prep: Session; net: Session; embed: Session }> {
    if (this.closed) throw new Error('FeatureExtractor: used after release()');
    this.sessions ??= (async () => {
      const made: Session[] = [];
      const make = async (model: Uint8Array, label: string) => {
        const s = await Session.create(model, label);
        made.push(s);
        return s;
      };
      try {
        const prep = await make(buildPreprocessModel(this.backbone, this.options.image), 'preprocessing');
        const net = await make(await specializedBackbone(this.backbone, this.options.image.crop), 'backbone');
        const embed = await make(
          buildEmbedModel(this.layerShapes, this.options.embed, this.options.featureDtype ?? 'float32', tileGrid(this.options.image)),
          'patch embedding',
        );
        return { prep, net, embed };
      } catch (e) {
        // Nothing half-open stays behind, and the next use tries again.
        this.sessions = undefined;
        await Promise.all(made.map((s) => s.release()));
        throw e;
      }
    })();
    return this.sessions;
  }

  /**
   * Switches the dtype of `extract()`'s output (rebuilds only the embedding session).
   * @throws Error when onnxruntime cannot load the rebuilt embedding graph.
   * @example await extractor.setFeatureDtype('float16');
   */
  async setFeatureDtype(dtype: 'float32' | 'float16'): Promise<void> {
    if ((this.options.featureDtype ?? 'float32') === dtype) return;
    if (!this.sessions) {
      this.options.featureDtype = dtype; // built with it when next opened
      return;
    }
    const sessions = await this.sessions;
    const next = await Session.create(buildEmbedModel(this.layerShapes, this.options.embed, dtype, tileGrid(this.options.image)), 'patch embedding');
    await sessions.embed.release();
    sessions.embed = next;
    this.options.featureDtype = dtype;
  }

  /**
   * Builds the three sessions and measures each backbone layer's shape with one blank image.
   * @throws Error when onnxruntime cannot load a graph, when a backbone layer is not an output of
   * its ONNX, or when a layer's output is not [N, C, H, W].
   * @example const extractor = await FeatureExtractor.create(backbone, { image: config.image, embed: config.embed });
   */
  static async create(backbone: Backbone, options: FeatureExtractorOptions): Promise<FeatureExtractor> {
    const prep = await Session.create(buildPreprocessModel(backbone, options.image), 'preprocessing');
    const net = await Session.create(await specializedBackbone(backbone, options.image.crop), 'backbone');
    const c = options.image.crop;
    const probe = await net.run({ [backbone.inputName]: ortTensor('float32', [1, 3, c, c], new Float32Array(3 * c * c)) }, [...backbone.layers]);
    const shapes = backbone.layers.map((l) => {
      const d = probe[l].dims;
      if (d.length !== 4) throw new Error(`backbone: layer '${l}' has shape [${d.join(', ')}], expected [N, C, H, W]`);
      return { channels: d[1], height: d[2], width: d[3] };
    });
    const embed = await Session.create(buildEmbedModel(shapes, options.embed, options.featureDtype ?? 'float32', tileGrid(options.image)), 'patch embedding');
    return new FeatureExtractor(backbone, options, { prep, net, embed }, shapes);
  }

  /**
   * One image's patch grid: the first layer's feature map, times the tiles for fit 'tile' (the
   * tiles' grids stitched, embedding/stitchTiles.ts).
   * @example const { height, width } = extractor.grid; // 36×36 for wide_resnet50_2 at crop 288
   */
  get grid(): { height: number; width: number } {
    return stitchedGrid({ height: this.layerShapes[0].height, width: this.layerShapes[0].width }, tileGrid(this.options.image));
  }

  /**
   * Patches (feature rows) per image: the grid's height × width.
   * @example const images = features.dims[0] / extractor.patchesPerImage;
   */
  get patchesPerImage(): number {
    return this.grid.height * this.grid.width;
  }

  /**
   * One image preprocessed for the backbone: resized, centre-cropped and normalised, float32
   * [1, 3, crop, crop] ([tiles, 3, crop, crop] for fit 'tile').
   * @throws TypeError when the image is not RGB (3 channels).
   * @example const input = await extractor.pixels(await decodeImage('good.png'));
   */
  async pixels(image: DecodedImage): Promise<OrtTensor> {
    if (image.channels !== 3) throw new TypeError(`FeatureExtractor: expected an RGB image, got ${image.channels} channel(s)`);
    const input = ortTensor('uint8', [1, image.height, image.width, 3], image.data);
    return (await (await this.open()).prep.run({ image: input })).pixels;
  }

  /**
   * Backbone outputs for a batch of decoded images (any sizes), one tensor per layer, finest first.
   * @throws TypeError when an image is not RGB.
   * @example const [layer2, layer3] = await extractor.backboneLayers([image]);
   */
  async backboneLayers(images: readonly DecodedImage[]): Promise<OrtTensor[]> {
    const parts: OrtTensor[] = [];
    for (const im of images) parts.push(await this.pixels(im));
    const pixels = concatBatch(parts);
    const out = await (await this.open()).net.run({ [this.backbone.inputName]: pixels }, [...this.backbone.layers]);
    return this.backbone.layers.map((l) => out[l]);
  }

  /**
   * Patch features [B·H·W, targetDim], row b·H·W + i·W + j of each image's `grid`, in `featureDtype`.
   * @throws TypeError when an image is not RGB.
   * @example const features = await extractor.extract([await decodeImage('a.png'), await decodeImage('b.png')]);
   */
  async extract(images: readonly DecodedImage[]): Promise<OrtTensor> {
    const layers = await this.backboneLayers(images);
    const feeds: Record<string, OrtTensor> = {};
    layers.forEach((t, i) => (feeds[`layer${i}`] = t));
    return (await (await this.open()).embed.run(feeds)).features;
  }

  /**
   * Frees the three onnxruntime sessions (the backbone's weights and buffers) while the extractor
   * is not needed, as during training epochs; the next `extract`, `pixels` or `backboneLayers`
   * builds them again.
   * @example await extractor.releaseSessions(); // the epochs run; a later extract() reopens them
   */
  async releaseSessions(): Promise<void> {
    const open = this.sessions;
    this.sessions = undefined;
    if (!open) return;
    const { prep, net, embed } = await open;
    await Promise.all([prep.release(), net.release(), embed.release()]);
  }

  /**
   * Releases the three onnxruntime sessions; the extractor must not be used afterwards.
   * @example await extractor.release();
   */
  async release(): Promise<void> {
    this.closed = true;
    await this.releaseSessions();
  }
}
