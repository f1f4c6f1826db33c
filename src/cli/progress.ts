/**
 * Progress on stderr (results go to stdout): a redrawn bar on a terminal, a few plain lines
 * otherwise (CI logs), nothing with --quiet.
 */
export interface ProgressBar {
  tick(n?: number, info?: string): void;
  done(info?: string): void;
}

export interface Reporter {
  bar(label: string, total: number): ProgressBar;
  /** A line of information (epoch summaries, warnings). */
  line(text: string): void;
}

export const silentReporter: Reporter = {
  bar: () => ({ tick() {}, done() {} }),
  line() {},
};

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
    bar(label, total) {
      const start = Date.now();
      let count = 0;
      let lastInfo = '';
      let lastPlain = -1;
      const render = (final: boolean) => {
        const elapsed = (Date.now() - start) / 1000;
        const rate = count / Math.max(elapsed, 1e-9);
        const eta = (total - count) / rate;
        const head = `${label} ${count}/${total}`;
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
      if (!tty) stream.write(`${label}: ${total}\n`);
      return {
        tick(n = 1, info) {
          count += n;
          if (info !== undefined) lastInfo = info;
          if (tty || count < total) render(false);
        },
        done(info) {
          if (info !== undefined) lastInfo = info;
          count = total;
          render(true);
        },
      };
    },
  };
}
