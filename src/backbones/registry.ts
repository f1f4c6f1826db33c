/**
 * Builtin backbones by name. Each builtin registers itself (see `builtins.ts`); `resolveBackbone`
 * only looks names up here, so adding a backbone never touches the resolver.
 */
import type { Reporter } from '../cli/progress.js';
import type { Backbone } from './backbone.js';

export interface BuiltinOptions {
  /** Path of the weights file (safetensors or .pth); without it, builtins use the weights cache (pulling on first use). */
  weights?: string;
  layers?: string[];
  /** Download progress when weights are pulled. */
  reporter?: Reporter;
}

export type BuiltinFactory = (opts: BuiltinOptions) => Promise<Backbone>;

const builtins = new Map<string, BuiltinFactory>();

export function registerBackbone(name: string, factory: BuiltinFactory): void {
  if (builtins.has(name)) throw new Error(`backbone '${name}' is registered twice`);
  builtins.set(name, factory);
}

export function builtinBackbone(name: string): BuiltinFactory | undefined {
  return builtins.get(name);
}

/** Registration order, which is the order error messages list them in. */
export function builtinNames(): string[] {
  return [...builtins.keys()];
}
