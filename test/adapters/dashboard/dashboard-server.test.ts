import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DashboardFeed } from '../../../src/adapters/dashboard/dashboard-feed.js';
import { DashboardServer, dashboardPageBuilt, MAX_PAGES } from '../../../src/adapters/dashboard/dashboard-server.js';

const T0 = Date.parse('2024-05-01T12:00:00Z');

function page(): string {
  const dir = mkdtempSync(join(tmpdir(), 'live-crew-dashboard-page-'));
  mkdirSync(join(dir, 'assets'));
  writeFileSync(join(dir, 'index.html'), '<!doctype html><title>dash</title>');
  writeFileSync(join(dir, 'assets', 'app.js'), 'console.log(1)');
  writeFileSync(join(dir, '..', 'live-crew-outside-the-page.txt'), 'secret');
  return dir;
}

/** A raw GET (or other method), so a path is sent exactly as written; `host` replaces the Host header. */
function get(url: string, path: string, method = 'GET', host?: string): Promise<{ status: number; type: string | undefined; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(new URL(url), { path, method, ...(host !== undefined ? { headers: { host } } : {}) }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode!, type: res.headers['content-type'], body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** The server-sent events of `/api/events`, as they come. */
async function* serverEvents(url: string): AsyncGenerator<{ event: string; data: unknown }> {
  const response = await fetch(new URL('api/events', url));
  expect(response.headers.get('content-type')).toBe('text/event-stream');
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value;
    let end: number;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const event = /^event: (.*)$/m.exec(block)?.[1];
      const data = /^data: (.*)$/m.exec(block)?.[1];
      if (event !== undefined && data !== undefined) yield { event, data: JSON.parse(data) };
    }
  }
}

describe('DashboardServer: the dashboard over HTTP', () => {
  let server: DashboardServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  async function serve(feed = new DashboardFeed({ mode: 'run', title: 't', flushMs: 5 }), pageDir = page()): Promise<{ url: string; feed: DashboardFeed }> {
    server = new DashboardServer(feed, { port: 0, pageDir });
    return { url: await server.listen(), feed };
  }

  it('binds 127.0.0.1 and serves the page and its assets', async () => {
    const { url } = await serve();
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    expect(await get(url, '/')).toEqual({ status: 200, type: 'text/html; charset=utf-8', body: '<!doctype html><title>dash</title>' });
    expect(await get(url, '/assets/app.js')).toMatchObject({ status: 200, type: 'text/javascript; charset=utf-8' });
    expect((await get(url, '/assets/none.js')).status).toBe(404);
  });

  it('serves nothing outside the page folder and takes no writes', async () => {
    const { url } = await serve();
    expect(await get(url, '/%2e%2e/live-crew-outside-the-page.txt')).toMatchObject({ status: 404, body: '' });
    expect(await get(url, '/..%2flive-crew-outside-the-page.txt')).toMatchObject({ status: 404, body: '' });
    expect((await get(url, '/api/view', 'POST')).status).toBe(405);
  });

  it('says how to build the page when it is not there', async () => {
    const missing = join(tmpdir(), 'live-crew-no-such-page');
    expect(dashboardPageBuilt(missing)).toBe(false);
    expect(dashboardPageBuilt(page())).toBe(true);
    const { url } = await serve(undefined, missing);
    const r = await get(url, '/');
    expect(r.status).toBe(500);
    expect(r.body).toContain('npm run build');
  });

  it('serves the page with the view as it is now, for its first paint; no value can end the element it is in', async () => {
    const dir = page();
    writeFileSync(join(dir, 'index.html'), '<!doctype html><html><head><title>dash</title></head><body></body></html>');
    const { url, feed } = await serve(undefined, dir);
    feed.eventSeen('m1', T0);
    feed.actionSent({ ts: new Date(T0).toISOString(), kind: 'note', stream_id: 'm1', payload: { text: '</script><script>alert(1)</script> $& $1' } }, 'm1:0:scribe.on:0:0');
    const r = await get(url, '/');
    const served = /<script id="live-crew-view" type="application\/json">(.*?)<\/script><\/head>/.exec(r.body);
    expect(served, r.body).not.toBeNull();
    expect(served![1]).not.toContain('<');
    expect(JSON.parse(served![1]!)).toEqual(feed.view());
    expect(feed.view().actions[0]!.payload).toEqual({ text: '</script><script>alert(1)</script> $& $1' });
  });

  it('gives the whole view at /api/view', async () => {
    const { url, feed } = await serve();
    feed.eventSeen('m1', T0);
    const r = await get(url, '/api/view');
    expect(r.type).toBe('application/json');
    expect(JSON.parse(r.body)).toEqual(feed.view());
  });

  it('answers a request it cannot read with 400, and lives on', async () => {
    const { url } = await serve();
    for (const path of ['/%E0%A4%A', '/%', '/assets/%ZZ.js', '/%00']) expect((await get(url, path)).status, path).toBeOneOf([400, 404]);
    expect((await get(url, '/%E0%A4%A')).status).toBe(400);
    expect((await get(url, '/')).status).toBe(200);
  });

  it('answers only to its own host names: another page resolving its name here (DNS rebinding) gets 421', async () => {
    const { url } = await serve();
    const port = new URL(url).port;
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `LOCALHOST:${port}`, `[::1]:${port}`]) expect((await get(url, '/api/view', 'GET', host)).status, host).toBe(200);
    for (const host of [`evil.example:${port}`, `127.0.0.1:${Number(port) + 1}`, 'localhost', `localhost.evil.example:${port}`]) {
      const r = await get(url, '/api/view', 'GET', host);
      expect(r.status, host).toBe(421);
      expect(r.body).toMatch(/does not answer to the host/);
    }
  });

  it(`serves at most ${MAX_PAGES} event streams at once; another is told to close one`, async () => {
    const { url } = await serve();
    const open = await Promise.all(Array.from({ length: MAX_PAGES }, () => fetch(new URL('api/events', url))));
    expect(open.every((r) => r.status === 200)).toBe(true);
    const refused = await get(url, '/api/events');
    expect(refused).toMatchObject({ status: 503, body: expect.stringMatching(/16 dashboard pages already follow this run/) });
    await open[0]!.body!.cancel();
    await new Promise((resolve) => setTimeout(resolve, 50));
    const again = await fetch(new URL('api/events', url));
    expect(again.status).toBe(200);
    for (const r of [...open.slice(1), again]) await r.body!.cancel();
  });

  it('streams the view, then a patch per change, and ends the stream when it closes', async () => {
    const { url, feed } = await serve();
    const events = serverEvents(url);
    const first = await events.next();
    expect(first.value).toMatchObject({ event: 'view', data: { mode: 'run', counts: { events: 0 } } });
    feed.eventSeen('m1', T0);
    const second = await events.next();
    expect(second.value).toMatchObject({ event: 'patch', data: { counts: { events: 1 }, streams: [{ id: 'm1', events: 1 }] } });
    await server!.close();
    server = undefined;
    expect((await events.next()).done).toBe(true);
  });
});
