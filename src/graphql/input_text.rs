//! Text a request may carry: PostgreSQL's `text` cannot hold the NUL character (U+0000),
//! so a string with one, anywhere in a document's arguments or its variables, is refused
//! before anything runs (`BAD_USER_INPUT`) instead of failing in the database. The
//! document is read by the walk of [`super::document`].

use std::convert::Infallible;

use async_graphql::{
    Name, Value, Variables,
    parser::types::{Directive, ExecutableDocument, Field},
};

use super::document::{self, Step, Visitor};

/// True when a string value of `document` (an argument of a field or directive, or a
/// variable's default) or of `variables` contains U+0000.
pub fn has_nul(document: &ExecutableDocument, variables: &Variables) -> bool {
    if variables.values().any(const_has_nul) {
        return true;
    }
    let defaults = document.operations.iter().any(|(_, op)| {
        op.node.variable_definitions.iter().any(|definition| {
            definition
                .node
                .default_value
                .as_ref()
                .is_some_and(|v| const_has_nul(&v.node))
        })
    });
    if defaults {
        return true;
    }
    let mut found = Nul(false);
    document::walk_written(document, &mut found);
    found.0
}

/// Looks for a NUL character in the arguments of fields and directives.
struct Nul(bool);

impl Nul {
    fn step(&mut self, mut arguments: impl Iterator<Item = Value>) -> Step {
        self.0 = arguments.any(|value| const_has_nul(&value));
        if self.0 { Step::Stop } else { Step::Into }
    }
}

impl<'a> Visitor<'a> for Nul {
    fn enter_field(&mut self, field: &'a Field, _: usize) -> Step {
        self.step(
            field
                .arguments
                .iter()
                .map(|(_, v)| v.node.clone().into_const_with(null).unwrap_or_default()),
        )
    }

    fn directive(&mut self, directive: &'a Directive) -> Step {
        self.step(
            directive
                .arguments
                .iter()
                .map(|(_, v)| v.node.clone().into_const_with(null).unwrap_or_default()),
        )
    }
}

/// A variable inside a literal counts as null: variables are checked on their own.
fn null(_: Name) -> Result<Value, Infallible> {
    Ok(Value::Null)
}

fn const_has_nul(value: &Value) -> bool {
    match value {
        Value::String(text) => text.contains('\0'),
        Value::List(items) => items.iter().any(const_has_nul),
        Value::Object(fields) => {
            fields.keys().any(|k| k.contains('\0')) || fields.values().any(const_has_nul)
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use async_graphql::parser::parse_query;

    use super::*;

    fn nul(query: &str, variables: serde_json::Value) -> bool {
        has_nul(
            &parse_query(query).unwrap(),
            &Variables::from_json(variables),
        )
    }

    #[test]
    fn finds_nul_in_literals_variables_defaults_and_fragments() {
        let none = serde_json::json!({});
        assert!(!nul(r#"{ article(slug: "a\u0041") { id } }"#, none.clone()));
        assert!(nul(r#"{ article(slug: "a\u0000") { id } }"#, none.clone()));
        assert!(nul(
            r#"mutation { createArticle(input: {title: "t", tagList: ["\u0000"]}) { article { id } } }"#,
            none.clone()
        ));
        assert!(nul(
            r#"query($s: String = "\u0000") { article(slug: $s) { id } }"#,
            none.clone()
        ));
        assert!(nul(
            r#"{ ...F } fragment F on Query { article(slug: "\u0000") { id } }"#,
            none.clone()
        ));
        assert!(nul(
            r#"query($s: String!) { article(slug: $s) { id } }"#,
            serde_json::json!({"s": "x\0"})
        ));
        assert!(nul(
            r#"query($i: RegisterInput!) { viewer { id } }"#,
            serde_json::json!({"i": {"username": ["ok", "\0"]}})
        ));
    }
}
