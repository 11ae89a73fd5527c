/** dist/cli/main.js exists and no source under `root` was modified after it was written. */
export function distIsFresh(root: string): boolean;
