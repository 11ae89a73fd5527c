import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '..');
// The dev server forwards the API to a running `latentflow serve` (default port 8188).
const target = process.env.LATENTFLOW_URL ?? 'http://127.0.0.1:8188';

export default defineConfig(({ command }) => {
  // A build started from a test run inherits NODE_ENV=test, which would bundle React's development build.
  if (command === 'build') process.env.NODE_ENV = 'production';
  return {
    root: here,
    // Relative asset URLs: the server may mount the editor under any prefix.
    base: './',
    plugins: [react()],
    build: { outDir: path.join(here, 'dist'), emptyOutDir: true, chunkSizeWarningLimit: 1500 },
    server: {
      // The editor imports the engine's pure modules (canConnect, workflow formats) from ../engine.
      fs: { allow: [repo] },
      proxy: {
        '/api': { target, changeOrigin: false },
        '/ws': { target: target.replace(/^http/, 'ws'), ws: true },
      },
    },
  };
});
