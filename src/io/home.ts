/**
 * simplenet's own folder for what it downloads (weights, datasets): `$SIMPLENET_HOME`, else
 * `$XDG_CACHE_HOME/simplenet`, else `~/.cache/simplenet`.
 */
import { homedir } from 'node:os';
import { isAbsolute, join } from 'node:path';

export function simplenetHome(env: NodeJS.ProcessEnv = process.env): string {
  if (env.SIMPLENET_HOME) return env.SIMPLENET_HOME;
  // The XDG spec says relative values are to be ignored.
  const xdg = env.XDG_CACHE_HOME && isAbsolute(env.XDG_CACHE_HOME) ? env.XDG_CACHE_HOME : join(homedir(), '.cache');
  return join(xdg, 'simplenet');
}
