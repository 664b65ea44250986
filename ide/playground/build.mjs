// Copies graphql-playground-react's own prebuilt standalone bundle (middleware.js, its CSS
// and favicon) and our page's files into ../dist/playground: every asset under assets/
// with a content hash in its name (so Conduit may cache it for good), and index.html
// naming them.
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';

const BASE = '/ide/playground/assets/';
const bundle = new URL('./node_modules/graphql-playground-react/build/', import.meta.url);
const src = new URL('./src/', import.meta.url);
const out = new URL('../dist/playground/', import.meta.url);

/** The file's text without its trailing sourceMappingURL comment (the maps are not copied). */
function withoutSourceMap(bytes) {
  return Buffer.from(
    bytes.toString('utf8').replace(/\n?\/[/*]# sourceMappingURL=[^\n]*\s*$/, '\n'),
  );
}

const assets = {
  'middleware.js': withoutSourceMap(readFileSync(new URL('static/js/middleware.js', bundle))),
  'middleware.css': withoutSourceMap(readFileSync(new URL('static/css/middleware.css', bundle))),
  'favicon.png': readFileSync(new URL('favicon.png', bundle)),
  'init.js': readFileSync(new URL('init.js', src)),
  'page.css': readFileSync(new URL('page.css', src)),
};

rmSync(out, { recursive: true, force: true });
mkdirSync(new URL('assets/', out), { recursive: true });
const urls = {};
for (const [name, bytes] of Object.entries(assets)) {
  const hash = createHash('sha256').update(bytes).digest('hex').slice(0, 12);
  const dot = name.lastIndexOf('.');
  const file = `${name.slice(0, dot)}.${hash}${name.slice(dot)}`;
  writeFileSync(new URL(`assets/${file}`, out), bytes);
  urls[name] = BASE + file;
}
const page = readFileSync(new URL('index.html', src), 'utf8').replace(
  /\{\{([\w.]+)\}\}/g,
  (_, name) => {
    if (!(name in urls)) throw new Error(`index.html names an unknown asset: ${name}`);
    return urls[name];
  },
);
writeFileSync(new URL('index.html', out), page);
console.log(`playground: ${Object.keys(urls).length} assets and index.html in ${out.pathname}`);
