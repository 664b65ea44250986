//! The one walk over a parsed document's selections, and the [`Visitor`] that each of its
//! users (the limits, the cost count, introspection gating, the NUL check, response order)
//! implements. Fragments are handled here and nowhere else:
//!
//! - **Spreads** are expanded in place by [`walk_set`] (the selections as the executor
//!   sees them); [`walk_written`] instead visits every operation and fragment definition
//!   once, as written, and a spread there is only its directives.
//! - **Cycles** are cut: a fragment already being expanded on the current path is not
//!   entered again (validation, which runs later, refuses the document).
//! - **Repeats**: a fragment spread twice is entered twice unless the visitor steps over
//!   it from [`Visitor::enter_fragment`] (to expand each once, or to reuse what it worked
//!   out the first time).
//! - **Type conditions** are not applied: a fragment's selections count whatever type it
//!   is on (an upper bound for the limits; response order only places keys present).
//! - An unknown fragment is skipped (validation refuses it).
//!
//! The walk allocates nothing: the path of fragments being expanded lives on the stack.
//! It imports only async-graphql's parser types.

use std::ops::ControlFlow;

use async_graphql::{
    Name,
    parser::{
        Positioned,
        types::{
            Directive, ExecutableDocument, Field, FragmentDefinition, Selection, SelectionSet,
        },
    },
};

/// What a visitor asks of the walk after one of its hooks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Go on, into what was just entered.
    Into,
    /// Go on after what was just entered, without walking into it (and without its
    /// `leave_` hook).
    Over,
    /// End the whole walk.
    Stop,
}

/// Hooks called as the walk meets a document's selections; each does nothing by default.
pub trait Visitor<'a> {
    /// A field, `depth` fields deep (a root field is 1). [`Step::Into`] walks its
    /// directives and its selection set, then calls [`Visitor::leave_field`].
    fn enter_field(&mut self, _field: &'a Field, _depth: usize) -> Step {
        Step::Into
    }

    /// After a field's selection set.
    fn leave_field(&mut self, _field: &'a Field, _depth: usize) {}

    /// A spread of `fragment`, about to be expanded (not called by [`walk_written`], nor
    /// for a fragment already being expanded). [`Step::Into`] walks its directives and
    /// selections, then calls [`Visitor::leave_fragment`].
    fn enter_fragment(&mut self, _name: &'a Name, _fragment: &'a FragmentDefinition) -> Step {
        Step::Into
    }

    /// After an expanded fragment's selections.
    fn leave_fragment(&mut self, _name: &'a Name) {}

    /// An inline fragment on `type_condition` (`None` without one), about to be walked;
    /// [`Visitor::leave_inline`] follows its selections.
    fn enter_inline(&mut self, _type_condition: Option<&'a str>) {}

    /// After an inline fragment's selections.
    fn leave_inline(&mut self) {}

    /// A directive of an operation, fragment, spread, inline fragment or field (after
    /// [`Visitor::enter_field`] for a field's). [`Step::Into`] and [`Step::Over`] both go on.
    fn directive(&mut self, _directive: &'a Directive) -> Step {
        Step::Into
    }
}

/// Walks `set` with its fragments expanded, as the executor will resolve it.
pub fn walk_set<'a>(
    document: &'a ExecutableDocument,
    set: &'a SelectionSet,
    visitor: &mut impl Visitor<'a>,
) {
    let mut walk = Walk {
        document,
        visitor,
        expand: true,
    };
    let _ = walk.set(set, 1, None);
}

/// Walks every operation and every fragment definition of `document` once, as written:
/// spreads are not expanded (their directives are visited).
pub fn walk_written<'a>(document: &'a ExecutableDocument, visitor: &mut impl Visitor<'a>) {
    let mut walk = Walk {
        document,
        visitor,
        expand: false,
    };
    let operations = document
        .operations
        .iter()
        .map(|(_, op)| (&op.node.directives, &op.node.selection_set.node));
    let fragments = document
        .fragments
        .values()
        .map(|f| (&f.node.directives, &f.node.selection_set.node));
    let _ = operations
        .chain(fragments)
        .try_for_each(|(directives, set)| {
            walk.directives(directives)?;
            walk.set(set, 1, None)
        });
}

/// Whether the walk goes on.
type Flow = ControlFlow<()>;

/// What a visitor's [`Step`] out of an `enter_` hook means for the walk: `None` to go
/// into what was entered, or what to return without going into it.
fn entered(step: Step) -> Option<Flow> {
    match step {
        Step::Into => None,
        Step::Over => Some(Flow::Continue(())),
        Step::Stop => Some(Flow::Break(())),
    }
}

/// The fragments being expanded, innermost first: a list on the stack.
struct Path<'p, 'a> {
    name: &'a str,
    outer: Option<&'p Path<'p, 'a>>,
}

fn on_path(mut path: Option<&Path<'_, '_>>, name: &str) -> bool {
    while let Some(here) = path {
        if here.name == name {
            return true;
        }
        path = here.outer;
    }
    false
}

struct Walk<'a, 'v, V> {
    document: &'a ExecutableDocument,
    visitor: &'v mut V,
    /// Whether spreads are expanded.
    expand: bool,
}

impl<'a, V: Visitor<'a>> Walk<'a, '_, V> {
    fn set(&mut self, set: &'a SelectionSet, depth: usize, path: Option<&Path<'_, 'a>>) -> Flow {
        for selection in &set.items {
            match &selection.node {
                Selection::Field(field) => self.field(&field.node, depth, path)?,
                Selection::InlineFragment(inline) => {
                    self.directives(&inline.node.directives)?;
                    let on = inline.node.type_condition.as_ref();
                    self.visitor
                        .enter_inline(on.map(|c| c.node.on.node.as_str()));
                    self.set(&inline.node.selection_set.node, depth, path)?;
                    self.visitor.leave_inline();
                }
                Selection::FragmentSpread(spread) => {
                    self.directives(&spread.node.directives)?;
                    if self.expand {
                        self.spread(&spread.node.fragment_name.node, depth, path)?;
                    }
                }
            }
        }
        Flow::Continue(())
    }

    fn field(&mut self, field: &'a Field, depth: usize, path: Option<&Path<'_, 'a>>) -> Flow {
        if let Some(flow) = entered(self.visitor.enter_field(field, depth)) {
            return flow;
        }
        self.directives(&field.directives)?;
        self.set(&field.selection_set.node, depth + 1, path)?;
        self.visitor.leave_field(field, depth);
        Flow::Continue(())
    }

    fn spread(&mut self, name: &'a Name, depth: usize, path: Option<&Path<'_, 'a>>) -> Flow {
        let Some(fragment) = self.document.fragments.get(name) else {
            return Flow::Continue(());
        };
        if on_path(path, name) {
            return Flow::Continue(());
        }
        let fragment = &fragment.node;
        if let Some(flow) = entered(self.visitor.enter_fragment(name, fragment)) {
            return flow;
        }
        let inner = Path { name, outer: path };
        self.directives(&fragment.directives)?;
        self.set(&fragment.selection_set.node, depth, Some(&inner))?;
        self.visitor.leave_fragment(name);
        Flow::Continue(())
    }

    fn directives(&mut self, directives: &'a [Positioned<Directive>]) -> Flow {
        directives
            .iter()
            .try_for_each(|directive| match self.visitor.directive(&directive.node) {
                Step::Stop => Flow::Break(()),
                Step::Into | Step::Over => Flow::Continue(()),
            })
    }
}

#[cfg(test)]
mod tests {
    use async_graphql::parser::parse_query;

    use super::*;

    /// Writes down what the walk meets: `name@depth` per field, `>F`/`<F` around an
    /// expanded fragment, `@d` per directive; it steps over the fragments in `over`
    /// and stops at the field `stop`.
    #[derive(Default)]
    struct Log {
        seen: Vec<String>,
        over: &'static [&'static str],
        stop: &'static str,
    }

    impl<'a> Visitor<'a> for Log {
        fn enter_field(&mut self, field: &'a Field, depth: usize) -> Step {
            self.seen.push(format!("{}@{depth}", field.name.node));
            if field.name.node == self.stop {
                Step::Stop
            } else {
                Step::Into
            }
        }

        fn enter_fragment(&mut self, name: &'a Name, _: &'a FragmentDefinition) -> Step {
            self.seen.push(format!(">{name}"));
            if self.over.contains(&name.as_str()) {
                Step::Over
            } else {
                Step::Into
            }
        }

        fn leave_fragment(&mut self, name: &'a Name) {
            self.seen.push(format!("<{name}"));
        }

        fn directive(&mut self, directive: &'a Directive) -> Step {
            self.seen.push(format!("@{}", directive.name.node));
            Step::Into
        }
    }

    fn walk(query: &str, mut log: Log) -> String {
        let document = parse_query(query).unwrap();
        let (_, operation) = super::super::operation(&document, None).unwrap();
        walk_set(&document, &operation.selection_set.node, &mut log);
        log.seen.join(" ")
    }

    fn written(query: &str) -> Vec<String> {
        let document = parse_query(query).unwrap();
        let mut log = Log::default();
        walk_written(&document, &mut log);
        log.seen.sort();
        log.seen
    }

    #[test]
    fn fields_are_met_in_order_with_their_depth() {
        assert_eq!(
            walk("{ a { b { c } d } e }", Log::default()),
            "a@1 b@2 c@3 d@2 e@1"
        );
    }

    #[test]
    fn inline_fragments_and_spreads_are_expanded_in_place_at_the_same_depth() {
        assert_eq!(
            walk(
                "{ a { ... on T { b } ...F } } fragment F on T { c { d } }",
                Log::default()
            ),
            "a@1 b@2 >F c@2 d@3 <F"
        );
    }

    #[test]
    fn repeated_spreads_are_entered_each_time_unless_stepped_over() {
        let query = "{ ...F a { ...F } } fragment F on T { x }";
        assert_eq!(walk(query, Log::default()), ">F x@1 <F a@1 >F x@2 <F");
        let over = Log {
            over: &["F"],
            ..Log::default()
        };
        assert_eq!(walk(query, over), ">F a@1 >F");
    }

    #[test]
    fn fragment_cycles_are_cut_and_unknown_fragments_skipped() {
        assert_eq!(
            walk(
                "{ ...A } fragment A on T { a ...B } fragment B on T { b ...A ...C }",
                Log::default()
            ),
            ">A a@1 >B b@1 <B <A"
        );
        // A fragment may appear again once it is no longer on the path.
        assert_eq!(
            walk(
                "{ ...A ...A } fragment A on T { a { ...A } }",
                Log::default()
            ),
            ">A a@1 <A >A a@1 <A"
        );
    }

    #[test]
    fn stop_ends_the_whole_walk() {
        let stop = Log {
            stop: "b",
            ..Log::default()
        };
        assert_eq!(
            walk("{ a { ...F c } d } fragment F on T { b e }", stop),
            "a@1 >F b@2"
        );
    }

    #[test]
    fn directives_are_met_everywhere() {
        assert_eq!(
            walk(
                "query @o { a @f { ... @i { b } ...F @s } } fragment F on T @d { c }",
                Log::default()
            ),
            "a@1 @f @i b@2 @s >F @d c@2 <F"
        );
    }

    #[test]
    fn the_written_walk_reads_each_definition_once_without_expanding() {
        assert_eq!(
            written(
                "query A @o { a { ...F ...F @s } } query B { b } \
                 fragment F on T @d { c } fragment Unused on T { u }"
            ),
            ["@d", "@o", "@s", "a@1", "b@1", "c@1", "u@1"]
        );
    }
}
