/**
 * Who may call the service: a bearer token (compared in constant time) on everything but the
 * health probes and the web app's own files, and CORS headers only for the one origin given with --cors.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isWebAsset } from './webRoutes.js';

const OPEN = new Set(['/healthz', '/readyz']);
const digest = (s: string) => createHash('sha256').update(s).digest();

/** Loopback addresses, where a server may run without a token. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

export function addAuth(app: FastifyInstance, token: string | undefined): void {
  if (!token) return;
  const expected = digest(token);
  app.addHook('onRequest', async (req: FastifyRequest, reply: FastifyReply) => {
    const path = req.url.split('?')[0];
    // The page is public code; what it calls needs the token (the page asks for it).
    if (OPEN.has(path) || isWebAsset(path)) return;
    const header = req.headers.authorization ?? '';
    const given = header.startsWith('Bearer ') ? header.slice(7) : '';
    // Hashing first makes the comparison constant-time whatever the lengths.
    if (!given || !timingSafeEqual(digest(given), expected)) {
      return reply
        .code(401)
        .header('www-authenticate', 'Bearer')
        .send({ error: { code: 'unauthorized', message: 'a valid bearer token is required (Authorization: Bearer <token>)' } });
    }
  });
}

export function addCors(app: FastifyInstance, origin: string | undefined): void {
  if (!origin) return;
  app.addHook('onRequest', async (req, reply) => {
    reply.header('access-control-allow-origin', origin).header('vary', 'origin');
    if (req.method === 'OPTIONS') {
      return reply
        .code(204)
        .header('access-control-allow-methods', 'GET, POST, OPTIONS')
        .header('access-control-allow-headers', 'authorization, content-type, accept')
        .header('access-control-max-age', '600')
        .send();
    }
  });
}
