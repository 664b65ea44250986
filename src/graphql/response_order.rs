//! Two repairs to async-graphql's response shape: fields in selection order, and an
//! explicit null for every nullable field that failed.
//!
//! The GraphQL spec orders a response's fields as the selection set orders them, and
//! people reading responses (in GraphiQL, in snapshots) expect it. async-graphql 7 resolves
//! a query's sibling fields concurrently and inserts each as it *completes*, so a slow
//! field lands after a fast one selected below it. Executors aside, the order is only a
//! matter of the document, so it is restored here from the document, after execution.
//!
//! Reads the document through [`super::document`] (the selected operation, the fields of
//! each selection set); calls nothing else of the crate.

use std::{cell::OnceCell, ops::ControlFlow};

use async_graphql::{
    Name, PathSegment, ServerError, Value,
    parser::types::{ExecutableDocument, SelectionSet},
};

use super::document;

/// Puts `null` where a field failed. async-graphql 7 leaves a failed nullable field's key
/// out of its object, where the spec (and Apollo Client's cache, which then reports the
/// field as missing) want the key with `null`. For each error with a path, the first key
/// missing along the path is the field that was nulled.
pub fn null_failed_fields(data: &mut Value, errors: &[ServerError]) {
    for error in errors {
        let mut here = &mut *data;
        for segment in &error.path {
            here = match (here, segment) {
                (Value::Object(map), PathSegment::Field(name)) => {
                    let key = Name::new(name);
                    if !map.contains_key(&key) {
                        map.insert(key, Value::Null);
                        break;
                    }
                    map.get_mut(&key).expect("present")
                }
                (Value::List(items), PathSegment::Index(i)) if *i < items.len() => &mut items[*i],
                _ => break,
            };
        }
    }
}

/// Reorders `data`, the result of operation `name` of `document`, in selection order.
/// The document must have passed validation (so fragments do not cycle).
pub fn restore(document: &ExecutableDocument, name: Option<&str>, data: &mut Value) {
    if let Some((_, op)) = document::operation(document, name) {
        Plan::new(&[&op.selection_set.node], document).apply(data, document);
    }
}

/// The key order of the objects that one field's selection sets produce, worked out once
/// and applied to every object of a list (the plans below it too, once each).
struct Plan<'a> {
    /// Each response key in selection order, with the selection sets below it and, once
    /// needed, their plan.
    keys: Vec<(Name, Vec<&'a SelectionSet>, OnceCell<Plan<'a>>)>,
}

impl<'a> Plan<'a> {
    fn new(sets: &[&'a SelectionSet], document: &'a ExecutableDocument) -> Self {
        // Each response key in order, with the selection sets below it (a key selected
        // twice merges both).
        let mut keys: Vec<(Name, Vec<&SelectionSet>)> = Vec::new();
        for set in sets {
            document::fields(document, set, |field| {
                let key = &field.response_key().node;
                let subset = &field.selection_set.node;
                match keys.iter_mut().find(|(k, _)| k == key) {
                    Some((_, subsets)) => subsets.push(subset),
                    None => keys.push((key.clone(), vec![subset])),
                }
                ControlFlow::Continue(())
            });
        }
        Self {
            keys: keys
                .into_iter()
                .map(|(key, subsets)| (key, subsets, OnceCell::new()))
                .collect(),
        }
    }

    /// Where `key` goes, looked for at `hint` first; a key the selection does not name
    /// goes last. Response keys are clones of the document's names, so most compare
    /// equal by address.
    fn position(&self, key: &Name, hint: usize) -> usize {
        let same =
            |(k, ..): &(Name, _, _)| k.as_str().as_ptr() == key.as_str().as_ptr() || k == key;
        if self.keys.get(hint).is_some_and(same) {
            return hint;
        }
        self.keys.iter().position(same).unwrap_or(usize::MAX)
    }

    /// Orders `value` (an object, or a list of them at any depth), then what lies below.
    /// Fields usually complete in order, so an object is only sorted when it is not; no
    /// key is hashed.
    fn apply(&self, value: &mut Value, document: &'a ExecutableDocument) {
        match value {
            Value::List(items) => {
                for item in items {
                    self.apply(item, document);
                }
            }
            Value::Object(map) => {
                let mut next = 0;
                let sorted = map.keys().all(|key| {
                    let at = self.position(key, next);
                    let in_order = at >= next;
                    next = at.saturating_add(1);
                    in_order
                });
                if !sorted {
                    map.sort_by_cached_key(|key, _| self.position(key, 0));
                }
                for (i, (key, value)) in map.iter_mut().enumerate() {
                    if !matches!(value, Value::List(_) | Value::Object(_)) {
                        continue;
                    }
                    if let Some((_, subsets, plan)) = self.keys.get(self.position(key, i)) {
                        plan.get_or_init(|| Plan::new(subsets, document))
                            .apply(value, document);
                    }
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use async_graphql::{parser::parse_query, value};

    use super::*;

    #[test]
    fn failed_fields_get_an_explicit_null() {
        let mut data = value!({"viewer": {"username": "x"}, "list": [{"a": 1}]});
        let mut failed = ServerError::new("no", None);
        failed.path = vec![
            PathSegment::Field("viewer".into()),
            PathSegment::Field("notifications".into()),
        ];
        let mut nested = ServerError::new("no", None);
        nested.path = vec![
            PathSegment::Field("list".into()),
            PathSegment::Index(0),
            PathSegment::Field("b".into()),
            PathSegment::Field("c".into()),
        ];
        null_failed_fields(&mut data, &[failed, nested]);
        assert_eq!(
            data,
            value!({"viewer": {"username": "x", "notifications": null}, "list": [{"a": 1, "b": null}]})
        );
    }

    #[test]
    fn fields_follow_the_selection_through_aliases_fragments_and_lists() {
        let document = parse_query(
            "query Q { b: x { ...F } a { z y } } \
             fragment F on T { n ... on T { m } list { q p } }",
        )
        .unwrap();
        let mut data = value!({
            "a": {"y": 1, "z": 2},
            "b": {"list": [{"p": 1, "q": 2}, {"q": 3, "p": 4}, {"p": 5}], "m": 3, "n": 4},
        });
        restore(&document, Some("Q"), &mut data);
        assert_eq!(
            serde_json::to_string(&data).unwrap(),
            r#"{"b":{"n":4,"m":3,"list":[{"q":2,"p":1},{"q":3,"p":4},{"p":5}]},"a":{"z":2,"y":1}}"#
        );
    }
}
