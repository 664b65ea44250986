// Fails when the committed src/gql/ differs from what `npm run codegen` writes now.
import { execFileSync } from "node:child_process";

execFileSync("npm", ["run", "--silent", "codegen"], { stdio: "inherit" });
try {
  execFileSync("git", ["diff", "--exit-code", "--stat", "--", "src/gql"], { stdio: "inherit" });
  const untracked = execFileSync("git", ["ls-files", "--others", "--exclude-standard", "--", "src/gql"])
    .toString()
    .trim();
  if (untracked) throw new Error(`untracked generated files:\n${untracked}`);
} catch (error) {
  console.error(String(error instanceof Error ? error.message : error));
  console.error("src/gql is stale: run `npm run codegen` and commit the result");
  process.exit(1);
}
console.log("src/gql is up to date");
