/** The package entry: the engine, the shipped nodes and host, and the sampling math. */
export * from './engine/index.js';
export { createHost, resolveFolders, type Host, type HostOptions } from './nodes/host.js';
export { createRegistry, ALL_NODES } from './nodes/registry.js';
export { Tensor } from './nodes/runtime/tensor.js';
