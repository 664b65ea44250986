//! What the metrics call an operation: its name and type, as the executor will select
//! them. [`super::admission`] records every GraphQL query and mutation in
//! `conduit_graphql_requests_total` and `conduit_graphql_request_duration_seconds` (see
//! [`crate::metrics`]) under these labels.

use async_graphql::parser::types::{DocumentOperations, ExecutableDocument, OperationType};

/// The name and type of the operation `requested` selects in `document`, as the executor
/// will choose it: the named one, or the only one. An unknown name keeps the name, with
/// no type.
pub fn selected_operation(
    document: &ExecutableDocument,
    requested: Option<&str>,
) -> (Option<String>, Option<OperationType>) {
    let ty = super::response_order::operation(document, requested).map(|op| op.ty);
    let name = match (&document.operations, requested) {
        (_, Some(name)) => Some(name.to_owned()),
        (DocumentOperations::Multiple(operations), None) if operations.len() == 1 => {
            operations.keys().next().map(ToString::to_string)
        }
        _ => None,
    };
    (name, ty)
}

#[cfg(test)]
mod tests {
    use async_graphql::parser::parse_query;

    use super::*;

    #[test]
    fn selects_the_operation_the_executor_would() {
        let select = |query: &str, name: Option<&str>| {
            selected_operation(&parse_query(query).unwrap(), name)
        };
        assert_eq!(select("{ a }", None), (None, Some(OperationType::Query)));
        assert_eq!(
            select("mutation M { a }", None),
            (Some("M".into()), Some(OperationType::Mutation))
        );
        assert_eq!(
            select("query A { a } mutation B { b }", Some("B")),
            (Some("B".into()), Some(OperationType::Mutation))
        );
        assert_eq!(
            select("query A { a } mutation B { b }", Some("C")),
            (Some("C".into()), None)
        );
        assert_eq!(select("query A { a } query B { b }", None), (None, None));
        assert_eq!(select("{ a }", Some("X")), (Some("X".into()), None));
    }
}
