// The benchmark's static server on 127.0.0.1: cli/browser/serve.ts's path rules, plus what the
// peers need: WebAssembly and ES-module content types, and cross-origin isolation (COOP/COEP), so
// that pages have SharedArrayBuffer (Kiln's SIMD kernels run over a shared memory).
import { createReadStream } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import { createServer } from 'node:http';
import path from 'node:path';
import { requestPath, type StaticServer } from '../../cli/browser/serve.ts';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.mjs': 'text/javascript; charset=utf-8',
  '.json': 'application/json', '.map': 'application/json', '.wasm': 'application/wasm',
};
const ISOLATION = { 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp', 'cache-control': 'no-store' };

/** Serves `root` (files only, nothing outside it) on a free port of 127.0.0.1. */
export async function serveBenchSite(root: string): Promise<StaticServer> {
  const base = await realpath(root);
  const server = createServer((req, res) => {
    const fail = (status: number) => res.writeHead(status, { 'content-type': 'text/plain' }).end(String(status));
    const target = requestPath(req.url ?? '/');
    if ('status' in target) return void fail(target.status);
    realpath(path.join(base, target.path))
      .then(async (file) => {
        if (!file.startsWith(base + path.sep) || !(await stat(file)).isFile()) return fail(404);
        res.writeHead(200, { 'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream', ...ISOLATION });
        createReadStream(file).on('error', () => res.destroy()).pipe(res);
      })
      .catch(() => fail(404));
  });
  await new Promise<void>((done, reject) => server.once('error', reject).listen(0, '127.0.0.1', done));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return { url: `http://127.0.0.1:${port}/`, close: () => new Promise((done) => server.close(() => done())) };
}
