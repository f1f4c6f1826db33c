/**
 * What a backbone is to the engine: a frozen ONNX feature extractor plus the image normalisation
 * it expects, from either a builtin name (+ weights) or a JSON manifest.
 */
import type { Reporter } from '../core/progress.js';
import type { Manifest } from './manifestSchema.js';

/**
 * How to get the same backbone again: a builtin's name and the sha256 of its weights, or a
 * manifest (the JSON object) and the sha256 of its ONNX file. Stored in every model's manifest.
 * @example
 * const id: BackboneIdentity = detector.model.manifest.backbone.identity;
 * console.log(id.kind === 'builtin' ? `${id.name} ${id.weightsSha256.slice(0, 12)}` : id.manifest.onnx);
 */
export type BackboneIdentity = { kind: 'builtin'; name: string; weightsSha256: string } | { kind: 'onnx'; manifest: Manifest; onnxSha256: string };

/**
 * A frozen, pretrained feature extractor (Liu et al., CVPR 2023: the feature extractor) as the
 * engine uses it: ONNX bytes whose named outputs are the layers patch features come from, and
 * the image normalisation it expects. From `resolveBackbone` (a builtin name or a manifest .json),
 * or built by a program and passed to `train`.
 * @example
 * const backbone: Backbone = await resolveBackbone({ backbone: 'wide_resnet50_2' });
 * console.log(backbone.layers, backbone.onnx.length);
 */
export interface Backbone {
  /** How to reproduce it: {kind:'builtin', name, weightsSha256} or {kind:'onnx', manifest (the JSON object), onnxSha256}. */
  identity: BackboneIdentity;
  /** Graph input fed with the normalised NCHW float32 image. */
  inputName: string;
  /** Normalisation applied BEFORE the backbone: (pixel/255 − mean)/std per RGB channel. */
  mean: [number, number, number];
  /** Per-channel standard deviation of the same normalisation. */
  std: [number, number, number];
  /** Output names, finest grid first. */
  layers: string[];
  /** The model bytes (built or loaded) that onnxruntime runs. */
  onnx: Uint8Array;
}

/**
 * What a builtin backbone's factory is given when it is resolved: a weights file, other layers,
 * and where download progress goes.
 * @example
 * registerBackbone('my_resnet', async (opts: BuiltinOptions) => buildMyResnet(opts.weights ?? 'my_resnet.safetensors', opts.layers ?? ['layer2', 'layer3']));
 */
export interface BuiltinOptions {
  /** Path of the weights file (safetensors or .pth); without it, builtins use the weights cache (pulling on first use). */
  weights?: string;
  /** Output layers instead of the builtin's default ones (finest first). */
  layers?: string[];
  /** Download progress when weights are pulled. */
  reporter?: Reporter;
}

/**
 * Builds a backbone registered by name (`registerBackbone`); called each time the name is resolved.
 * @example
 * const factory: BuiltinFactory = async ({ layers }) => ({ ...myBackbone, layers: layers ?? myBackbone.layers });
 * registerBackbone('my_net', factory);
 */
export type BuiltinFactory = (opts: BuiltinOptions) => Promise<Backbone>;
