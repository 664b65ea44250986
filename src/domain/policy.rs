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

/// A user's email is private: visible to the user themself and to admins.
pub fn can_view_email(viewer: Option<&Viewer>, user_id: i64) -> bool {
    is_self(viewer, user_id) || viewer.is_some_and(|v| v.role == Role::Admin)
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
}
