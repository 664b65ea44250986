//! With introspection off, async-graphql answers `__schema` and `__type` with a silent
//! null. [`super::admission`] refuses such documents before execution with a clear error
//! instead, so a client (or a code generator pointed at production) learns why.
//! Reads the document with the walk of [`super::document`]; may call the error codes.

use async_graphql::{
    ServerError,
    parser::types::{ExecutableDocument, Field},
};

use super::{
    document::{self, Step, Visitor},
    error::with_code,
};
use crate::error::ErrorCode;

/// Refuses `document` if it selects `__schema` or `__type` anywhere.
pub fn refuse(document: &ExecutableDocument) -> Result<(), ServerError> {
    if selects_introspection(document) {
        return Err(with_code(
            ServerError::new("Introspection is disabled on this server.", None),
            ErrorCode::GraphqlValidationFailed,
        ));
    }
    Ok(())
}

/// True when an operation or a fragment of `document`, as written, selects `__schema` or
/// `__type`.
fn selects_introspection(document: &ExecutableDocument) -> bool {
    let mut found = Introspection(false);
    document::walk_written(document, &mut found);
    found.0
}

/// Looks for an introspection field.
struct Introspection(bool);

impl<'a> Visitor<'a> for Introspection {
    fn enter_field(&mut self, field: &'a Field, _: usize) -> Step {
        self.0 = matches!(field.name.node.as_str(), "__schema" | "__type");
        if self.0 { Step::Stop } else { Step::Into }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use async_graphql::parser::parse_query;

    #[test]
    fn finds_introspection_anywhere() {
        for query in [
            "{ __schema { types { name } } }",
            "query { ... on Query { __type(name: \"User\") { name } } }",
            "query { ...F } fragment F on Query { __schema { queryType { name } } }",
        ] {
            assert!(
                selects_introspection(&parse_query(query).unwrap()),
                "{query}"
            );
        }
        assert!(!selects_introspection(
            &parse_query("{ __typename viewer { id } }").unwrap()
        ));
    }
}
