// Bundles the web app (web/src, TypeScript) with esbuild into dist/web: index.html, hashed
// assets, and onnxruntime-web's wasm runtime copied from node_modules (every asset local, no CDN).
// Prints the bundle sizes.
import { copyFileSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'dist/web');
const require = createRequire(import.meta.url);
const ortDir = dirname(require.resolve('onnxruntime-web/wasm'));
const ortVersion = JSON.parse(readFileSync(join(ortDir, '..', 'package.json'), 'utf8')).version;
// Versioned folder: the files never change under one name, so they may be cached for good.
const ortPath = `assets/ort-${ortVersion}/`;

rmSync(out, { recursive: true, force: true });
const result = await esbuild.build({
  entryPoints: { app: join(root, 'web/src/main.ts'), style: join(root, 'web/style.css') },
  bundle: true,
  splitting: true,
  format: 'esm',
  target: 'es2022',
  minify: true,
  sourcemap: false,
  outdir: join(out, 'assets'),
  entryNames: '[name]-[hash]',
  chunkNames: 'chunk-[hash]',
  // The wasm files stay outside the bundle, fetched from ortPath (see web/src/browserScorer.ts).
  conditions: ['onnxruntime-web-use-extern-wasm'],
  define: { __ORT_PATH__: JSON.stringify(ortPath) },
  metafile: true,
  logLevel: 'warning',
});
mkdirSync(join(out, ortPath), { recursive: true });
for (const f of ['ort-wasm-simd-threaded.mjs', 'ort-wasm-simd-threaded.wasm']) copyFileSync(join(ortDir, f), join(out, ortPath, f));

const outputs = Object.entries(result.metafile.outputs);
const entry = (name) =>
  basename(outputs.find(([p, o]) => o.entryPoint && basename(p).startsWith(`${name}-`) && p.endsWith(name === 'style' ? '.css' : '.js'))[0]);
const html = readFileSync(join(root, 'web/index.html'), 'utf8')
  .replace('%APP%', `assets/${entry('app')}`)
  .replace('%STYLE%', `assets/${entry('style')}`);
writeFileSync(join(out, 'index.html'), html);

const kb = (n) => `${(n / 1024).toFixed(1)} KiB`;
let total = 0;
const lines = [];
for (const [p, o] of outputs) {
  total += o.bytes;
  lines.push(`  ${relative(out, join(root, p))}  ${kb(o.bytes)}`);
}
const wasm = statSync(join(out, ortPath, 'ort-wasm-simd-threaded.wasm')).size;
console.log(`web app: ${kb(total)} of script and style (ort ${ortVersion} runtime chunk loaded only for in-browser scoring), ${kb(wasm)} ort wasm`);
for (const l of lines) console.log(l);
