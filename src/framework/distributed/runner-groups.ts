import type { LiveCrewConfig } from '../config/config-schema.js';
import type { CrewGraph } from '../discovery/crew-definition.js';
import { DEFAULT_WORK_GROUP } from '../config/runner-groups-config.js';
import { ConfigError } from '../errors.js';
import { messages } from '../messages.js';

/**
 * The config's runner groups (DESIGN §5 amendments) checked against the crews: each group's
 * pattern matches whole crew ids, at least one, and no crew is in two groups. A crew in no group
 * runs in the process that owns its stream.
 */
export class RunnerGroups {
  readonly #groupOfCrew: ReadonlyMap<string, string>;
  readonly #names: readonly string[];

  private constructor(groupOfCrew: ReadonlyMap<string, string>, names: readonly string[]) {
    this.#groupOfCrew = groupOfCrew;
    this.#names = names;
  }

  /** @throws ConfigError for a group that matches no crew, and for a crew two groups match */
  static of(config: Pick<LiveCrewConfig, 'runners'>, graph: CrewGraph): RunnerGroups {
    const ids = graph.crews.map((crew) => crew.id);
    const groupsOfCrew = new Map<string, string[]>();
    for (const [group, { crews }] of Object.entries(config.runners)) {
      const pattern = new RegExp(`^(?:${crews})$`);
      const matched = ids.filter((id) => pattern.test(id));
      if (matched.length === 0) throw new ConfigError(messages.runnerGroupMatchesNoCrew(group, crews, ids.join(', ')));
      for (const id of matched) groupsOfCrew.set(id, [...(groupsOfCrew.get(id) ?? []), group]);
    }
    for (const [crew, groups] of groupsOfCrew) if (groups.length > 1) throw new ConfigError(messages.crewInTwoRunnerGroups(crew, groups));
    return new RunnerGroups(new Map([...groupsOfCrew].map(([crew, [group]]) => [crew, group!])), Object.keys(config.runners));
  }

  /** Whether any crew runs in a runner group. */
  get any(): boolean {
    return this.#names.length > 0;
  }

  /** The groups' names. */
  get names(): readonly string[] {
    return this.#names;
  }

  /** The group hosting a crew; undefined for a crew its stream's owner runs. */
  groupOf(crewId: string): string | undefined {
    return this.#groupOfCrew.get(crewId);
  }

  /**
   * The group whose work message carries a crew's calls (DESIGN §5 amendments): its runner
   * group, or `default` for a crew in none.
   */
  workGroupOf(crewId: string): string {
    return this.#groupOfCrew.get(crewId) ?? DEFAULT_WORK_GROUP;
  }

  /**
   * Whether a crew belongs to `group`.
   *
   * @throws ConfigError for a group the config does not name
   */
  hostedBy(group: string): (crewId: string) => boolean {
    if (!this.#names.includes(group)) throw new ConfigError(messages.unknownRunnerGroup(group, this.#names));
    return (crewId) => this.#groupOfCrew.get(crewId) === group;
  }
}
