/**
 * Progress on stderr (results go to stdout): a redrawn bar on a terminal, a few plain lines
 * otherwise (CI logs), only warnings with --quiet.
 */
import { type BarOptions, type ProgressBar, type Reporter, silentReporter } from '../core/progress.js';

export { type BarOptions, type ProgressBar, type Reporter, silentReporter };

/** --quiet: no progress, but warnings still reach stderr. */
export function warningsOnlyReporter(stream: NodeJS.WriteStream = process.stderr): Reporter {
  return { ...silentReporter, warn: (text) => stream.write(`warning: ${text}\n`) };
}

function fmtBytes(n: number): string {
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} kB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MB`;
  return `${(n / 1024 ** 3).toFixed(2)} GB`;
}

function fmtTime(s: number): string {
  if (!Number.isFinite(s)) return '?';
  const m = Math.floor(s / 60);
  return m > 0 ? `${m}m${String(Math.round(s % 60)).padStart(2, '0')}s` : `${s.toFixed(1)}s`;
}

export function stderrReporter(stream: NodeJS.WriteStream = process.stderr): Reporter {
  const tty = Boolean(stream.isTTY) && process.env.CI !== 'true';
  return {
    line(text) {
      stream.write(`${text}\n`);
    },
    warn(text) {
      stream.write(`warning: ${text}\n`);
    },
    bar(label, total, opts = {}) {
      const start = Date.now();
      const initial = opts.initial ?? 0;
      let count = initial;
      let lastInfo = '';
      let lastPlain = -1;
      let lastDraw = 0;
      const render = (final: boolean) => {
        lastDraw = Date.now();
        const elapsed = (Date.now() - start) / 1000;
        const rate = (count - initial) / Math.max(elapsed, 1e-9);
        const eta = total > 0 ? (total - count) / rate : Number.NaN;
        const head = opts.bytes ? `${label} ${fmtBytes(count)}${total > 0 ? `/${fmtBytes(total)}` : ''} ${fmtBytes(rate)}/s` : `${label} ${count}/${total}`;
        const tail = `${fmtTime(elapsed)}${final ? '' : ` eta ${fmtTime(eta)}`}${lastInfo ? ` ${lastInfo}` : ''}`;
        if (tty) {
          const width = 24;
          const filled = Math.round((width * count) / Math.max(total, 1));
          stream.write(`\r${head} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${tail}\x1b[K${final ? '\n' : ''}`);
        } else {
          const decile = Math.floor((10 * count) / Math.max(total, 1));
          if (final || decile > lastPlain) {
            lastPlain = decile;
            stream.write(`${head} ${tail}\n`);
          }
        }
      };
      if (!tty) stream.write(`${label}: ${opts.bytes ? (total > 0 ? fmtBytes(total) : 'size unknown') : total}\n`);
      return {
        tick(n = 1, info) {
          count += n;
          if (info !== undefined) lastInfo = info;
          // Downloads tick per network chunk: redraw at most ten times a second.
          if (opts.bytes && Date.now() - lastDraw < 100) return;
          if (tty || count < total) render(false);
        },
        done(info) {
          if (info !== undefined) lastInfo = info;
          if (!opts.bytes || total > 0) count = total;
          render(true);
        },
      };
    },
  };
}
