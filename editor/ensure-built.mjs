// Builds the editor (vite) when editor/dist is missing or older than its sources; `npm start` runs this
// first so a fresh clone serves the editor at /.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

function newestMtime(p) {
  if (!existsSync(p)) return 0;
  const st = statSync(p);
  if (!st.isDirectory()) return st.mtimeMs;
  let newest = st.mtimeMs;
  for (const name of readdirSync(p)) newest = Math.max(newest, newestMtime(path.join(p, name)));
  return newest;
}

const built = path.join(repo, 'editor', 'dist', 'index.html');
const sources = ['editor/src', 'editor/index.html', 'editor/vite.config.ts', 'engine', 'workflows/txt2img.json'].map((p) => newestMtime(path.join(repo, p)));
if (existsSync(built) && statSync(built).mtimeMs >= Math.max(...sources)) process.exit(0);
process.stderr.write('latentflow: building the editor (editor/dist)...\n');
execFileSync(process.platform === 'win32' ? 'npm.cmd' : 'npm', ['run', '--silent', 'editor:build'], { cwd: repo, stdio: ['ignore', 'ignore', 'inherit'] });
