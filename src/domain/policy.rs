//! Who may do what. Guards, resolvers and viewer flags all call these functions, so a
//! rule lives in one place.

/// A user's role.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// A regular account.
    User,
    /// May moderate any content and see private fields.
    Admin,
}

impl Role {
    /// The value stored in `users.role`.
    pub const fn as_db(self) -> &'static str {
        match self {
            Self::User => "user",
            Self::Admin => "admin",
        }
    }

    /// Reads `users.role`; unknown values are treated as the least privileged role.
    pub fn from_db(value: &str) -> Self {
        if value == "admin" {
            Self::Admin
        } else {
            Self::User
        }
    }
}

/// The signed-in user a request acts for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Viewer {
    /// The user's id.
    pub user_id: i64,
    /// The session the request's token belongs to.
    pub session_id: i64,
    /// The user's role.
    pub role: Role,
}

/// True when `viewer` is the user `user_id`.
pub fn is_self(viewer: Option<&Viewer>, user_id: i64) -> bool {
    viewer.is_some_and(|v| v.user_id == user_id)
}

/// True when `viewer` is an admin.
pub fn is_admin(viewer: Option<&Viewer>) -> bool {
    viewer.is_some_and(|v| v.role == Role::Admin)
}

/// A user's email is private: visible to the user themself and to admins.
pub fn can_view_email(viewer: Option<&Viewer>, user_id: i64) -> bool {
    is_self(viewer, user_id) || is_admin(viewer)
}

/// Only its author may edit an article (admins moderate by deleting, not rewriting).
pub fn can_update_article(viewer: Option<&Viewer>, author_id: i64) -> bool {
    is_self(viewer, author_id)
}

/// Its author or an admin may delete an article.
pub fn can_delete_article(viewer: Option<&Viewer>, author_id: i64) -> bool {
    is_self(viewer, author_id) || is_admin(viewer)
}

/// Its author or an admin may delete a comment.
pub fn can_delete_comment(viewer: Option<&Viewer>, author_id: i64) -> bool {
    is_self(viewer, author_id) || is_admin(viewer)
}

/// A user's notifications are theirs alone (admins included: they are not moderation).
pub fn can_view_notifications(viewer: Option<&Viewer>, user_id: i64) -> bool {
    is_self(viewer, user_id)
}

/// A user's sessions are theirs alone to list and revoke (admins included: where someone
/// signed in from is not moderation).
pub fn can_manage_sessions(viewer: Option<&Viewer>, user_id: i64) -> bool {
    is_self(viewer, user_id)
}

/// A user's webhooks and their deliveries are theirs alone (admins included: a webhook's
/// URL and payloads are its owner's business).
pub fn can_manage_webhook(viewer: Option<&Viewer>, owner_id: i64) -> bool {
    is_self(viewer, owner_id)
}

/// A signed-in user may follow anyone but themself. `viewerIsFollowing` is false
/// wherever this is.
pub fn can_follow(viewer: Option<&Viewer>, user_id: i64) -> bool {
    viewer.is_some_and(|v| v.user_id != user_id)
}

/// Any signed-in user may favorite any article. `viewerHasFavorited` is false wherever
/// this is.
pub fn can_favorite(viewer: Option<&Viewer>) -> bool {
    viewer.is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn email_is_for_self_and_admins() {
        let me = Viewer {
            user_id: 1,
            session_id: 10,
            role: Role::User,
        };
        let admin = Viewer {
            user_id: 2,
            session_id: 20,
            role: Role::Admin,
        };
        assert!(can_view_email(Some(&me), 1));
        assert!(!can_view_email(Some(&me), 3));
        assert!(can_view_email(Some(&admin), 3));
        assert!(!can_view_email(None, 1));
    }

    #[test]
    fn articles_are_edited_by_their_author_and_deleted_by_author_or_admin() {
        let author = Viewer {
            user_id: 1,
            session_id: 10,
            role: Role::User,
        };
        let other = Viewer {
            user_id: 3,
            ..author
        };
        let admin = Viewer {
            user_id: 2,
            session_id: 20,
            role: Role::Admin,
        };
        assert!(can_update_article(Some(&author), 1));
        assert!(!can_update_article(Some(&admin), 1));
        assert!(!can_update_article(Some(&other), 1));
        assert!(!can_update_article(None, 1));
        assert!(can_delete_article(Some(&author), 1));
        assert!(can_delete_article(Some(&admin), 1));
        assert!(!can_delete_article(Some(&other), 1));
        assert!(!can_delete_article(None, 1));
        assert!(can_follow(Some(&other), 1) && !can_follow(Some(&author), 1));
        assert!(!can_follow(None, 1));
    }
}
