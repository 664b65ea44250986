//! What Conduit reads from a parsed query document before and after execution: which
//! operation a request runs ([`operation`]), the one walk over selections that every
//! reader of a document shares ([`visitor`]), and the fields a selection set selects
//! ([`fields`], [`root_keys`]); and the cache of parsed documents by their text
//! ([`cache`]). Imports only async-graphql's parser types (and, for the cache, `lru`).

pub mod cache;
pub mod operation;
pub mod visitor;

use std::ops::ControlFlow;

use async_graphql::{
    Name,
    parser::types::{ExecutableDocument, Field, FragmentDefinition, SelectionSet},
};

pub use self::{
    operation::operation,
    visitor::{Step, Visitor, walk_set, walk_written},
};

/// Calls `each` on the fields `set` selects at its own level, in order, inline fragments
/// and spreads flattened (each fragment once), until it breaks.
pub fn fields<'a>(
    document: &'a ExecutableDocument,
    set: &'a SelectionSet,
    each: impl FnMut(&'a Field) -> ControlFlow<()>,
) {
    /// The fields of one level, each fragment expanded once.
    struct Level<'a, F> {
        each: F,
        expanded: Vec<&'a str>,
    }
    impl<'a, F: FnMut(&'a Field) -> ControlFlow<()>> Visitor<'a> for Level<'a, F> {
        fn enter_field(&mut self, field: &'a Field, _depth: usize) -> Step {
            match (self.each)(field) {
                ControlFlow::Continue(()) => Step::Over,
                ControlFlow::Break(()) => Step::Stop,
            }
        }

        fn enter_fragment(&mut self, name: &'a Name, _: &'a FragmentDefinition) -> Step {
            if self.expanded.contains(&name.as_str()) {
                return Step::Over;
            }
            self.expanded.push(name.as_str());
            Step::Into
        }
    }
    walk_set(
        document,
        set,
        &mut Level {
            each,
            expanded: Vec::new(),
        },
    );
}

/// The distinct response keys at the root of `set`, fragments expanded: what the
/// root-field limit and subscriptions' single-root-field rule count.
pub fn root_keys<'a>(document: &'a ExecutableDocument, set: &'a SelectionSet) -> Vec<&'a str> {
    let mut keys = Vec::new();
    fields(document, set, |field| {
        let key = field.response_key().node.as_str();
        if !keys.contains(&key) {
            keys.push(key);
        }
        ControlFlow::Continue(())
    });
    keys
}

#[cfg(test)]
mod tests {
    use async_graphql::parser::parse_query;

    use super::*;

    fn keys(query: &str) -> Vec<String> {
        let document = parse_query(query).unwrap();
        let (_, operation) = operation(&document, None).unwrap();
        root_keys(&document, &operation.selection_set.node)
            .into_iter()
            .map(str::to_owned)
            .collect()
    }

    #[test]
    fn root_keys_flatten_fragments_once_and_keep_the_first_place() {
        assert_eq!(
            keys("{ b: a ...F ... on Query { c ...F } a } fragment F on Query { a c { d } }"),
            ["b", "a", "c"]
        );
        assert_eq!(keys("{ ...F } fragment F on Query { x ...F }"), ["x"]);
    }

    #[test]
    fn fields_stop_when_asked() {
        let document = parse_query("{ a ...F c } fragment F on Query { b }").unwrap();
        let (_, operation) = operation(&document, None).unwrap();
        let mut met = Vec::new();
        fields(&document, &operation.selection_set.node, |field| {
            met.push(field.name.node.to_string());
            if field.name.node == "b" {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        });
        assert_eq!(met, ["a", "b"]);
    }
}
