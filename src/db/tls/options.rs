//! The TLS options of `DATABASE_URL` that tokio-postgres does not take (`sslmode`'s
//! `verify-*` values, `sslrootcert`): found and taken out of a URL or a libpq
//! `key=value` string, the rest left for [`tokio_postgres::Config`].

use percent_encoding::percent_decode_str;

#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct TlsOptions {
    pub(super) sslmode: Option<String>,
    pub(super) sslrootcert: Option<String>,
}

/// Takes `sslmode` and `sslrootcert` out of `url` (the last of each wins, as in libpq).
pub(super) fn split_tls_options(url: &str) -> (String, TlsOptions) {
    let mut options = TlsOptions::default();
    let mut keep = |key: &str, value: String| -> bool {
        match key {
            "sslmode" => options.sslmode = Some(value),
            "sslrootcert" => options.sslrootcert = Some(value),
            _ => return true,
        }
        false
    };
    let rest = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        match url.split_once('?') {
            None => url.to_owned(),
            Some((base, query)) => {
                let kept: Vec<&str> = query
                    .split('&')
                    .filter(|pair| {
                        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
                        let decode =
                            |s: &str| percent_decode_str(s).decode_utf8_lossy().into_owned();
                        keep(&decode(key), decode(value))
                    })
                    .collect();
                if kept.is_empty() {
                    base.to_owned()
                } else {
                    format!("{base}?{}", kept.join("&"))
                }
            }
        }
    } else {
        key_value_pairs(url)
            .into_iter()
            .filter_map(|(key, value)| {
                keep(&key, value.clone()).then(|| format!("{key}='{}'", quote(&value)))
            })
            .collect::<Vec<_>>()
            .join(" ")
    };
    (rest, options)
}

/// `key = value` pairs of a libpq keyword/value string; values may be single-quoted, with
/// `\'` and `\\` inside. What does not parse is kept for tokio-postgres to reject.
fn key_value_pairs(text: &str) -> Vec<(String, String)> {
    let mut pairs = Vec::new();
    let mut chars = text.chars().peekable();
    loop {
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        if chars.peek().is_none() {
            return pairs;
        }
        let mut key = String::new();
        while let Some(c) = chars.next_if(|c| *c != '=' && !c.is_whitespace()) {
            key.push(c);
        }
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        chars.next_if_eq(&'=');
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        let mut value = String::new();
        if chars.next_if_eq(&'\'').is_some() {
            while let Some(c) = chars.next() {
                match c {
                    '\'' => break,
                    '\\' => value.extend(chars.next()),
                    c => value.push(c),
                }
            }
        } else {
            while let Some(c) = chars.next_if(|c| !c.is_whitespace()) {
                value.push(if c == '\\' {
                    chars.next().unwrap_or(c)
                } else {
                    c
                });
            }
        }
        pairs.push((key, value));
    }
}

fn quote(value: &str) -> String {
    value.replace('\\', "\\\\").replace('\'', "\\'")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(sslmode: Option<&str>, sslrootcert: Option<&str>) -> TlsOptions {
        TlsOptions {
            sslmode: sslmode.map(str::to_owned),
            sslrootcert: sslrootcert.map(str::to_owned),
        }
    }

    #[test]
    fn takes_the_tls_options_out_of_a_url() {
        assert_eq!(
            split_tls_options(
                "postgres://u@h:5/db?sslmode=verify-full&connect_timeout=3&sslrootcert=%2Ftmp%2Fca%20x.pem"
            ),
            (
                "postgres://u@h:5/db?connect_timeout=3".to_owned(),
                options(Some("verify-full"), Some("/tmp/ca x.pem"))
            )
        );
        assert_eq!(
            split_tls_options("postgres://u@h/db?sslmode=require"),
            (
                "postgres://u@h/db".to_owned(),
                options(Some("require"), None)
            )
        );
        assert_eq!(
            split_tls_options("postgresql://h/db"),
            ("postgresql://h/db".to_owned(), options(None, None))
        );
    }

    #[test]
    fn takes_the_tls_options_out_of_key_value_pairs() {
        let (rest, found) = split_tls_options(
            "host=h  dbname = 'my db' sslmode=verify-ca sslrootcert='/tmp/it\\'s.pem' user=u",
        );
        assert_eq!(found, options(Some("verify-ca"), Some("/tmp/it's.pem")));
        assert_eq!(rest, "host='h' dbname='my db' user='u'");
        let config: tokio_postgres::Config = rest.parse().unwrap();
        assert_eq!(config.get_dbname(), Some("my db"));
    }
}
