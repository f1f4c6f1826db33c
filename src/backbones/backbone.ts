/**
 * The one backbone interface the engine uses: a frozen ONNX feature extractor plus the image
 * normalisation it expects, from either a builtin name (+ weights) or a JSON manifest.
 */
import { stat } from 'node:fs/promises';
import { sep } from 'node:path';
import type { Reporter } from '../core/progress.js';
import { FileError } from '../io/ioError.js';
import { loadManifestBackbone } from './manifest.js';
import { builtinBackbone, builtinNames } from './registry.js';

import type { Backbone } from './types.js';

export type { Backbone, BackboneIdentity } from './types.js';

/**
 * Which backbone `resolveBackbone` should give: a builtin name or a manifest path, with optional
 * weights and layers.
 * @example const opts: ResolveOptions = { backbone: 'resnet18', weights: 'resnet18.pth', layers: ['layer2', 'layer3'] };
 */
export interface ResolveOptions {
  /** A builtin name or the path of a manifest .json file. */
  backbone: string;
  /** State dict (safetensors or torchvision .pth) for builtins; default: the weights cache, pulled on first use. */
  weights?: string;
  /** Overrides the default layers (builtins) or the manifest's layers. */
  layers?: string[];
  /** Download progress when a builtin's weights are pulled. */
  reporter?: Reporter;
}

/**
 * A builtin name, else a manifest path: anything ending in .json or naming a folder is taken as a
 * path, so a mistyped path says "no such file" naming it rather than "unknown backbone".
 * @throws FileError when a manifest path cannot be read or is not a file; Error for an unknown
 * name, for `weights` given with a manifest, or naming the manifest and field when it is invalid
 * or its ONNX lacks the input or layers.
 * @example
 * const builtin = await resolveBackbone({ backbone: 'wide_resnet50_2' });
 * const custom = await resolveBackbone({ backbone: 'backbones/mobilenet_v2.json' });
 */
export async function resolveBackbone(opts: ResolveOptions): Promise<Backbone> {
  const builtin = builtinBackbone(opts.backbone);
  if (builtin) return builtin({ weights: opts.weights, layers: opts.layers, reporter: opts.reporter });
  const file = opts.backbone;
  if (file.endsWith('.json') || file.includes('/') || file.includes(sep)) {
    let isFile: boolean;
    try {
      isFile = (await stat(file)).isFile();
    } catch (e) {
      throw new FileError(file, 'cannot read the backbone manifest', e);
    }
    if (!isFile) throw new FileError(file, 'cannot read the backbone manifest', Object.assign(new Error('not a file'), { code: 'EISDIR' }));
    if (opts.weights) throw new Error(`--weights applies to builtin backbones only; the manifest ${file} names its own ONNX file`);
    return loadManifestBackbone(file, { layers: opts.layers });
  }
  throw new Error(`unknown backbone '${file}': expected one of ${builtinNames().join(', ')} or a manifest .json file`);
}
