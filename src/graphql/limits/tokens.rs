//! Counting a document's lexical tokens on its raw text, before it is parsed (the
//! `TOKEN_LIMIT_EXCEEDED` limit of [`super`]). Imports nothing from the crate.

/// Counts GraphQL lexical tokens in `text`, stopping at `stop` (enough to know a limit
/// is passed). Whitespace, commas and comments are not tokens; a malformed string counts
/// as what it reaches (the parser reports it).
pub(super) fn count_tokens(text: &str, stop: usize) -> usize {
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
}
