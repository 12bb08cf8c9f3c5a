import type { StreamView } from '../../src/adapters/dashboard/dashboard-view.js';

/** A stream's latest slices, oldest first: open ones outlined, closed ones filled; errors and context changes marked. */
export function Timeline({ stream, sliceMs, selected, onSelect }: { stream: StreamView; sliceMs: number; selected: boolean; onSelect: () => void }) {
  const open = stream.slices.filter((s) => s.state === 'open').length;
  return (
    // biome-ignore lint/a11y/useSemanticElements: a <button> may hold phrasing content only, and the whole timeline (with its list of slices) selects the stream.
    <div
      class={`timeline ${selected ? 'selected' : ''}`}
      onClick={onSelect}
      onKeyDown={(event) => (event.key === 'Enter' || event.key === ' ') && onSelect()}
      tabIndex={0}
      role="button"
      aria-pressed={selected}
      aria-label={`stream ${stream.id}`}
    >
      <div class="timeline-head">
        <strong>{stream.id}</strong>
        <span>{stream.events} events</span>
        <span>{open} open</span>
        <span>slice = {sliceMs} ms</span>
      </div>
      <ol class="slices">
        {stream.slices.map((s) => (
          <li
            key={s.slice}
            class={`slice ${s.state} ${s.errors > 0 ? 'has-errors' : ''} ${s.changed ? 'changed' : ''}`}
            title={`slice ${s.slice} (${s.state}): ${s.events} events, ${s.actions} actions, ${s.errors} errors${s.changed ? ', changed the context' : ''}`}
            data-slice={s.slice}
            data-state={s.state}
          >
            <span class="bar" style={{ height: `${Math.min(100, 12 + s.events * 4)}%` }} />
          </li>
        ))}
      </ol>
      {stream.slices.length > 0 && (
        <div class="timeline-axis">
          <span>slice {stream.slices[0]!.slice}</span>
          <span>slice {stream.slices.at(-1)!.slice}</span>
        </div>
      )}
    </div>
  );
}
