import type { StreamView } from '../../src/adapters/dashboard/dashboard-view.js';

/** The stream's context as last merged, the keys its last merge changed highlighted. */
export function ContextPanel({ stream }: { stream: StreamView | undefined }) {
  const change = stream?.lastChange;
  const changed = new Set(change?.changed ?? []);
  return (
    <section aria-label="Context" class="context">
      <h2>Context {stream !== undefined && <small>of {stream.id}</small>}</h2>
      {change !== undefined && (
        <p class="last-change">
          slice {change.slice} ({change.ts}) changed {change.changed.join(', ') || 'nothing'}
          {change.deleted.length > 0 && `, deleted ${change.deleted.join(', ')}`}
        </p>
      )}
      {stream === undefined || Object.keys(stream.context).length === 0 ? (
        <p class="empty">Nothing merged yet.</p>
      ) : (
        <dl class="context-keys">
          {Object.entries(stream.context).map(([key, value]) => (
            <div key={key} class={changed.has(key) ? 'changed' : ''} data-key={key}>
              <dt>{key}</dt>
              <dd>
                <pre>{JSON.stringify(value, null, 1)}</pre>
              </dd>
            </div>
          ))}
        </dl>
      )}
    </section>
  );
}
