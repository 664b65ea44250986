//! Article slugs: readable URL names made from titles, unique with a numeric suffix.

/// Longest slug base, in bytes (ASCII), before any suffix.
pub const BASE_MAX: usize = 96;

/// Longest slug, in bytes: a base and `-<n>` with `n` a `u64`. A longer one names no
/// article, so lookups refuse it without reading it.
pub const SLUG_MAX: usize = BASE_MAX + 1 + 20;

/// The slug a title asks for: transliterated to ASCII, lower-case, words joined by `-`
/// (`"Hello, Wörld!"` → `"hello-world"`). Empty when the title has no letters or digits.
pub fn base(title: &str) -> String {
    let slug = slug::slugify(title);
    if slug.len() <= BASE_MAX {
        return slug;
    }
    // Cut at a word boundary where there is one, never inside a word's middle if avoidable.
    let cut = &slug[..BASE_MAX];
    match cut.rfind('-') {
        Some(at) if at > BASE_MAX / 2 => cut[..at].to_owned(),
        _ => cut.trim_end_matches('-').to_owned(),
    }
}

/// True when `slug` is `base` or `base-<n>`: a title with this base may keep it.
pub fn has_base(slug: &str, base: &str) -> bool {
    suffix_of(slug, base).is_some()
}

/// The first free slug for `base`, given the slugs in use that start with it: `base`
/// itself, else `base-2`, `base-3`, ...
pub fn first_free(base: &str, taken: &[String]) -> String {
    let used: std::collections::HashSet<u64> = taken
        .iter()
        .filter_map(|slug| suffix_of(slug, base))
        .collect();
    if !used.contains(&1) {
        return base.to_owned();
    }
    let n = (2..).find(|n| !used.contains(n)).expect("a free number");
    format!("{base}-{n}")
}

/// `Some(1)` for `base` itself, `Some(n)` for `base-n` (n ≥ 2), else `None`.
fn suffix_of(slug: &str, base: &str) -> Option<u64> {
    let rest = slug.strip_prefix(base)?;
    if rest.is_empty() {
        return Some(1);
    }
    let digits = rest.strip_prefix('-')?;
    if digits.starts_with('0') {
        return None;
    }
    digits.parse::<u64>().ok().filter(|n| *n >= 2)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bases_are_ascii_lower_case_words() {
        assert_eq!(base("Hello, World!"), "hello-world");
        assert_eq!(base("  Ünïcödé   titles  "), "unicode-titles");
        assert_eq!(base("!!!"), "");
        let long = base(&"word ".repeat(100));
        assert!(long.len() <= BASE_MAX && !long.ends_with('-'), "{long}");
    }

    #[test]
    fn first_free_picks_the_lowest_unused_suffix() {
        let taken = |list: &[&str]| list.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(first_free("a", &taken(&[])), "a");
        assert_eq!(first_free("a", &taken(&["a"])), "a-2");
        assert_eq!(first_free("a", &taken(&["a", "a-2", "a-b", "a-04"])), "a-3");
        assert_eq!(first_free("a", &taken(&["a-2"])), "a");
        assert!(has_base("a-7", "a") && !has_base("ab", "a") && !has_base("a-b", "a"));
    }
}
