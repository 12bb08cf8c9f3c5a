import type { CrewView } from '../../src/adapters/dashboard/dashboard-view.js';

const NODE_W = 150;
const NODE_H = 34;
const GAP_X = 60;
const GAP_Y = 18;

/**
 * The crews' dependencies, left to right: solid arrows for offset 0 (the crew runs after it in the
 * slice), dashed ones labelled with their offset for earlier slices. Crew borders show their status.
 */
export function DependencyGraph({ crews }: { crews: readonly CrewView[] }) {
  const column = columns(crews);
  const rows = new Map<number, number>();
  const at = new Map<string, { x: number; y: number }>();
  for (const crew of crews) {
    const c = column.get(crew.id)!;
    const r = rows.get(c) ?? 0;
    rows.set(c, r + 1);
    at.set(crew.id, { x: 10 + c * (NODE_W + GAP_X), y: 10 + r * (NODE_H + GAP_Y) });
  }
  const width = 20 + Math.max(1, ...[...column.values()].map((c) => c + 1)) * (NODE_W + GAP_X);
  const height = 20 + Math.max(1, ...rows.values()) * (NODE_H + GAP_Y);
  const edges = crews.flatMap((crew) => crew.dependencies.flatMap((dep) => (dep.crew !== undefined && at.has(dep.crew) ? [{ from: dep.crew, to: crew.id, offset: dep.offset }] : [])));
  return (
    <section aria-label="Dependency graph" class="graph">
      <h2>Dependencies</h2>
      <svg width={width} height={height} role="img" aria-label="crew dependency graph">
        <defs>
          <marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
            <path d="M 0 0 L 10 5 L 0 10 z" />
          </marker>
        </defs>
        {edges.map(({ from, to, offset }) => {
          const a = at.get(from)!;
          const b = at.get(to)!;
          const x1 = a.x + NODE_W;
          const y1 = a.y + NODE_H / 2;
          const x2 = b.x;
          const y2 = b.y + NODE_H / 2;
          const backwards = x2 <= x1;
          const path = backwards
            ? `M ${a.x + NODE_W / 2} ${a.y + NODE_H} C ${a.x + NODE_W / 2} ${a.y + NODE_H + 40}, ${b.x + NODE_W / 2} ${b.y + NODE_H + 40}, ${b.x + NODE_W / 2} ${b.y + NODE_H}`
            : `M ${x1} ${y1} C ${x1 + GAP_X / 2} ${y1}, ${x2 - GAP_X / 2} ${y2}, ${x2} ${y2}`;
          return (
            <g key={`${from}-${to}-${offset}`} class={`edge ${offset < 0 ? 'earlier' : ''}`}>
              <path d={path} marker-end="url(#arrow)" />
              {offset < 0 && (
                <text x={(x1 + x2) / 2} y={(y1 + y2) / 2 - 4}>
                  {offset}
                </text>
              )}
            </g>
          );
        })}
        {crews.map((crew) => {
          const { x, y } = at.get(crew.id)!;
          return (
            <g key={crew.id} class={`node ${crew.status}`} data-crew={crew.id}>
              <rect x={x} y={y} width={NODE_W} height={NODE_H} rx="5" />
              <text x={x + 8} y={y + 14}>
                {crew.id}
              </text>
              <text x={x + 8} y={y + 27} class="sub">
                {crew.triggers.join(' ').slice(0, 24)}
              </text>
            </g>
          );
        })}
      </svg>
    </section>
  );
}

/**
 * Each crew's column: 0, or one past the deepest crew it depends on (at any offset). A cycle through
 * earlier slices (a crew reading another's previous slice, which reads its own) is cut where found.
 */
function columns(crews: readonly CrewView[]): Map<string, number> {
  const byId = new Map(crews.map((crew) => [crew.id, crew]));
  const column = new Map<string, number>();
  const place = (id: string, path: Set<string>): number => {
    const known = column.get(id);
    if (known !== undefined) return known;
    path.add(id);
    const before = (byId.get(id)?.dependencies ?? []).flatMap((dep) => (dep.crew !== undefined && byId.has(dep.crew) && !path.has(dep.crew) ? [dep.crew] : []));
    const c = before.length === 0 ? 0 : 1 + Math.max(...before.map((dep) => place(dep, path)));
    path.delete(id);
    column.set(id, c);
    return c;
  };
  for (const crew of crews) place(crew.id, new Set());
  return column;
}
