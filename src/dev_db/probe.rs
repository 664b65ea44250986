//! Whether the default database address can be used: something must answer there and
//! accept the default credentials (trust authentication for `postgres`). A laptop's own
//! PostgreSQL that asks for a password, or knows no `postgres` role, refuses them; then,
//! as when nothing answers, the private development cluster serves instead.

use std::time::Duration;

use tokio_postgres::error::SqlState;

use crate::db::tls::{Connector, one_line};

/// What the default address said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Probe {
    /// A server answered and let the default user in (its database may not exist yet:
    /// the bootstrap creates it).
    Usable,
    /// Nothing answered (refused, unreachable, timed out): why, in one line.
    Silent(String),
    /// A server answered and refused the default credentials: what it said.
    Refused(String),
}

/// Connects to `url` once, for at most `timeout`, and says whether it can be used.
pub async fn probe(url: &str, timeout: Duration) -> Probe {
    let connector = match Connector::from_url(url) {
        Ok(connector) => connector,
        // A malformed URL: the bootstrap reports it with its own message.
        Err(_) => return Probe::Usable,
    };
    let mut config = connector.config().clone();
    config.connect_timeout(timeout);
    let connector = connector.with_config(config);
    match tokio::time::timeout(timeout, connector.client()).await {
        Err(_) => Probe::Silent(format!("no answer within {} ms", timeout.as_millis())),
        Ok(Ok(_)) => Probe::Usable,
        Ok(Err(err)) => classify(&err),
    }
}

/// Sorts a failed connection: authentication refused, nothing there, or a server that
/// answered with another error (which the bootstrap reports as it is).
fn classify(err: &tokio_postgres::Error) -> Probe {
    let text = one_line(err);
    match err.code() {
        Some(&SqlState::INVALID_CATALOG_NAME) => Probe::Usable,
        // Class 28: invalid_authorization_specification (no pg_hba.conf entry, no such
        // role), invalid_password.
        Some(code) if code.code().starts_with("28") => Probe::Refused(text),
        Some(_) => Probe::Usable,
        // The server asked for a password, or for a method tokio-postgres lacks.
        None if text.contains("password missing") || text.contains("authentication") => {
            Probe::Refused(text)
        }
        None => Probe::Silent(text),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::{
        io::{AsyncReadExt, AsyncWriteExt},
        net::TcpListener,
    };

    const TIMEOUT: Duration = Duration::from_secs(5);

    /// A fake server on 127.0.0.1 that declines TLS, reads each connection's startup
    /// message and answers it with the protocol message `reply`; returns its URL.
    async fn fake_server(reply: Vec<u8>) -> String {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move {
            // `prefer` tries once more without TLS after a 28000: answer every attempt.
            while let Ok((mut socket, _)) = listener.accept().await {
                let reply = reply.clone();
                tokio::spawn(async move {
                    loop {
                        let length = socket.read_u32().await.unwrap() as usize;
                        let mut body = vec![0; length - 4];
                        socket.read_exact(&mut body).await.unwrap();
                        // SSLRequest: 80877103.
                        if body[..4] == 80_877_103u32.to_be_bytes() {
                            socket.write_all(b"N").await.unwrap();
                            continue;
                        }
                        socket.write_all(&reply).await.unwrap();
                        let _ = socket.read(&mut [0; 64]).await;
                        return;
                    }
                });
            }
        });
        format!("postgres://postgres@127.0.0.1:{port}/conduit")
    }

    /// An ErrorResponse with SQLSTATE `code`.
    fn error(code: &str, message: &str) -> Vec<u8> {
        let mut fields = Vec::new();
        for (tag, value) in [(b'S', "FATAL"), (b'C', code), (b'M', message)] {
            fields.push(tag);
            fields.extend_from_slice(value.as_bytes());
            fields.push(0);
        }
        fields.push(0);
        let mut message = vec![b'E'];
        message.extend_from_slice(&(fields.len() as u32 + 4).to_be_bytes());
        message.extend(fields);
        message
    }

    #[tokio::test]
    async fn nothing_listening_is_silent() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        drop(listener);
        let url = format!("postgres://postgres@127.0.0.1:{port}/conduit");
        assert!(matches!(probe(&url, TIMEOUT).await, Probe::Silent(_)));
    }

    #[tokio::test]
    async fn a_password_request_refuses_the_default_credentials() {
        // AuthenticationCleartextPassword; SCRAM and MD5 need a password the same way.
        let ask = [b'R', 0, 0, 0, 8, 0, 0, 0, 3].to_vec();
        let said = probe(&fake_server(ask).await, TIMEOUT).await;
        assert!(
            matches!(&said, Probe::Refused(why) if why.contains("password")),
            "{said:?}"
        );
    }

    #[tokio::test]
    async fn a_failed_password_or_unknown_role_refuses_them_too() {
        for code in ["28P01", "28000"] {
            let reply = error(code, "password authentication failed for user \"postgres\"");
            let said = probe(&fake_server(reply).await, TIMEOUT).await;
            assert!(
                matches!(&said, Probe::Refused(why) if why.contains("password authentication")),
                "{code}: {said:?}"
            );
        }
    }

    #[tokio::test]
    async fn a_missing_database_or_another_error_is_a_usable_server() {
        for code in ["3D000", "53300"] {
            let reply = error(code, "database \"conduit\" does not exist");
            let said = probe(&fake_server(reply).await, TIMEOUT).await;
            assert_eq!(said, Probe::Usable, "{code}");
        }
    }
}
