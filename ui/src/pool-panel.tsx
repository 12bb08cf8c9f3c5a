import type { PoolMemberView, PoolView } from '../../src/framework/distributed/pool-view.js';

/** A pool over NATS: its workers and runner groups, and every stream with who serves it. */
export function PoolPanel({ pool }: { pool: PoolView }) {
  const groups = pool.groups.map(({ group }) => group);
  return (
    <>
      <section aria-label="Members" class="pool-members">
        <h2>Workers and runners</h2>
        <p>
          {pool.streams} streams: {pool.active} active, {pool.finished} finished, {pool.idle} idle
          {pool.unowned.length > 0 && <span class="warn"> · {pool.unowned.length} active with no worker (waiting for a claim)</span>}
        </p>
        <Members title="workers" members={pool.workers} />
        {pool.groups.map(({ group, runners }) => (
          <Members key={group} title={`runner group ${group}`} members={runners} />
        ))}
      </section>
      <section aria-label="Pool streams" class="pool-streams">
        <h2>Streams</h2>
        {pool.list.length === 0 && <p class="empty">No stream has events yet.</p>}
        <table>
          <thead>
            <tr>
              <th>stream</th>
              <th>state</th>
              <th>events</th>
              <th>worker</th>
              {groups.map((group) => (
                <th key={group}>{group}</th>
              ))}
            </tr>
          </thead>
          <tbody>
            {pool.list.map((stream) => (
              <tr key={stream.id} data-stream={stream.id} data-state={stream.state}>
                <td>{stream.id}</td>
                <td>{stream.state}</td>
                <td>{stream.events}</td>
                <td class={stream.state === 'active' && stream.worker === null ? 'warn' : ''}>{stream.worker ?? '–'}</td>
                {groups.map((group) => (
                  <td key={group}>{stream.runners[group] ?? '–'}</td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </section>
    </>
  );
}

function Members({ title, members }: { title: string; members: readonly PoolMemberView[] }) {
  return (
    <div class="pool-group">
      <h3>
        {title} ({members.length})
      </h3>
      {members.length === 0 && <p class="empty">None is beating.</p>}
      <ul>
        {members.map((member) => (
          <li key={member.id} data-member={member.id}>
            {member.id}: {member.owned} streams
          </li>
        ))}
      </ul>
    </div>
  );
}
