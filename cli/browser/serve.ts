// A static file server on 127.0.0.1 for the browser demo and the browser tests: serves one
// folder, nothing outside it, with the right content types. Any page can send requests to
// 127.0.0.1, so a malformed one gets a 4xx answer and the server keeps serving.
import { createReadStream } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import path from 'node:path';
import { osReason } from '../../runtime/file-errors.ts';
import { KilnError } from '../../src/ir/errors.ts';

const TYPES: ReadonlyMap<string, string> = new Map([
  ['.html', 'text/html; charset=utf-8'],
  ['.js', 'text/javascript; charset=utf-8'],
  ['.map', 'application/json'],
  ['.json', 'application/json'],
  ['.css', 'text/css; charset=utf-8'],
  ['.bin', 'application/octet-stream'],
  ['.png', 'image/png'],
]);

export interface StaticServer {
  readonly url: string;
  close(): Promise<void>;
}

/** The decoded path of a request inside the served folder, or the status that refuses it. */
export function requestPath(rawUrl: string): { path: string } | { status: 400 | 404 } {
  const pathname = rawUrl.split(/[?#]/, 1)[0];
  if (!pathname.startsWith('/')) return { status: 400 };
  let decoded: string;
  try {
    decoded = decodeURIComponent(pathname);
  } catch {
    return { status: 400 }; // a malformed escape such as %E0%A4%A
  }
  if (decoded.includes('\0')) return { status: 400 };
  // After decoding, so %2e%2e is caught as well as '..'; backslashes count as separators (Windows).
  if (decoded.split(/[/\\]/).some((segment) => segment === '..')) return { status: 404 };
  return { path: decoded === '/' ? '/index.html' : decoded };
}

function answer(res: ServerResponse, status: number, text: string): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' }).end(text);
}

/** Answers one request from `root` (a real path); never throws. */
async function handle(root: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (req.method !== 'GET' && req.method !== 'HEAD') return answer(res, 405, 'method not allowed');
  const target = requestPath(req.url ?? '/');
  if ('status' in target) return answer(res, target.status, target.status === 400 ? 'bad request' : 'not found');
  let file: string;
  try {
    // The real path: a symbolic link inside the folder must not lead outside it.
    file = await realpath(path.join(root, target.path));
    if (!file.startsWith(root + path.sep) || !(await stat(file)).isFile()) return answer(res, 404, 'not found');
  } catch {
    return answer(res, 404, 'not found');
  }
  res.writeHead(200, { 'content-type': TYPES.get(path.extname(file)) ?? 'application/octet-stream', 'cache-control': 'no-store' });
  if (req.method === 'HEAD') return void res.end();
  createReadStream(file)
    .on('error', () => res.destroy())
    .pipe(res);
}

/** Serves `root` on 127.0.0.1 only (`port` 0 picks a free one). */
export async function serveFolder(root: string, port = 0): Promise<StaticServer> {
  let base: string;
  try {
    base = await realpath(path.resolve(root));
  } catch (e) {
    throw new KilnError(`cannot serve ${root}: ${osReason(e)}`);
  }
  const server: Server = createServer((req, res) => {
    handle(base, req, res).catch(() => answer(res, 500, 'internal error'));
  });
  return new Promise((resolve, reject) => {
    server.once('error', (e) => reject(new KilnError(`cannot serve on 127.0.0.1:${port}: ${osReason(e)}${(e as { code?: string }).code === 'EADDRINUSE' ? ' (--port)' : ''}`, { cause: e })));
    server.listen(port, '127.0.0.1', () => {
      const address = server.address();
      const actual = typeof address === 'object' && address ? address.port : port;
      resolve({ url: `http://127.0.0.1:${actual}/`, close: () => new Promise((done) => server.close(() => done())) });
    });
  });
}
