//! Every query path is served by an index: on tables large enough for the planner to
//! prefer an index whenever one fits, the API's reads and writes start no sequential scan
//! (webhooks and their deliveries included: the fan-out of every event, the lists, the
//! cascades of deleting a webhook or an account).
//!
//! PostgreSQL counts scans per table (`pg_stat_user_tables`); a backend reports its counts
//! when it exits. So the test seeds a realistic volume, lets every connection go, takes the
//! counts, runs each query path through the API, lets the pool's connections go again, and
//! compares.

use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::{Account, TestApp, connect};

/// Tables that grow with use; small lookup tables (tags) may be scanned.
const LARGE_TABLES: [&str; 9] = [
    "users",
    "sessions",
    "articles",
    "favorites",
    "follows",
    "comments",
    "notifications",
    "webhooks",
    "outbox",
];

const SEED: &str = "
INSERT INTO users (username, email, password_hash)
    SELECT 'user' || g, 'user' || g || '@example.com', 'not-a-hash'
    FROM generate_series(1, 5000) g;
INSERT INTO sessions (user_id, access_token_hash, access_expires_at,
                      refresh_token_hash, refresh_expires_at)
    SELECT id, sha256(('a' || id)::bytea), now() + interval '1 hour',
           sha256(('r' || id)::bytea), now() + interval '1 day'
    FROM users WHERE username LIKE 'user%';
INSERT INTO articles (author_id, slug, title, description, body, tags, created_at)
    SELECT u.id, 'seeded-' || g, 'Seeded ' || g, 'about ' || g, 'body ' || g,
           ARRAY['tag' || (g % 40), 'seeded'], now() - g * interval '1 minute'
    FROM generate_series(1, 30000) g
    JOIN users u ON u.username = 'user' || (1 + g % 5000);
INSERT INTO favorites (user_id, article_id)
    SELECT DISTINCT u.id, a.id
    FROM generate_series(1, 60000) g
    JOIN users u ON u.username = 'user' || (1 + (g * 7) % 5000)
    JOIN articles a ON a.slug = 'seeded-' || (1 + (g * 13) % 30000);
INSERT INTO follows (follower_id, followee_id)
    SELECT DISTINCT f.id, t.id
    FROM generate_series(1, 20000) g
    JOIN users f ON f.username = 'user' || (1 + g % 5000)
    JOIN users t ON t.username = 'user' || (1 + (g * 31) % 5000)
    WHERE f.id <> t.id;
INSERT INTO comments (article_id, author_id, body, created_at)
    SELECT a.id, u.id, 'comment ' || g, now() - g * interval '1 second'
    FROM generate_series(1, 60000) g
    JOIN articles a ON a.slug = 'seeded-' || (1 + (g * 7) % 30000)
    JOIN users u ON u.username = 'user' || (1 + (g * 11) % 5000);
INSERT INTO notifications (recipient_id, kind, actor_id, article_id)
    SELECT r.id, 'article_favorited', u.id, a.id
    FROM generate_series(1, 40000) g
    JOIN users r ON r.username = CASE WHEN g % 50 = 0 THEN 'reader' ELSE 'user' || (1 + g % 5000) END
    JOIN users u ON u.username = 'user' || (1 + (g * 3 + 1) % 5000)
    JOIN articles a ON a.slug = 'seeded-' || (1 + (g * 5) % 30000)
    WHERE r.id <> u.id;
INSERT INTO tags (name, articles_count)
    SELECT tag, count(*) FROM articles, unnest(tags) AS tag GROUP BY tag;
-- Notification mails of the last two hours (the hourly limit counts them per recipient),
-- and recipients who get them: the writes below mail them in the same statement.
INSERT INTO outbox (id, queue, kind, ordering_key, payload, status, created_at, finished_at)
    SELECT gen_random_uuid(), 'email', 'email.notification', 'user:' || u.id, '{}',
           'delivered', now() - (g % 120) * interval '1 minute', now()
    FROM generate_series(1, 20000) g
    JOIN users u ON u.username = 'user' || (1 + g % 5000);
UPDATE users SET email_verified_at = now(),
    email_notifications = '{new_follower,article_favorited,comment_added,article_published}'
    WHERE username IN ('reader', 'writer') OR username LIKE 'user1%';
INSERT INTO webhooks (user_id, url, events, secret_ciphertext, secret_nonce, secret_key_id)
    SELECT id, 'https://hooks.example.com/' || id,
           ARRAY['article_published', 'new_follower', 'comment_added'],
           '\\x00'::bytea, '\\x00'::bytea, 'k'
    FROM users WHERE username LIKE 'user%';
INSERT INTO outbox (id, queue, kind, ordering_key, payload, status, webhook_id, created_at)
    SELECT gen_random_uuid(), 'webhook', 'new_follower', 'webhook:' || w.id, '{}',
           'delivered', w.id, now() - g * interval '1 second'
    FROM generate_series(1, 40000) g
    JOIN (SELECT id, row_number() OVER (ORDER BY id) AS n FROM webhooks) w
        ON w.n = 1 + g % 5000;
";

/// Scans per large table so far: (table, seq_scan, idx_scan).
async fn scans(url: &str) -> Vec<(String, i64, i64)> {
    let client = connect(url).await;
    let rows = client
        .query(
            "SELECT relname::text, seq_scan, coalesce(idx_scan, 0) FROM pg_stat_user_tables \
             WHERE relname = ANY($1) ORDER BY relname",
            &[&LARGE_TABLES.to_vec()],
        )
        .await
        .unwrap();
    rows.iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect()
}

/// Closes the app's idle connections and waits until every other backend on the
/// database has exited (and so reported its scans).
async fn settle(app: &TestApp) {
    app.state.pool.retain(|_, _| false);
    let name = app.database_url().rsplit('/').next().unwrap().to_owned();
    let admin = connect(&crate::helpers::database_url("postgres")).await;
    for _ in 0..200 {
        let others: i64 = admin
            .query_one(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = $1",
                &[&name],
            )
            .await
            .unwrap()
            .get(0);
        if others == 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("connections to {name} did not close");
}

async fn ok(app: &TestApp, who: &Account, query: &str, variables: Value) -> Value {
    let body = app.gql(query, variables, Some(&who.access)).await;
    assert!(body.get("errors").is_none(), "{query}: {body}");
    body["data"].clone()
}

#[tokio::test]
async fn no_query_path_scans_a_large_table_sequentially() {
    let app = TestApp::spawn().await;
    let reader = app.register("reader").await;
    let writer = app.register("writer").await;
    {
        let seed = connect(&app.database_url()).await;
        seed.batch_execute(SEED).await.unwrap();
        seed.batch_execute("VACUUM ANALYZE").await.unwrap();
    }
    settle(&app).await;
    let before = scans(&app.database_url()).await;
    settle(&app).await;

    const ARTICLE: &str = "slug title tags createdAt favoritesCount viewerHasFavorited \
                           viewerCanUpdate author { username viewerIsFollowing }";
    let list = |field: &str| {
        format!(
            "{{ {field} {{ totalCount pageInfo {{ endCursor startCursor }} \
             nodes {{ {ARTICLE} }} }} }}"
        )
    };
    ok(
        &app,
        &reader,
        "mutation { followUser(username: \"user7\") { id } }",
        json!({}),
    )
    .await;
    ok(
        &app,
        &reader,
        "mutation { followUser(username: \"writer\") { id } }",
        json!({}),
    )
    .await;
    let home = ok(&app, &reader, &list("articles(first: 20)"), json!({})).await;
    let cursor = home["articles"]["pageInfo"]["endCursor"].clone();
    ok(
        &app,
        &reader,
        "query($c: String) { next: articles(first: 20, after: $c) { nodes { slug } } \
         back: articles(last: 20, before: $c) { nodes { slug } } }",
        json!({"c": cursor}),
    )
    .await;
    for field in [
        "articles(first: 20, tag: \"tag3\")",
        "articles(first: 20, author: \"user12\")",
        "articles(first: 20, favoritedBy: \"user14\")",
        "articles(first: 20, tag: \"seeded\", author: \"user12\")",
        "feed(first: 20)",
    ] {
        ok(&app, &reader, &list(field), json!({})).await;
    }
    ok(
        &app,
        &reader,
        "{ articles(first: 20) { nodes { commentsCount \
           comments(first: 3) { nodes { body author { username } } } } } \
           article(slug: \"seeded-8\") { comments(last: 5) { totalCount nodes { id } } } \
           viewer { unreadNotificationsCount \
             notifications(first: 20, unreadOnly: true) { totalCount nodes { kind \
               actor { username } article { slug } comment { body } } } } }",
        json!({}),
    )
    .await;
    ok(
        &app,
        &reader,
        "mutation { markNotificationsRead }",
        json!({}),
    )
    .await;
    ok(
        &app,
        &reader,
        "{ user(username: \"user21\") { followersCount viewerIsFollowing \
           articles(first: 10) { totalCount nodes { slug } } \
           favoriteArticles(first: 10) { totalCount nodes { slug } } \
           followers(first: 10) { totalCount nodes { username viewerIsFollowing } } \
           following(first: 10) { totalCount nodes { username } } } \
           popularTags(first: 10) { name articlesCount } }",
        json!({}),
    )
    .await;
    let article = ok(
        &app,
        &reader,
        "{ article(slug: \"seeded-5\") { id slug author { id } } }",
        json!({}),
    )
    .await;
    ok(
        &app,
        &reader,
        "query($ids: [ID!]!) { nodes(ids: $ids) { id } }",
        json!({"ids": [article["article"]["id"], article["article"]["author"]["id"]]}),
    )
    .await;

    // Writes: publish twice (the seeded title is taken: suffixes; the writer's follower
    // hears of it), edit, favorite, delete; comment and delete the comment.
    let create = "mutation { createArticle(input: {title: \"Seeded 5\", description: \"d\", \
                  body: \"b\", tags: [\"tag1\", \"new\"]}) { slug } }";
    let first = ok(&app, &writer, create, json!({})).await;
    let second = ok(&app, &writer, create, json!({})).await;
    assert_eq!(first["createArticle"]["slug"], "seeded-5-2");
    assert_eq!(second["createArticle"]["slug"], "seeded-5-3");
    let slug = first["createArticle"]["slug"].as_str().unwrap().to_owned();
    for mutation in [
        format!(
            "updateArticle(slug: \"{slug}\", input: {{title: \"Fresh\", tags: [\"x\"]}}) {{ slug }}"
        ),
        "favoriteArticle(slug: \"fresh\") { favoritesCount }".to_owned(),
        "unfavoriteArticle(slug: \"seeded-5-3\") { favoritesCount }".to_owned(),
        "deleteArticle(slug: \"fresh\")".to_owned(),
    ] {
        ok(
            &app,
            &writer,
            &format!("mutation {{ {mutation} }}"),
            json!({}),
        )
        .await;
    }
    let comment = ok(
        &app,
        &reader,
        "mutation { addComment(articleSlug: \"seeded-9\", body: \"Hi\") { id } }",
        json!({}),
    )
    .await;
    ok(
        &app,
        &reader,
        "mutation($id: ID!) { deleteComment(id: $id) }",
        json!({"id": comment["addComment"]["id"]}),
    )
    .await;
    ok(
        &app,
        &reader,
        "mutation { unfollowUser(username: \"user7\") { id } }",
        json!({}),
    )
    .await;

    // A sign-in (the new-device notice looks for a session with the same user agent).
    let login = "mutation($i: LoginInput!) { login(input: $i) { accessToken } }";
    let vars = json!({"i": {"email": reader.email, "password": reader.password}});
    let signed_in = app.gql(login, vars, None).await;
    assert!(
        signed_in["data"]["login"]["accessToken"].is_string(),
        "{signed_in}"
    );
    // Webhooks: register, list with deliveries and attempts, fetch by node, ping,
    // redeliver, rotate, edit, delete; the writes above fanned out to the seeded ones.
    let hook = ok(
        &app,
        &writer,
        "mutation { createWebhook(input: {url: \"https://hooks.example.com/w\", \
         events: [ARTICLE_PUBLISHED, NEW_FOLLOWER]}) { webhook { id } } }",
        json!({}),
    )
    .await;
    let hook = hook["createWebhook"]["webhook"]["id"].clone();
    let ping = ok(
        &app,
        &writer,
        "mutation($id: ID!) { pingWebhook(id: $id) { id } }",
        json!({"id": hook}),
    )
    .await;
    let delivery = ping["pingWebhook"]["id"].clone();
    ok(
        &app,
        &writer,
        "{ viewer { webhooks(first: 5) { totalCount nodes { id \
           deliveries(first: 5) { totalCount nodes { id status attemptLog { at } } } \
           failed: deliveries(first: 5, status: FAILED) { totalCount nodes { id } } } } } }",
        json!({}),
    )
    .await;
    ok(
        &app,
        &writer,
        "query($ids: [ID!]!) { nodes(ids: $ids) { id } }",
        json!({"ids": [hook, delivery]}),
    )
    .await;
    // Delivered (no worker runs here), so that the redelivery requeues it.
    let uuid = conduit::domain::ids::decode_delivery_id(delivery.as_str().unwrap()).unwrap();
    connect(&app.database_url())
        .await
        .execute(
            "UPDATE outbox SET status = 'delivered' WHERE id = $1::text::uuid",
            &[&uuid.to_string()],
        )
        .await
        .unwrap();
    ok(
        &app,
        &writer,
        "mutation($id: ID!) { redeliverWebhookDelivery(id: $id) { id } }",
        json!({"id": delivery}),
    )
    .await;
    for mutation in [
        "rotateWebhookSecret(id: $id) { secret }",
        "updateWebhook(id: $id, input: {events: [NEW_FOLLOWER], active: true}) { id }",
        "deleteWebhook(id: $id)",
    ] {
        ok(
            &app,
            &writer,
            &format!("mutation($id: ID!) {{ {mutation} }}"),
            json!({"id": hook}),
        )
        .await;
    }

    // The sessions list, a session through `node`, revoking one, and deleting an account
    // that wrote, commented, favorited and followed (followed back too).
    let sessions = ok(
        &app,
        &reader,
        "{ viewer { sessions(first: 5) { totalCount nodes { id userAgent isCurrent } } } }",
        json!({}),
    )
    .await;
    let session = sessions["viewer"]["sessions"]["nodes"][0]["id"].clone();
    ok(
        &app,
        &reader,
        "query($id: ID!) { node(id: $id) { id } }",
        json!({"id": session}),
    )
    .await;
    let leaver = app.register("leaver").await;
    for mutation in [
        "createWebhook(input: {url: \"https://hooks.example.com/l\", \
         events: [NEW_FOLLOWER]}) { secret }",
        "followUser(username: \"user9\") { id }",
        "favoriteArticle(slug: \"seeded-11\") { slug }",
        "addComment(articleSlug: \"seeded-12\", body: \"Bye\") { id }",
        "createArticle(input: {title: \"Leaving\", description: \"d\", body: \"b\", \
         tags: [\"tag2\", \"leaving\"]}) { slug }",
    ] {
        ok(
            &app,
            &leaver,
            &format!("mutation {{ {mutation} }}"),
            json!({}),
        )
        .await;
    }
    ok(
        &app,
        &reader,
        "mutation { followUser(username: \"leaver\") { id } }",
        json!({}),
    )
    .await;
    ok(
        &app,
        &leaver,
        "mutation($p: String!) { deleteAccount(password: $p) }",
        json!({"p": leaver.password}),
    )
    .await;
    let other = ok(
        &app,
        &writer,
        "{ viewer { sessions(first: 1) { nodes { id } } } }",
        json!({}),
    )
    .await;
    ok(
        &app,
        &writer,
        "mutation($id: ID!) { revokeSession(id: $id) }",
        json!({"id": other["viewer"]["sessions"]["nodes"][0]["id"]}),
    )
    .await;

    settle(&app).await;
    let after = scans(&app.database_url()).await;
    for ((table, seq_before, idx_before), (_, seq_after, idx_after)) in before.iter().zip(&after) {
        assert_eq!(
            seq_after - seq_before,
            0,
            "sequential scans on {table} (index scans: {})",
            idx_after - idx_before
        );
        assert!(idx_after > idx_before, "{table} was not read at all");
    }
}
