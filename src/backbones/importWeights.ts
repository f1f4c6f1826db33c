/**
 * `weights import`: adopt a file the user already has (torch.hub's checkpoint, timm's safetensors)
 * after checking it is a complete state dict of that architecture. torchvision's own file goes to
 * the official slot (and is re-checked against its checksum on every use); anything else to the
 * name's custom slot. The cache changes only when every check has passed.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { readRegularFile } from '../io/readRegular.js';
import { RESNET_ARCHS, STAGES } from './resnet-arch.js';
import { architectureShapes, validateStateDict } from './state-dict.js';
import { writeFileAtomic } from '../io/atomic.js';
import { FileError } from '../io/ioError.js';
import { customPaths, officialPath, simplenetHome } from '../weights/cache.js';
import { checksumOf, KNOWN_WEIGHTS, knownWeightsOrThrow, matches, nameFromFileName } from '../weights/known.js';
import { decodeStateDict, type WeightsFormat } from '../weights/load.js';

export interface ImportResult {
  name: string;
  path: string;
  sha256: string;
  format: WeightsFormat;
  official: boolean;
  /** Files of the same name the import replaced. */
  replaced: string[];
}

export async function importWeights(file: string, opts: { name?: string; home?: string } = {}): Promise<ImportResult> {
  const name = opts.name ?? nameFromFileName(file);
  if (!name) {
    throw new Error(`${file}: cannot tell which backbone these weights are for; pass --name (one of ${KNOWN_WEIGHTS.map((k) => k.name).join(', ')})`);
  }
  const entry = knownWeightsOrThrow(name);
  const arch = RESNET_ARCHS[name as keyof typeof RESNET_ARCHS];
  let bytes: Uint8Array;
  try {
    bytes = await readRegularFile(file);
  } catch (e) {
    throw new FileError(file, 'cannot read the weights file', e);
  }
  const { tensors, format } = decodeStateDict(bytes, file, { expected: architectureShapes(arch) });
  // The whole network, not just the layers SimpleNet uses: a file missing layer4 is not the right file.
  validateStateDict(tensors, arch, STAGES.length, file);
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  const home = opts.home ?? simplenetHome();
  const official = format !== 'safetensors' && matches(checksumOf(entry), sha256);
  const path = official ? officialPath(entry, home) : customPaths(entry, home)[format === 'safetensors' ? 0 : 1];
  await writeFileAtomic(path, bytes, 'weights');
  // One file per name: the cache resolves the official slot first, so an import must clear the others.
  const replaced: string[] = [];
  for (const other of [officialPath(entry, home), ...customPaths(entry, home)]) {
    if (other !== path && existsSync(other)) {
      await rm(other, { force: true });
      replaced.push(other);
    }
  }
  return { name, path, sha256, format, official, replaced };
}
