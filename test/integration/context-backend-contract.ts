import { describe, expect, it } from 'vitest';
import type { ContextBackend } from '../../src/framework/ports/context-backend.js';

/** How a contract run gets backends: writers sharing one store, and (if durable) a server restart. */
export interface ContextBackendFixture {
  /** A new writer on the shared store (another process, for a server-backed store). */
  writer(): Promise<ContextBackend>;
  /** Stops and restarts the server, for stores that must survive it. */
  restart?(): Promise<void>;
}

/**
 * The contract every context backend passes (memory, Redis, JetStream KV): the same
 * assertions, against a real store where there is one.
 */
export function describeContextBackendContract(name: string, fixture: () => ContextBackendFixture): void {
  describe(`ContextBackend contract: ${name}`, () => {
    let n = 0;
    const stream = () => `contract-${Date.now()}-${n++}`;

    it('has nothing for a stream never committed', async () => {
      const backend = await fixture().writer();
      expect(await backend.load(stream())).toBeUndefined();
      await backend.close();
    });

    it('gives back the committed snapshot: any key, nested JSON', async () => {
      const backend = await fixture().writer();
      const id = stream();
      const snapshot = { score: { home: 2, away: 1 }, 'activity:ada': 3, 'with space.and.dots': [1, 'two', null, true], 'ünï©ødé': 'ok' };
      await backend.commit(id, 4, snapshot);
      expect(await backend.load(id)).toEqual({ slice: 4, context: snapshot });
      await backend.close();
    });

    it("keeps the stream's epoch0 and merged input position with the snapshot, so a restart goes on exactly", async () => {
      const backend = await fixture().writer();
      const id = stream();
      await backend.commit(id, 7, { n: 1 }, { epoch0: 1_714_564_800_000, position: 42 });
      expect(await backend.load(id)).toEqual({ slice: 7, context: { n: 1 }, epoch0: 1_714_564_800_000, position: 42 });
      await backend.close();
    });

    it("keeps lagging crews' writes that merge in a later slice with the snapshot, deletions too", async () => {
      const backend = await fixture().writer();
      const id = stream();
      const lagging = [{ crew: 'pundit', slice: 9, writes: [['takes', 3], ['draft']] as const }];
      await backend.commit(id, 7, { n: 1 }, { epoch0: 1_714_564_800_000, position: 42, lagging });
      expect(await backend.load(id)).toEqual({ slice: 7, context: { n: 1 }, epoch0: 1_714_564_800_000, position: 42, lagging: [{ crew: 'pundit', slice: 9, writes: [['takes', 3], ['draft']] }] });
      await backend.close();
    });

    it("replaces the snapshot with a later slice's: deleted keys are gone", async () => {
      const backend = await fixture().writer();
      const id = stream();
      await backend.commit(id, 1, { a: 1, b: 2 });
      await backend.commit(id, 2, { b: 3 });
      expect(await backend.load(id)).toEqual({ slice: 2, context: { b: 3 } });
      await backend.close();
    });

    it('keeps streams apart', async () => {
      const backend = await fixture().writer();
      const [x, y] = [stream(), stream()];
      await backend.commit(x, 1, { who: 'x' });
      await backend.commit(y, 1, { who: 'y' });
      expect([(await backend.load(x))?.context, (await backend.load(y))?.context]).toEqual([{ who: 'x' }, { who: 'y' }]);
      await backend.close();
    });

    it('ignores a commit of a slice at or below the stored one: a re-run never rolls context back', async () => {
      const fix = fixture();
      const [first, second] = [await fix.writer(), await fix.writer()];
      const id = stream();
      await first.commit(id, 5, { at: 5 });
      await first.commit(id, 3, { at: 3 });
      await second.commit(id, 5, { at: 'rerun of 5' });
      expect(await second.load(id)).toEqual({ slice: 5, context: { at: 5 } });
      await Promise.all([first.close(), second.close()]);
    });

    it('loses no write between concurrent writers: the highest slice wins, whole', async () => {
      const fix = fixture();
      const writers = await Promise.all([fix.writer(), fix.writer(), fix.writer()]);
      const id = stream();
      await Promise.all(
        writers.map(async (writer, w) => {
          for (let slice = w; slice < 30; slice += writers.length) await writer.commit(id, slice, { slice, by: w, payload: 'x'.repeat(slice) });
        }),
      );
      expect(await writers[0]!.load(id)).toEqual({ slice: 29, context: { slice: 29, by: 29 % writers.length, payload: 'x'.repeat(29) } });
      await Promise.all(writers.map((writer) => writer.close()));
    });

    it('survives a restart of its server, when it has one', async (context) => {
      const fix = fixture();
      if (fix.restart === undefined) return context.skip();
      const backend = await fix.writer();
      const id = stream();
      await backend.commit(id, 7, { kept: true });
      await backend.close();
      await fix.restart();
      const after = await fix.writer();
      expect(await after.load(id)).toEqual({ slice: 7, context: { kept: true } });
      await after.close();
    });
  });
}
