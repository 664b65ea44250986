//! A real SMTP server for the email tests: `tests/smtp/sink.py` (Python's aiosmtpd, a
//! separate process), which writes every message it receives, decoded, into a folder.

use std::{
    io::{BufRead, BufReader},
    net::TcpListener,
    path::PathBuf,
    process::{Child, Command, Stdio},
    sync::atomic::{AtomicUsize, Ordering},
    time::{Duration, Instant},
};

use serde_json::Value;

/// A running SMTP sink, killed when dropped.
pub struct SmtpSink {
    /// Its port on 127.0.0.1.
    pub port: u16,
    dir: PathBuf,
    child: Child,
}

/// A port nothing listens on now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn fresh_dir() -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "conduit-smtp-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

impl SmtpSink {
    /// A sink on a free port.
    pub fn start() -> Self {
        Self::start_on(free_port(), fresh_dir(), None)
    }

    /// A sink on `port`, writing into `dir`, answering DATA after `delay` seconds.
    pub fn start_on(port: u16, dir: PathBuf, delay: Option<f64>) -> Self {
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/smtp/sink.py");
        let mut command = Command::new("python3");
        command
            .arg(script)
            .arg(port.to_string())
            .arg(&dir)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        if let Some(delay) = delay {
            command.arg("--delay").arg(delay.to_string());
        }
        let mut child = command
            .spawn()
            .expect("python3 runs tests/smtp/sink.py (pip install -r .ci/requirements-test.txt)");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        assert!(
            line.starts_with("listening"),
            "the SMTP sink did not start (is aiosmtpd installed? pip install -r .ci/requirements-test.txt): {line:?}"
        );
        Self { port, dir, child }
    }

    /// `SMTP_URL` for it (plain SMTP, no TLS).
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// Every message received so far, oldest first, decoded: `envelope_to`,
    /// `headers` (lower-case names to lists of values), `text`, `html`.
    pub fn messages(&self) -> Vec<Value> {
        let mut found: Vec<(usize, Value)> = std::fs::read_dir(&self.dir)
            .map(|entries| {
                entries
                    .filter_map(|e| {
                        let path = e.ok()?.path();
                        let n: usize = path
                            .file_name()?
                            .to_str()?
                            .strip_suffix(".json")?
                            .parse()
                            .ok()?;
                        let text = std::fs::read_to_string(&path).ok()?;
                        Some((n, serde_json::from_str(&text).ok()?))
                    })
                    .collect()
            })
            .unwrap_or_default();
        found.sort_by_key(|(n, _)| *n);
        found.into_iter().map(|(_, v)| v).collect()
    }

    /// Waits (up to `limit`) until at least `count` messages have arrived; returns them.
    pub async fn wait_for(&self, count: usize, limit: Duration) -> Vec<Value> {
        let started = Instant::now();
        loop {
            let messages = self.messages();
            if messages.len() >= count {
                return messages;
            }
            assert!(
                started.elapsed() < limit,
                "{} of {count} mails after {limit:?}: {messages:#?}",
                messages.len()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The messages whose subject contains `part`.
    pub fn with_subject(&self, part: &str) -> Vec<Value> {
        self.messages()
            .into_iter()
            .filter(|m| header(m, "subject").contains(part))
            .collect()
    }

    /// The messages to `address`.
    pub fn to(&self, address: &str) -> Vec<Value> {
        self.messages()
            .into_iter()
            .filter(|m| {
                m["envelope_to"]
                    .as_array()
                    .is_some_and(|to| to.iter().any(|t| t == address))
            })
            .collect()
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The first header `name` (lower case) of `message`.
pub fn header<'a>(message: &'a Value, name: &str) -> &'a str {
    message["headers"][name][0].as_str().unwrap_or_default()
}

/// The token in the first link to `path` (e.g. `/reset-password`) in `message`'s text.
pub fn link_token(message: &Value, path: &str) -> String {
    let text = message["text"].as_str().expect("a plain-text part");
    let start = text
        .find(&format!("{path}?token="))
        .unwrap_or_else(|| panic!("no {path} link in {text}"));
    let rest = &text[start + path.len() + "?token=".len()..];
    rest.split_whitespace().next().unwrap().to_owned()
}
