// Builds the bundles: the CLI and its check worker, the language server and its simulation
// thread, the VS Code client.
import * as esbuild from 'esbuild';

const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: true,
  logLevel: 'warning',
  // Native and wasm-backed packages stay outside the bundle.
  external: ['vscode', '@napi-rs/lzma', 'node-liblzma'],
};

await Promise.all([
  esbuild.build({ ...common, entryPoints: ['server/src/cli/main.ts'], outfile: 'dist/cli.js' }),
  esbuild.build({ ...common, entryPoints: ['server/src/cli/check-worker.ts'],
    outfile: 'dist/check-worker.js' }),
  esbuild.build({ ...common, entryPoints: ['server/src/lsp/server.ts'],
    outfile: 'dist/server.js' }),
  esbuild.build({ ...common, entryPoints: ['server/src/lsp/simulate-worker.ts'],
    outfile: 'dist/simulate-worker.js' }),
  esbuild.build({ ...common, entryPoints: ['client/src/extension.ts'],
    outfile: 'dist/client.js' }),
]);
