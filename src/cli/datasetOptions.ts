/**
 * Dataset flags shared by `train` and `test`: `--format` and every format's own flags, all read from
 * the format table (datasets/formats.ts), so a registered format brings its flags with it.
 */
import { type Command, InvalidArgumentError, Option } from 'commander';
import { type DatasetField, datasetFormat, datasetFormats } from '../datasets/formats.js';
import type { DatasetSpec } from '../datasets/load.js';

export interface DatasetFlags {
  format: string;
  [flag: string]: unknown;
}

/** commander's property name for a flag: '--normal-dir <dir>' → 'normalDir'. */
const property = (flag: string) =>
  flag
    .replace(/^--/, '')
    .split(' ')[0]
    .replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
const flagName = (f: DatasetField) => f.flag.split(' ')[0];

/** Every format's fields, each flag once (formats share --data and --category). */
function allFields(): DatasetField[] {
  const seen = new Map<string, DatasetField>();
  for (const format of datasetFormats()) for (const f of format.fields) if (!seen.has(f.flag)) seen.set(f.flag, f);
  return [...seen.values()];
}

export function addDatasetOptions(cmd: Command): Command {
  cmd.addOption(new Option('--format <format>', 'dataset layout').choices(datasetFormats().map((f) => f.name)).default('mvtec'));
  for (const f of allFields()) {
    const owners = datasetFormats().filter((d) => d.fields.some((x) => x.flag === f.flag));
    const help = owners.length < datasetFormats().length && !f.help.includes('format') ? `${owners.map((o) => o.name).join(', ')}: ${f.help}` : f.help;
    const parse = f.repeatable
      ? (v: string, prev: unknown[] = []) => [...prev, v]
      : f.parse
        ? (v: string) => {
            try {
              return f.parse!(v);
            } catch (e) {
              throw new InvalidArgumentError((e as Error).message);
            }
          }
        : undefined;
    if (parse) cmd.option(f.flag, help, parse as (v: string, p: unknown) => unknown);
    else cmd.option(f.flag, help);
  }
  return cmd;
}

/** The dataset to load; `seed` fixes the held-out split of formats that make one (use the model's at test time). */
export function datasetSpecFrom(flags: DatasetFlags, seed: number): DatasetSpec {
  const format = datasetFormat(flags.format);
  const own = new Set(format.fields.map((f) => f.flag));
  const missing = format.fields.filter((f) => f.required && flags[property(f.flag)] === undefined);
  if (missing.length) throw new Error(`--format ${format.name} needs ${missing.map((f) => f.flag).join(' and ')}`);
  const stray = allFields().find((f) => !own.has(f.flag) && flags[property(f.flag)] !== undefined);
  if (stray) {
    const owners = datasetFormats().filter((d) => d.fields.some((x) => x.flag === stray.flag));
    throw new Error(`${flagName(stray)} applies to --format ${owners.map((o) => o.name).join(' or ')} only`);
  }
  const spec: Record<string, unknown> = { format: format.name };
  for (const f of format.fields) if (flags[property(f.flag)] !== undefined) spec[f.key] = flags[property(f.flag)];
  if (format.seeded) spec.seed = seed;
  return spec as DatasetSpec;
}
