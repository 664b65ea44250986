// GraphiQL (GET /graphql) and GraphQL Playground (/playground) in Chromium, with nothing
// reachable but Conduit: each page loads, runs a query and shows its result, and shows a
// `commentAdded` event that a comment posted over HTTP by another user sends. Axe checks
// our page wrapper (failing on serious or critical violations) and reports, without
// failing, what it finds inside the third-party IDE. A screenshot of each.

import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import AxeBuilder from '@axe-core/playwright';

import {
  OUTPUT,
  checkA11y,
  gql,
  launchBrowser,
  offlineContext,
  screenshot,
  startServer,
} from './harness.mjs';

/** How long the IDE may take to load and to show what the server sent. */
const PATIENCE = 30_000;

const ADD_COMMENT =
  'mutation ($slug: String!, $body: String!) { addComment(articleSlug: $slug, body: $body) { id } }';

/**
 * The two IDEs: where each lives, the element our page mounts it in, how to find its
 * query editor and run button, and the element whose text is what it shows.
 */
const IDES = [
  {
    name: 'graphiql',
    path: '/graphql',
    title: 'Conduit GraphiQL',
    root: '#graphiql',
    editor: '.graphiql-query-editor .monaco-editor',
    run: '.graphiql-execute-button',
    // Monaco draws the response; only what is in view is in the DOM (enough here).
    shown: '.graphiql-response',
    // While a subscription runs, the execute button is a stop button.
    running: '.graphiql-execute-button[aria-label^="Stop"]',
  },
  {
    name: 'playground',
    path: '/playground',
    title: 'Conduit Playground',
    root: '#root',
    // Playground's class names are styled-components' hashes: its first CodeMirror is the
    // query editor, and its run button has this title.
    editor: '.CodeMirror',
    run: '[title="Execute Query (Ctrl-Enter)"]',
    shown: '#root',
  },
];

/** `text` with every run of white space (Monaco's no-break spaces, wrapped lines) as one space. */
const squeeze = (text) => text.replace(/[\s\u00a0]+/g, ' ');

describe('the IDEs work with nothing but Conduit', () => {
  let server;
  let browser;
  let article;
  let commenter;

  before(async () => {
    server = await startServer({ name: 'ide' });
    browser = await launchBrowser();
    const { data } = await gql(server, '{ articles(first: 1) { edges { node { slug title } } } }');
    article = data.articles.edges[0].node;
    const name = `ide${Date.now()}`;
    const registered = await gql(
      server,
      'mutation ($input: RegisterInput!) { register(input: $input) { accessToken } }',
      { input: { username: name, email: `${name}@example.com`, password: 'ide test password 1' } },
    );
    commenter = registered.data.register.accessToken;
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  for (const ide of IDES) {
    test(`${ide.name}: loads, runs a query, receives a subscription event`, async (t) => {
      const context = await offlineContext(browser, server);
      const page = await context.newPage();
      const sockets = [];
      page.on('websocket', (socket) => sockets.push(socket.url()));
      const violations = [];
      await page.addInitScript(() => {
        window.cspViolations = [];
        document.addEventListener('securitypolicyviolation', (e) =>
          window.cspViolations.push(`${e.violatedDirective} ${e.blockedURI}`),
        );
      });

      const response = await page.goto(ide.path);
      assert.equal(response.status(), 200, `${ide.path}: is ide/ built (npm ci && npm run build)?`);
      assert.match(response.headers()['content-security-policy'], /default-src 'self'/);
      // (Playground retitles the document once it runs.)
      assert.match(await response.text(), new RegExp(`<title>${ide.title}</title>`));
      const editor = page.locator(ide.editor).first();
      await editor.waitFor({ timeout: PATIENCE });

      /** Replaces the query editor's text with `query` and runs it. */
      const run = async (query) => {
        await editor.click();
        await page.keyboard.press('ControlOrMeta+KeyA');
        await page.keyboard.press('Delete');
        // Inserted as text, not typed: no auto-closed brackets.
        await page.keyboard.insertText(query);
        await page.locator(ide.run).first().click();
      };
      /** Waits until the IDE shows `text`. */
      const shows = (text, timeout = PATIENCE) =>
        page.waitForFunction(
          ([shown, text]) =>
            (document.querySelector(shown)?.innerText ?? '').replace(/[\s\u00a0]+/g, ' ').includes(text),
          [ide.shown, text],
          { timeout },
        );

      // The editor may still be settling when it first appears (the IDE writes its default
      // tab in): run again, with the text replaced again, until the result shows.
      for (let attempt = 1; ; attempt++) {
        await run(`{ article(slug: "${article.slug}") { title } }`);
        const shown = await shows(squeeze(article.title), 10_000).then(() => true, () => false);
        if (shown) break;
        const pane = await page.evaluate((shown) => document.querySelector(shown)?.innerText ?? '(no pane)', ide.shown);
        assert.ok(attempt < 3, `${ide.name} did not show the query's result after ${attempt} runs; it shows: ${pane.slice(0, 300)}`);
        t.diagnostic(`the query's result did not show after run ${attempt}; running it again`);
      }

      const subscription = `subscription { commentAdded(articleSlug: "${article.slug}") { body author { username } } }`;
      await run(subscription);
      // As with the first query, a run can be lost while the editor settles: run again
      // until the IDE says the subscription is running.
      for (let tries = 1; ide.running; tries++) {
        const running = await page.locator(ide.running).first().waitFor({ timeout: 5_000 }).then(() => true, () => false);
        if (running) break;
        assert.ok(tries < 3, `${ide.name} did not start the subscription after ${tries} runs`);
        t.diagnostic(`the subscription did not start after run ${tries}; running it again`);
        await run(subscription);
      }
      // The subscription starts once the socket has carried it; until the server has it,
      // a comment would go unseen, so comment until one shows (a few at most).
      let seen = false;
      let attempt = 1;
      for (; attempt <= 5 && !seen; attempt++) {
        await page.waitForTimeout(500 * attempt);
        const body = `live in ${ide.name} #${attempt} ${Date.now()}`;
        await gql(server, ADD_COMMENT, { slug: article.slug, body }, { token: commenter });
        seen = await shows(body, 5_000).then(
          () => true,
          () => false,
        );
      }
      assert.ok(seen, 'the commentAdded event shows in the IDE');
      t.diagnostic(`the event showed after ${attempt - 1} comment(s)`);

      const shot = await screenshot(page, `ide-${ide.name}`);
      t.diagnostic(`screenshot: ${shot}`);

      // Our page: everything but the element the IDE renders into.
      await checkA11y(page, `ide-${ide.name}-page`, { exclude: [ide.root] });
      // The IDE's own internals: reported, not failed on (third-party code).
      const inside = await new AxeBuilder({ page }).include(ide.root).analyze();
      mkdirSync(join(OUTPUT, 'axe'), { recursive: true });
      writeFileSync(
        join(OUTPUT, 'axe', `ide-${ide.name}-internals.json`),
        JSON.stringify(inside.violations, null, 2),
      );
      for (const v of inside.violations) {
        t.diagnostic(`${ide.name} internals, axe ${v.impact} ${v.id} (${v.nodes.length}): ${v.help}`);
      }

      violations.push(...(await page.evaluate(() => window.cspViolations)));
      assert.deepEqual(violations, [], 'no CSP violation');
      assert.deepEqual(context.blocked, [], 'nothing tried to leave Conduit');
      const origin = new URL(server.url);
      assert.ok(sockets.length > 0, 'a WebSocket carried the subscription');
      for (const socket of sockets) assert.equal(new URL(socket).host, origin.host, socket);
      assert.deepEqual(context.pageErrors, [], 'no console error');
      await context.close();
    });
  }
});
