/** A tensor shape as the nodes hold it: LATENT samples [B,C,H,W], IMAGE [B,H,W,C], MASK [B,H,W]. */
export type Shape = readonly number[];

/** A node's inferred outputs by name; an absent output is unknown. */
export type InferredShapes<K extends PropertyKey = string> = Partial<Record<K, Shape>>;

/** Per node id, one entry per output in order: its shape, or null when it cannot be known before running. */
export type WorkflowShapes = Record<string, (Shape | null)[]>;
