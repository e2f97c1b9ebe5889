// The demo server under hostile requests: malformed escapes get 400 and it keeps serving; no
// path leaves the served folder (plain, encoded or through a symbolic link); 127.0.0.1 only.
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { createServer } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requestPath, serveFolder, type StaticServer } from '../../cli/browser/serve.ts';
import { KilnError } from '../../src/ir/errors.ts';
import { freshOutDir } from '../e2e/helpers.ts';

/** A raw GET (the path is sent as written: no normalisation, no encoding). */
function get(base: string, rawPath: string): Promise<{ status: number; body: string }> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const req = request({ host: hostname, port, path: rawPath, method: 'GET' }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    // A server that died on an earlier request never answers: fail instead of waiting.
    req.setTimeout(5000, () => req.destroy(new Error(`no answer to GET ${rawPath}`)));
    req.end();
  });
}

const SECRET = 'the secret outside the served folder';

describe('the demo server', () => {
  let server: StaticServer;
  beforeAll(async () => {
    const dir = freshOutDir('hardening-serve');
    const site = path.join(dir, 'site');
    mkdirSync(site);
    writeFileSync(path.join(site, 'index.html'), '<p>index</p>');
    writeFileSync(path.join(site, 'a b.txt'), 'spaced');
    writeFileSync(path.join(dir, 'secret.txt'), SECRET);
    symlinkSync(path.join(dir, 'secret.txt'), path.join(site, 'link.txt'));
    server = await serveFolder(site);
  });
  afterAll(() => server?.close());

  it('answers 400 to a malformed escape and then still serves (on 127.0.0.1 only)', async () => {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    for (const bad of ['/%E0%A4%A', '/%', '/%zz', '/a%ff.txt']) {
      const r = await get(server.url, bad);
      expect(r.status, bad).toBe(400);
    }
    const ok = await get(server.url, '/');
    expect(ok.status).toBe(200);
    expect(ok.body).toBe('<p>index</p>');
    expect((await get(server.url, '/a%20b.txt')).body).toBe('spaced');
  });

  it('never serves a file outside its folder', async () => {
    for (const p of ['/../secret.txt', '/%2e%2e/secret.txt', '/%2E%2E%2Fsecret.txt', '/..%2fsecret.txt', '/x/../../secret.txt', '/..\\secret.txt', '/link.txt', '/%00index.html']) {
      const r = await get(server.url, p);
      expect(r.status, p).toBeGreaterThanOrEqual(400);
      expect(r.body, p).not.toContain(SECRET);
    }
    expect((await get(server.url, '/')).status).toBe(200);
  });

  it('decodes request paths: 400 for bad escapes and NUL, 404 for any ".." segment', () => {
    expect(requestPath('/%E0%A4%A')).toEqual({ status: 400 });
    expect(requestPath('/a%00b')).toEqual({ status: 400 });
    expect(requestPath('http://x/')).toEqual({ status: 400 });
    expect(requestPath('/%2e%2e/x')).toEqual({ status: 404 });
    expect(requestPath('/')).toEqual({ path: '/index.html' });
    expect(requestPath('/a%20b.txt?x=1#y')).toEqual({ path: '/a b.txt' });
  });

  it('says in one line that a port is in use', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;
    try {
      const failure = await serveFolder(path.join(freshOutDir('hardening-serve-port')), port).then(
        (s) => s.close().then(() => undefined),
        (e: unknown) => e,
      );
      expect(failure).toBeInstanceOf(KilnError);
      expect((failure as Error).message).toMatch(new RegExp(`127\\.0\\.0\\.1:${port}: the port is already in use`));
    } finally {
      blocker.close();
    }
  });
});
