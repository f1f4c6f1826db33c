/**
 * Builtin backbones by name: the ones this package ships (`builtins.ts`, listed here explicitly)
 * and any a program adds with `registerBackbone`. `resolveBackbone` only looks names up here, so
 * adding a backbone never touches the resolver.
 */
import { BUILTIN_BACKBONES } from './builtins.js';
import type { BuiltinFactory } from './types.js';

export type { BuiltinFactory, BuiltinOptions } from './types.js';

const builtins = new Map<string, BuiltinFactory>(BUILTIN_BACKBONES);

/**
 * Adds a backbone that `--backbone <name>` and `resolveBackbone({ backbone: name })` then find.
 * @throws Error when the name is taken.
 * @example registerBackbone('my_net', async () => myBackbone);
 */
export function registerBackbone(name: string, factory: BuiltinFactory): void {
  if (builtins.has(name)) throw new Error(`backbone '${name}' is registered twice`);
  builtins.set(name, factory);
}

export function builtinBackbone(name: string): BuiltinFactory | undefined {
  return builtins.get(name);
}

/**
 * The names `resolveBackbone` knows: the builtins this package ships, then any registered, in
 * registration order (the order error messages list them in).
 * @example console.log(builtinNames().join(', ')); // resnet18, resnet50, wide_resnet50_2, wide_resnet101_2, mobilenet_v2
 */
export function builtinNames(): string[] {
  return [...builtins.keys()];
}
