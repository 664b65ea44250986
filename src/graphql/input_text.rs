//! Text a request may carry: PostgreSQL's `text` cannot hold the NUL character (U+0000),
//! so a string with one, anywhere in a document's arguments or its variables, is refused
//! before anything runs (`BAD_USER_INPUT`) instead of failing in the database.

use std::convert::Infallible;

use async_graphql::{
    Name, Value, Variables,
    parser::Positioned,
    parser::types::{Directive, ExecutableDocument, Field, Selection, SelectionSet},
};

/// True when a string value of `document` or `variables` contains U+0000.
pub fn has_nul(document: &ExecutableDocument, variables: &Variables) -> bool {
    if variables.values().any(const_has_nul) {
        return true;
    }
    let fragments = document
        .fragments
        .values()
        .map(|f| (&f.node.directives, &f.node.selection_set.node));
    let operations = document.operations.iter().map(|(_, op)| {
        let defaults = op.node.variable_definitions.iter().any(|definition| {
            definition
                .node
                .default_value
                .as_ref()
                .is_some_and(|v| const_has_nul(&v.node))
        });
        (defaults, &op.node.directives, &op.node.selection_set.node)
    });
    for (defaults, directives, set) in operations {
        if defaults || directives_have_nul(directives) || set_has_nul(set) {
            return true;
        }
    }
    fragments
        .into_iter()
        .any(|(directives, set)| directives_have_nul(directives) || set_has_nul(set))
}

fn set_has_nul(set: &SelectionSet) -> bool {
    set.items.iter().any(|selection| match &selection.node {
        Selection::Field(field) => field_has_nul(&field.node),
        Selection::InlineFragment(fragment) => {
            directives_have_nul(&fragment.node.directives)
                || set_has_nul(&fragment.node.selection_set.node)
        }
        Selection::FragmentSpread(spread) => directives_have_nul(&spread.node.directives),
    })
}

fn field_has_nul(field: &Field) -> bool {
    field.arguments.iter().any(|(_, value)| {
        const_has_nul(&value.node.clone().into_const_with(null).unwrap_or_default())
    }) || directives_have_nul(&field.directives)
        || set_has_nul(&field.selection_set.node)
}

fn directives_have_nul(directives: &[Positioned<Directive>]) -> bool {
    directives.iter().any(|d| {
        d.node.arguments.iter().any(|(_, value)| {
            const_has_nul(&value.node.clone().into_const_with(null).unwrap_or_default())
        })
    })
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
