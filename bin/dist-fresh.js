// Whether dist/ holds a build newer than every TypeScript source it is compiled from (bin/latentflow.js, bench).
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';

// The folders tsconfig.build.json compiles (tests, bench and the editor are not part of dist/).
const SOURCE_DIRS = ['engine', 'runtime', 'sampling', 'tokenizer', 'imaging', 'sockets', 'nodes', 'model-hub', 'host', 'scaleout', 'server', 'cli', 'toyworld'];

/** Newest modification time of the .ts files under `dir`, stopping as soon as one is newer than `limit`. */
function newestSource(dir, limit) {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    const t = e.isDirectory() ? newestSource(p, limit) : e.name.endsWith('.ts') ? statSync(p).mtimeMs : 0;
    if (t > newest) newest = t;
    if (newest > limit) break;
  }
  return newest;
}

/** dist/cli/main.js exists and no source under `root` was modified after it was written. */
export function distIsFresh(root) {
  const built = path.join(root, 'dist', 'cli', 'main.js');
  if (!existsSync(built)) return false;
  const builtAt = statSync(built).mtimeMs;
  if (statSync(path.join(root, 'index.ts')).mtimeMs > builtAt) return false;
  return SOURCE_DIRS.every((d) => !existsSync(path.join(root, d)) || newestSource(path.join(root, d), builtAt) <= builtAt);
}
