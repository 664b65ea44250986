//! The bound on operation names used as labels (see the parent module's doc).

use std::{collections::HashSet, sync::RwLock};

/// The `operation` label of anonymous operations.
const ANONYMOUS_OPERATION: &str = "";

/// The `operation` label of names that are not used as labels (see the parent module's doc).
const OTHER_OPERATION: &str = "other";

/// The names used as `operation` labels so far (see the parent module's doc).
#[derive(Debug)]
pub(super) struct OperationNames {
    known: RwLock<HashSet<String>>,
    limit: usize,
}

impl OperationNames {
    /// No names yet; at most `limit` will be.
    pub(super) fn new(limit: usize) -> Self {
        Self {
            known: RwLock::default(),
            limit,
        }
    }

    /// The `operation` label of `name`; a name not yet known becomes one only when
    /// `admit` (the operation ran) and fewer than the limit are known.
    pub(super) fn label(&self, name: Option<&str>, admit: bool) -> String {
        let name = match name {
            None | Some("") => return ANONYMOUS_OPERATION.to_owned(),
            Some(name) if !is_label_name(name) => return OTHER_OPERATION.to_owned(),
            Some(name) => name,
        };
        if self
            .known
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .contains(name)
        {
            return name.to_owned();
        }
        if !admit {
            return OTHER_OPERATION.to_owned();
        }
        let mut known = self.known.write().unwrap_or_else(|e| e.into_inner());
        if known.len() < self.limit || known.contains(name) {
            known.insert(name.to_owned());
            name.to_owned()
        } else {
            OTHER_OPERATION.to_owned()
        }
    }
}

/// True for names matching `^[A-Za-z_][A-Za-z0-9_]{0,63}$`.
fn is_label_name(name: &str) -> bool {
    let bytes = name.as_bytes();
    matches!(bytes.first(), Some(b) if b.is_ascii_alphabetic() || *b == b'_')
        && bytes.len() <= 64
        && bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || *b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_names_follow_the_graphql_name_rule_up_to_64_characters() {
        for ok in ["a", "_", "GetArticle", "get_article_2", &"x".repeat(64)] {
            assert!(is_label_name(ok), "{ok}");
        }
        for bad in ["", "1abc", "a-b", "a b", "é", "a.b", &"x".repeat(65)] {
            assert!(!is_label_name(bad), "{bad}");
        }
    }

    #[test]
    fn operation_names_are_bounded_and_only_admitted_once_they_ran() {
        let names = OperationNames::new(2);
        assert_eq!(names.label(None, true), "");
        assert_eq!(names.label(Some(""), true), "");
        assert_eq!(names.label(Some("not-a-name"), true), "other");
        assert_eq!(names.label(Some("Refused"), false), "other");
        assert_eq!(names.label(Some("A"), true), "A");
        assert_eq!(names.label(Some("B"), true), "B");
        assert_eq!(names.label(Some("C"), true), "other");
        // Known names stay labelled, refused or not.
        assert_eq!(names.label(Some("A"), false), "A");
        assert_eq!(names.label(Some("B"), true), "B");
    }
}
