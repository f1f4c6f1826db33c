/**
 * What the web app's browser tests share: Debian's Chromium (or CHROMIUM_PATH), a `simplenet serve`
 * child process, a plain static file server for `export --web` folders, and axe-core injected into
 * a page. Tests skip, saying so, where no Chromium is installed.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize } from 'node:path';
import type { Page } from 'playwright-core';
import { CLI } from './cli.js';

export const CHROMIUM = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'].find((p): p is string =>
  Boolean(p && existsSync(p)),
);
export const NO_CHROMIUM = 'no Chromium found (apt-get install chromium, or set CHROMIUM_PATH)';

export interface Served {
  url: string;
  child: ChildProcess;
  stop: () => Promise<void>;
}

/** `simplenet serve --port 0 <args>` until it says where it listens. */
export function serve(args: string[]): Promise<Served> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, 'serve', '--port', '0', '--quiet', ...args], { env: { ...process.env, SIMPLENET_TOKEN: '' } });
    let err = '';
    const exited = new Promise<void>((r) => child.on('exit', () => r()));
    child.stderr!.on('data', (d) => {
      err += d;
      const m = /serving .* at (http:\/\/[\d.:]+)/.exec(err);
      if (m)
        resolve({
          url: m[1],
          child,
          stop: async () => {
            child.kill('SIGTERM');
            await exited;
          },
        });
    });
    exited.then(() => reject(new Error(`serve exited: ${err}`)));
  });
}

const TYPES: Record<string, string> = {
  '.html': 'text/html',
  '.js': 'text/javascript',
  '.mjs': 'text/javascript',
  '.css': 'text/css',
  '.wasm': 'application/wasm',
  '.json': 'application/json',
};

/** A plain static file server over `root` (with the COOP/COEP headers a static host would be told to send). */
export async function staticServer(root: string, opts: { isolate?: boolean } = {}): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    const rel = normalize(decodeURIComponent((req.url ?? '/').split('?')[0])).replace(/^(\.\.[/\\])+/, '');
    let path = join(root, rel);
    if (existsSync(path) && statSync(path).isDirectory()) path = join(path, 'index.html');
    if (!path.startsWith(root) || !existsSync(path)) {
      res.writeHead(404).end('not found');
      return;
    }
    const headers: Record<string, string> = { 'content-type': TYPES[extname(path)] ?? 'application/octet-stream' };
    if (opts.isolate !== false) Object.assign(headers, { 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp' });
    res.writeHead(200, headers).end(readFileSync(path));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: string[] }[];
}

/** axe-core's serious and critical violations on the page as it is now. */
export async function axeSerious(page: Page): Promise<AxeViolation[]> {
  const require = createRequire(import.meta.url);
  await page.addScriptTag({ path: require.resolve('axe-core/axe.min.js') });
  const violations = (await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run: (c: Document, o: unknown) => Promise<{ violations: unknown[] }> } }).axe;
    return (await axe.run(document, { resultTypes: ['violations'] })).violations;
  })) as AxeViolation[];
  return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}
