/** `simplenet weights pull|list|import`: the backbone weights cache (see src/weights). */
import { type Command, InvalidArgumentError } from 'commander';
import { findCached, officialPath, simplenetHome, weightsDir } from '../weights/cache.js';
import { importWeights } from '../backbones/importWeights.js';
import { KNOWN_WEIGHTS } from '../weights/known.js';
import { pullWeights } from '../weights/pull.js';
import { reporterFor } from './options.js';

function secondsOption(value: string): number {
  const s = Number(value);
  if (!Number.isFinite(s) || s <= 0) throw new InvalidArgumentError(`--timeout must be a positive number of seconds, got '${value}'`);
  return s;
}

export function weightsCommand(program: Command): void {
  const weights = program.command('weights').description(`backbone weights: download, verify and cache them (cache: ${weightsDir()})`);

  weights
    .command('pull')
    .description('download weights, verify their sha256 and put them in the cache (no network if already cached)')
    .argument('<name>', `one of ${KNOWN_WEIGHTS.map((k) => k.name).join(', ')}`)
    .option('--url <url>', 'download from here instead of the official URL')
    .option('--sha256 <hex>', 'expected sha256 (full, or at least its first 8 hex digits)')
    .option('--timeout <seconds>', 'give up on a connection that sends nothing for this long (default 30)', secondsOption)
    .option('--quiet', 'no progress output')
    .action(async (name: string, flags: { url?: string; sha256?: string; timeout?: number; quiet?: boolean }) => {
      const r = await pullWeights(name, {
        url: flags.url,
        sha256: flags.sha256,
        timeoutMs: flags.timeout && flags.timeout * 1000,
        reporter: reporterFor(flags),
      });
      process.stdout.write(`${JSON.stringify(r)}\n`);
    });

  weights
    .command('list')
    .description('known weights, whether they are cached, and their paths')
    .option('--json', 'machine-readable output')
    .action((flags: { json?: boolean }) => {
      const rows = KNOWN_WEIGHTS.map((k) => {
        const cached = findCached(k);
        return {
          name: k.name,
          cached: Boolean(cached),
          source: cached ? (cached.official ? 'torchvision' : 'imported') : undefined,
          path: cached?.path ?? officialPath(k),
          url: k.urls[0],
          sha256: k.sha256 ?? `${k.sha256Prefix}…`,
          description: k.description,
        };
      });
      if (flags.json) {
        process.stdout.write(`${JSON.stringify({ home: simplenetHome(), weights: rows }, null, 1)}\n`);
        return;
      }
      const w = Math.max(...rows.map((r) => r.name.length));
      const lines = [`cache: ${weightsDir()}`];
      for (const r of rows) {
        const status = r.cached ? `cached (${r.source})` : 'not cached';
        lines.push(`${r.name.padEnd(w)}  ${status.padEnd(20)}  ${r.path}`);
        if (!r.cached) lines.push(`${''.padEnd(w)}  ${''.padEnd(20)}  from ${r.url} (sha256 ${r.sha256})`);
      }
      process.stdout.write(`${lines.join('\n')}\n`);
    });

  weights
    .command('import')
    .description('put a weights file you already have (.pth or .safetensors) into the cache, after checking it')
    .argument('<file>', 'e.g. ~/.cache/torch/hub/checkpoints/wide_resnet50_2-95faca4d.pth')
    .option('--name <name>', 'which backbone the file is for (default: from the file name)')
    .action(async (file: string, flags: { name?: string }) => {
      const r = await importWeights(file, { name: flags.name });
      if (!r.official) {
        process.stderr.write(
          `note: ${file} is not torchvision's own file (sha256 ${r.sha256}); its tensors were checked, but results may differ from the paper's\n`,
        );
      }
      process.stdout.write(`${JSON.stringify(r)}\n`);
    });
}
