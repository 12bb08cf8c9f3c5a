import { BUILT_PAGE, DashboardServer, dashboardPageBuilt } from '../adapters/dashboard/dashboard-server.js';
import type { DashboardFeed } from '../adapters/dashboard/dashboard-feed.js';
import { messages } from '../framework/messages.js';

/** A dashboard being served, and how to stop it. */
export interface ServedDashboard {
  readonly url: string;
  close(): Promise<void>;
}

/**
 * Serves `feed` on `ui` (a port) and `uiHost`, saying where on stderr, and saying so when the page
 * is not built (a checkout before `npm run build`): its API still answers.
 */
export async function serveDashboard(feed: DashboardFeed, options: { readonly ui?: number; readonly uiHost?: string }): Promise<ServedDashboard> {
  const server = new DashboardServer(feed, { port: options.ui ?? 0, ...(options.uiHost !== undefined ? { host: options.uiHost } : {}) });
  const url = await server.listen();
  process.stderr.write(`${messages.dashboardListening(url)}\n`);
  if (!dashboardPageBuilt()) process.stderr.write(`live-crew: ${messages.dashboardPageMissing(BUILT_PAGE)}`);
  return { url, close: () => server.close() };
}
