// The GraphQL-over-HTTP audit (graphql-http's `auditServer`) against a running server.
//
//   node .ci/graphql-http-audit.mjs http://127.0.0.1:8080/graphql
//
// Prints one JSON line: {"ok": n, "notices": [{id, name, reason}], "failures": [...]}.
// Exits 1 if any MUST or SHOULD audit fails (status "error" or "warn"); MAY audits that
// are not met are "notice"s, listed but allowed.
import { auditServer } from "graphql-http";

const url = process.argv[2];
if (!url) {
  console.error("usage: node .ci/graphql-http-audit.mjs <graphql url>");
  process.exit(2);
}

const results = await auditServer({ url });
const brief = ({ id, name, reason }) => ({ id, name, reason });
const summary = {
  ok: results.filter((r) => r.status === "ok").length,
  notices: results.filter((r) => r.status === "notice").map(brief),
  failures: results.filter((r) => r.status === "warn" || r.status === "error").map(brief),
};
console.log(JSON.stringify(summary));
process.exit(summary.failures.length === 0 ? 0 : 1);
