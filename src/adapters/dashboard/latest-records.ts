import { RECORDS_KEPT } from './dashboard-view.js';

/**
 * The latest RECORDS_KEPT records, and those added since the last `takeNew()` (the latest
 * RECORDS_KEPT of them: a page folding them in keeps the same latest records). Trimmed in bulk,
 * so adding one costs no copy.
 */
export class LatestRecords<T> {
  #items: T[] = [];
  /** Where the records not yet taken begin. */
  #newFrom = 0;

  add(item: T): void {
    this.#items.push(item);
    if (this.#items.length < 2 * RECORDS_KEPT) return;
    const dropped = this.#items.length - RECORDS_KEPT;
    this.#items = this.#items.slice(dropped);
    this.#newFrom = Math.max(0, this.#newFrom - dropped);
  }

  latest(): T[] {
    return this.#items.slice(-RECORDS_KEPT);
  }

  takeNew(): T[] {
    const fresh = this.#items.slice(Math.max(this.#newFrom, this.#items.length - RECORDS_KEPT));
    this.#newFrom = this.#items.length;
    return fresh;
  }
}
