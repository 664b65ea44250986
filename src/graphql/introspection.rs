//! With introspection off, async-graphql answers `__schema` and `__type` with a silent
//! null. [`super::admission`] refuses such documents before execution with a clear error
//! instead, so a client (or a code generator pointed at production) learns why.

use async_graphql::{
    ServerError,
    parser::types::{ExecutableDocument, Selection, SelectionSet},
};

use super::error::with_code;
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

fn selects_introspection(document: &ExecutableDocument) -> bool {
    document
        .operations
        .iter()
        .any(|(_, op)| in_selection_set(&op.node.selection_set.node))
        || document
            .fragments
            .values()
            .any(|f| in_selection_set(&f.node.selection_set.node))
}

fn in_selection_set(set: &SelectionSet) -> bool {
    set.items.iter().any(|item| match &item.node {
        Selection::Field(field) => {
            matches!(field.node.name.node.as_str(), "__schema" | "__type")
                || in_selection_set(&field.node.selection_set.node)
        }
        Selection::InlineFragment(fragment) => in_selection_set(&fragment.node.selection_set.node),
        Selection::FragmentSpread(_) => false,
    })
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
