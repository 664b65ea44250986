//! Queries on `users`.

use chrono::{DateTime, Utc};
use diesel::{
    prelude::*,
    result::{DatabaseErrorKind, Error as QueryError},
};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::{DbError, lower, schema::users};

/// A row of `users`, without the password hash.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = users)]
pub struct UserRow {
    /// Primary key.
    pub id: i64,
    /// Public name, unique case-insensitively.
    pub username: String,
    /// Private address, unique case-insensitively.
    pub email: String,
    /// Short biography.
    pub bio: Option<String>,
    /// Avatar URL.
    pub image: Option<String>,
    /// `user` or `admin`.
    pub role: String,
    /// When the account was created.
    pub created_at: DateTime<Utc>,
    /// How many users follow this one.
    pub followers_count: i32,
    /// How many users this one follows.
    pub following_count: i32,
    /// When the current address was confirmed (`None`: unverified).
    pub email_verified_at: Option<DateTime<Utc>>,
    /// The notification kinds (`notifications.kind` values) also sent by email.
    pub email_notifications: Vec<Option<String>>,
}

/// A new account.
#[derive(Debug, Insertable)]
#[diesel(table_name = users)]
pub struct NewUser<'a> {
    /// Public name.
    pub username: &'a str,
    /// Private address.
    pub email: &'a str,
    /// argon2id PHC string.
    pub password_hash: &'a str,
}

/// Profile fields to change; `None` leaves a column as it is, `Some(None)` clears it.
#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = users)]
pub struct ProfileChanges {
    /// New username.
    pub username: Option<String>,
    /// New email.
    pub email: Option<String>,
    /// New bio, or `Some(None)` to clear.
    pub bio: Option<Option<String>>,
    /// New image, or `Some(None)` to clear.
    pub image: Option<Option<String>>,
    /// `Some(None)` with a new email: the new address is unverified.
    pub email_verified_at: Option<Option<DateTime<Utc>>>,
    /// New notification kinds to mail.
    pub email_notifications: Option<Vec<Option<String>>>,
}

impl ProfileChanges {
    /// True when nothing would change.
    pub fn is_empty(&self) -> bool {
        self.username.is_none()
            && self.email.is_none()
            && self.bio.is_none()
            && self.image.is_none()
            && self.email_verified_at.is_none()
            && self.email_notifications.is_none()
    }
}

/// Which unique column a write collided with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Taken {
    /// `lower(username)` is in use.
    Username,
    /// `lower(email)` is in use.
    Email,
}

/// A write to `users` failed.
#[derive(Debug, thiserror::Error)]
pub enum UserWriteError {
    /// A unique column is taken (a race past the domain's own check).
    #[error("{0:?} is taken")]
    Taken(Taken),
    /// Anything else.
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<QueryError> for UserWriteError {
    fn from(err: QueryError) -> Self {
        Self::Db(err.into())
    }
}

fn write_error(err: QueryError) -> UserWriteError {
    if let QueryError::DatabaseError(DatabaseErrorKind::UniqueViolation, info) = &err {
        match info.constraint_name() {
            Some("users_username_key") => return UserWriteError::Taken(Taken::Username),
            Some("users_email_key") => return UserWriteError::Taken(Taken::Email),
            _ => {}
        }
    }
    UserWriteError::Db(err.into())
}

/// Inserts an account.
pub async fn insert(
    conn: &mut AsyncPgConnection,
    new: &NewUser<'_>,
) -> Result<UserRow, UserWriteError> {
    diesel::insert_into(users::table)
        .values(new)
        .returning(UserRow::as_returning())
        .get_result(conn)
        .await
        .map_err(write_error)
}

/// Applies profile changes to user `id`.
pub async fn update_profile(
    conn: &mut AsyncPgConnection,
    id: i64,
    changes: &ProfileChanges,
) -> Result<UserRow, UserWriteError> {
    if changes.is_empty() {
        return find(conn, id)
            .await?
            .ok_or(UserWriteError::Db(DbError::Query(QueryError::NotFound)));
    }
    diesel::update(users::table.find(id))
        .set(changes)
        .returning(UserRow::as_returning())
        .get_result(conn)
        .await
        .map_err(write_error)
}

/// Locks user `id`'s row until the transaction ends (writers of one user's tokens and
/// password take it first, in the same order); false when there is no such user.
pub async fn lock(conn: &mut AsyncPgConnection, id: i64) -> Result<bool, DbError> {
    let found: Option<i64> = users::table
        .find(id)
        .select(users::id)
        .for_update()
        .first(conn)
        .await
        .optional()?;
    Ok(found.is_some())
}

/// Marks user `id`'s address verified, if it is still `email` (any case); the user, or
/// `None` when the address changed meanwhile (or the user is gone).
pub async fn mark_verified(
    conn: &mut AsyncPgConnection,
    id: i64,
    email: &str,
) -> Result<Option<UserRow>, DbError> {
    Ok(diesel::update(
        users::table
            .find(id)
            .filter(lower(users::email).eq(lower(email))),
    )
    .set(users::email_verified_at.eq(diesel::dsl::sql::<
        diesel::sql_types::Nullable<diesel::sql_types::Timestamptz>,
    >("coalesce(email_verified_at, now())")))
    .returning(UserRow::as_returning())
    .get_result(conn)
    .await
    .optional()?)
}

/// Sets the role of the user named `username` (case-insensitively); false if none.
pub async fn set_role(
    conn: &mut AsyncPgConnection,
    username: &str,
    role: &str,
) -> Result<bool, DbError> {
    let updated = diesel::update(users::table.filter(lower(users::username).eq(lower(username))))
        .set(users::role.eq(role))
        .execute(conn)
        .await?;
    Ok(updated > 0)
}

/// The user with primary key `id`.
pub async fn find(conn: &mut AsyncPgConnection, id: i64) -> Result<Option<UserRow>, DbError> {
    Ok(users::table
        .find(id)
        .select(UserRow::as_select())
        .first(conn)
        .await
        .optional()?)
}

/// The users with these ids, in any order (one statement whatever the count).
pub async fn find_many(mut conn: &AsyncPgConnection, ids: &[i64]) -> Result<Vec<UserRow>, DbError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(users::table
        .filter(users::id.eq_any(ids))
        .select(UserRow::as_select())
        .load(&mut conn)
        .await?)
}

/// The user named `username`, case-insensitively.
pub async fn find_by_username(
    mut conn: &AsyncPgConnection,
    username: &str,
) -> Result<Option<UserRow>, DbError> {
    Ok(users::table
        .filter(lower(users::username).eq(lower(username)))
        .select(UserRow::as_select())
        .first(&mut conn)
        .await
        .optional()?)
}

/// The user with `email` (case-insensitively) and their password hash.
pub async fn find_credentials(
    conn: &mut AsyncPgConnection,
    email: &str,
) -> Result<Option<(UserRow, String)>, DbError> {
    Ok(users::table
        .filter(lower(users::email).eq(lower(email)))
        .select((UserRow::as_select(), users::password_hash))
        .first(conn)
        .await
        .optional()?)
}

/// User `id`'s password hash.
pub async fn password_hash(
    conn: &mut AsyncPgConnection,
    id: i64,
) -> Result<Option<String>, DbError> {
    Ok(users::table
        .find(id)
        .select(users::password_hash)
        .first(conn)
        .await
        .optional()?)
}

/// Which of `username` and `email` are already taken (ignoring case, as the unique
/// indexes do) by someone other than `except`. One statement.
pub async fn taken(
    conn: &mut AsyncPgConnection,
    username: Option<&str>,
    email: Option<&str>,
    except: Option<i64>,
) -> Result<Vec<Taken>, DbError> {
    // An empty string matches no account: usernames and emails are never empty.
    let (username, email) = (username.unwrap_or_default(), email.unwrap_or_default());
    let matches: Vec<(bool, bool)> = users::table
        .filter(
            lower(users::username)
                .eq(lower(username))
                .or(lower(users::email).eq(lower(email))),
        )
        .filter(users::id.ne(except.unwrap_or(0)))
        .select((
            lower(users::username).eq(lower(username)),
            lower(users::email).eq(lower(email)),
        ))
        .load(conn)
        .await?;
    let mut taken = Vec::new();
    if matches.iter().any(|(u, _)| *u) {
        taken.push(Taken::Username);
    }
    if matches.iter().any(|(_, e)| *e) {
        taken.push(Taken::Email);
    }
    Ok(taken)
}

/// True when `users` has at least one row.
pub async fn any(conn: &mut AsyncPgConnection) -> Result<bool, DbError> {
    let exists = diesel::dsl::exists(users::table.select(users::id));
    Ok(diesel::select(exists).get_result(conn).await?)
}
