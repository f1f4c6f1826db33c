/**
 * What a backbone is to the engine: a frozen ONNX feature extractor plus the image normalisation
 * it expects, from either a builtin name (+ weights) or a JSON manifest.
 */
import type { Reporter } from '../core/progress.js';
import type { Manifest } from './manifestSchema.js';

export type BackboneIdentity = { kind: 'builtin'; name: string; weightsSha256: string } | { kind: 'onnx'; manifest: Manifest; onnxSha256: string };

export interface Backbone {
  /** How to reproduce it: {kind:'builtin', name, weightsSha256} or {kind:'onnx', manifest (the JSON object), onnxSha256}. */
  identity: BackboneIdentity;
  /** Graph input fed with the normalised NCHW float32 image. */
  inputName: string;
  /** Normalisation applied BEFORE the backbone: (pixel/255 − mean)/std per RGB channel. */
  mean: [number, number, number];
  std: [number, number, number];
  /** Output names, finest grid first. */
  layers: string[];
  /** The model bytes (built or loaded) that onnxruntime runs. */
  onnx: Uint8Array;
}

export interface BuiltinOptions {
  /** Path of the weights file (safetensors or .pth); without it, builtins use the weights cache (pulling on first use). */
  weights?: string;
  layers?: string[];
  /** Download progress when weights are pulled. */
  reporter?: Reporter;
}

export type BuiltinFactory = (opts: BuiltinOptions) => Promise<Backbone>;
