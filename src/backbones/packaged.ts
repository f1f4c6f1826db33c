/**
 * Backbones whose ONNX file ships inside this package (`models/<name>/`, listed in package.json's
 * "files"), so they work offline on any machine. The file is found relative to this compiled
 * module (dist/src/backbones/ → the package root), which holds both in this repository and in an
 * installed package, and its sha256 is checked on every load: a damaged install must not give
 * silently different features.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { FileError } from '../io/ioError.js';
import { checkOnnxIo } from './manifest.js';
import type { Backbone, BuiltinFactory } from './types.js';

export interface PackagedBackbone {
  name: string;
  /** The ONNX file inside the package. */
  file: URL;
  /** sha256 of that file (models/<name>/SOURCES.md says where it came from). */
  sha256: string;
  input: string;
  mean: [number, number, number];
  std: [number, number, number];
  /** Default layers, finest grid first. */
  layers: string[];
}

/**
 * MobileNetV2 1.0 (ImageNet, 224), dequantized from Google Coral's test data: the same extractor
 * as backbones/mobilenet_v2.json. Licence and provenance: models/mobilenet_v2/SOURCES.md.
 */
export const MOBILENET_V2: PackagedBackbone = {
  name: 'mobilenet_v2',
  file: new URL('../../../models/mobilenet_v2/mobilenet_v2.onnx', import.meta.url),
  sha256: 'cd63f89db8c5fcc2227cdf6c120ac958f51e647192691d02818a8d54ea0c0691',
  input: 'input',
  mean: [0.5, 0.5, 0.5],
  std: [0.5, 0.5, 0.5],
  layers: ['feat_s8_expanded', 'feat_s16_expanded'],
};

/** The path of a packaged backbone's ONNX file. */
export function packagedPath(spec: PackagedBackbone): string {
  return fileURLToPath(spec.file);
}

/**
 * Reads and verifies a packaged backbone's ONNX file.
 * @throws FileError naming the file when it cannot be read; Error naming it when its sha256 differs.
 */
export async function readPackaged(spec: PackagedBackbone): Promise<Uint8Array> {
  const path = packagedPath(spec);
  let buf: Buffer;
  try {
    buf = await readFile(path);
  } catch (e) {
    throw new FileError(path, `cannot read the model of backbone '${spec.name}' (it ships with the simplenet package; reinstall it)`, e);
  }
  const sha256 = createHash('sha256').update(buf).digest('hex');
  if (sha256 !== spec.sha256) {
    throw new Error(
      `${path}: the model of backbone '${spec.name}' is damaged: sha256 ${sha256} (${buf.length} bytes), expected ${spec.sha256}; reinstall the simplenet package`,
    );
  }
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}

/** The factory `--backbone <name>` finds in the registry; `layers` overrides the default layers. */
export function packagedFactory(spec: PackagedBackbone): BuiltinFactory {
  return async ({ weights, layers }): Promise<Backbone> => {
    if (weights) {
      throw new Error(
        `backbone '${spec.name}' ships with its own weights; --weights applies to the ResNets (describe another ONNX file with a manifest .json)`,
      );
    }
    const onnx = await readPackaged(spec);
    const used = await checkOnnxIo(onnx, spec.input, layers ?? spec.layers, `backbone '${spec.name}'`, packagedPath(spec));
    return {
      identity: { kind: 'builtin', name: spec.name, weightsSha256: spec.sha256 },
      inputName: spec.input,
      mean: [...spec.mean],
      std: [...spec.std],
      layers: used,
      onnx,
    };
  };
}
