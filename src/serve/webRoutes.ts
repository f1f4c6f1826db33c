/**
 * The web app at / (index.html and its hashed assets, from the built dist/web) and the headers it
 * needs: COOP/COEP on every answer, so the page is cross-origin isolated and onnxruntime-web may
 * use wasm threads. Files are answered from an allow-list made at start-up; no request path
 * reaches the file system.
 */
import { readFile } from 'node:fs/promises';
import type { FastifyInstance } from 'fastify';
import { WEB_DIR, webContentType, webFiles } from '../export/webApp.js';

/** Whether a URL path is part of the page itself (public code, open without a token). */
export function isWebAsset(path: string): boolean {
  return path === '/' || path === '/index.html' || path.startsWith('/assets/');
}

export function addWebRoutes(app: FastifyInstance, dir: string = WEB_DIR): void {
  const files = webFiles(dir);
  app.addHook('onSend', async (_req, reply, payload) => {
    reply.header('cross-origin-opener-policy', 'same-origin').header('cross-origin-embedder-policy', 'require-corp');
    reply.header('cross-origin-resource-policy', 'same-origin');
    return payload;
  });
  const send = async (rel: string, reply: import('fastify').FastifyReply) => {
    const path = files.get(rel);
    if (!path) {
      const why = files.size === 0 ? 'the web app is not built (run npm run build)' : `no file ${rel}`;
      return reply.code(404).send({ error: { code: 'not_found', message: why } });
    }
    // Hashed or versioned names under assets/ never change; index.html must be revalidated.
    const cache = rel.startsWith('assets/') ? 'public, max-age=31536000, immutable' : 'no-cache';
    return reply
      .type(webContentType(rel))
      .header('cache-control', cache)
      .header('x-content-type-options', 'nosniff')
      .send(await readFile(path));
  };
  app.get('/', { schema: { hide: true } }, async (_req, reply) => send('index.html', reply));
  app.get('/index.html', { schema: { hide: true } }, async (_req, reply) => send('index.html', reply));
  app.get<{ Params: { '*': string } }>('/assets/*', { schema: { hide: true } }, async (req, reply) => send(`assets/${req.params['*']}`, reply));
}
