//! Query limits, checked by [`super::admission`] on every operation before anything runs,
//! whichever way it came in (HTTP, WebSocket, persisted queries).
//!
//! Each limit has its own `extensions.code` and setting:
//!
//! | limit | code | setting (default) |
//! |---|---|---|
//! | document size in bytes | `DOCUMENT_TOO_LARGE` | `QUERY_MAX_BYTES` (32768) |
//! | lexical tokens | `TOKEN_LIMIT_EXCEEDED` | `QUERY_MAX_TOKENS` (2000) |
//! | field nesting depth | `DEPTH_LIMIT_EXCEEDED` | `QUERY_MAX_DEPTH` (15) |
//! | aliases | `ALIAS_LIMIT_EXCEEDED` | `QUERY_MAX_ALIASES` (30) |
//! | root fields of an operation | `ROOT_FIELD_LIMIT_EXCEEDED` | `QUERY_MAX_ROOT_FIELDS` (20) |
//! | complexity | `COMPLEXITY_LIMIT_EXCEEDED` | `QUERY_MAX_COMPLEXITY` (10000) |
//!
//! **Complexity** counts 1 per field, and multiplies what is selected under a list by its
//! size: `first`/`last` (capped at 100, as the server caps pages), 20 for a connection
//! read with neither (it selects `edges` or `nodes`), and the number of `ids` given to
//! `nodes`. Large text fields weigh 1 per 4 KiB of their largest value in UTF-8 (4 bytes
//! a character): an article's `body` 98, a comment's `body` 10, `bio` 2, and
//! `description` 1. So `articles(first: 100) { nodes { comments(first: 100) { nodes { body } } } }`
//! and a page of 100 article bodies read twice are refused, while the home page at
//! `first: 100` costs about 5,400. The same walk estimates the bytes a response may hold
//! ([`Estimate::bytes`]), which the pipeline reserves from the instance's memory budget. Size and tokens are checked on the raw text before parsing ([`tokens`]);
//! root fields, depth and complexity ([`cost`]) on every operation of the document,
//! fragments expanded; aliases on the document as written (each fragment once).
//!
//! May call the document walk ([`super::document`]), the page sizes of
//! [`super::pagination`], the error codes and the budget's refusal.

mod cost;
mod tokens;

use async_graphql::{
    ServerError, ServerResult, Variables,
    parser::types::{ExecutableDocument, Field},
    value,
};

use self::{cost::Measure, tokens::count_tokens};

use super::{
    document::{self, Step, Visitor},
    error::with_code,
};
use crate::{
    error::{AppError, ErrorCode},
    ratelimit::budget::Refusal,
};

/// The limits' values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueryLimits {
    /// Most bytes in a document.
    pub bytes: usize,
    /// Most lexical tokens in a document.
    pub tokens: usize,
    /// Deepest field nesting (a root field is depth 1).
    pub depth: usize,
    /// Most aliases in a document.
    pub aliases: usize,
    /// Most root fields in one operation.
    pub root_fields: usize,
    /// Highest complexity of one operation.
    pub complexity: usize,
}

/// What an admitted operation is expected to take.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Estimate {
    /// Its complexity: what it costs.
    pub complexity: usize,
    /// The most bytes its response may hold, by the same count (large text at its
    /// largest, every other field 256, lists times their size).
    pub bytes: usize,
}

impl Estimate {
    /// The most bytes its response may hold when its text may be at most `text` bytes
    /// (what the response meter still allows): its estimate, at most that text plus
    /// [`cost::FIELD_BYTES`] per unit of complexity for everything else.
    pub fn held_bytes(&self, text: usize) -> usize {
        let other = self.complexity.saturating_mul(cost::FIELD_BYTES);
        self.bytes.min(text.saturating_add(other))
    }
}

/// The response extension reporting what an operation cost and what the caller's budget
/// has left: `{"requested", "limit", "remaining"}`.
pub const COST_KEY: &str = "cost";

/// Checks the raw text's size and tokens, before it is parsed.
pub fn check_text(query: &str, limits: &QueryLimits) -> ServerResult<()> {
    at_most(
        query.len(),
        limits.bytes,
        ErrorCode::DocumentTooLarge,
        || format!("The document is larger than {} bytes.", limits.bytes),
    )?;
    let tokens = count_tokens(query, limits.tokens + 1);
    at_most(tokens, limits.tokens, ErrorCode::TokenLimitExceeded, || {
        format!("The document has more than {} tokens.", limits.tokens)
    })
}

/// Checks the parsed document: no NUL character in its text or variables, then depth,
/// aliases, root fields and complexity. Returns the estimate of the operation
/// `operation_name` selects: what it costs, and how large its response may be.
pub fn check_document(
    query: &str,
    document: &ExecutableDocument,
    variables: &Variables,
    limits: &QueryLimits,
    operation_name: Option<&str>,
) -> ServerResult<Estimate> {
    if query.contains('\0') || super::input_text::has_nul(document, variables) {
        return Err(refuse(
            ErrorCode::BadUserInput,
            "Text may not contain the NUL character (U+0000).".to_owned(),
        ));
    }
    check(document, variables, limits, operation_name)
}

/// RATE_LIMITED, with `retryAfter` and the refused cost in `extensions`.
pub fn over_budget(refusal: Refusal) -> ServerError {
    let Refusal {
        cost,
        limit,
        retry_after_secs,
    } = refusal;
    let error: async_graphql::Error = AppError::RateLimited { retry_after_secs }.into();
    let mut server_error = ServerError::new(
        format!(
            "This operation costs {cost}, more than is left of the budget of {limit} per \
             minute; retry in {retry_after_secs} s."
        ),
        None,
    );
    let mut extensions = error.extensions.unwrap_or_default();
    extensions.set(COST_KEY, value!({ "requested": cost, "limit": limit }));
    server_error.extensions = Some(extensions);
    server_error
}

fn refuse(code: ErrorCode, message: String) -> ServerError {
    with_code(ServerError::new(message, None), code)
}

/// Refuses with `code` and the `message` when `value` is over `limit`.
fn at_most(
    value: usize,
    limit: usize,
    code: ErrorCode,
    message: impl FnOnce() -> String,
) -> ServerResult<()> {
    if value > limit {
        return Err(refuse(code, message()));
    }
    Ok(())
}

/// Checks depth, aliases, root fields and complexity of every operation of `document`;
/// returns the estimate of the operation `operation_name` selects (the highest, when
/// the selection is ambiguous: validation then refuses the document).
fn check(
    document: &ExecutableDocument,
    variables: &Variables,
    limits: &QueryLimits,
    operation_name: Option<&str>,
) -> ServerResult<Estimate> {
    let chosen = document::operation(document, operation_name).map(|(_, op)| op);
    let mut selected = None;
    let mut highest = Estimate::default();
    for (_, operation) in document.operations.iter() {
        let set = &operation.node.selection_set.node;
        let root_fields = document::root_keys(document, set).len();
        at_most(
            root_fields,
            limits.root_fields,
            ErrorCode::RootFieldLimitExceeded,
            || {
                format!(
                    "An operation may select at most {} root fields.",
                    limits.root_fields
                )
            },
        )?;
        // Variables the request leaves out take their defaults, as at execution.
        let mut effective = variables.clone();
        for definition in &operation.node.variable_definitions {
            let name = &definition.node.name.node;
            if let (None, Some(default)) = (effective.get(name), &definition.node.default_value) {
                effective.insert(name.clone(), default.node.clone());
            }
        }
        let Measure {
            depth,
            cost: complexity,
            bytes,
        } = cost::measure(document, &effective, set);
        at_most(depth, limits.depth, ErrorCode::DepthLimitExceeded, || {
            format!(
                "The query is {depth} fields deep; at most {} are allowed.",
                limits.depth
            )
        })?;
        at_most(
            complexity,
            limits.complexity,
            ErrorCode::ComplexityLimitExceeded,
            || {
                format!(
                    "The query's complexity is {complexity}; at most {} is allowed.",
                    limits.complexity
                )
            },
        )?;
        let estimate = Estimate { complexity, bytes };
        if estimate.complexity > highest.complexity {
            highest = estimate;
        }
        if chosen.is_some_and(|chosen| std::ptr::eq(chosen, &operation.node)) {
            selected = Some(estimate);
        }
    }
    let mut aliases = Aliases(0);
    document::walk_written(document, &mut aliases);
    let Aliases(aliases) = aliases;
    at_most(
        aliases,
        limits.aliases,
        ErrorCode::AliasLimitExceeded,
        || {
            format!(
                "The document has {aliases} aliases; at most {} are allowed.",
                limits.aliases
            )
        },
    )?;
    Ok(selected.unwrap_or(highest))
}

/// Counts the aliases of a document as written.
struct Aliases(usize);

impl<'a> Visitor<'a> for Aliases {
    fn enter_field(&mut self, field: &'a Field, _: usize) -> Step {
        self.0 += usize::from(field.alias.is_some());
        Step::Into
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use async_graphql::parser::parse_query;

    const LIMITS: QueryLimits = QueryLimits {
        bytes: 32_768,
        tokens: 2_000,
        depth: 15,
        aliases: 30,
        root_fields: 20,
        complexity: 10_000,
    };

    fn code(query: &str, variables: &str, limits: QueryLimits) -> Option<String> {
        let document = parse_query(query).unwrap();
        let variables = Variables::from_json(serde_json::from_str(variables).unwrap());
        check(&document, &variables, &limits, None)
            .err()
            .map(|e| e.extensions.unwrap().get("code").unwrap().to_string())
    }

    #[test]
    fn the_selected_operation_is_what_is_charged() {
        let document = parse_query("query A { a } query B { b { c d } }").unwrap();
        let cost = |name| {
            check(&document, &Variables::default(), &LIMITS, name)
                .unwrap()
                .complexity
        };
        assert_eq!(cost(Some("A")), 1);
        assert_eq!(cost(Some("B")), 3);
        assert_eq!(cost(None), 3);
        let document = parse_query("{ articles(first: 5) { nodes { slug } } }").unwrap();
        assert_eq!(
            check(&document, &Variables::default(), &LIMITS, None)
                .unwrap()
                .complexity,
            11
        );
    }

    #[test]
    fn defaults_and_fragments_count_as_at_execution() {
        let cost = |query: &str| {
            let document = parse_query(query).unwrap();
            check(&document, &Variables::default(), &LIMITS, None)
                .unwrap()
                .complexity
        };
        // The default of a variable left out applies: 1 + 100 × (1 + 1).
        assert_eq!(
            cost("query($n: Int = 100) { articles(first: $n) { nodes { slug } } }"),
            201
        );
        // A connection read through fragments is still a page of 20.
        assert_eq!(
            cost("{ articles { ...F } } fragment F on ArticleConnection { nodes { slug } }"),
            41
        );
        assert_eq!(
            cost("{ articles { ... on ArticleConnection { nodes { slug } } } }"),
            41
        );
    }

    #[test]
    fn complexity_multiplies_by_page_sizes() {
        let home = "{ articles(first: 100) { totalCount nodes { slug title description tags createdAt favoritesCount viewerHasFavorited author { username image viewerIsFollowing } commentsCount comments(first: 3) { nodes { body author { username } } } } } }";
        assert_eq!(code(home, "{}", LIMITS), None);
        let nested = "query($n: Int) { articles(first: $n) { nodes { comments(first: 100) { nodes { body } } } } }";
        assert_eq!(
            code(nested, r#"{"n": 100}"#, LIMITS).as_deref(),
            Some("\"COMPLEXITY_LIMIT_EXCEEDED\"")
        );
        assert_eq!(code(nested, r#"{"n": 1}"#, LIMITS), None);
        // A connection read with no size counts as 20; `first` beyond 100 as 100.
        let tight = QueryLimits {
            complexity: 50,
            ..LIMITS
        };
        assert_eq!(code("{ articles { nodes { slug } } }", "{}", tight), None);
        assert!(code("{ articles { nodes { slug title } } }", "{}", tight).is_some());
        assert_eq!(
            code(
                "{ popularTags(first: 1000) { name } }",
                "{}",
                QueryLimits {
                    complexity: 101,
                    ..LIMITS
                }
            ),
            None
        );
    }

    fn estimate(query: &str, variables: &str) -> Estimate {
        let document = parse_query(query).unwrap();
        let variables = Variables::from_json(serde_json::from_str(variables).unwrap());
        check(&document, &variables, &LIMITS, None).unwrap()
    }

    #[test]
    fn large_text_weighs_by_its_largest_value() {
        // An article's body: 100,000 characters of up to 4 bytes, 1 per 4 KiB.
        let bodies = "{ articles(first: 100) { nodes { body } } }";
        assert_eq!(estimate(bodies, "{}").complexity, 1 + 100 * (1 + 98));
        // A comment's body is a tenth as long, however it is reached.
        for comments in [
            "{ article(slug: \"a\") { comments(first: 100) { nodes { body } } } }",
            "{ article(slug: \"a\") { comments(first: 100) { edges { node { body } } } } }",
            "{ article(slug: \"a\") { ...C } } fragment C on Article { comments(first: 100) { ...N } } fragment N on CommentConnection { nodes { body } }",
        ] {
            let cost = estimate(comments, "{}").complexity;
            assert!((1_000..1_300).contains(&cost), "{cost}: {comments}");
        }
        let node =
            "{ nodes(ids: [\"a\", \"b\"]) { ... on Comment { body } ... on Article { body } } }";
        assert_eq!(estimate(node, "{}").complexity, 1 + 2 * (10 + 98));
        // The issue's read: 20 aliases of a page of 100 bodies.
        let aliases: String = (1..=20)
            .map(|i| format!("a{i}: articles(first: 100, tag: \"t\") {{ nodes {{ body }} }} "))
            .collect();
        assert_eq!(
            code(&format!("{{ {aliases} }}"), "{}", LIMITS).as_deref(),
            Some("\"COMPLEXITY_LIMIT_EXCEEDED\"")
        );
        // A webhook delivery's body weighs as the largest one (a comment's, and the rest).
        let deliveries = "{ viewer { webhooks(first: 1) { nodes { url deliveries(first: 100) { nodes { payload } } } } } }";
        let ids = deliveries.replace("payload", "id");
        let (heavy, light) = (estimate(deliveries, "{}"), estimate(&ids, "{}"));
        assert_eq!(heavy.complexity - light.complexity, 100 * (12 - 1));
        assert!(estimate(deliveries, "{}").bytes >= 100 * 48_000);
        // The estimate holds the bodies at their largest.
        assert!(estimate(bodies, "{}").bytes >= 100 * 400_000);
        assert!(estimate("{ __typename }", "{}").bytes < 1_000);
    }

    #[test]
    fn the_bench_workloads_stay_admitted() {
        let workloads = [
            include_str!("../../../bench/workloads/conduit/W0.graphql"),
            include_str!("../../../bench/workloads/conduit/W1.graphql"),
            include_str!("../../../bench/workloads/conduit/W2.graphql"),
            include_str!("../../../bench/workloads/conduit/W3.graphql"),
            include_str!("../../../bench/workloads/conduit/W4.graphql"),
            include_str!("../../../bench/workloads/conduit/W5a.graphql"),
            include_str!("../../../bench/workloads/conduit/W5b.graphql"),
            include_str!("../../../bench/workloads/conduit/W6.graphql"),
        ];
        for workload in workloads {
            // The largest page any of them may ask for.
            let cost = estimate(workload, r#"{"first": 100, "slug": "a"}"#).complexity;
            assert!(cost <= LIMITS.complexity, "{cost}: {workload}");
        }
    }

    #[test]
    fn depth_aliases_and_root_fields_expand_fragments() {
        let deep = "{ a { ...F } } fragment F on T { b { c { d } } }";
        assert_eq!(code(deep, "{}", QueryLimits { depth: 4, ..LIMITS }), None);
        assert_eq!(
            code(deep, "{}", QueryLimits { depth: 3, ..LIMITS }).as_deref(),
            Some("\"DEPTH_LIMIT_EXCEEDED\"")
        );
        // A chain of fragments each spreading the next twice: 2^60 paths, measured at once.
        let mut chain = String::from("{ ...F0 }");
        for i in 0..60 {
            chain += &format!(
                " fragment F{i} on Query {{ a {{ ...F{n} ...F{n} }} }}",
                n = i + 1
            );
        }
        chain += " fragment F60 on Query { b }";
        assert_eq!(
            code(&chain, "{}", LIMITS).as_deref(),
            Some("\"DEPTH_LIMIT_EXCEEDED\"")
        );
        let mut wide = String::from("{ ...F0 }");
        for i in 0..60 {
            wide += &format!(" fragment F{i} on Query {{ ...F{n} ...F{n} }}", n = i + 1);
        }
        wide += " fragment F60 on Query { b }";
        assert_eq!(
            code(&wide, "{}", LIMITS).as_deref(),
            Some("\"COMPLEXITY_LIMIT_EXCEEDED\"")
        );
        let cyclic = "{ a { ...F } } fragment F on T { b { ...F } }";
        assert_eq!(code(cyclic, "{}", LIMITS), None);
        let aliased = "{ x: a y: a ...F } fragment F on Query { z: a }";
        assert_eq!(
            code(
                aliased,
                "{}",
                QueryLimits {
                    aliases: 2,
                    ..LIMITS
                }
            )
            .as_deref(),
            Some("\"ALIAS_LIMIT_EXCEEDED\"")
        );
        assert_eq!(
            code(
                aliased,
                "{}",
                QueryLimits {
                    root_fields: 2,
                    ..LIMITS
                }
            )
            .as_deref(),
            Some("\"ROOT_FIELD_LIMIT_EXCEEDED\"")
        );
    }
}
