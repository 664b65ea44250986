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
//! `nodes`. So `articles(first: 100) { nodes { comments(first: 100) { nodes { body } } } }`
//! costs about 100 × 100 × 3 and is refused, while the home page at `first: 100` costs
//! under 3,000. Size and tokens are checked on the raw text before parsing; the others on
//! every operation of the document, fragments expanded.

use std::{cell::RefCell, collections::HashMap};

use async_graphql::{
    ServerError, ServerResult, Value, Variables,
    parser::types::{DocumentOperations, ExecutableDocument, Field, Selection, SelectionSet},
    value,
};

use super::error::with_code;
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

/// Page size assumed for a connection read with neither `first` nor `last`.
const DEFAULT_PAGE: usize = 20;
/// The largest page the server serves, and so the largest multiplier.
const MAX_PAGE: usize = 100;

/// The response extension reporting what an operation cost and what the caller's budget
/// has left: `{"requested", "limit", "remaining"}`.
pub const COST_KEY: &str = "cost";

/// Checks the raw text's size and tokens, before it is parsed.
pub fn check_text(query: &str, limits: &QueryLimits) -> ServerResult<()> {
    if query.len() > limits.bytes {
        return Err(refuse(
            ErrorCode::DocumentTooLarge,
            format!("The document is larger than {} bytes.", limits.bytes),
        ));
    }
    if count_tokens(query, limits.tokens + 1) > limits.tokens {
        return Err(refuse(
            ErrorCode::TokenLimitExceeded,
            format!("The document has more than {} tokens.", limits.tokens),
        ));
    }
    Ok(())
}

/// Checks the parsed document: no NUL character in its text or variables, then depth,
/// aliases, root fields and complexity. Returns the complexity of the operation
/// `operation_name` selects: what it costs.
pub fn check_document(
    query: &str,
    document: &ExecutableDocument,
    variables: &Variables,
    limits: &QueryLimits,
    operation_name: Option<&str>,
) -> ServerResult<usize> {
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

/// Checks depth, aliases, root fields and complexity of every operation of `document`;
/// returns the complexity of the operation `operation_name` selects (the highest, when
/// the selection is ambiguous: validation then refuses the document).
fn check(
    document: &ExecutableDocument,
    variables: &Variables,
    limits: &QueryLimits,
    operation_name: Option<&str>,
) -> ServerResult<usize> {
    let mut aliases = 0;
    let mut selected = None;
    let mut highest = 0;
    for (name, operation) in document.operations.iter() {
        let set = &operation.node.selection_set.node;
        if root_keys(document, set).len() > limits.root_fields {
            return Err(refuse(
                ErrorCode::RootFieldLimitExceeded,
                format!(
                    "An operation may select at most {} root fields.",
                    limits.root_fields
                ),
            ));
        }
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
        } = Walker::new(document, &effective).measure(set, &mut Vec::new());
        if depth > limits.depth {
            return Err(refuse(
                ErrorCode::DepthLimitExceeded,
                format!(
                    "The query is {depth} fields deep; at most {} are allowed.",
                    limits.depth
                ),
            ));
        }
        if complexity > limits.complexity {
            return Err(refuse(
                ErrorCode::ComplexityLimitExceeded,
                format!(
                    "The query's complexity is {complexity}; at most {} is allowed.",
                    limits.complexity
                ),
            ));
        }
        highest = highest.max(complexity);
        let single = matches!(document.operations, DocumentOperations::Single(_));
        if single || (name.is_some() && name.map(|n| n.as_str()) == operation_name) {
            selected = Some(complexity);
        }
    }
    for (_, operation) in document.operations.iter() {
        aliases += count_aliases(&operation.node.selection_set.node);
    }
    for fragment in document.fragments.values() {
        aliases += count_aliases(&fragment.node.selection_set.node);
    }
    if aliases > limits.aliases {
        return Err(refuse(
            ErrorCode::AliasLimitExceeded,
            format!(
                "The document has {aliases} aliases; at most {} are allowed.",
                limits.aliases
            ),
        ));
    }
    Ok(selected.unwrap_or(highest))
}

/// The distinct response keys at the root of `set`, fragments expanded (each once). Also
/// what subscriptions' single-root-field rule counts.
pub fn root_keys<'a>(document: &'a ExecutableDocument, set: &'a SelectionSet) -> Vec<&'a str> {
    fn collect<'a>(
        document: &'a ExecutableDocument,
        set: &'a SelectionSet,
        seen: &mut Vec<&'a str>,
        keys: &mut Vec<&'a str>,
    ) {
        for selection in &set.items {
            match &selection.node {
                Selection::Field(field) => {
                    let key = field.node.response_key().node.as_str();
                    if !keys.contains(&key) {
                        keys.push(key);
                    }
                }
                Selection::InlineFragment(fragment) => {
                    collect(document, &fragment.node.selection_set.node, seen, keys);
                }
                Selection::FragmentSpread(spread) => {
                    let name = spread.node.fragment_name.node.as_str();
                    if seen.contains(&name) {
                        continue;
                    }
                    seen.push(name);
                    if let Some(fragment) = document.fragments.get(&spread.node.fragment_name.node)
                    {
                        collect(document, &fragment.node.selection_set.node, seen, keys);
                    }
                }
            }
        }
    }
    let mut keys = Vec::new();
    collect(document, set, &mut Vec::new(), &mut keys);
    keys
}

/// Measures selection sets with fragments expanded. Each fragment is measured once and
/// remembered, so a chain of fragments that each spread the next twice costs linear
/// time, not exponential. A fragment already on the path is skipped: cycles are refused
/// by validation, which runs after this.
struct Walker<'a> {
    document: &'a ExecutableDocument,
    variables: &'a Variables,
    /// Depth and cost of each fragment measured so far.
    measured: RefCell<HashMap<&'a str, Measure>>,
}

/// How deep a selection set goes and what it costs.
#[derive(Debug, Clone, Copy, Default)]
struct Measure {
    depth: usize,
    cost: usize,
}

impl<'a> Walker<'a> {
    fn new(document: &'a ExecutableDocument, variables: &'a Variables) -> Self {
        Self {
            document,
            variables,
            measured: RefCell::default(),
        }
    }

    /// Depth (a field is 1 deeper than what it selects) and cost (1 per field, what a
    /// list selects times its size) of `set`.
    fn measure(&self, set: &'a SelectionSet, path: &mut Vec<&'a str>) -> Measure {
        let mut total = Measure::default();
        for selection in &set.items {
            let part = match &selection.node {
                Selection::Field(field) => {
                    let below = self.measure(&field.node.selection_set.node, path);
                    let multiplier = self.multiplier(&field.node);
                    Measure {
                        depth: below.depth + 1,
                        cost: multiplier.saturating_mul(below.cost).saturating_add(1),
                    }
                }
                Selection::InlineFragment(fragment) => {
                    self.measure(&fragment.node.selection_set.node, path)
                }
                Selection::FragmentSpread(spread) => {
                    let name = spread.node.fragment_name.node.as_str();
                    let known = self.measured.borrow().get(name).copied();
                    match (
                        known,
                        self.document.fragments.get(&spread.node.fragment_name.node),
                    ) {
                        (Some(measure), _) => measure,
                        (None, _) if path.contains(&name) => Measure::default(),
                        (None, Some(fragment)) => {
                            path.push(name);
                            let measure = self.measure(&fragment.node.selection_set.node, path);
                            path.pop();
                            self.measured.borrow_mut().insert(name, measure);
                            measure
                        }
                        (None, None) => Measure::default(),
                    }
                }
            };
            total.depth = total.depth.max(part.depth);
            total.cost = total.cost.saturating_add(part.cost);
        }
        total
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
            Some(Value::Number(n)) => n.as_u64().map(|n| (n as usize).min(MAX_PAGE)),
            _ => None,
        };
        if let Some(size) = page(argument("first")).or_else(|| page(argument("last"))) {
            return size;
        }
        if let Some(Value::List(ids)) = argument("ids") {
            return ids.len().max(1);
        }
        let set = &field.selection_set.node;
        if self.selects(set, "edges", &mut Vec::new())
            || self.selects(set, "nodes", &mut Vec::new())
        {
            return DEFAULT_PAGE;
        }
        1
    }
}

impl<'a> Walker<'a> {
    /// True when `set` selects a field `name`, directly or through fragments.
    fn selects(&self, set: &'a SelectionSet, name: &str, seen: &mut Vec<&'a str>) -> bool {
        set.items.iter().any(|selection| match &selection.node {
            Selection::Field(field) => field.node.name.node.as_str() == name,
            Selection::InlineFragment(fragment) => {
                self.selects(&fragment.node.selection_set.node, name, seen)
            }
            Selection::FragmentSpread(spread) => {
                let fragment_name = spread.node.fragment_name.node.as_str();
                if seen.contains(&fragment_name) {
                    return false;
                }
                seen.push(fragment_name);
                self.document
                    .fragments
                    .get(&spread.node.fragment_name.node)
                    .is_some_and(|f| self.selects(&f.node.selection_set.node, name, seen))
            }
        })
    }
}

fn count_aliases(set: &SelectionSet) -> usize {
    set.items
        .iter()
        .map(|selection| match &selection.node {
            Selection::Field(field) => {
                usize::from(field.node.alias.is_some())
                    + count_aliases(&field.node.selection_set.node)
            }
            Selection::InlineFragment(fragment) => count_aliases(&fragment.node.selection_set.node),
            Selection::FragmentSpread(_) => 0,
        })
        .sum()
}

/// Counts GraphQL lexical tokens in `text`, stopping at `stop` (enough to know a limit
/// is passed). Whitespace, commas and comments are not tokens; a malformed string counts
/// as what it reaches (the parser reports it).
fn count_tokens(text: &str, stop: usize) -> usize {
    let bytes = text.as_bytes();
    let mut i = 0;
    let mut tokens = 0;
    while i < bytes.len() && tokens < stop {
        let c = bytes[i];
        match c {
            b' ' | b'\t' | b'\n' | b'\r' | b',' => i += 1,
            b'#' => {
                while i < bytes.len() && bytes[i] != b'\n' && bytes[i] != b'\r' {
                    i += 1;
                }
            }
            b'"' => {
                tokens += 1;
                if bytes[i..].starts_with(b"\"\"\"") {
                    i += 3;
                    while i < bytes.len() && !bytes[i..].starts_with(b"\"\"\"") {
                        i += if bytes[i..].starts_with(b"\\\"\"\"") {
                            4
                        } else {
                            1
                        };
                    }
                    i += 3;
                } else {
                    i += 1;
                    while i < bytes.len() && bytes[i] != b'"' && bytes[i] != b'\n' {
                        i += if bytes[i] == b'\\' { 2 } else { 1 };
                    }
                    i += 1;
                }
            }
            b'.' if bytes[i..].starts_with(b"...") => {
                tokens += 1;
                i += 3;
            }
            c if c == b'_' || c.is_ascii_alphanumeric() || c == b'-' => {
                tokens += 1;
                i += 1;
                while i < bytes.len()
                    && (bytes[i] == b'_'
                        || bytes[i].is_ascii_alphanumeric()
                        || bytes[i] == b'.'
                        || bytes[i] == b'+'
                        || bytes[i] == b'-')
                {
                    // Names, and numbers with their fraction and exponent, as one token.
                    if (bytes[i] == b'+' || bytes[i] == b'-')
                        && !matches!(bytes[i - 1], b'e' | b'E')
                    {
                        break;
                    }
                    i += 1;
                }
            }
            0xEF if bytes[i..].starts_with("\u{feff}".as_bytes()) => i += 3,
            _ => {
                // Punctuators (and any other character, which the parser will refuse).
                tokens += 1;
                i += text[i..].chars().next().map_or(1, char::len_utf8);
            }
        }
    }
    tokens
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
        let cost = |name| check(&document, &Variables::default(), &LIMITS, name).unwrap();
        assert_eq!(cost(Some("A")), 1);
        assert_eq!(cost(Some("B")), 3);
        assert_eq!(cost(None), 3);
        let document = parse_query("{ articles(first: 5) { nodes { slug } } }").unwrap();
        assert_eq!(
            check(&document, &Variables::default(), &LIMITS, None).unwrap(),
            11
        );
    }

    #[test]
    fn defaults_and_fragments_count_as_at_execution() {
        let cost = |query: &str| {
            let document = parse_query(query).unwrap();
            check(&document, &Variables::default(), &LIMITS, None).unwrap()
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
    fn tokens_are_counted_like_the_spec_lexer() {
        assert_eq!(count_tokens("{ a }", 100), 3);
        assert_eq!(
            count_tokens("query Q($x: Int = -1.5e+3) { a(x: $x) @d }", 100),
            21
        );
        assert_eq!(
            count_tokens("{ a(s: \"x, y # z\") } # comment, not tokens", 100),
            8
        );
        assert_eq!(
            count_tokens(
                "{ ...F } fragment F on T { \"\"\"doc \\\"\"\" x\"\"\" b }",
                100
            ),
            12
        );
        assert_eq!(count_tokens("{ a }".repeat(1000).as_str(), 10), 10);
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
