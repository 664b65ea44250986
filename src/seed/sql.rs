//! The seed's SQL expression builders: deterministic pseudo-random choices of a row's
//! ordinal (`hashint8extended(ordinal, salt)`), word lists as SQL arrays, and times. Each
//! returns SQL text; everything interpolated is a number, a column or a constant word list.
//! Imports nothing from the crate.

/// `hashint8extended(key, salt)` made non-negative: a deterministic pseudo-random bigint.
fn hash(key: &str, salt: u32) -> String {
    format!("(hashint8extended(({key})::bigint, {salt}) & 9223372036854775807)")
}

/// A deterministic pseudo-random integer in `0..n`.
pub(super) fn pick(key: &str, salt: u32, n: impl std::fmt::Display) -> String {
    format!("mod({}, {n})", hash(key, salt))
}

/// A deterministic pseudo-random float in `[0, 1)`.
pub(super) fn unit(key: &str, salt: u32) -> String {
    format!(
        "((hashint8extended(({key})::bigint, {salt}) & 4503599627370495)::float8 \
         / 4503599627370496.0)"
    )
}

/// `words` as an SQL `text[]` literal.
pub(super) fn text_array(words: &[&str]) -> String {
    let list: Vec<String> = words
        .iter()
        .map(|w| format!("'{}'", w.replace('\'', "''")))
        .collect();
    format!("ARRAY[{}]::text[]", list.join(", "))
}

/// One of `words`, chosen by `key` and `salt`.
pub(super) fn choose(words: &[&str], key: &str, salt: u32) -> String {
    format!(
        "({})[1 + {}]",
        text_array(words),
        pick(key, salt, words.len())
    )
}

/// A point in the past year: `offset_us` microseconds after a year ago.
pub(super) fn year_start_plus(offset_us: &str) -> String {
    format!("(now() - interval '365 days' + ({offset_us}) * interval '1 microsecond')")
}

/// A time between `since` and now, skewed towards `since` by `power`.
pub(super) fn after(since: &str, key: &str, salt: u32, power: u32) -> String {
    format!(
        "({since} + (now() - {since}) * power({}, {power}))",
        unit(key, salt)
    )
}
