import { useEffect, useState } from 'preact/hooks';
import { applyPatch, VIEW_ELEMENT_ID, type DashboardPatch, type DashboardView } from '../../src/adapters/dashboard/dashboard-view.js';

/** The page's link to the server: not yet open, following its event stream, or lost (the browser retries). */
export type DashboardLink = 'connecting' | 'open' | 'lost';

/** The server's view as it changes, and the page's link to it. */
export interface DashboardState {
  readonly view: DashboardView | undefined;
  readonly link: DashboardLink;
}

/** The view the server put in the page when it served it: what the first paint shows. */
function servedView(): DashboardView | undefined {
  const text = document.getElementById(VIEW_ELEMENT_ID)?.textContent;
  return text ? (JSON.parse(text) as DashboardView) : undefined;
}

/**
 * The view served with the page, then `/api/events`: the whole view, then patches folded in.
 * EventSource reconnects by itself after a drop, and the server starts each connection with the
 * whole view again.
 */
export function useDashboard(): DashboardState {
  const [state, setState] = useState<DashboardState>(() => ({ view: servedView(), link: 'connecting' }));
  useEffect(() => {
    const events = new EventSource('api/events');
    events.addEventListener('view', (message) => setState({ view: JSON.parse(message.data) as DashboardView, link: 'open' }));
    events.addEventListener('patch', (message) => {
      const patch = JSON.parse(message.data) as DashboardPatch;
      setState((current) => (current.view === undefined ? current : { view: applyPatch(current.view, patch), link: 'open' }));
    });
    events.addEventListener('error', () => setState((current) => ({ ...current, link: 'lost' })));
    return () => events.close();
  }, []);
  return state;
}
