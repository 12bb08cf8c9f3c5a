import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { hostname, networkInterfaces } from 'node:os';
import { extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '../../framework/errors.js';
import { messages } from '../../framework/messages.js';
import type { DashboardFeed } from './dashboard-feed.js';
import { VIEW_ELEMENT_ID, type DashboardPatch, type DashboardView } from './dashboard-view.js';

/** Where `npm run build` puts the page (`ui/` built by Vite), beside the compiled adapters. */
export const BUILT_PAGE = fileURLToPath(new URL('../../ui/', import.meta.url));

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};

/** A comment line now and then keeps proxies and the browser from closing a quiet event stream. */
const KEEPALIVE_MS = 15_000;
/** The most pages following the event stream at once: each holds a connection and a copy of every patch. */
export const MAX_PAGES = 16;
/** The names of this machine every dashboard answers to. */
const LOOPBACK_NAMES = ['localhost', '127.0.0.1', '::1'];
/** Addresses that bind every interface: a dashboard bound so answers to this machine's names and addresses too. */
const ANY_ADDRESS = new Set(['0.0.0.0', '::', '']);

/** Where and what a `DashboardServer` serves. */
export interface DashboardServerOptions {
  /** The port (0: any free one). */
  readonly port: number;
  /** The address to bind; default 127.0.0.1 (this machine only). */
  readonly host?: string;
  /** The built page's folder; default the one shipped in the package. */
  readonly pageDir?: string;
}

/**
 * Serves the dev dashboard: the page, `/api/view` (the whole view as JSON) and `/api/events`
 * (Server-Sent Events: `view`, then a `patch` per change). A page that cannot keep up gets no
 * patches until its connection drains, then the whole view again: a slow browser never makes the
 * run buffer without bound.
 *
 * Any page a developer opens can send it requests: one it cannot read gets 400 and the server
 * goes on; one naming a host that is not this dashboard's (a DNS-rebinding page) gets 421; past
 * MAX_PAGES event streams, another gets 503.
 */
export class DashboardServer {
  readonly #feed: DashboardFeed;
  readonly #options: DashboardServerOptions;
  readonly #pages = new Set<ServerResponse>();
  #server: Server | undefined;
  #keepalive: ReturnType<typeof setInterval> | undefined;
  /** The `Host` headers it answers (name and port), once listening. */
  #hosts: ReadonlySet<string> = new Set();

  constructor(feed: DashboardFeed, options: DashboardServerOptions) {
    this.#feed = feed;
    this.#options = options;
  }

  /** Starts serving; resolves to the page's URL. */
  async listen(): Promise<string> {
    const host = this.#options.host ?? '127.0.0.1';
    const server = createServer((request, response) => {
      this.#serve(request, response).catch(() => {
        // A request it cannot read (a malformed path): refused, and the server goes on.
        if (!response.headersSent) response.writeHead(400, { 'content-type': 'text/plain' });
        response.end(response.headersSent ? undefined : 'bad request\n');
      });
    });
    server.listen(this.#options.port, host);
    try {
      await once(server, 'listening');
    } catch (error) {
      throw new ConfigError(messages.dashboardCannotListen(host, this.#options.port, (error as NodeJS.ErrnoException).code ?? String(error)));
    }
    this.#server = server;
    this.#keepalive = setInterval(() => {
      for (const page of this.#pages) page.write(': keepalive\n\n');
    }, KEEPALIVE_MS);
    this.#keepalive.unref();
    this.#feed.start();
    const { port } = server.address() as { port: number };
    this.#hosts = allowedHosts(host, port);
    return `http://${host.includes(':') ? `[${host}]` : host}:${port}/`;
  }

  /** Ends every page's event stream and stops serving. Safe to call twice. */
  async close(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    clearInterval(this.#keepalive);
    this.#feed.close();
    if (server === undefined) return;
    for (const page of this.#pages) page.end();
    this.#pages.clear();
    server.closeAllConnections();
    await new Promise((done) => server.close(done));
  }

  async #serve(request: IncomingMessage, response: ServerResponse): Promise<void> {
    if (!this.#hosts.has((request.headers.host ?? '').toLowerCase())) {
      response.writeHead(421, { 'content-type': 'text/plain' }).end(`${messages.dashboardWrongHost(request.headers.host ?? '')}\n`);
      return;
    }
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    const path = new URL(request.url ?? '/', 'http://dashboard').pathname;
    if (path === '/api/view') {
      response.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(JSON.stringify(this.#feed.view()));
      return;
    }
    if (path === '/api/events') {
      this.#stream(request, response);
      return;
    }
    await this.#file(path === '/' ? '/index.html' : path, response);
  }

  #stream(request: IncomingMessage, response: ServerResponse): void {
    if (this.#pages.size >= MAX_PAGES) {
      response.writeHead(503, { 'content-type': 'text/plain', 'retry-after': '5' }).end(`${messages.dashboardTooManyPages(MAX_PAGES)}\n`);
      return;
    }
    response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' });
    this.#pages.add(response);
    let behind = false;
    const send = (type: 'view' | 'patch', data: DashboardView | DashboardPatch): void => {
      if (!response.write(`event: ${type}\ndata: ${JSON.stringify(data)}\n\n`)) behind = true;
    };
    const unsubscribe = this.#feed.subscribe(
      (patch) => {
        if (!behind) send('patch', patch);
      },
      (view) => send('view', view),
    );
    response.on('drain', () => {
      if (!behind) return;
      behind = false;
      send('view', this.#feed.view());
    });
    request.on('close', () => {
      unsubscribe();
      this.#pages.delete(response);
    });
  }

  /** A file of the built page; nothing outside its folder. */
  async #file(path: string, response: ServerResponse): Promise<void> {
    const root = this.#options.pageDir ?? BUILT_PAGE;
    const file = normalize(join(root, decodeURIComponent(path)));
    if (!file.startsWith(normalize(root + sep))) {
      response.writeHead(404).end();
      return;
    }
    try {
      const body = await readFile(file);
      const page = path === '/index.html' ? withView(body.toString('utf8'), this.#feed.view()) : body;
      response.writeHead(200, { 'content-type': CONTENT_TYPES[extname(file)] ?? 'application/octet-stream', ...(path === '/index.html' ? { 'cache-control': 'no-store' } : {}) }).end(page);
    } catch {
      if (path === '/index.html') response.writeHead(500, { 'content-type': 'text/plain' }).end(messages.dashboardPageMissing(root));
      else response.writeHead(404).end();
    }
  }
}

/**
 * The page with the current view in it, so its first paint shows the run before the event stream
 * connects (a screenshot on load shows the crews). `<` is escaped: no value can end the element.
 */
function withView(html: string, view: DashboardView): string {
  const data = JSON.stringify(view).replace(/</g, '\\u003c');
  return html.replace('</head>', () => `<script id="${VIEW_ELEMENT_ID}" type="application/json">${data}</script></head>`);
}

/** Whether the built page is in `folder` (default: the one shipped in the package). */
export function dashboardPageBuilt(folder: string = BUILT_PAGE): boolean {
  return existsSync(join(folder, 'index.html'));
}

/**
 * The `Host` headers a dashboard bound to `host` on `port` answers: this machine's loopback names
 * and the address it binds; bound to every interface, this machine's name and addresses too.
 */
function allowedHosts(host: string, port: number): Set<string> {
  const names = new Set([...LOOPBACK_NAMES, host]);
  if (ANY_ADDRESS.has(host)) {
    names.add(hostname());
    for (const addresses of Object.values(networkInterfaces())) for (const { address } of addresses ?? []) names.add(address);
  }
  const hosts = [...names].filter((name) => !ANY_ADDRESS.has(name)).map((name) => (name.includes(':') ? `[${name}]` : name).toLowerCase());
  // A browser leaves the default port out.
  return new Set(hosts.flatMap((name) => (port === 80 ? [name, `${name}:80`] : [`${name}:${port}`])));
}
