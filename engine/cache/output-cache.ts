import type { UiOutput } from '../define-node.js';

/** What one executed node left behind: a value per output slot (a list for list outputs) and its UI result. */
export interface CachedOutputs {
  readonly values: readonly unknown[];
  readonly isList: readonly boolean[];
  readonly ui?: UiOutput;
}

/** A least-recently-used map from content key to node outputs, bounded by entry count. */
export class OutputCache {
  private readonly map = new Map<string, CachedOutputs>();

  constructor(private readonly maxEntries = 512) {}

  get(key: string): CachedOutputs | undefined {
    const v = this.map.get(key);
    if (v !== undefined) {
      this.map.delete(key);
      this.map.set(key, v);
    }
    return v;
  }

  has(key: string): boolean {
    return this.map.has(key);
  }

  set(key: string, value: CachedOutputs): void {
    this.map.delete(key);
    this.map.set(key, value);
    while (this.map.size > this.maxEntries) {
      const oldest = this.map.keys().next().value;
      if (oldest === undefined) break;
      this.map.delete(oldest);
    }
  }

  clear(): void {
    this.map.clear();
  }

  get size(): number {
    return this.map.size;
  }
}
