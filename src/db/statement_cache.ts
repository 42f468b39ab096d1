/**
 * Which SQL texts run as named prepared statements. postgres.js prepares
 * every query it sees (when `prepare` is on) and never forgets one, so a
 * workload with unbounded distinct SQL (e.g. IN lists of every length) would
 * grow the server's per-connection statement cache without bound. This
 * admits the first `size` distinct texts; later new texts run unnamed
 * (parsed each time), so each connection holds at most `size` statements.
 */
export class StatementCache {
  readonly size: number;
  readonly #texts = new Set<string>();
  #unprepared = 0;

  constructor(size: number) {
    this.size = size;
  }

  /** True if `sql` runs as a named prepared statement. */
  admit(sql: string): boolean {
    if (this.#texts.has(sql)) return true;
    if (this.#texts.size < this.size) {
      this.#texts.add(sql);
      return true;
    }
    this.#unprepared++;
    return false;
  }

  /** Distinct texts prepared so far. */
  get prepared(): number {
    return this.#texts.size;
  }

  /** Executions that ran unprepared because the cache was full. */
  get unprepared(): number {
    return this.#unprepared;
  }
}
