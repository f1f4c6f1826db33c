/**
 * Where weights live: `$SIMPLENET_HOME/weights/` (default home: `$XDG_CACHE_HOME/simplenet`, else
 * `~/.cache/simplenet`). Per name there is one official slot (torchvision's file name, checked
 * against its checksum whenever it is used) and slots for a file the user imported or pulled from
 * elsewhere (`<name>.safetensors` / `<name>.pth`, checked when they arrived).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { simplenetHome } from '../io/home.js';
import type { KnownWeights } from './known.js';

export { simplenetHome };

export function weightsDir(home = simplenetHome()): string {
  return join(home, 'weights');
}

export function officialPath(k: KnownWeights, home = simplenetHome()): string {
  return join(weightsDir(home), k.file);
}

export function customPaths(k: KnownWeights, home = simplenetHome()): string[] {
  return [join(weightsDir(home), `${k.name}.safetensors`), join(weightsDir(home), `${k.name}.pth`)];
}

/** The interrupted-download file a later pull resumes from. */
export function partPath(finalPath: string): string {
  return `${finalPath}.part`;
}

export interface CachedWeights {
  path: string;
  /** True for torchvision's own file (whose checksum is known); false for an imported or custom one. */
  official: boolean;
}

/** The file a name resolves to, official first; never touches the network. */
export function findCached(k: KnownWeights, home = simplenetHome()): CachedWeights | undefined {
  const official = officialPath(k, home);
  if (existsSync(official)) return { path: official, official: true };
  const custom = customPaths(k, home).find((p) => existsSync(p));
  return custom ? { path: custom, official: false } : undefined;
}
