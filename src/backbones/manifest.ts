/**
 * Any ONNX feature extractor, described by a JSON manifest next to (or pointing at) its model:
 * `{"onnx": "<path relative to the manifest>", "input": "<name>", "mean": [r,g,b], "std": [r,g,b],
 * "layers": ["<output>", …]}`. Everything is checked against the real model before use.
 */
import { createHash } from 'node:crypto';
import { readRegularFile } from '../io/readRegular.js';
import { dirname, resolve } from 'node:path';
import { FileError, ioCause } from '../io/ioError.js';
import { Session } from '../onnx/session.js';
import { parseManifest } from './manifestSchema.js';
import type { Backbone } from './types.js';

export { type Manifest, ManifestSchema, parseManifest } from './manifestSchema.js';

/**
 * Loads and checks a manifest backbone: the ONNX file must exist and load, `input` must be one of
 * its inputs and every layer (the manifest's, or `opts.layers` instead) one of its outputs.
 */
export async function loadManifestBackbone(file: string, opts: { layers?: string[] } = {}): Promise<Backbone> {
  let text: string;
  try {
    text = await readRegularFile(file, 'utf8');
  } catch (e) {
    throw new FileError(file, 'cannot read the manifest', e);
  }
  const manifest = parseManifest(text, file);
  const onnxPath = resolve(dirname(file), manifest.onnx);
  let onnx: Uint8Array;
  try {
    const buf = await readRegularFile(onnxPath);
    onnx = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength); // a plain Uint8Array, not a Buffer
  } catch (e) {
    throw new Error(`${file}: field 'onnx': cannot read ${onnxPath}: ${ioCause(e)}`);
  }
  const layers = await checkOnnxIo(onnx, manifest.input, opts.layers ?? manifest.layers, file, manifest.onnx);
  return {
    identity: { kind: 'onnx', manifest, onnxSha256: createHash('sha256').update(onnx).digest('hex') },
    inputName: manifest.input,
    mean: [...manifest.mean],
    std: [...manifest.std],
    layers: [...layers],
    onnx,
  };
}

/**
 * Checks an ONNX feature extractor against the names it is used with: `input` must be one of its
 * inputs and every layer one of its outputs, named once. Errors start with `what` (the manifest,
 * or the builtin's name) and name the model file as `modelName`.
 * @returns the layers, as given.
 */
export async function checkOnnxIo(onnx: Uint8Array, input: string, layers: readonly string[], what: string, modelName: string): Promise<string[]> {
  // Only names are needed here, so skip graph optimisation to load quickly.
  const session = await Session.create(onnx, `${what}: ${modelName}`, { optimization: 'disabled' });
  const inputs = [...session.inputNames];
  const outputs = [...session.outputNames];
  await session.release();
  if (!inputs.includes(input)) {
    throw new Error(`${what}: input '${input}' is not an input of ${modelName} (inputs: ${inputs.join(', ')})`);
  }
  if (layers.length === 0) throw new Error(`${what}: at least one layer is needed`);
  for (const l of layers) {
    if (!outputs.includes(l)) throw new Error(`${what}: layer '${l}' is not an output of ${modelName} (outputs: ${outputs.join(', ')})`);
  }
  if (new Set(layers).size !== layers.length) throw new Error(`${what}: layers [${layers.join(', ')}] name a layer twice`);
  return [...layers];
}
