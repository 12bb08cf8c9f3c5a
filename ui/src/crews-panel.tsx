import type { CrewView, RunnerView } from '../../src/adapters/dashboard/dashboard-view.js';

/** Every crew with what it is doing; a distributed run's runners below. */
export function CrewsPanel({ crews, runners }: { crews: readonly CrewView[]; runners: readonly RunnerView[] }) {
  return (
    <section aria-label="Crews" class="crews">
      <h2>Crews</h2>
      <table>
        <thead>
          <tr>
            <th>crew</th>
            <th>status</th>
            <th title="handler calls running now">in flight</th>
            <th>calls</th>
            <th>actions</th>
            <th>errors</th>
            <th title="errors since its last call that succeeded">streak</th>
            <th title="closed slices behind the stream">behind</th>
            <th>tokens in/out</th>
            <th>listens to</th>
          </tr>
        </thead>
        <tbody>
          {crews.map((crew) => (
            <tr key={crew.id} data-crew={crew.id} data-status={crew.status}>
              <td>
                {crew.id}
                {crew.lag > 0 && <small> lag {crew.lag}</small>}
                {crew.isolation !== undefined && crew.isolation !== 'none' && <small> {crew.isolation}</small>}
              </td>
              <td>
                <span class={`status ${crew.status}`}>{crew.status === 'waiting' ? `waiting on ${crew.waitingOn.join(', ')}` : crew.status}</span>
              </td>
              <td>{crew.inFlight}</td>
              <td>{crew.calls}</td>
              <td>{crew.actions}</td>
              <td>{crew.errors}</td>
              <td class={(crew.errorStreak ?? 0) > 0 ? 'warn' : ''}>{crew.errorStreak ?? '–'}</td>
              <td>{crew.slicesBehind}</td>
              <td>{crew.inputTokens + crew.outputTokens > 0 ? `${crew.inputTokens}/${crew.outputTokens}` : ''}</td>
              <td class="triggers">{crew.triggers.join(' ')}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {runners.length > 0 && (
        <ul class="runners" aria-label="Runners">
          {runners.map((runner) => (
            <li key={runner.name} class={runner.silent ? 'silent' : ''}>
              {runner.name}: {runner.silent ? 'silent' : 'beating'}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
