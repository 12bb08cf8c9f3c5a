import { useEffect, useState } from 'preact/hooks';
import { applyPatch, type DashboardPatch, type DashboardView } from '../../src/adapters/dashboard/dashboard-view.js';

/** The server's view as it changes, and whether the page is connected to it. */
export interface DashboardState {
  readonly view: DashboardView | undefined;
  readonly connected: boolean;
}

/**
 * Follows `/api/events`: the whole view, then patches folded in. EventSource reconnects by
 * itself after a drop, and the server starts each connection with the whole view again.
 */
export function useDashboard(): DashboardState {
  const [state, setState] = useState<DashboardState>({ view: undefined, connected: false });
  useEffect(() => {
    const events = new EventSource('api/events');
    events.addEventListener('view', (message) => setState({ view: JSON.parse(message.data) as DashboardView, connected: true }));
    events.addEventListener('patch', (message) => {
      const patch = JSON.parse(message.data) as DashboardPatch;
      setState((current) => (current.view === undefined ? current : { view: applyPatch(current.view, patch), connected: true }));
    });
    events.addEventListener('error', () => setState((current) => ({ ...current, connected: false })));
    return () => events.close();
  }, []);
  return state;
}
