/**
 * Serves the built web UI (web/dist) under /ui: files as they are, any other /ui path as
 * index.html (the UI routes on the client), and `/` redirects to `/ui/`. Hashed assets are
 * cached for good; index.html is always revalidated.
 */
import { existsSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { extname, join, normalize, resolve, sep } from 'node:path';
import type { FastifyInstance, FastifyReply } from 'fastify';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
};

/** The built UI folder: `<repo>/web/dist`, from `src/ui` (ts-node, tests) or `dist/ui` (build). */
export function defaultUiRoot(): string {
  return resolve(__dirname, '..', '..', 'web', 'dist');
}

/** True when the folder holds a built UI. */
export function uiBuilt(root: string): boolean {
  return existsSync(join(root, 'index.html'));
}

/** The file under `root` named by a URL path, or null when the path leaves `root`. */
export function resolveInside(root: string, urlPath: string): string | null {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return null;
  }
  if (decoded.includes('\0')) return null;
  const file = normalize(join(root, decoded));
  return file === root || file.startsWith(root.endsWith(sep) ? root : root + sep) ? file : null;
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

export async function registerUi(fastify: FastifyInstance, root: string): Promise<void> {
  const base = resolve(root);
  const indexPath = join(base, 'index.html');

  const sendIndex = async (reply: FastifyReply): Promise<FastifyReply> =>
    reply
      .header('content-type', TYPES['.html'])
      .header('cache-control', 'no-cache')
      .header('x-content-type-options', 'nosniff')
      .header('referrer-policy', 'no-referrer')
      .send(await readFile(indexPath));

  fastify.get('/', (_req, reply) => reply.redirect('/ui/', 302));
  fastify.get('/ui', (_req, reply) => reply.redirect('/ui/', 301));
  fastify.get('/ui/', (_req, reply) => sendIndex(reply));
  fastify.get<{ Params: { '*': string } }>('/ui/*', async (req, reply) => {
    const rel = req.params['*'];
    const file = resolveInside(base, rel);
    if (file === null) return reply.code(404).type('text/plain').send('Not found');
    if (await isFile(file)) {
      const immutable = rel.startsWith('assets/');
      return reply
        .header('content-type', TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream')
        .header('cache-control', immutable ? 'public, max-age=31536000, immutable' : 'no-cache')
        .header('x-content-type-options', 'nosniff')
        .send(await readFile(file));
    }
    // A missing asset is a 404; any other path is a page of the UI.
    if (rel.startsWith('assets/') || extname(rel) !== '')
      return reply.code(404).type('text/plain').send('Not found');
    return sendIndex(reply);
  });
}
