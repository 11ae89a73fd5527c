/** The package entry: the engine, the shipped nodes and host, and the sampling math. */
export * from './engine/index.js';
export { createHost, resolveFolders, type Host, type HostOptions } from './host/host.js';
export { createRegistry, ALL_NODES } from './host/registry.js';
export { Tensor } from './runtime/tensor.js';
