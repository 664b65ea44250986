// The web app in a real browser (issue 18, item 6): the release server in safelist mode
// with the web build's manifest, two offline browser contexts (two users), the issue's
// scenario, an axe check and a screenshot of each content view, and the home page's
// first render on the demo data (printed, not asserted).

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';

import { ROOT, checkA11y, launchBrowser, offlineContext, screenshot, startServer } from './harness.mjs';

const MANIFEST = join(ROOT, 'web', 'src', 'gql', 'persisted-documents.json');
const PASSWORD = 'correct horse battery staple';

let server;
let browser;
const contexts = [];

before(async () => {
  server = await startServer({
    name: process.env.E2E_NAME ?? 'app',
    // Production builds send documents by hash: run the server on the build's safelist.
    env: { PERSISTED_QUERIES: 'safelist', PERSISTED_QUERIES_MANIFEST: MANIFEST },
  });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

/** A new offline context (one user) and its page. */
async function newUser() {
  const context = await offlineContext(browser, server);
  contexts.push(context);
  return context.newPage();
}

/** Signs up through the form and waits for the header to show the new user. */
async function signUp(page, username) {
  await page.goto('/register');
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Email').fill(`${username}@example.com`);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign up' }).click();
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: username }).waitFor();
}

/** Checks the view with axe and saves its screenshot. */
async function record(page, name) {
  await checkA11y(page, name);
  await screenshot(page, name);
}

const cards = (page) => page.locator('.article-preview');

/** Page errors but the blocked demo avatars' failed loads. */
const unexpected = (errors) => errors.filter((text) => !text.includes('net::ERR_BLOCKED_BY_CLIENT') && !text.includes('ERR_FAILED'));

/** Opens home and returns when its first card entered the DOM, in ms from the
 * navigation's start (noted by the page itself, not when the test next looks). */
async function firstRender(page) {
  await page.addInitScript(() => {
    new MutationObserver((_, observer) => {
      if (document.querySelector('.article-preview')) {
        window.firstCardAt = performance.now();
        observer.disconnect();
      }
    }).observe(document, { childList: true, subtree: true });
  });
  await page.goto('/');
  await cards(page).first().waitFor();
  return Math.round(await page.evaluate(() => window.firstCardAt));
}
const suffix = String(process.pid);
const alice = `alice_${suffix}`;
const bob = `bob_${suffix}`;
const title = `Markdown in practice ${suffix}`;
const tag = `e2e${suffix}`;

test('the web app: the issue scenario in two browser contexts', { timeout: 300_000 }, async (t) => {
  const a = await newUser();
  const b = await newUser();
  let articlePath;

  await t.test('home renders the demo data and pages through it', async () => {
    const cold = await firstRender(a);
    // Once more in a fresh context (empty browser cache), the server now warm.
    const fresh = await newUser();
    const warm = await firstRender(fresh);
    await fresh.close();
    console.log(`home first render on the demo data: ${cold} ms cold, ${warm} ms warm (navigation start to the first article card in the DOM)`);
    t.diagnostic(`home first render: ${cold} ms cold, ${warm} ms warm`);
    assert.equal(await cards(a).count(), 10);
    assert.ok((await a.locator('.tag-card .pill').count()) > 0, 'popular tags are listed');
    await record(a, 'home');
    await a.getByRole('button', { name: 'Load more articles' }).click();
    await cards(a).nth(10).waitFor();
    assert.equal(await cards(a).count(), 20);
  });

  await t.test('sign up shows field errors next to their fields, then goes home', async () => {
    await a.goto('/register');
    await a.getByRole('button', { name: 'Sign up' }).click();
    await a.locator('.field-error').first().waitFor();
    assert.equal(await a.locator('.field-error').count(), 3, 'username, email and password');
    await record(a, 'register-errors');
    await signUp(a, alice);
    assert.equal(new URL(a.url()).pathname, '/');
  });

  await t.test('the author publishes Markdown with tags', async () => {
    await a.getByRole('link', { name: 'New article' }).click();
    await a.getByLabel('Title').fill(title);
    await a.getByLabel('What is this article about?').fill('Tables, strikethrough and what does not survive');
    await a.getByLabel('Article (Markdown)').fill(
      '# A heading\n\nSome **bold** and ~~struck~~ text.\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n<script>window.pwned = 1</script>\n',
    );
    const tags = a.getByLabel('Tags', { exact: true });
    await tags.fill(tag);
    await tags.press('Enter');
    await tags.fill('markdown');
    await a.getByRole('button', { name: 'Add tag' }).click();
    await a.getByRole('button', { name: 'Remove tag markdown' }).click();
    await tags.fill('demo');
    await tags.press('Enter');
    await record(a, 'editor');
    await a.getByRole('button', { name: 'Publish article' }).click();
    await a.waitForURL(/\/article\//);
    articlePath = new URL(a.url()).pathname;
    const body = a.locator('.article-body');
    await body.locator('h1', { hasText: 'A heading' }).waitFor();
    assert.equal(await body.locator('table td').count(), 2);
    assert.equal(await body.locator('del').innerText(), 'struck');
    assert.equal(await body.locator('script').count(), 0, 'raw HTML shows as text');
    assert.match(await body.innerText(), /<script>/);
    assert.equal(await a.evaluate(() => window.pwned), undefined);
    assert.deepEqual(await a.locator('.article-container .pill').allInnerTexts(), [tag, 'demo']);
    assert.equal(await a.getByRole('button', { name: 'Delete article' }).count(), 1);
    await record(a, 'article-author');
    // The page as a link preview sees it: the server puts the article's Open Graph tags
    // where index.html has its <!--conduit:head--> comment.
    const html = await (await fetch(`${server.url}${articlePath}`, { headers: { accept: 'text/html' } })).text();
    assert.match(html, new RegExp(`<meta property="og:title" content="${title}"`));
  });

  await t.test('a second user comments; the author sees it live, without reloading', async () => {
    await signUp(b, bob);
    await b.goto(articlePath);
    assert.equal(await b.getByRole('button', { name: 'Delete article' }).count(), 0, 'only where viewerCanDelete');
    assert.equal(await b.getByRole('link', { name: 'Edit article' }).count(), 0);
    await a.evaluate(() => {
      window.notReloaded = true;
    });
    await b.getByLabel('Write a comment').fill(`Great read, from ${bob}`);
    await b.getByRole('button', { name: 'Post comment' }).click();
    await b.locator('.comment', { hasText: `from ${bob}` }).waitFor();
    await a.locator('.comment', { hasText: `from ${bob}` }).waitFor({ timeout: 15_000 });
    assert.equal(await a.evaluate(() => window.notReloaded), true);
    // Exactly once on both sides (the commenter's own live event is not a second copy).
    await b.waitForTimeout(500);
    assert.equal(await b.locator('.comment', { hasText: `from ${bob}` }).count(), 1);
    assert.equal(await a.locator('.comment', { hasText: `from ${bob}` }).count(), 1);
    assert.equal(await a.locator('#comments-title').innerText(), 'Comments (1)');
    // Delete buttons only where viewerCanDelete: the commenter's own comment.
    assert.equal(await a.getByRole('button', { name: 'Delete comment' }).count(), 0);
    assert.equal(await b.getByRole('button', { name: 'Delete comment' }).count(), 1);
    // A second comment, deleted by its author, leaves the author's page live too.
    await b.getByLabel('Write a comment').fill('A comment to take back');
    await b.getByRole('button', { name: 'Post comment' }).click();
    await a.locator('.comment', { hasText: 'take back' }).waitFor({ timeout: 15_000 });
    await b.locator('.comment', { hasText: 'take back' }).getByRole('button', { name: 'Delete comment' }).click();
    await a.locator('.comment', { hasText: 'take back' }).waitFor({ state: 'detached', timeout: 15_000 });

    // Comments come 10 at a time, oldest first.
    for (let n = 2; n <= 11; n++) {
      await b.getByLabel('Write a comment').fill(`Comment number ${n}`);
      await b.getByRole('button', { name: 'Post comment' }).click();
      await b.locator('.comment:not(.is-pending)', { hasText: `Comment number ${n}` }).waitFor();
    }
    await b.reload();
    await b.locator('.comment').first().waitFor();
    assert.equal(await b.locator('.comment').count(), 10);
    assert.match(await b.locator('.comment').first().innerText(), new RegExp(`from ${bob}`));
    await b.getByRole('button', { name: 'Load more comments' }).click();
    await b.locator('.comment', { hasText: 'Comment number 11' }).waitFor();
    assert.equal(await b.locator('.comment').count(), 11);
    assert.equal(await b.getByRole('button', { name: 'Load more comments' }).count(), 0);
    assert.equal(await a.locator('#comments-title').innerText(), 'Comments (11)');
  });

  await t.test('the second user follows and favorites; the author sees the badge change live', async () => {
    const badge = a.getByTestId('unread-badge');
    const unread = async () => ((await badge.count()) ? Number((await badge.innerText()).replace(/\D/g, '') || 0) : 0);
    const before = await unread();

    await b.getByRole('button', { name: `Follow ${alice}` }).click();
    await b.getByRole('button', { name: `Unfollow ${alice}` }).waitFor();
    await b.getByRole('button', { name: /Favorite article/ }).click();
    await b.getByRole('button', { name: /Unfavorite article/ }).waitFor();
    await b.locator('.favorite-count', { hasText: '(1)' }).waitFor();
    await record(b, 'article-reader');

    // The comment, the follow and the favorite: three new notifications for the author.
    // A new follower and a favorite: the count grows while the page stays as it is.
    await a.waitForFunction(
      (previous) => {
        const el = document.querySelector('[data-testid="unread-badge"]');
        return el !== null && Number(el.textContent.replace(/\D/g, '') || 0) > previous;
      },
      before,
      { timeout: 15_000 },
    );
    assert.equal(await a.evaluate(() => window.notReloaded), true);
  });

  await t.test("your feed, the tag filter and the profile's lists", async () => {
    // Client-side navigation: the follow must have refreshed the cached feed.
    await b.getByRole('link', { name: 'Home', exact: true }).click();
    await b.getByRole('link', { name: 'Your feed' }).click();
    await cards(b).filter({ hasText: title }).waitFor();
    assert.equal(await cards(b).count(), 1, 'only the followed author');
    await record(b, 'home-feed');

    await cards(b).filter({ hasText: title }).getByRole('link', { name: tag }).click();
    await b.locator('.tab.is-active', { hasText: tag }).waitFor();
    await cards(b).filter({ hasText: title }).waitFor();
    assert.equal(await cards(b).count(), 1, 'only the tagged article');
    assert.equal(new URL(b.url()).searchParams.get('tag'), tag);
    await record(b, 'home-tag');

    await b.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: bob }).click();
    await b.getByRole('link', { name: 'Favorited articles' }).click();
    await cards(b).filter({ hasText: title }).waitFor();
    await record(b, 'profile-favorites');

    await b.goto(`/profile/${alice}`);
    await cards(b).filter({ hasText: title }).waitFor();
    assert.match(await b.locator('.profile-counts').innerText(), /1\s*followers/);
    await b.getByRole('button', { name: `Unfollow ${alice}` }).click();
    await b.getByRole('button', { name: `Follow ${alice}` }).waitFor();
    assert.match(await b.locator('.profile-counts').innerText(), /0\s*followers/);
    await record(b, 'profile');
  });

  await t.test('the author edits (field errors, a new slug) and deletes', async () => {
    await a.goto(articlePath);
    await a.getByRole('link', { name: 'Edit article' }).click();
    await a.getByLabel('Title').fill('');
    await a.getByRole('button', { name: 'Save changes' }).click();
    await a.locator('.field-error').first().waitFor();
    await record(a, 'editor-errors');
    await a.getByLabel('Title').fill(`Edited: ${title}`);
    await a.getByRole('button', { name: 'Remove tag demo' }).click();
    await a.getByRole('button', { name: 'Save changes' }).click();
    await a.waitForURL(/\/article\/edited-/);
    await a.locator('h1', { hasText: 'Edited:' }).waitFor();
    assert.deepEqual(await a.locator('.article-container .pill').allInnerTexts(), [tag]);
    a.once('dialog', (dialog) => dialog.accept());
    await a.getByRole('button', { name: 'Delete article' }).click();
    await a.waitForURL((url) => url.pathname === '/');
    await cards(a).first().waitFor();
    assert.equal(await cards(a).filter({ hasText: title }).count(), 0);
  });

  await t.test('sign in: a wrong password says so; the right one signs in, and a reload keeps the session', async () => {
    const c = await newUser();
    await c.goto('/login');
    await c.getByLabel('Email').fill(`${alice}@example.com`);
    await c.getByLabel('Password').fill('not the password');
    await c.getByRole('button', { name: 'Sign in' }).click();
    await c.getByRole('alert').filter({ hasText: 'do not match' }).waitFor();
    await record(c, 'login-error');
    await c.getByLabel('Password').fill(PASSWORD);
    await c.getByRole('button', { name: 'Sign in' }).click();
    await c.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: alice }).waitFor();
    await c.reload();
    await c.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: alice }).waitFor();
  });

  await t.test('SERVICE_UNAVAILABLE offers a retry that works', async () => {
    const e = await newUser();
    // The server answering as it does while its database restarts.
    const unavailable = (route) =>
      route.fulfill({
        status: 503,
        contentType: 'application/json',
        body: JSON.stringify({ errors: [{ message: 'The database is restarting.', extensions: { code: 'SERVICE_UNAVAILABLE' } }] }),
      });
    await e.route('**/graphql', unavailable);
    await e.goto('/');
    const notice = e.locator('.feed').getByRole('alert').filter({ hasText: 'busy or restarting' });
    await notice.waitFor();
    await record(e, 'home-unavailable');
    await e.unroute('**/graphql', unavailable);
    await notice.getByRole('button', { name: 'Try again' }).click();
    await cards(e).first().waitFor();
    assert.equal(await cards(e).count(), 10);
    // The browser logged the 503s this test made up; nothing else may be there.
    const errors = e.context().pageErrors;
    assert.deepEqual(unexpected(errors).filter((text) => !text.includes('status of 503')), []);
    errors.length = 0;
  });

  await t.test('RATE_LIMITED says how long to wait', async () => {
    const d = await newUser();
    await d.goto('/login');
    await d.getByLabel('Email').fill(`nobody_${suffix}@example.com`);
    await d.getByLabel('Password').fill('guess');
    const limited = d.getByRole('alert').filter({ hasText: 'Too many attempts' });
    // 10 tries a minute per account from one address (the README's sign-in throttle).
    for (let n = 0; n < 12 && !(await limited.count()); n++) {
      await d.getByRole('button', { name: 'Sign in' }).click();
      await d.getByRole('alert').waitFor();
      await d.waitForTimeout(150);
    }
    await limited.waitFor();
    // The wait counts down (from the server's retryAfter) to "try again now".
    assert.match(await limited.innerText(), /wait \d+ seconds? and try again|try again now/);
    await record(d, 'login-rate-limited');
  });

  for (const context of contexts) {
    // The demo users' avatars are remote images (the app shows initials instead); nothing
    // the app itself needs may come from anywhere but Conduit.
    const needed = context.blocked.filter((url) => !/^https:\/\/[^/]+\/.*(svg|png|jpe?g)/.test(url) && !url.includes('seed='));
    assert.deepEqual(needed, [], 'requests to other origins');
    assert.deepEqual(unexpected(context.pageErrors), [], 'page errors');
  }
});
