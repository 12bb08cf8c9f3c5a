import { useState } from 'preact/hooks';
import type { DashboardView, StreamView } from '../../src/adapters/dashboard/dashboard-view.js';
import { ContextPanel } from './context-panel.js';
import { CrewsPanel } from './crews-panel.js';
import { DependencyGraph } from './dependency-graph.js';
import { PoolPanel } from './pool-panel.js';
import { ActionsPanel, ErrorsPanel, ModelCallsPanel } from './records-panels.js';
import { Timeline } from './timeline.js';
import { useDashboard } from './use-dashboard.js';

/** The dashboard: what the run is doing, live. */
export function App() {
  const { view, link } = useDashboard();
  const [chosen, choose] = useState<string | undefined>(undefined);
  if (view === undefined) return <p class="waiting">{link === 'lost' ? 'The live-crew process does not answer; retrying…' : 'Connecting to the live-crew process…'}</p>;
  const stream = view.streams.find((s) => s.id === chosen) ?? view.streams[0];
  return (
    <div class="dashboard">
      <header>
        <h1>live-crew</h1>
        <span class="title">{view.title}</span>
        <span class={`badge ${view.finished ? 'finished' : 'live'}`}>{view.finished ? 'finished' : view.mode === 'viewer' ? 'viewing' : 'running'}</span>
        {link === 'lost' && <span class="badge offline">disconnected</span>}
        {view.pool === undefined && (
          <dl class="counts">
            <dt>events</dt>
            <dd>{view.counts.events}</dd>
            <dt>actions</dt>
            <dd>{view.counts.actions}</dd>
            <dt>errors</dt>
            <dd>{view.counts.errors}</dd>
            <dt>model calls</dt>
            <dd>{view.counts.modelCalls}</dd>
          </dl>
        )}
      </header>
      {view.pool !== undefined ? <PoolPanel pool={view.pool} /> : <RunPanels view={view} stream={stream} choose={choose} />}
    </div>
  );
}

/** What a run (or a viewed stream) shows: its streams, context, crews, graph and records. */
function RunPanels({ view, stream, choose }: { view: DashboardView; stream: StreamView | undefined; choose: (id: string) => void }) {
  return (
    <>
      <section aria-label="Streams" class="streams">
        <h2>Streams</h2>
        {view.streams.length === 0 && <p class="empty">No event yet.</p>}
        {view.streams.map((s) => (
          <Timeline key={s.id} stream={s} sliceMs={view.sliceMs} selected={s.id === stream?.id} onSelect={() => choose(s.id)} />
        ))}
      </section>
      <ContextPanel stream={stream} />
      <CrewsPanel crews={view.crews} runners={view.runners} />
      <DependencyGraph crews={view.crews} />
      <ActionsPanel actions={view.actions} />
      <ErrorsPanel errors={view.errors} />
      <ModelCallsPanel calls={view.modelCalls} />
    </>
  );
}
