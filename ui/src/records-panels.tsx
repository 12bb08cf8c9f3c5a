import { useState } from 'preact/hooks';
import type { ActionView, ErrorView, ModelCallView } from '../../src/adapters/dashboard/dashboard-view.js';

/** How many records a list renders (the newest). */
const SHOWN = 200;

/** A select of the values records have for a field, '' for all. */
function Filter({ label, values, value, onChange }: { label: string; values: readonly string[]; value: string; onChange: (value: string) => void }) {
  return (
    <label>
      {label}{' '}
      <select value={value} onChange={(e) => onChange((e.target as HTMLSelectElement).value)} aria-label={`filter by ${label}`}>
        <option value="">all</option>
        {[...new Set(values)].sort().map((v) => (
          <option key={v} value={v}>
            {v}
          </option>
        ))}
      </select>
    </label>
  );
}

/** The newest first, of those matching every filter set. */
function shown<T>(records: readonly T[], filters: ReadonlyArray<[string, (record: T) => string | undefined]>): T[] {
  return records
    .filter((record) => filters.every(([value, field]) => value === '' || field(record) === value))
    .slice(-SHOWN)
    .reverse();
}

/** Actions as they are sent, filterable by crew and kind. */
export function ActionsPanel({ actions }: { actions: readonly ActionView[] }) {
  const [crew, setCrew] = useState('');
  const [kind, setKind] = useState('');
  const list = shown(actions, [
    [crew, (a) => a.crew],
    [kind, (a) => a.kind],
  ]);
  return (
    <section aria-label="Actions" class="actions">
      <h2>Actions</h2>
      <div class="filters">
        <Filter label="crew" values={actions.map((a) => a.crew)} value={crew} onChange={setCrew} />
        <Filter label="kind" values={actions.map((a) => a.kind)} value={kind} onChange={setKind} />
      </div>
      <ol class="records">
        {list.map((a) => (
          <li key={a.seq} data-kind={a.kind} data-crew={a.crew}>
            <span class="kind">{a.kind}</span> <span class="crew">{a.crew}</span>{' '}
            <span class="where">
              {a.stream} · slice {a.slice ?? '?'} · {a.ts}
            </span>
            <code>{JSON.stringify(a.payload)}</code>
          </li>
        ))}
      </ol>
    </section>
  );
}

/** Error records as they are sent, filterable by crew and reason. */
export function ErrorsPanel({ errors }: { errors: readonly ErrorView[] }) {
  const [crew, setCrew] = useState('');
  const [reason, setReason] = useState('');
  const list = shown(errors, [
    [crew, (e) => e.crew],
    [reason, (e) => e.reason],
  ]);
  return (
    <section aria-label="Errors" class="errors">
      <h2>Errors</h2>
      <div class="filters">
        <Filter label="crew" values={errors.flatMap((e) => (e.crew !== undefined ? [e.crew] : []))} value={crew} onChange={setCrew} />
        <Filter label="reason" values={errors.map((e) => e.reason)} value={reason} onChange={setReason} />
      </div>
      {list.length === 0 && <p class="empty">No error.</p>}
      <ol class="records">
        {list.map((e) => (
          <li key={e.seq} data-reason={e.reason} data-crew={e.crew ?? ''}>
            <span class="reason">{e.reason}</span> {e.crew !== undefined && <span class="crew">{e.crew}</span>}{' '}
            <span class="where">
              {e.stream}
              {e.slice !== undefined && ` · slice ${e.slice}`}
              {e.source !== undefined && ` · ${e.source}`}
            </span>
            <p class="message">{e.message}</p>
          </li>
        ))}
      </ol>
    </section>
  );
}

/** Model calls as they end, with tokens; the totals above. */
export function ModelCallsPanel({ calls }: { calls: readonly ModelCallView[] }) {
  const input = calls.reduce((sum, c) => sum + c.inputTokens, 0);
  const output = calls.reduce((sum, c) => sum + c.outputTokens, 0);
  return (
    <section aria-label="Model calls" class="models">
      <h2>Model calls</h2>
      {calls.length === 0 ? (
        <p class="empty">No model call.</p>
      ) : (
        <p>
          {calls.length} calls shown, {input} input and {output} output tokens
        </p>
      )}
      <table>
        <tbody>
          {calls
            .slice(-SHOWN)
            .reverse()
            .map((c) => (
              <tr key={c.seq} data-outcome={c.outcome}>
                <td>{c.crew}</td>
                <td>{c.model}</td>
                <td class={`outcome ${c.outcome}`}>{c.outcome}</td>
                <td>
                  {c.inputTokens}/{c.outputTokens} tokens
                </td>
                <td>{c.seconds.toFixed(2)} s</td>
              </tr>
            ))}
        </tbody>
      </table>
    </section>
  );
}
