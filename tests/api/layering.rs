//! The layers, enforced: every `crate::` path in every file under `src/` (use lines,
//! inline paths, and paths inside macro calls; `super::` and `self::` resolved against the
//! file's own module) is checked against the order
//!
//! `http` → `graphql` → `outbox` / `seed` → `domain` (with `ratelimit` beside it) → `db`
//!
//! A module may reach only modules strictly below it and the leaves (`error`, `metrics`,
//! `telemetry`), which themselves reach no layer. The composition root (`main.rs`,
//! `lib.rs`, `server.rs`, `state.rs`, `config`, `dev_db`) sees everything, and no layer
//! reaches it.
//! Only `main` uses `seed`.
//!
//! Violations that existed when the test landed are listed in `layering_allowed.txt`
//! beside this file, one `file crate::module` a line. The list may only shrink: an entry
//! that no longer matches a violation fails the test too, so delete it.

use std::{
    collections::BTreeSet,
    fmt,
    path::{Path, PathBuf},
};

use proc_macro2::{Span, TokenStream, TokenTree};
use syn::visit::Visit;

/// Where a top-level module sits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Place {
    /// The composition root: may see everything; nothing below may see it.
    Root,
    /// A layer, by height: a layer reaches only lower ones.
    Layer(u8),
    /// Imports nothing from the layers; anything may import it.
    Leaf,
}

/// The place of each top-level module; `None` for a module the layering does not know.
fn place(module: &str) -> Option<Place> {
    Some(match module {
        "main" | "lib" | "server" | "state" | "config" | "dev_db" => Place::Root,
        "http" => Place::Layer(5),
        "graphql" => Place::Layer(4),
        "outbox" | "seed" => Place::Layer(3),
        "domain" | "ratelimit" => Place::Layer(2),
        "db" => Place::Layer(1),
        "error" | "metrics" | "telemetry" => Place::Leaf,
        _ => return None,
    })
}

/// One import that breaks a rule.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Violation {
    /// The file, relative to the crate (`src/db/sessions.rs`).
    file: String,
    /// Where in the file.
    line: usize,
    /// The path as written, resolved to start at `crate` (`crate::events::Event`).
    import: String,
    /// The module it reaches (`events`).
    target: String,
    /// The rule it breaks.
    rule: String,
}

impl Violation {
    /// The allow-list's form: `file crate::target`.
    fn key(&self) -> String {
        format!("{} crate::{}", self.file, self.target)
    }
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}: `{}` breaks the layering: {}",
            self.file, self.line, self.import, self.rule
        )
    }
}

/// The rule `import` (reaching top-level module `target`) breaks, when written in `file`
/// (top-level module `from`); `None` when it keeps them all.
fn broken_rule(file: &str, from: &str, target: &str) -> Option<String> {
    if from == target {
        return None;
    }
    if target == "seed" && file != "src/main.rs" {
        return Some("only `main` uses `seed` (demo and load-test data are tooling)".into());
    }
    let Some(from_place) = place(from) else {
        return Some(format!(
            "`{from}` is in no layer (http → graphql → outbox/seed → domain/ratelimit → db; \
             leaves error, metrics, telemetry; root main, lib, server, state, config, dev_db)"
        ));
    };
    let Some(target_place) = place(target) else {
        return Some(format!("`{target}` is in no layer"));
    };
    match (from_place, target_place) {
        (Place::Root, _) => None,
        (_, Place::Root) => Some(format!(
            "`{from}` reaches the composition root (`{target}`): only main, lib, server, \
             state, config and dev_db see everything; hand a layer what it needs instead"
        )),
        (Place::Leaf, Place::Leaf) | (Place::Layer(_), Place::Leaf) => None,
        (Place::Leaf, Place::Layer(_)) => Some(format!(
            "`{from}` is a leaf and imports nothing from the layers (`{target}` is one)"
        )),
        (Place::Layer(a), Place::Layer(b)) if b < a => None,
        (Place::Layer(a), Place::Layer(b)) if a == b => Some(format!(
            "`{from}` and `{target}` sit side by side: neither may import the other"
        )),
        (Place::Layer(_), Place::Layer(_)) => Some(format!(
            "`{from}` reaches `{target}`, a layer above it (http → graphql → outbox/seed → \
             domain/ratelimit → db)"
        )),
    }
}

/// The module path of a file under `src/` (`src/graphql/types/user.rs` →
/// `["graphql", "types", "user"]`; `mod.rs` names its folder; `lib.rs`, `main.rs` → `[]`).
fn module_path(relative: &Path) -> Vec<String> {
    let mut parts: Vec<String> = relative
        .strip_prefix("src")
        .expect("a file under src/")
        .iter()
        .map(|part| part.to_string_lossy().into_owned())
        .collect();
    let last = parts.pop().expect("a file name");
    let stem = last.trim_end_matches(".rs");
    if !(stem == "mod" || (parts.is_empty() && (stem == "lib" || stem == "main"))) {
        parts.push(stem.to_owned());
    }
    parts
}

/// Reads the `crate::` paths of one file.
struct Paths<'a> {
    /// The file's module path (see [`module_path`]).
    module: &'a [String],
    /// Each path reaching outside the file's own top-level module: (line, path, target).
    found: Vec<(usize, String, String)>,
}

impl Paths<'_> {
    /// Resolves a path's leading `crate` / `super` / `self` segments; records it when it
    /// names a top-level module (or an item of the crate root).
    fn record(&mut self, segments: &[String], span: Span) {
        let mut base: Vec<String> = match segments.first().map(String::as_str) {
            Some("crate") => Vec::new(),
            Some("super" | "self") => self.module.to_vec(),
            _ => return,
        };
        let mut rest = &segments[1..];
        if segments[0] == "super" {
            base.pop();
        }
        while let Some(segment) = rest.first().filter(|s| *s == "super") {
            let _ = segment;
            base.pop();
            rest = &rest[1..];
        }
        let resolved: Vec<String> = base.into_iter().chain(rest.iter().cloned()).collect();
        let Some(first) = resolved.first() else {
            return;
        };
        // A name that is no module of its own is an item of the crate root (`crate::app`).
        let target = if module_exists(first) || place(first).is_some() {
            first.clone()
        } else {
            "lib".to_owned()
        };
        let own = self.module.first().map_or("lib", String::as_str);
        if target != own {
            let text = format!("crate::{}", resolved.join("::"));
            self.found.push((span.start().line, text, target));
        }
    }

    /// Looks through a macro call's tokens for `crate :: name` paths.
    fn scan_tokens(&mut self, tokens: TokenStream) {
        let trees: Vec<TokenTree> = tokens.into_iter().collect();
        for (i, tree) in trees.iter().enumerate() {
            match tree {
                TokenTree::Group(group) => self.scan_tokens(group.stream()),
                TokenTree::Ident(ident) if ident == "crate" => {
                    let mut segments = vec!["crate".to_owned()];
                    let mut j = i + 1;
                    while let (Some(TokenTree::Punct(a)), Some(TokenTree::Punct(b))) =
                        (trees.get(j), trees.get(j + 1))
                    {
                        let Some(TokenTree::Ident(next)) = trees.get(j + 2) else {
                            break;
                        };
                        if a.as_char() != ':' || b.as_char() != ':' {
                            break;
                        }
                        segments.push(next.to_string());
                        j += 3;
                    }
                    if segments.len() > 1 {
                        self.record(&segments, ident.span());
                    }
                }
                _ => {}
            }
        }
    }
}

/// Whether `src/<name>.rs` or `src/<name>/mod.rs` exists.
fn module_exists(name: &str) -> bool {
    let src = crate_dir().join("src");
    src.join(format!("{name}.rs")).is_file() || src.join(name).join("mod.rs").is_file()
}

/// Every path a use tree names, as segments.
fn use_paths(tree: &syn::UseTree, prefix: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
    match tree {
        syn::UseTree::Path(path) => {
            prefix.push(path.ident.to_string());
            use_paths(&path.tree, prefix, out);
            prefix.pop();
        }
        syn::UseTree::Name(name) => {
            let mut full = prefix.clone();
            if name.ident != "self" {
                full.push(name.ident.to_string());
            }
            out.push(full);
        }
        syn::UseTree::Rename(rename) => {
            let mut full = prefix.clone();
            if rename.ident != "self" {
                full.push(rename.ident.to_string());
            }
            out.push(full);
        }
        syn::UseTree::Glob(_) => out.push(prefix.clone()),
        syn::UseTree::Group(group) => {
            for item in &group.items {
                use_paths(item, prefix, out);
            }
        }
    }
}

impl<'ast> Visit<'ast> for Paths<'_> {
    fn visit_item_use(&mut self, item: &'ast syn::ItemUse) {
        let mut paths = Vec::new();
        use_paths(&item.tree, &mut Vec::new(), &mut paths);
        for path in paths {
            self.record(&path, syn::spanned::Spanned::span(&item.tree));
        }
    }

    fn visit_path(&mut self, path: &'ast syn::Path) {
        let segments: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
        if let Some(first) = path.segments.first() {
            self.record(&segments, first.ident.span());
        }
        syn::visit::visit_path(self, path);
    }

    fn visit_macro(&mut self, mac: &'ast syn::Macro) {
        self.scan_tokens(mac.tokens.clone());
        syn::visit::visit_macro(self, mac);
    }
}

/// The violations in one file's source.
fn check_source(relative: &Path, source: &str) -> Vec<Violation> {
    let file = relative.to_string_lossy().replace('\\', "/");
    let syntax = syn::parse_file(source).unwrap_or_else(|err| panic!("{file}: {err}"));
    let module = module_path(relative);
    let from = module.first().map_or_else(
        || relative.file_stem().unwrap().to_string_lossy().into_owned(),
        Clone::clone,
    );
    let mut paths = Paths {
        module: &module,
        found: Vec::new(),
    };
    paths.visit_file(&syntax);
    paths
        .found
        .into_iter()
        .filter_map(|(line, import, target)| {
            broken_rule(&file, &from, &target).map(|rule| Violation {
                file: file.clone(),
                line,
                import,
                target,
                rule,
            })
        })
        .collect()
}

fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every `.rs` file under `dir`, relative to the crate.
fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read src/") {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            out.push(path.strip_prefix(crate_dir()).unwrap().to_path_buf());
        }
    }
}

/// Every `.rs` file under `src/` (relative to the crate, sorted) with its text.
fn sources() -> Vec<(PathBuf, String)> {
    let mut files = Vec::new();
    rust_files(&crate_dir().join("src"), &mut files);
    files.sort();
    files
        .into_iter()
        .map(|file| {
            let source = std::fs::read_to_string(crate_dir().join(&file)).unwrap();
            (file, source)
        })
        .collect()
}

/// The allow-list's entries (comments and blank lines skipped).
fn allowed() -> BTreeSet<String> {
    let path = crate_dir().join("tests/api/layering_allowed.txt");
    std::fs::read_to_string(&path)
        .unwrap_or_else(|err| panic!("{}: {err}", path.display()))
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .map(str::to_owned)
        .collect()
}

#[test]
fn no_module_reaches_a_layer_above_it() {
    let violations: Vec<Violation> = sources()
        .iter()
        .flat_map(|(file, source)| check_source(file, source))
        .collect();
    let allowed = allowed();
    let new: Vec<String> = violations
        .iter()
        .filter(|v| !allowed.contains(&v.key()))
        .map(ToString::to_string)
        .collect();
    let seen: BTreeSet<String> = violations.iter().map(Violation::key).collect();
    let stale: Vec<&String> = allowed.difference(&seen).collect();
    assert!(
        new.is_empty() && stale.is_empty(),
        "\n{}{}",
        if new.is_empty() {
            String::new()
        } else {
            format!("upward imports:\n  {}\n", new.join("\n  "))
        },
        if stale.is_empty() {
            String::new()
        } else {
            format!(
                "tests/api/layering_allowed.txt lists imports that are gone (delete the lines):\n  {}\n",
                stale
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join("\n  ")
            )
        },
    );
}

#[test]
fn the_checker_sees_every_form_of_upward_import() {
    let source = r#"
        use crate::{error::AppError, http::router};
        use super::super::graphql::Query;
        fn f() -> crate::state::AppState { todo!() }
        fn g() { tracing::info!("{}", crate::server::NAME); }
        mod inner { use crate::db::PgPool; }
    "#;
    let found = check_source(Path::new("src/db/users.rs"), source);
    let imports: Vec<&str> = found.iter().map(|v| v.import.as_str()).collect();
    assert_eq!(
        imports,
        [
            "crate::http::router",
            "crate::graphql::Query",
            "crate::state::AppState",
            "crate::server::NAME",
        ],
        "{found:#?}"
    );
    assert_eq!(
        found[0].to_string(),
        "src/db/users.rs:2: `crate::http::router` breaks the layering: `db` reaches `http`, \
         a layer above it (http → graphql → outbox/seed → domain/ratelimit → db)"
    );
    assert!(found[2].rule.contains("composition root"), "{}", found[2]);

    let seed = check_source(Path::new("src/server.rs"), "use crate::seed::plan;");
    assert!(seed[0].rule.contains("only `main` uses `seed`"), "{seed:?}");
    let side = check_source(Path::new("src/domain/x.rs"), "use crate::ratelimit::Key;");
    assert!(side[0].rule.contains("side by side"), "{side:?}");
    let leaf = check_source(Path::new("src/metrics.rs"), "use crate::db::PgPool;");
    assert!(leaf[0].rule.contains("is a leaf"), "{leaf:?}");
    assert!(check_source(Path::new("src/state.rs"), "use crate::http::router;").is_empty());
    assert!(check_source(Path::new("src/http/mod.rs"), "use crate::db::PgPool;").is_empty());
}

/// Longest a file under `src/` may be: past it, a file usually holds two things.
const MAX_LINES: usize = 500;

#[test]
fn every_module_says_what_it_owns_and_stays_small() {
    let mut problems = Vec::new();
    for (file, source) in &sources() {
        let name = file.display();
        // The generated Diesel schema is diesel's, not ours.
        if file.ends_with("db/schema.rs") {
            continue;
        }
        if !source.trim_start().starts_with("//!") {
            problems.push(format!("{name}: opens with no `//!` saying what it owns"));
        }
        let lines = source.lines().count();
        if lines > MAX_LINES {
            problems.push(format!(
                "{name}: {lines} lines (at most {MAX_LINES}): split it by job"
            ));
        }
    }
    assert!(problems.is_empty(), "\n  {}\n", problems.join("\n  "));
}
