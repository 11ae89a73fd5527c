#!/usr/bin/env node
// Runs the compiled dist/ when it is there and newer than every TypeScript source (an installed package, or a
// checkout after `npm run build`); otherwise the sources through tsx, which costs about half a second more.
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import path from 'node:path';
import { distIsFresh } from './dist-fresh.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const source = path.join(root, 'cli', 'main.ts');
if (!existsSync(source) || distIsFresh(root)) {
  await import(pathToFileURL(path.join(root, 'dist', 'cli', 'main.js')).href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import(pathToFileURL(source).href);
}
