//! Queries on `follows`, and the follower counters on `users` kept with them.

use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::{
    DbError, IdPair,
    keyset::{Page, PageQuery, Position, paginate},
    schema::{follows, users},
    users::UserRow,
};

/// Which side of a follow a list shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FollowList {
    /// The users who follow this user id.
    FollowersOf(i64),
    /// The users this user id follows.
    FollowedBy(i64),
}

/// Records that `follower_id` follows `followee_id` and counts it; idempotent.
/// Returns the followee as they are now, and whether this call changed anything.
pub async fn follow(
    conn: &mut AsyncPgConnection,
    follower_id: i64,
    followee_id: i64,
) -> Result<(UserRow, bool), DbError> {
    let inserted = diesel::insert_into(follows::table)
        .values((
            follows::follower_id.eq(follower_id),
            follows::followee_id.eq(followee_id),
        ))
        .on_conflict_do_nothing()
        .execute(conn)
        .await?;
    let row = adjust_counts(conn, follower_id, followee_id, inserted as i32).await?;
    Ok((row, inserted > 0))
}

/// Removes the follow of `followee_id` by `follower_id` and counts it; idempotent.
/// Returns the followee as they are now.
pub async fn unfollow(
    conn: &mut AsyncPgConnection,
    follower_id: i64,
    followee_id: i64,
) -> Result<UserRow, DbError> {
    let deleted = diesel::delete(follows::table.find((follower_id, followee_id)))
        .execute(conn)
        .await?;
    adjust_counts(conn, follower_id, followee_id, -(deleted as i32)).await
}

/// Moves both users' counters by `by`, locking the lower id first so that two users
/// following each other at once cannot deadlock.
async fn adjust_counts(
    conn: &mut AsyncPgConnection,
    follower_id: i64,
    followee_id: i64,
    by: i32,
) -> Result<UserRow, DbError> {
    if by == 0 {
        return Ok(users::table
            .find(followee_id)
            .select(UserRow::as_select())
            .get_result(conn)
            .await?);
    }
    let mut followee = None;
    let mut ids = [follower_id, followee_id];
    ids.sort_unstable();
    for id in ids {
        if id == followee_id {
            followee = Some(
                diesel::update(users::table.find(id))
                    .set(users::followers_count.eq(users::followers_count + by))
                    .returning(UserRow::as_returning())
                    .get_result(conn)
                    .await?,
            );
        } else {
            diesel::update(users::table.find(id))
                .set(users::following_count.eq(users::following_count + by))
                .execute(conn)
                .await?;
        }
    }
    Ok(followee.expect("the followee is one of the two ids"))
}

/// Which of the (follower, followee) `pairs` are follows: one statement, however many
/// pairs and however many distinct followers (every subscriber of an event asks at once).
pub async fn followed_pairs(
    mut conn: &AsyncPgConnection,
    pairs: &[(i64, i64)],
) -> Result<Vec<(i64, i64)>, DbError> {
    if pairs.is_empty() {
        return Ok(Vec::new());
    }
    let (followers, followees): (Vec<i64>, Vec<i64>) = pairs.iter().copied().unzip();
    let rows: Vec<IdPair> = diesel::sql_query(
        "SELECT f.follower_id AS a, f.followee_id AS b FROM follows f \
         JOIN unnest($1::int8[], $2::int8[]) AS k(a, b) \
         ON f.follower_id = k.a AND f.followee_id = k.b",
    )
    .bind::<Array<BigInt>, _>(followers)
    .bind::<Array<BigInt>, _>(followees)
    .load(&mut conn)
    .await?;
    Ok(rows.into_iter().map(|r| (r.a, r.b)).collect())
}

/// One page of a follow list, newest follow first, with each user's position in it.
pub async fn page(
    mut conn: &AsyncPgConnection,
    list: FollowList,
    page: &PageQuery,
) -> Result<Page<(UserRow, Position)>, DbError> {
    let rows: Vec<(UserRow, chrono::DateTime<chrono::Utc>)> = match list {
        FollowList::FollowersOf(id) => {
            let query = follows::table
                .inner_join(users::table.on(users::id.eq(follows::follower_id)))
                .filter(follows::followee_id.eq(id))
                .into_boxed();
            paginate!(query, page, follows::created_at, follows::follower_id)
                .select((UserRow::as_select(), follows::created_at))
                .load(&mut conn)
                .await?
        }
        FollowList::FollowedBy(id) => {
            let query = follows::table
                .inner_join(users::table.on(users::id.eq(follows::followee_id)))
                .filter(follows::follower_id.eq(id))
                .into_boxed();
            paginate!(query, page, follows::created_at, follows::followee_id)
                .select((UserRow::as_select(), follows::created_at))
                .load(&mut conn)
                .await?
        }
    };
    let rows = rows
        .into_iter()
        .map(|(user, created_at)| {
            let id = user.id;
            (user, Position { created_at, id })
        })
        .collect();
    Ok(page.finish(rows))
}

/// How many users a follow list holds.
pub async fn count(mut conn: &AsyncPgConnection, list: FollowList) -> Result<i64, DbError> {
    let query = follows::table.count().into_boxed();
    let query = match list {
        FollowList::FollowersOf(id) => query.filter(follows::followee_id.eq(id)),
        FollowList::FollowedBy(id) => query.filter(follows::follower_id.eq(id)),
    };
    Ok(query.get_result(&mut conn).await?)
}
