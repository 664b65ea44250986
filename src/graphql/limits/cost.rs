//! The depth, complexity and estimated size of an operation (see [`super`] for how
//! complexity counts), measured by one walk of [`crate::graphql::document`]. May call the
//! document walk, the page sizes of [`crate::graphql::pagination`] and the length limits
//! of `domain::validation`, `domain::devices` and `domain::webhooks` (which give the large
//! text fields their weight).

use std::{collections::HashMap, ops::ControlFlow};

use async_graphql::{
    Name, Value, Variables,
    parser::types::{ExecutableDocument, Field, FragmentDefinition, SelectionSet},
};

use crate::{
    domain::{
        body_html::BODY_HTML_MAX_BYTES,
        devices::USER_AGENT_MAX_BYTES,
        validation::{BIO_MAX, BODY_MAX, COMMENT_MAX, DESCRIPTION_MAX},
        webhooks::{address::URL_MAX_BYTES, payload::PAYLOAD_MAX_BYTES},
    },
    graphql::{
        document::{self, Step, Visitor},
        pagination::{DEFAULT_PAGE, MAX_PAGE},
    },
};

/// The complexity unit of large text: a text field costs 1 per this many bytes of its
/// largest value (at least 1, as every field does).
pub(super) const TEXT_UNIT_BYTES: usize = 4096;

/// The most bytes one character takes in UTF-8: the length limits count characters, and
/// memory is counted in bytes.
const UTF8_MAX: usize = 4;

/// What the response is estimated to hold for a field that is not large text (its key,
/// its value and their place in the response tree), a generous figure.
pub(super) const FIELD_BYTES: usize = 256;

/// The largest value in bytes of the field `name` (when it is large text), `in_comment`
/// telling whether it is selected on a comment (a comment's `body` is shorter than an
/// article's).
fn text_bytes(name: &str, in_comment: bool) -> Option<usize> {
    let chars = match name {
        "body" if in_comment => COMMENT_MAX,
        "body" => BODY_MAX,
        "bio" => BIO_MAX,
        "description" => DESCRIPTION_MAX,
        // A session's, bounded in bytes already (over the 256 of any other field).
        "userAgent" => return Some(USER_AGENT_MAX_BYTES),
        "bodyHtml" => return Some(BODY_HTML_MAX_BYTES),
        // A webhook delivery's body, and a webhook's URL: bounded in bytes.
        "payload" => return Some(PAYLOAD_MAX_BYTES),
        "url" => return Some(URL_MAX_BYTES),
        _ => return None,
    };
    Some(chars * UTF8_MAX)
}

/// Whether a field or type condition named `name` selects on a comment (`comments`,
/// `addComment`, `commentAdded`, `... on Comment`, `CommentConnection`). Anything else
/// counts as an article, the larger: an unknown scope is never undercharged.
fn names_a_comment(name: &str) -> bool {
    name.to_ascii_lowercase().contains("comment")
}

/// Whether a field only wraps the items of a list (it keeps the scope it is in).
fn wraps_items(name: &str) -> bool {
    matches!(name, "edges" | "node" | "nodes")
}

/// How deep a selection set goes and what it costs.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Measure {
    /// Deepest field nesting (a field is 1 deeper than what it selects).
    pub(super) depth: usize,
    /// 1 per field (1 per [`TEXT_UNIT_BYTES`] of its largest value for large text), what
    /// a list selects times its size.
    pub(super) cost: usize,
    /// The most bytes the response may hold: [`FIELD_BYTES`] per field, the largest value
    /// of large text, what a list selects times its size.
    pub(super) bytes: usize,
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
        scopes: vec![false],
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
    /// Whether each field, fragment and inline fragment being walked selects on a
    /// comment, outermost (the operation: no) first.
    scopes: Vec<bool>,
    /// Depth and cost of each fragment measured so far.
    measured: HashMap<&'a str, Measure>,
}

impl<'a> Visitor<'a> for Cost<'a> {
    fn enter_field(&mut self, field: &'a Field, _: usize) -> Step {
        self.open.push(Measure::default());
        let name = field.name.node.as_str();
        let scope = if wraps_items(name) {
            self.in_comment()
        } else {
            names_a_comment(name)
        };
        self.scopes.push(scope);
        Step::Into
    }

    fn leave_field(&mut self, field: &'a Field, _: usize) {
        let below = self.close();
        self.scopes.pop();
        let multiplier = self.multiplier(field);
        let (cost, bytes) = match text_bytes(field.name.node.as_str(), self.in_comment()) {
            Some(bytes) => (bytes.div_ceil(TEXT_UNIT_BYTES), bytes),
            None => (1, FIELD_BYTES),
        };
        self.add(Measure {
            depth: below.depth + 1,
            cost: multiplier.saturating_mul(below.cost).saturating_add(cost),
            bytes: multiplier.saturating_mul(below.bytes).saturating_add(bytes),
        });
    }

    fn enter_fragment(&mut self, name: &'a Name, fragment: &'a FragmentDefinition) -> Step {
        if let Some(&known) = self.measured.get(name.as_str()) {
            self.add(known);
            return Step::Over;
        }
        self.open.push(Measure::default());
        // A fragment's scope is its type condition's, wherever it is spread: so what it
        // measures once holds for every spread.
        let on = fragment.type_condition.node.on.node.as_str();
        self.scopes.push(names_a_comment(on));
        Step::Into
    }

    fn leave_fragment(&mut self, name: &'a Name) {
        let measure = self.close();
        self.scopes.pop();
        self.measured.insert(name.as_str(), measure);
        self.add(measure);
    }

    fn enter_inline(&mut self, type_condition: Option<&'a str>) {
        let scope = type_condition.map_or_else(|| self.in_comment(), names_a_comment);
        self.scopes.push(scope);
    }

    fn leave_inline(&mut self) {
        self.scopes.pop();
    }
}

impl<'a> Cost<'a> {
    fn close(&mut self) -> Measure {
        self.open.pop().expect("entered before")
    }

    /// Whether the innermost field or fragment being walked selects on a comment.
    fn in_comment(&self) -> bool {
        self.scopes.last().copied().unwrap_or(false)
    }

    /// Adds a selection's measure to the selection set it is in.
    fn add(&mut self, part: Measure) {
        let total = self.open.last_mut().expect("the operation's measure");
        total.depth = total.depth.max(part.depth);
        total.cost = total.cost.saturating_add(part.cost);
        total.bytes = total.bytes.saturating_add(part.bytes);
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
