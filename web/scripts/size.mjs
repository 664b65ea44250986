// Prints the total gzipped size of dist's JavaScript; exits 1 above the budget.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";

const BUDGET = 250 * 1024;
const root = new URL("../dist/", import.meta.url).pathname;

function jsFiles(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return jsFiles(path);
    return name.endsWith(".js") ? [path] : [];
  });
}

let files;
try {
  files = jsFiles(root);
} catch {
  console.error("dist/ is missing: run `npm run build` first");
  process.exit(1);
}
let total = 0;
for (const file of files) {
  const gz = gzipSync(readFileSync(file), { level: 9 }).length;
  total += gz;
  console.log(`${(gz / 1024).toFixed(1).padStart(8)} KB  ${file.slice(root.length)}`);
}
console.log(`${(total / 1024).toFixed(1).padStart(8)} KB  total gzipped JavaScript (budget 250 KB)`);
if (total > BUDGET) {
  console.error("over the budget");
  process.exit(1);
}
