import { Kvm, type KV } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import type { z } from 'zod';
import { isRevisionConflict, untilStored, type JetStreamPublisher } from './jetstream-publishing.js';
import { parseForeignJson } from '../../framework/model/json.js';
import { describeIssues } from '../../framework/model/event.js';
import { messages } from '../../framework/messages.js';

/**
 * A stored value and the revision a conditional update must name; or, for a value that is not
 * what live-crew writes there, why (its revision lets the writer of a good value replace it).
 */
export type Revisioned<T> = ({ readonly value: T; readonly refused?: undefined } | { readonly value?: undefined; readonly refused: string }) & {
  readonly revision: number;
  /** When the server stored it. */
  readonly storedAt: Date;
};

/** Run-state records are small and flat: nesting past this is not one. */
const RECORD_MAX_DEPTH = 32;

/**
 * The coordination state of one stream's distributed run, in a JetStream KV bucket of its own:
 * `live_crew_run_<stream>` (bucket names hold no dots; stream ids never do). Keys:
 * `scheduler.lease` (who schedules), `scheduler.checkpoint` (where a successor goes on) and
 * `crew.<id>` (a crew's progress, for a restarted runner). Values are JSON, checked on read.
 */
export class RunStateBucket {
  readonly #kv: KV;
  readonly #publisher: JetStreamPublisher;
  readonly name: string;

  private constructor(kv: KV, publisher: JetStreamPublisher, name: string) {
    this.#kv = kv;
    this.#publisher = publisher;
    this.name = name;
  }

  /** Opens (creating if needed) the bucket of a stream; unconditional puts go through `publisher`. */
  static async open(nc: NatsConnection, publisher: JetStreamPublisher, streamId: string, prefix = 'live_crew'): Promise<RunStateBucket> {
    const name = `${prefix}_run_${streamId}`;
    const kv = await untilStored(() => new Kvm(nc).create(name, { history: 1 }), `opening KV bucket ${name}`);
    return new RunStateBucket(kv, publisher, name);
  }

  /**
   * The value under `key` and its revision; undefined when there is none. A value that is not
   * what `schema` expects comes back `refused`, saying where and what it is: anyone with access
   * to the bucket can write anything, and the caller decides how to go on without it.
   */
  async get<T>(key: string, schema: z.ZodType<T>): Promise<Revisioned<T> | undefined> {
    const entry = await untilStored(() => this.#kv.get(key), `reading ${this.name}/${key}`);
    if (entry === null || entry.operation !== 'PUT') return undefined;
    const text = entry.string();
    const json = parseForeignJson(text, RECORD_MAX_DEPTH);
    const parsed = json.problem === undefined ? schema.safeParse(json.value) : undefined;
    if (parsed?.success) return { value: parsed.data, revision: entry.revision, storedAt: entry.created };
    return { revision: entry.revision, storedAt: entry.created, refused: messages.notARunStateRecord(`${this.name}/${key}`, key, text, json.problem ?? describeIssues(parsed!.error)) };
  }

  /**
   * Stores `value` under `key`, unconditionally. A put is a publish to the key's subject
   * (`$KV.<bucket>.<key>`): through the publisher, a crew's progress saved after every batch
   * costs no request of its own.
   */
  async put(key: string, value: unknown): Promise<void> {
    await this.#publisher.publishInOrder([{ subject: `$KV.${this.name}.${key}`, data: JSON.stringify(value) }]);
  }

  /**
   * Stores `value` under `key` only if the key is still at `revision` (undefined: only if it
   * does not exist). Returns the new revision, or undefined when someone else wrote first.
   */
  async swap(key: string, value: unknown, revision: number | undefined): Promise<number | undefined> {
    const data = JSON.stringify(value);
    try {
      return await untilStored(() => (revision === undefined ? this.#kv.create(key, data) : this.#kv.update(key, data, revision)), `writing ${this.name}/${key}`);
    } catch (error) {
      if (isRevisionConflict(error)) return undefined;
      throw error;
    }
  }

  /** Removes `key`. */
  async delete(key: string): Promise<void> {
    await untilStored(() => this.#kv.delete(key), `deleting ${this.name}/${key}`);
  }
}
