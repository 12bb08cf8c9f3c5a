import { describe, expect, it } from 'vitest';
import { Crew } from '../../../src/framework/decorators/crew.js';
import { OnEvent } from '../../../src/framework/decorators/on-event.js';
import { loadConfig } from '../../../src/framework/config/load-config.js';
import { buildCrewGraph } from '../../../src/framework/discovery/crew-graph.js';
import { RunnerGroups } from '../../../src/framework/distributed/runner-groups.js';
import { ConfigError } from '../../../src/framework/errors.js';

function crew(id: string) {
  @Crew({ id })
  class Defined {
    @OnEvent('tick')
    on(): void {}
  }
  return Defined;
}

const graph = buildCrewGraph([crew('scorer'), crew('commentary'), crew('summary'), crew('commentary_fr')]);
const groupsOf = (runners: Record<string, { crews: string }>) => RunnerGroups.of({ runners }, graph);

describe('RunnerGroups', () => {
  it('puts each crew its pattern matches, as a whole id, in the group; the rest in none', () => {
    const groups = groupsOf({ llm: { crews: 'commentary|summary' } });
    expect(groups.any).toBe(true);
    expect(['scorer', 'commentary', 'summary', 'commentary_fr'].map((id) => groups.groupOf(id))).toEqual([undefined, 'llm', 'llm', undefined]);
    const llm = groups.hostedBy('llm');
    expect(llm('commentary')).toBe(true);
    expect(llm('commentary_fr')).toBe(false);
    expect(groupsOf({}).any).toBe(false);
  });

  it('refuses a group matching no crew, a crew in two groups, and a group the config does not name, saying which', () => {
    expect(() => groupsOf({ llm: { crews: 'comentary' } })).toThrow(new ConfigError('runners.llm.crews: "comentary" matches no crew (the crews are: commentary, commentary_fr, scorer, summary)'));
    expect(() => groupsOf({ a: { crews: 'commentary.*' }, b: { crews: 'commentary_fr' } })).toThrow(
      new ConfigError('crew commentary_fr is in runner groups a and b: a crew belongs to one group (runners.<group>.crews)'),
    );
    expect(() => groupsOf({ a: { crews: 'scorer' } }).hostedBy('b')).toThrow(new ConfigError("no runner group b in the config's runners (groups: a)"));
    expect(() => groupsOf({}).hostedBy('b')).toThrow(new ConfigError("no runner group b in the config's runners (it names none)"));
  });

  it('reads runners: from the environment as JSON, and refuses what is not a map of groups', () => {
    expect(loadConfig({ file: false, env: { LIVE_CREW_RUNNERS: '{"llm":{"crews":"summary"}}' } }).runners).toEqual({ llm: { crews: 'summary' } });
    for (const bad of ['llm', '{"llm":"summary"}', '{"a b":{"crews":"x"}}', '{"llm":{"crews":"("}}', '{"llm":{"crews":"x","extra":1}}']) {
      expect(() => loadConfig({ file: false, env: { LIVE_CREW_RUNNERS: bad } }), bad).toThrow(/LIVE_CREW_RUNNERS/);
    }
  });
});
