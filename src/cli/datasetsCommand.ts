/** `simplenet datasets pull|list`: official dataset archives, downloaded, verified and unpacked (see src/datasets/pull). */
import { join } from 'node:path';
import { type Command, InvalidArgumentError } from 'commander';
import { KNOWN_DATASETS } from '../datasets/pull/catalogue.js';
import { datasetRoot, listDatasets, nextCommand, pullDataset } from '../datasets/pull/pull.js';
import { simplenetHome } from '../io/home.js';
import { reporterFor } from './options.js';

function secondsOption(value: string): number {
  const s = Number(value);
  if (!Number.isFinite(s) || s <= 0) throw new InvalidArgumentError(`--timeout must be a positive number of seconds, got '${value}'`);
  return s;
}

interface PullFlags {
  category?: string;
  out?: string;
  url?: string;
  sha256?: string;
  archive?: string;
  timeout?: number;
  json?: boolean;
  quiet?: boolean;
}

export function datasetsCommand(program: Command): void {
  const datasets = program
    .command('datasets')
    .description(`public anomaly-detection datasets: download, verify and unpack them (default folder: ${join(simplenetHome(), 'datasets')})`);

  datasets
    .command('pull')
    .description('download a dataset archive, check its sha256, unpack it safely and check its layout (nothing to do if already there)')
    .argument('<name>', `one of ${KNOWN_DATASETS.map((d) => d.name).join(', ')}`)
    .option('--category <name>', "one category only (MVTec AD has an archive per category; VisA's one archive holds all)")
    .option('--out <dir>', 'dataset folder (default: $SIMPLENET_HOME/datasets/<name>); existing entries are kept, never replaced')
    .option('--url <url>', 'download the archive from here instead of the official URL')
    .option('--sha256 <hex>', 'expected sha256 of the archive (full, or at least its first 8 hex digits); default: the published one, where there is one')
    .option('--archive <file>', 'unpack an archive you already downloaded (checked the same way; the file is left where it is)')
    .option('--timeout <seconds>', 'give up on a connection that sends nothing for this long (default 30)', secondsOption)
    .option('--json', 'print the result as one JSON object')
    .option('--quiet', 'no progress output')
    .action(async (name: string, flags: PullFlags) => {
      const r = await pullDataset(name, {
        category: flags.category,
        out: flags.out,
        url: flags.url,
        sha256: flags.sha256,
        archive: flags.archive,
        timeoutMs: flags.timeout && flags.timeout * 1000,
        reporter: reporterFor(flags),
      });
      if (flags.json) {
        process.stdout.write(`${JSON.stringify(r)}\n`);
        return;
      }
      const what = r.part === 'all' ? r.title : `${r.title} ${r.part}`;
      const lines = [
        r.downloaded || r.added.length > 0 ? `${what}: ready in ${r.root}` : `${what}: already in ${r.root} (nothing downloaded)`,
        ...(r.sha256 ? [`  archive sha256 ${r.sha256}${r.verified ? ' (verified)' : ' (no published checksum: recorded)'}`] : []),
        ...(r.kept.length > 0 && r.added.length > 0 ? [`  kept as they were: ${r.kept.join(', ')}`] : []),
        'next:',
        `  ${r.next}`,
      ];
      process.stdout.write(`${lines.join('\n')}\n`);
    });

  datasets
    .command('list')
    .description('known datasets, what of them is in $SIMPLENET_HOME/datasets, and unfinished downloads')
    .option('--json', 'machine-readable output')
    .action((flags: { json?: boolean }) => {
      const home = simplenetHome();
      const rows = listDatasets(home);
      if (flags.json) {
        process.stdout.write(`${JSON.stringify({ home, datasets: rows }, null, 1)}\n`);
        return;
      }
      const lines = [`folder: ${join(home, 'datasets')}`];
      for (const [i, r] of rows.entries()) {
        const d = KNOWN_DATASETS[i];
        const all = r.categories.length === d.categories.length;
        const status = r.categories.length === 0 ? 'not pulled' : all ? 'all categories' : r.categories.join(', ');
        lines.push(`${r.dataset.padEnd(9)} ${status}  (${d.title}, ${d.licence})`);
        if (r.categories.length > 0) lines.push(`          ${datasetRoot(d.name, home)}`, `          next: ${nextCommand(d, r.root, r.categories[0])}`);
        else lines.push(`          pull: simplenet datasets pull ${d.name}${d.archives.length > 1 ? ` [--category ${d.defaultCategory}]` : ''}`);
        for (const p of r.partial) lines.push(`          unfinished download (resumes on the next pull): ${p.path} (${p.bytes} bytes)`);
      }
      process.stdout.write(`${lines.join('\n')}\n`);
    });
}
