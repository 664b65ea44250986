// The browser tests' harness: Conduit's release binary on a fresh database, Debian's
// chromium driven by playwright-core, a browser context that may reach nothing but
// Conduit, axe checks and screenshots. See README.md.

import { spawn, execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir, homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { chromium } from 'playwright-core';
import AxeBuilder from '@axe-core/playwright';

/** The repository's root. */
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** The server binary: `CONDUIT_BIN`, else the release build in `CARGO_TARGET_DIR`. */
export const BIN =
  process.env.CONDUIT_BIN ??
  join(process.env.CARGO_TARGET_DIR ?? join(homedir(), '.cache', 'conduit-target'), 'release', 'conduit');

/** Where screenshots and axe reports go (`E2E_OUTPUT`, default `e2e/output`). */
export const OUTPUT = resolve(process.env.E2E_OUTPUT ?? join(ROOT, 'e2e', 'output'));

/** The PostgreSQL server the tests' databases are made on. */
const PG = process.env.E2E_PG_URL ?? 'postgres://postgres@127.0.0.1:5432';

/** The demo accounts' password (`conduit seed`, `DEMO_DATA`). */
export const DEMO_PASSWORD = 'conduit-demo';

let serial = 0;

/** A free TCP port on 127.0.0.1. */
async function freePort() {
  return new Promise((ok, fail) => {
    const probe = createServer();
    probe.once('error', fail);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => ok(port));
    });
  });
}

function dropDatabase(name) {
  execFileSync('psql', [
    `${PG}/postgres`, '-q', '-v', 'ON_ERROR_STOP=1',
    '-c', 'SET client_min_messages = warning',
    '-c', `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`,
  ]);
}

/**
 * Starts the release server on a new database (development mode: it creates the
 * database, migrates it and seeds the demo data, unless `env.DEMO_DATA` is `false`).
 * It serves the repository's `web/dist` and `ide/dist` (build them first), runs in its
 * own scratch folder, and writes mails as `.eml` files to `mailDir`.
 *
 * Returns `{ url, port, database, mailDir, mails(), log(), stop() }`; `stop()` ends the
 * process and drops the database.
 */
export async function startServer({ env = {}, name = 'e2e' } = {}) {
  const port = await freePort();
  const database = `conduit_${name.replace(/\W/g, '_')}_${process.pid}_${serial++}`;
  dropDatabase(database);
  const scratch = mkdtempSync(join(tmpdir(), 'conduit-e2e-'));
  const mailDir = join(scratch, 'mail');
  const url = `http://127.0.0.1:${port}`;
  let output = '';
  const child = spawn(BIN, [], {
    cwd: scratch,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      RUST_LOG: 'warn',
      LOG_FORMAT: 'json',
      PORT: String(port),
      DATABASE_URL: `${PG}/${database}`,
      PUBLIC_URL: url,
      MAIL_DIR: mailDir,
      WEB_DIST: join(ROOT, 'web', 'dist'),
      IDE_DIST: join(ROOT, 'ide', 'dist'),
      FRONTEND_BUILD: 'false',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout.on('data', (chunk) => (output += chunk));
  child.stderr.on('data', (chunk) => (output += chunk));
  const exited = new Promise((ok) => {
    child.once('exit', (code, signal) => ok({ code, signal }));
    child.once('error', (error) => ok({ error: String(error) }));
  });

  const deadline = Date.now() + 60_000;
  for (;;) {
    const state = await Promise.race([exited, new Promise((ok) => setTimeout(() => ok(null), 200))]);
    if (state) throw new Error(`${BIN} exited (${JSON.stringify(state)}) before it was ready:\n${output}`);
    try {
      const ready = await fetch(`${url}/readyz`);
      if (ready.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${BIN} was not ready within 60 s:\n${output}`);
    }
  }

  return {
    url,
    port,
    database,
    mailDir,
    /** The mails written so far, oldest first, as `{ file, text }` (raw .eml source). */
    mails() {
      let files;
      try {
        files = readdirSync(mailDir).filter((f) => f.endsWith('.eml')).sort();
      } catch {
        return [];
      }
      return files.map((file) => ({ file, text: readFileSync(join(mailDir, file), 'utf8') }));
    },
    /** What the server printed. */
    log: () => output,
    async stop() {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
      dropDatabase(database);
      rmSync(scratch, { recursive: true, force: true });
    },
  };
}

/** Debian's chromium, headless, with the flags this machine's closed network needs. */
export async function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/**
 * A new browser context that may reach only `server`'s origin: every other request is
 * aborted and recorded in `context.blocked` (assert it stays empty). Pages opened in it
 * collect console errors and uncaught exceptions in `context.pageErrors`.
 */
export async function offlineContext(browser, server, options = {}) {
  const context = await browser.newContext({ baseURL: server.url, viewport: { width: 1280, height: 900 }, ...options });
  const origin = new URL(server.url).origin;
  context.blocked = [];
  context.pageErrors = [];
  await context.route('**/*', (route) => {
    const url = route.request().url();
    if (url.startsWith('data:') || url.startsWith('blob:') || new URL(url).origin === origin) {
      return route.continue();
    }
    context.blocked.push(url);
    return route.abort('blockedbyclient');
  });
  context.on('page', (page) => {
    page.on('pageerror', (error) => context.pageErrors.push(String(error)));
    page.on('console', (message) => {
      if (message.type() === 'error') context.pageErrors.push(message.text());
    });
  });
  return context;
}

/**
 * Runs axe on the page and fails on any serious or critical violation; the full report
 * is written to `OUTPUT/axe/<name>.json`. `exclude` lists selectors to leave out (say
 * why where you use it). Returns the violations of lesser impact.
 */
export async function checkA11y(page, name, { exclude = [] } = {}) {
  let builder = new AxeBuilder({ page });
  for (const selector of exclude) builder = builder.exclude(selector);
  const results = await builder.analyze();
  mkdirSync(join(OUTPUT, 'axe'), { recursive: true });
  writeFileSync(join(OUTPUT, 'axe', `${name}.json`), JSON.stringify(results.violations, null, 2));
  const severe = results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  if (severe.length) {
    const summary = severe
      .map((v) => `- ${v.impact} ${v.id}: ${v.help}\n    ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join('\n    ')}`)
      .join('\n');
    throw new Error(`axe: ${severe.length} serious or critical violation(s) on ${name}:\n${summary}`);
  }
  return results.violations;
}

/** Saves a full-page screenshot as `OUTPUT/screenshots/<name>.png` and returns its path. */
export async function screenshot(page, name) {
  const path = join(OUTPUT, 'screenshots', `${name}.png`);
  mkdirSync(dirname(path), { recursive: true });
  await page.screenshot({ path, fullPage: true });
  return path;
}

/**
 * A GraphQL request from the test itself (setup, or a change another user makes),
 * `token` being an access token. Throws on `errors` unless `allowErrors`.
 */
export async function gql(server, query, variables = {}, { token, allowErrors = false } = {}) {
  const headers = { 'content-type': 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  const response = await fetch(`${server.url}/graphql`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ query, variables }),
  });
  const body = await response.json();
  if (body.errors && !allowErrors) throw new Error(`GraphQL errors: ${JSON.stringify(body.errors)}`);
  return body;
}

/** Signs a user in through the API and returns the `AuthPayload`. */
export async function login(server, email, password = DEMO_PASSWORD) {
  const { data } = await gql(
    server,
    'mutation ($input: LoginInput!) { login(input: $input) { accessToken refreshToken user { id username } } }',
    { input: { email, password } },
  );
  return data.login;
}
