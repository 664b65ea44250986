#!/usr/bin/env node
// Contract check: is the server's exported schema.graphql compatible with the API contract?
//
//   node .ci/contract-check.mjs [CONTRACT] [SCHEMA] [PENDING]
//   node .ci/contract-check.mjs --suggest [CONTRACT] [SCHEMA]
//
// Defaults (relative to the repository root, whatever the current directory):
//   CONTRACT = ../shared/design/contract.graphql   the agreed API (the "old" schema)
//   SCHEMA   = schema.graphql                      what the server exports (the "new" schema)
//   PENDING  = .ci/contract-pending.txt            contract parts not implemented yet
//
// It diffs CONTRACT against SCHEMA with @graphql-inspector/core (the engine behind
// `graphql-inspector diff`) and fails on every BREAKING change, except that parts of the
// contract the server does not implement *yet* may be missing, if PENDING lists them:
//
//   Article              a whole type (object, interface, input, enum, scalar) is missing;
//                        also covers a missing root type: `Mutation`, `Subscription`
//   User.bio             a field / input field / enum value of an existing type is missing
//   Query.articles.tag   an argument of an existing field is missing
//   User implements Node an existing type does not implement an existing interface yet
//                        (not needed while the interface itself is listed as pending)
//
// Only *absences* can be pending. A wrong type or nullability, a renamed root type, a
// new required argument... always fail. A pending entry must earn its place: the check
// also fails when an entry names something that now exists in SCHEMA, is not part of
// CONTRACT (typo), or tolerates nothing (e.g. `Article.body` while `Article` is listed).
// So the list only ever shrinks, and it is empty once the contract is fully implemented.
//
// --suggest prints the minimal PENDING list for the current SCHEMA (to bootstrap the file).
//
// Exit status: 0 compatible, 1 incompatible or stale PENDING entries, 2 usage/input error.

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildSchema, isEnumType, isInputObjectType, isInterfaceType, isObjectType } from 'graphql';
import { ChangeType, CriticalityLevel, diff } from '@graphql-inspector/core';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

function fail(message) {
  console.error(`contract-check: ${message}`);
  process.exit(2);
}

const args = process.argv.slice(2);
const suggest = args[0] === '--suggest';
if (suggest) args.shift();
if (args.some(a => a.startsWith('-')) || args.length > 3) {
  fail('usage: contract-check.mjs [--suggest] [CONTRACT] [SCHEMA] [PENDING]');
}
const contractPath = args[0] ?? path.join(repoRoot, '../shared/design/contract.graphql');
const schemaPath = args[1] ?? path.join(repoRoot, 'schema.graphql');
const pendingPath = args[2] ?? path.join(repoRoot, '.ci/contract-pending.txt');

function loadSchema(file) {
  let sdl;
  try {
    sdl = readFileSync(file, 'utf8');
  } catch (e) {
    fail(`cannot read ${file}: ${e.message}`);
  }
  try {
    return buildSchema(sdl);
  } catch (e) {
    fail(`${file} is not a valid GraphQL schema: ${e.message}`);
  }
}

const NAME = '[_A-Za-z][_0-9A-Za-z]*';
const COORDINATE = new RegExp(`^${NAME}(\\.${NAME}){0,2}$`);
const IMPLEMENTS = new RegExp(`^(${NAME})\\s+implements\\s+(${NAME})$`);

// PENDING: one entry per line, `#` starts a comment. Returns [{entry, line}].
function loadPending(file) {
  let text;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    fail(`cannot read ${file}: ${e.message}`);
  }
  const entries = [];
  const problems = [];
  const seen = new Map();
  text.split('\n').forEach((raw, i) => {
    const line = i + 1;
    const entry = raw.replace(/#.*/, '').trim().replace(/\s+/g, ' ');
    if (!entry) return;
    if (!COORDINATE.test(entry) && !IMPLEMENTS.test(entry)) {
      problems.push(`line ${line}: '${entry}' is not a coordinate (Type, Type.field, Type.field.arg or 'Type implements Interface')`);
    } else if (seen.has(entry)) {
      problems.push(`line ${line}: '${entry}' is listed twice (first on line ${seen.get(entry)})`);
    } else {
      seen.set(entry, line);
      entries.push({ entry, line });
    }
  });
  return { entries, problems };
}

// Does `coordinate` name something defined in `schema`?
function exists(schema, coordinate) {
  const impl = IMPLEMENTS.exec(coordinate);
  if (impl) {
    const type = schema.getType(impl[1]);
    return (
      (isObjectType(type) || isInterfaceType(type)) &&
      type.getInterfaces().some(i => i.name === impl[2])
    );
  }
  const [typeName, member, arg] = coordinate.split('.');
  const type = schema.getType(typeName);
  if (!type) return false;
  if (member === undefined) return true;
  if (isEnumType(type)) return arg === undefined && !!type.getValue(member);
  if (isInputObjectType(type)) return arg === undefined && member in type.getFields();
  if (isObjectType(type) || isInterfaceType(type)) {
    const field = type.getFields()[member];
    if (!field) return false;
    return arg === undefined || field.args.some(a => a.name === arg);
  }
  return false;
}

// The pending coordinates that would excuse a breaking change, most specific first.
// An empty list means the change can never be excused.
function excusedBy(change, newSchema) {
  const ancestors = p => p.split('.').map((_, i, parts) => parts.slice(0, parts.length - i).join('.'));
  switch (change.type) {
    case ChangeType.TypeRemoved:
    case ChangeType.FieldRemoved:
    case ChangeType.InputFieldRemoved:
    case ChangeType.EnumValueRemoved:
    case ChangeType.FieldArgumentRemoved:
      return change.path ? ancestors(change.path) : [];
    case ChangeType.ObjectTypeInterfaceRemoved: {
      const { objectTypeName, removedInterfaceName } = change.meta;
      // A type cannot implement an interface that does not exist yet.
      return newSchema.getType(removedInterfaceName)
        ? [`${objectTypeName} implements ${removedInterfaceName}`]
        : [removedInterfaceName];
    }
    case ChangeType.UnionMemberRemoved: {
      const member = change.meta.removedUnionMemberTypeName;
      return newSchema.getType(member) ? [] : [member];
    }
    // The contract's root type is absent from the export (async-graphql emits no
    // Mutation/Subscription until there is one): excused only while that type is pending.
    // A renamed root type (new name not null) is never excused.
    case ChangeType.SchemaQueryTypeChanged:
      return change.meta.newQueryTypeName == null ? [change.meta.oldQueryTypeName] : [];
    case ChangeType.SchemaMutationTypeChanged:
      return change.meta.newMutationTypeName == null ? [change.meta.oldMutationTypeName] : [];
    case ChangeType.SchemaSubscriptionTypeChanged:
      return change.meta.newSubscriptionTypeName == null ? [change.meta.oldSubscriptionTypeName] : [];
    default:
      return [];
  }
}

const contract = loadSchema(contractPath);
const schema = loadSchema(schemaPath);
const changes = await diff(contract, schema);
const breaking = changes.filter(c => c.criticality.level === CriticalityLevel.Breaking);
const dangerous = changes.filter(c => c.criticality.level === CriticalityLevel.Dangerous);
const describe = c => (c.path ? `[${c.path}] ` : '') + c.message;

if (suggest) {
  // Minimal pending list: the most specific coordinate of every excusable change, minus
  // those already implied by an earlier one (root schema changes are implied by their type).
  const list = [];
  for (const change of breaking) {
    const candidates = excusedBy(change, schema);
    if (candidates.length && !candidates.some(c => list.includes(c))) list.push(candidates[0]);
  }
  console.log(list.join('\n'));
  const rest = breaking.filter(c => excusedBy(c, schema).length === 0);
  for (const c of rest) console.error(`cannot be pending (must be fixed): ${describe(c)}`);
  process.exit(rest.length ? 1 : 0);
}

const { entries, problems } = loadPending(pendingPath);
const pending = new Set(entries.map(e => e.entry));
const used = new Map(); // entry -> the changes it excuses
const tolerated = [];
const offending = [];
for (const change of breaking) {
  const match = excusedBy(change, schema).find(c => pending.has(c));
  if (match) {
    used.set(match, [...(used.get(match) ?? []), change]);
    tolerated.push(change);
  } else {
    offending.push(change);
  }
}

const stale = [];
for (const { entry, line } of entries) {
  let why = null;
  if (exists(schema, entry)) {
    why = 'exists in the schema now: delete the line';
    // A partly implemented type: say which of its parts are still missing.
    const rest = (used.get(entry) ?? []).map(c => excusedBy(c, schema)[0]);
    if (rest.length) why += `, and list what is still missing instead:\n      ${rest.join('\n      ')}`;
  }
  else if (!exists(contract, entry)) why = 'is not in the contract (typo?): fix or delete the line';
  else if (!used.has(entry)) {
    const parent = entries.find(e => e.entry !== entry && used.has(e.entry) && entry.startsWith(`${e.entry}.`));
    why = parent
      ? `is already covered by '${parent.entry}' (line ${parent.line}): delete the line`
      : 'excuses no missing part of the contract: delete the line';
  }
  if (why) stale.push(`line ${line}: '${entry}' ${why}`);
}

console.log(`contract: ${path.relative(process.cwd(), contractPath)}`);
console.log(`schema:   ${path.relative(process.cwd(), schemaPath)}`);
console.log(`pending:  ${path.relative(process.cwd(), pendingPath)} (${entries.length} entries)`);
console.log(
  `${changes.length} differences: ${breaking.length} breaking ` +
    `(${tolerated.length} excused as pending), ${dangerous.length} dangerous`,
);
for (const c of dangerous) console.log(`  warning (dangerous, allowed): ${describe(c)}`);

let ok = true;
if (offending.length) {
  ok = false;
  console.log(`\nBREAKING: ${path.relative(process.cwd(), schemaPath)} breaks the contract in ${offending.length} place(s):`);
  for (const c of offending) {
    const could = excusedBy(c, schema);
    const hint = could.length ? `\n      (only if it was never implemented: list '${could[0]}' in the pending file)` : '';
    console.log(`  ✖ ${describe(c)}${hint}`);
  }
}
if (problems.length || stale.length) {
  ok = false;
  console.log(`\nSTALE/INVALID entries in ${path.relative(process.cwd(), pendingPath)}:`);
  for (const p of [...problems, ...stale]) console.log(`  ✖ ${p}`);
}
if (!ok) {
  console.log('\nContract check FAILED');
  process.exit(1);
}
console.log('Contract check passed');
