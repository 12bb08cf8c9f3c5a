/**
 * Writes events.jsonl: a football match, ~3,000 events over 90 minutes of event time, the same
 * every time (a seeded generator). One card event is malformed on purpose (no colour).
 *
 *   node examples/match-day/dist/generate-events.js > examples/match-day/events.jsonl
 */

/** mulberry32: a small seeded PRNG, so the match is the same on every run. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const rand = random(42);
const KICK_OFF = Date.parse('2024-05-18T15:00:00Z');
const STREAM = 'match_42';
const players = { home: ['Silva', 'Okafor', 'Berg', 'Moreau', 'Tanaka'], away: ['Rossi', 'Nguyen', 'Costa', 'Fischer', 'Haddad'] };
type Team = keyof typeof players;
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
const lines: string[] = [];

function emit(ms: number, kind: string, payload: Record<string, unknown> = {}): void {
  lines.push(JSON.stringify({ ts: new Date(ms).toISOString(), kind, stream_id: STREAM, payload }));
}

function half(start: number, minuteOffset: number): void {
  let t = start;
  const end = start + 45 * 60_000;
  let team: Team = minuteOffset === 0 ? 'home' : 'away';
  let malformedCardDone = minuteOffset === 0;
  while (t < end) {
    t += 400 + Math.floor(rand() * 1500);
    const minute = minuteOffset + Math.floor((t - start) / 60_000) + 1;
    const roll = rand();
    if (roll < 0.99) {
      emit(t, 'pass', { team, player: pick(players[team]), minute });
      if (rand() < 0.2) team = team === 'home' ? 'away' : 'home';
    } else if (roll < 0.997) {
      const onTarget = rand() < 0.4;
      emit(t, 'shot', { team, player: pick(players[team]), on_target: onTarget, minute });
      if (onTarget && rand() < 0.25) emit(t + 150, 'goal', { team, player: pick(players[team]), minute });
      team = team === 'home' ? 'away' : 'home';
    } else {
      const offender: Team = team === 'home' ? 'away' : 'home';
      if (!malformedCardDone && minute > 60) {
        emit(t, 'card', { team: offender, player: pick(players[offender]), minute });
        malformedCardDone = true;
      } else {
        emit(t, 'card', { team: offender, player: pick(players[offender]), colour: rand() < 0.85 ? 'yellow' : 'red', minute });
      }
    }
  }
}

emit(KICK_OFF, 'kick_off', { home: 'Harbour City', away: 'Northfield' });
half(KICK_OFF, 0);
emit(KICK_OFF + 45 * 60_000 + 90_000, 'half_time');
const secondHalf = KICK_OFF + 60 * 60_000;
emit(secondHalf, 'kick_off', { half: 2 });
half(secondHalf, 45);
emit(secondHalf + 45 * 60_000 + 180_000, 'full_time');
process.stdout.write(`${lines.join('\n')}\n`);
