// Writes a gzip copy (`<file>.gz`) beside each built asset under dist/*/assets/, which
// Conduit sends to clients that accept gzip: GraphiQL's Monaco and Playground's bundle are
// megabytes of JavaScript.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { gzipSync, constants } from 'node:zlib';

const dist = new URL('./dist/', import.meta.url);
const COMPRESSIBLE = /\.(js|css|ttf|svg|json|map)$/;

let files = 0;
for (const ide of readdirSync(dist)) {
  const assets = new URL(`${ide}/assets/`, dist);
  for (const name of readdirSync(assets)) {
    if (!COMPRESSIBLE.test(name)) continue;
    const file = new URL(name, assets);
    writeFileSync(`${file.pathname}.gz`, gzipSync(readFileSync(file), { level: constants.Z_BEST_COMPRESSION }));
    files += 1;
  }
}
console.log(`compress: ${files} assets gzipped in ${dist.pathname}`);
