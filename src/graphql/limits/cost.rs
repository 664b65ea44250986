//! The depth and complexity of an operation (see [`super`] for how complexity counts),
//! measured by one walk of [`crate::graphql::document`]. May call the document walk and
//! the page sizes of [`crate::graphql::pagination`].

use std::{collections::HashMap, ops::ControlFlow};

use async_graphql::{
    Name, Value, Variables,
    parser::types::{ExecutableDocument, Field, FragmentDefinition, SelectionSet},
};

use crate::graphql::{
    document::{self, Step, Visitor},
    pagination::{DEFAULT_PAGE, MAX_PAGE},
};

/// How deep a selection set goes and what it costs.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Measure {
    /// Deepest field nesting (a field is 1 deeper than what it selects).
    pub(super) depth: usize,
    /// 1 per field, what a list selects times its size.
    pub(super) cost: usize,
}

/// Measures `set` with its fragments expanded, `variables` giving the page sizes.
pub(super) fn measure<'a>(
    document: &'a ExecutableDocument,
    variables: &'a Variables,
    set: &'a SelectionSet,
) -> Measure {
    // Room for the operation and fields as deep as the default depth limit.
    let mut open = Vec::with_capacity(16);
    open.push(Measure::default());
    let mut cost = Cost {
        document,
        variables,
        open,
        measured: HashMap::new(),
    };
    document::walk_set(document, set, &mut cost);
    cost.open[0]
}

/// The measuring visitor. Each fragment is measured once and remembered, so a chain of
/// fragments that each spread the next twice costs linear time, not exponential.
struct Cost<'a> {
    document: &'a ExecutableDocument,
    variables: &'a Variables,
    /// What is measured so far of each field and fragment being walked, outermost (the
    /// operation) first.
    open: Vec<Measure>,
    /// Depth and cost of each fragment measured so far.
    measured: HashMap<&'a str, Measure>,
}

impl<'a> Visitor<'a> for Cost<'a> {
    fn enter_field(&mut self, _: &'a Field, _: usize) -> Step {
        self.open.push(Measure::default());
        Step::Into
    }

    fn leave_field(&mut self, field: &'a Field, _: usize) {
        let below = self.close();
        let multiplier = self.multiplier(field);
        self.add(Measure {
            depth: below.depth + 1,
            cost: multiplier.saturating_mul(below.cost).saturating_add(1),
        });
    }

    fn enter_fragment(&mut self, name: &'a Name, _: &'a FragmentDefinition) -> Step {
        if let Some(&known) = self.measured.get(name.as_str()) {
            self.add(known);
            return Step::Over;
        }
        self.open.push(Measure::default());
        Step::Into
    }

    fn leave_fragment(&mut self, name: &'a Name) {
        let measure = self.close();
        self.measured.insert(name.as_str(), measure);
        self.add(measure);
    }
}

impl<'a> Cost<'a> {
    fn close(&mut self) -> Measure {
        self.open.pop().expect("entered before")
    }

    /// Adds a selection's measure to the selection set it is in.
    fn add(&mut self, part: Measure) {
        let total = self.open.last_mut().expect("the operation's measure");
        total.depth = total.depth.max(part.depth);
        total.cost = total.cost.saturating_add(part.cost);
    }

    /// How many times what `field` selects may be resolved.
    fn multiplier(&self, field: &'a Field) -> usize {
        let argument = |name: &str| {
            field
                .arguments
                .iter()
                .find(|(n, _)| n.node.as_str() == name)
                .map(|(_, value)| {
                    value
                        .node
                        .clone()
                        .into_const_with(|var| {
                            Ok::<_, std::convert::Infallible>(
                                self.variables.get(&var).cloned().unwrap_or(Value::Null),
                            )
                        })
                        .unwrap_or(Value::Null)
                })
        };
        let page = |value: Option<Value>| match value {
            Some(Value::Number(n)) => n.as_u64().map(|n| (n as usize).min(MAX_PAGE as usize)),
            _ => None,
        };
        if let Some(size) = page(argument("first")).or_else(|| page(argument("last"))) {
            return size;
        }
        if let Some(Value::List(ids)) = argument("ids") {
            return ids.len().max(1);
        }
        if self.reads_a_page(&field.selection_set.node) {
            return DEFAULT_PAGE as usize;
        }
        1
    }

    /// True when `set` selects `edges` or `nodes`, directly or through fragments: a
    /// connection read.
    fn reads_a_page(&self, set: &'a SelectionSet) -> bool {
        let mut page = false;
        document::fields(self.document, set, |field| {
            page = matches!(field.name.node.as_str(), "edges" | "nodes");
            if page {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        });
        page
    }
}
