//! The one operation selector: which operation of a document a request runs, chosen as
//! async-graphql's executor chooses it. Imports only async-graphql's parser types.

use async_graphql::{
    Name,
    parser::types::{DocumentOperations, ExecutableDocument, OperationDefinition},
};

/// The operation `name` selects in `document`, with its name: the one so named, or the
/// only one when `name` is `None` (a lone named operation too). `None` when nothing is
/// selected: an unknown name, no name in a document of several operations, or a name
/// for an unnamed operation (which the executor refuses).
pub fn operation<'a>(
    document: &'a ExecutableDocument,
    name: Option<&str>,
) -> Option<(Option<&'a Name>, &'a OperationDefinition)> {
    match (&document.operations, name) {
        (DocumentOperations::Single(op), None) => Some((None, &op.node)),
        (DocumentOperations::Single(_), Some(_)) => None,
        (DocumentOperations::Multiple(ops), Some(name)) => ops
            .iter()
            .find(|(n, _)| n.as_str() == name)
            .map(|(n, op)| (Some(n), &op.node)),
        // The parser keeps every named operation in `Multiple`, even alone.
        (DocumentOperations::Multiple(ops), None) if ops.len() == 1 => {
            ops.iter().next().map(|(n, op)| (Some(n), &op.node))
        }
        (DocumentOperations::Multiple(_), None) => None,
    }
}

#[cfg(test)]
mod tests {
    use async_graphql::parser::{parse_query, types::OperationType};

    use super::*;

    fn select(query: &str, name: Option<&str>) -> Option<(Option<String>, OperationType)> {
        let document = parse_query(query).unwrap();
        operation(&document, name).map(|(name, op)| (name.map(ToString::to_string), op.ty))
    }

    #[test]
    fn selects_as_the_executor_does() {
        assert_eq!(select("{ a }", None), Some((None, OperationType::Query)));
        assert_eq!(select("{ a }", Some("A")), None);
        assert_eq!(
            select("mutation M { a }", None),
            Some((Some("M".into()), OperationType::Mutation))
        );
        assert_eq!(
            select("query A { a } subscription B { b }", Some("B")),
            Some((Some("B".into()), OperationType::Subscription))
        );
        assert_eq!(select("query A { a } query B { b }", Some("C")), None);
        assert_eq!(select("query A { a } query B { b }", None), None);
    }
}
