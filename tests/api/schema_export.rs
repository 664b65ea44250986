//! `schema.graphql` is the exported SDL, and every schema element is documented.

use async_graphql::parser::{
    parse_schema,
    types::{TypeKind, TypeSystemDefinition},
};

const COMMITTED: &str = include_str!("../../schema.graphql");

#[test]
fn schema_graphql_is_the_exported_sdl() {
    let exported = conduit::graphql::sdl();
    assert!(
        exported == COMMITTED,
        "schema.graphql is stale: run `cargo run -- export-schema > schema.graphql`"
    );
}

#[test]
fn export_schema_prints_the_committed_file() {
    let output = crate::helpers::conduit_command(&["export-schema"], &[])
        .output()
        .unwrap();
    assert!(output.status.success());
    assert_eq!(String::from_utf8(output.stdout).unwrap(), COMMITTED);
}

#[test]
fn every_type_field_argument_and_enum_value_has_a_description() {
    let document = parse_schema(conduit::graphql::sdl()).expect("valid SDL");
    let mut missing = Vec::new();
    for definition in &document.definitions {
        let TypeSystemDefinition::Type(ty) = definition else {
            continue;
        };
        let ty = &ty.node;
        let name = ty.name.node.as_str();
        if ty.description.is_none() {
            missing.push(name.to_owned());
        }
        match &ty.kind {
            TypeKind::Object(object) => {
                for field in &object.fields {
                    let field = &field.node;
                    let path = format!("{name}.{}", field.name.node);
                    if field.description.is_none() {
                        missing.push(path.clone());
                    }
                    for arg in &field.arguments {
                        if arg.node.description.is_none() {
                            missing.push(format!("{path}({}:)", arg.node.name.node));
                        }
                    }
                }
            }
            TypeKind::Interface(interface) => {
                for field in &interface.fields {
                    if field.node.description.is_none() {
                        missing.push(format!("{name}.{}", field.node.name.node));
                    }
                }
            }
            TypeKind::Enum(enumeration) => {
                for value in &enumeration.values {
                    if value.node.description.is_none() {
                        missing.push(format!("{name}.{}", value.node.value.node));
                    }
                }
            }
            TypeKind::InputObject(input) => {
                for field in &input.fields {
                    if field.node.description.is_none() {
                        missing.push(format!("{name}.{}", field.node.name.node));
                    }
                }
            }
            TypeKind::Scalar | TypeKind::Union(_) => {}
        }
    }
    assert!(
        missing.is_empty(),
        "undocumented schema elements: {missing:?}"
    );
}
