/**
 * The built web app (dist/web, made by `npm run build`): where it is, which files it has and their
 * content types, for `simplenet serve` (at /) and for `simplenet export --web`, which copies it
 * beside the model's scoring graph into a folder any static web host can serve.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import { dirname, extname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { VERSION } from '../core/version.js';
import { WEB_FORMAT, WEB_MANIFEST } from '../io/artefacts.js';
import { writeDirAtomic } from '../io/atomic.js';

/** dist/web beside dist/src, where this file runs from once built. */
export const WEB_DIR = fileURLToPath(new URL('../../web/', import.meta.url));

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.wasm': 'application/wasm',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.onnx': 'application/octet-stream',
};

/** The content type a file of the web app is served with. */
export function webContentType(path: string): string {
  return TYPES[extname(path).toLowerCase()] ?? 'application/octet-stream';
}

/**
 * Every file of the built web app by its URL path ('index.html', 'assets/app-XYZ.js'): the
 * allow-list a server answers from, so no request path ever reaches the file system.
 * Empty when the app is not built.
 */
export function webFiles(dir: string = WEB_DIR): Map<string, string> {
  const out = new Map<string, string>();
  if (!existsSync(join(dir, 'index.html'))) return out;
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else out.set(relative(dir, p).split(sep).join('/'), p);
    }
  };
  walk(dir);
  return out;
}

/** What the static app reads from simplenet-web.json: which model it holds and how to read its scores. */
export interface WebManifest {
  format: typeof WEB_FORMAT;
  simplenet_version: string;
  /** The model's details, as `GET /v1/models/{name}` gives them. */
  model: Record<string, unknown> & { name: string };
  /** Every file the export wrote besides this one ('/'-separated): a replace removes nothing else. */
  files: string[];
}

/**
 * Writes the static web app to `out` (crash-safely; refuses a folder it did not write): the built
 * app, `model.onnx` (the scoring graph with image_crop) and simplenet-web.json.
 * @throws Error when the app is not built; OutputRefusedError when `out` holds something else.
 * @example await writeWebApp('site', await detector.exportBytes({ withCrop: true }), { name: 'bottle', image_threshold: 0.3 });
 */
export async function writeWebApp(out: string, onnx: Uint8Array, model: WebManifest['model']): Promise<{ files: number; bytes: number }> {
  const files = webFiles();
  if (files.size === 0) throw new Error(`${WEB_DIR}: the web app is not built; run npm run build`);
  return writeDirAtomic(out, 'web', async (tmp) => {
    let bytes = onnx.length;
    for (const [rel, src] of files) {
      const dst = join(tmp, ...rel.split('/'));
      await mkdir(dirname(dst), { recursive: true });
      await copyFile(src, dst);
      bytes += statSync(src).size;
    }
    await writeFile(join(tmp, 'model.onnx'), onnx);
    const manifest: WebManifest = { format: WEB_FORMAT, simplenet_version: VERSION, model, files: [...files.keys(), 'model.onnx'] };
    await writeFile(join(tmp, WEB_MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`);
    return { files: files.size + 2, bytes };
  });
}
