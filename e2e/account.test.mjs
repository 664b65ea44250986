// The account views in a real browser, against the release server serving web/dist in
// safelist mode (the production build sends every operation by hash): sign up, verify
// the address from the mail, settings (bio, an email notification kind, the password),
// the email address (unverified until its own mail's link), forgot/reset password from
// the mail, the sessions list across two contexts with a revoke, a notification arriving
// live in the badge, reading it, and account deletion.
// Each view gets an axe check and a screenshot; nothing may leave Conduit's origin.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';

import { checkA11y, gql, launchBrowser, offlineContext, ROOT, screenshot, startServer } from './harness.mjs';

const MANIFEST = join(ROOT, 'web', 'src', 'gql', 'persisted-documents.json');

/** The manifest's text of the operation `name`: in safelist mode, listed documents run
 * by text too, so the test's own requests are the app's documents. */
function listed(name) {
  const documents = Object.values(JSON.parse(readFileSync(MANIFEST, 'utf8')));
  const text = documents.find((doc) => new RegExp(`\\b(query|mutation) ${name}\\b`).test(doc));
  assert.ok(text, `${name} is in the manifest`);
  return text;
}

/** The `path?token=…` link (path and query only) of the newest mail to `to` that has one. */
function linkIn(mails, to, path) {
  for (const { text } of [...mails].reverse()) {
    const decoded = text
      .replace(/=\r?\n/g, '')
      .replace(/=([0-9A-F]{2})/g, (_, hex) => String.fromCharCode(parseInt(hex, 16)));
    if (!decoded.split(/\r?\n/).some((line) => line.startsWith('To: ') && line.includes(to))) continue;
    const match = decoded.match(new RegExp(`https?://[^\\s"<>]*?(${path}\\?token=[A-Za-z0-9_-]+)`));
    if (match) return match[1];
  }
  return null;
}

async function waitForLink(server, to, path) {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const link = linkIn(server.mails(), to, path);
    if (link) return link;
    if (Date.now() > deadline) throw new Error(`no mail to ${to} with a ${path} link`);
    await new Promise((ok) => setTimeout(ok, 100));
  }
}

/** A screenshot from the top of the page (a full-page shot of a scrolled page draws the
 * sticky header and side navigation where they were, half way down). */
async function shoot(page, name) {
  await page.evaluate(() => window.scrollTo(0, 0));
  await screenshot(page, name);
}

/** The header's navigation (its links are unique there). */
const mainNav = (page) => page.getByRole('navigation', { name: 'Main' });

let server;
let browser;

before(async () => {
  server = await startServer({
    name: 'account',
    // No demo data: the account's own pages only, and nothing (seed avatars) from elsewhere.
    env: { DEMO_DATA: 'false', PERSISTED_QUERIES: 'safelist', PERSISTED_QUERIES_MANIFEST: MANIFEST },
  });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

test('account: verify, settings, reset, sessions, live notifications, deletion', async () => {
  const stamp = Date.now().toString(36);
  const username = `reader${stamp}`;
  const firstEmail = `${username}@example.com`;
  const email = `${username}.new@example.com`;
  const context = await offlineContext(browser, server);
  const page = await context.newPage();

  // Sign up.
  await page.goto('/register');
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Email').fill(firstEmail);
  await page.getByLabel('Password').fill('first-password');
  await page.getByRole('button', { name: 'Sign up' }).click();
  await mainNav(page).getByRole('link', { name: username }).waitFor();

  // The verification mail's link → verified.
  await page.goto(await waitForLink(server, firstEmail, '/verify-email'));
  await page.getByRole('heading', { name: 'Your email address is verified' }).waitFor();
  await checkA11y(page, 'account-verify-email');
  await shoot(page, 'account-verify-email');
  await page.getByRole('link', { name: 'Go to your settings' }).click();
  await page.getByTestId('email-status').filter({ hasText: /^✓ Verified$/ }).waitFor();

  // Settings: the bio, an email notification kind, the password (a wrong current one
  // first: its error is shown next to its field).
  await page.getByLabel('Bio').fill('I write about GraphQL and gardens.');
  await page.getByRole('button', { name: 'Save profile' }).click();
  await page.getByText('Profile saved.').waitFor();
  const followers = page.getByRole('checkbox', { name: /New followers/ });
  await followers.check();
  await page.waitForFunction(() => {
    const box = document.querySelector('input[name="NEW_FOLLOWER"]');
    return box?.checked && !box.disabled;
  });
  await checkA11y(page, 'account-settings');
  await shoot(page, 'account-settings');

  const password = page.getByRole('region', { name: 'Password' });
  const current = password.getByLabel('Current password');
  await current.fill('not-my-password');
  await password.getByLabel('New password', { exact: true }).fill('second-password');
  await password.getByLabel('Repeat the new password').fill('second-password');
  await password.getByRole('button', { name: 'Change password' }).click();
  await password.locator('input[name="currentPassword"][aria-invalid="true"]').waitFor();
  assert.match(await password.locator('.field-error').first().textContent(), /current password/);
  await current.fill('first-password');
  await password.getByRole('button', { name: 'Change password' }).click();
  await page.getByText('Password changed.').waitFor();

  // A new email address needs the current password; it is unverified until its own
  // mail's link is followed.
  const address = page.getByRole('region', { name: 'Email', exact: true });
  await address.getByLabel('Email address').fill(email);
  await address.getByLabel('Current password').fill('second-password');
  await address.getByRole('button', { name: 'Change email' }).click();
  await page.getByText('Email changed.').waitFor();
  await page.getByTestId('email-status').filter({ hasText: /^Not verified$/ }).waitFor();
  await page.goto(await waitForLink(server, email, '/verify-email'));
  await page.getByRole('heading', { name: 'Your email address is verified' }).waitFor();
  await page.getByRole('link', { name: 'Go to your settings' }).click();
  await page.getByTestId('email-status').filter({ hasText: /^✓ Verified$/ }).waitFor();
  assert.equal(await page.getByLabel('Email address').inputValue(), email);

  await page.reload();
  await page.getByLabel('Bio').waitFor();
  assert.equal(await page.getByLabel('Bio').inputValue(), 'I write about GraphQL and gardens.');
  assert.equal(await page.getByRole('checkbox', { name: /New followers/ }).isChecked(), true);

  // Sign out; forgot password → the reset mail's link → a new password → signed in.
  await page.getByRole('button', { name: 'Sign out' }).click();
  await mainNav(page).getByRole('link', { name: 'Sign in' }).click();
  await page.getByRole('link', { name: 'Forgot your password?' }).click();
  await page.getByRole('heading', { name: 'Forgot your password?' }).waitFor();
  await page.getByLabel('Email').fill(email);
  await page.getByRole('button', { name: 'Send the link' }).click();
  await page.getByText('a mail is on its way').waitFor();
  await checkA11y(page, 'account-forgot-password');
  await shoot(page, 'account-forgot-password');

  await page.goto(await waitForLink(server, email, '/reset-password'));
  await page.getByRole('heading', { name: 'Choose a new password' }).waitFor();
  await checkA11y(page, 'account-reset-password');
  await shoot(page, 'account-reset-password');
  await page.getByLabel('New password', { exact: true }).fill('third-password');
  await page.getByLabel('Repeat the new password').fill('third-password');
  await page.getByRole('button', { name: 'Set the new password' }).click();
  await page.getByText('Your new password is set').waitFor();
  await mainNav(page).getByRole('link', { name: username }).waitFor();

  // A second sign-in (another context): two sessions; revoke the other one.
  const otherContext = await offlineContext(browser, server);
  const other = await otherContext.newPage();
  await other.goto('/login');
  await other.getByLabel('Email').fill(email);
  await other.getByLabel('Password').fill('third-password');
  await other.getByRole('button', { name: 'Sign in' }).click();
  await mainNav(other).getByRole('link', { name: username }).waitFor();

  await page.goto('/settings/sessions');
  await page.getByTestId('session').nth(1).waitFor();
  assert.equal(await page.getByTestId('session').count(), 2);
  assert.equal(await page.getByText('This device').count(), 1);
  await checkA11y(page, 'account-sessions');
  await shoot(page, 'account-sessions');
  await page.getByRole('button', { name: /^Revoke / }).click();
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="session"]').length === 1);
  await other.reload();
  await mainNav(other).getByRole('link', { name: 'Sign in' }).waitFor();

  // Notifications: the (empty) list is cached, the user moves on to settings, another
  // user follows them → the badge shows 1 without a reload → the list has it → read.
  await page.goto('/notifications');
  await page.getByRole('heading', { name: 'Nothing yet' }).waitFor();
  await page.getByRole('navigation', { name: 'Account' }).getByRole('link', { name: 'Settings' }).click();
  await page.getByRole('heading', { name: 'Profile' }).waitFor();
  assert.equal(await page.getByTestId('unread-badge').count(), 0);

  const fan = `fan${stamp}`;
  const { data } = await gql(server, listed('Register'), {
    input: { username: fan, email: `${fan}@example.com`, password: 'fan-password' },
  });
  await gql(server, listed('FollowUser'), { username }, { token: data.register.accessToken });
  const badge = page.getByTestId('unread-badge');
  await badge.filter({ hasText: /^1$/ }).waitFor();
  assert.equal(new URL(page.url()).pathname, '/settings', 'no navigation happened');

  await mainNav(page).getByRole('link', { name: /Notifications/ }).click();
  const item = page.getByTestId('notification').filter({ hasText: `${fan} started following you` });
  await item.waitFor();
  assert.equal(await item.getAttribute('data-unread'), 'true');
  await checkA11y(page, 'account-notifications');
  await shoot(page, 'account-notifications');
  await page.getByRole('button', { name: 'Mark all as read' }).click();
  await badge.waitFor({ state: 'detached' });
  await page.getByText('You are all caught up.').waitFor();
  assert.equal(await item.getAttribute('data-unread'), 'false');

  // Delete the account → signed out and home; signing in again fails.
  await page.goto('/settings');
  await page.getByLabel('Your password').fill('third-password');
  await page.getByRole('button', { name: 'Delete my account' }).click();
  await page.getByRole('button', { name: 'Yes, delete everything' }).click();
  await mainNav(page).getByRole('link', { name: 'Sign in' }).waitFor();
  assert.equal(new URL(page.url()).pathname, '/');
  await mainNav(page).getByRole('link', { name: 'Sign in' }).click();
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill('third-password');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByText('That email and password do not match an account.').waitFor();
  await page.goto('/settings');
  await page.getByText('You need to be signed in to see this page.').waitFor();
  await checkA11y(page, 'account-signed-out');
  await page.getByRole('main').getByRole('link', { name: 'Sign in' }).click();
  assert.equal(new URL(page.url()).search, '?next=%2Fsettings');

  assert.deepEqual(context.blocked, []);
  assert.deepEqual(otherContext.blocked, []);
  assert.deepEqual(context.pageErrors, []);
  assert.deepEqual(otherContext.pageErrors, []);
  await otherContext.close();
  await context.close();
});
