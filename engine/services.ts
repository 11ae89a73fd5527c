/** A typed token naming a host-provided service (model pool, model folders, ...). */
export interface ServiceKey<T> {
  readonly name: string;
  /** Phantom member: carries `T`, never set at run time. */
  readonly __type?: T;
}

export function serviceKey<T>(name: string): ServiceKey<T> {
  return Object.freeze({ name });
}

/** Raised when a node asks for a service the host did not provide. */
export class MissingServiceError extends Error {
  override name = 'MissingServiceError';
}

/**
 * The services a host hands to nodes. Nodes ask by typed key, so the engine stays free of domain
 * types and there are no module-level singletons.
 */
export class Services {
  private readonly map = new Map<ServiceKey<unknown>, unknown>();

  set<T>(key: ServiceKey<T>, value: T): this {
    this.map.set(key, value);
    return this;
  }

  has(key: ServiceKey<unknown>): boolean {
    return this.map.has(key);
  }

  get<T>(key: ServiceKey<T>): T {
    if (!this.map.has(key)) throw new MissingServiceError(`service '${key.name}' is not provided by this host`);
    // The map is only written through set(), which ties each key to a value of its type.
    return this.map.get(key) as T;
  }

  tryGet<T>(key: ServiceKey<T>): T | undefined {
    return this.map.has(key) ? (this.map.get(key) as T) : undefined;
  }
}
