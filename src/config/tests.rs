//! Unit tests of [`super::Config::from_lookup`]: defaults, production rules, and that a bad
//! value names its variable.

use super::*;
use std::collections::HashMap;

/// The configuration `vars` give (and nothing from the environment).
pub(super) fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
    let vars: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    Config::from_lookup(|name| vars.get(name).cloned())
}

#[test]
fn development_defaults() {
    let c = config(&[]).unwrap();
    assert_eq!(c.env, AppEnv::Development);
    assert_eq!((c.host.to_string(), c.port), ("127.0.0.1".to_owned(), 8080));
    assert_eq!(c.database.url, DEFAULT_DATABASE_URL);
    assert_eq!(c.database.pool_wait, Duration::from_secs(2));
    assert_eq!(c.body_limit, 1024 * 1024);
    assert_eq!(c.cors_origins, CorsOrigins::Localhost);
    assert!(c.graphiql && c.introspection && c.demo_data);
    assert_eq!(c.log_format, LogFormat::Pretty);
    assert_eq!(c.worker_threads, None, "tokio's default: one per core");
    assert_eq!(
        config(&[("WORKER_THREADS", " 1 ")]).unwrap().worker_threads,
        Some(1)
    );
}

#[test]
fn memory_limits_default_and_parse() {
    assert_eq!(config(&[]).unwrap().memory, MemoryLimits::default());
    let (max, budget) = ("RESPONSE_MAX_BYTES", "REQUEST_MEMORY_BUDGET_BYTES");
    let c = config(&[(max, "10"), (budget, "50"), ("REQUEST_MEMORY_WAIT_MS", "2")]);
    let memory = c.unwrap().memory;
    assert_eq!((memory.response_max_bytes, memory.budget_bytes), (10, 50));
    assert_eq!(memory.wait, Duration::from_millis(2));
    assert!(config(&[(max, "0")]).unwrap_err().to_string().contains(max));
    assert!(config(&[(budget, "0")]).is_err());
}

/// A valid server key ring of one key.
const KEY: &str = "k1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

#[test]
fn production_requires_database_url_and_turns_tools_off() {
    let err = config(&[("APP_ENV", "production")]).unwrap_err();
    assert!(
        matches!(err, ConfigError::RequiredInProduction("DATABASE_URL")),
        "{err}"
    );

    // Email links and the server key are required too, each said by name.
    let partial = [
        ("APP_ENV", "production"),
        ("DATABASE_URL", "postgres://db/x"),
    ];
    let err = config(&partial).unwrap_err();
    assert!(
        matches!(err, ConfigError::RequiredInProduction("PUBLIC_URL")),
        "{err}"
    );
    let err = config(&[
        partial[0],
        partial[1],
        ("PUBLIC_URL", "https://conduit.example"),
    ])
    .unwrap_err();
    assert!(
        matches!(err, ConfigError::RequiredInProduction("WEBHOOK_SECRET_KEY")),
        "{err}"
    );

    let c = config(&[
        ("APP_ENV", "production"),
        ("DATABASE_URL", "postgres://db/x"),
        ("PUBLIC_URL", "https://conduit.example"),
        ("WEBHOOK_SECRET_KEY", KEY),
    ])
    .unwrap();
    assert!(!c.graphiql && !c.introspection && !c.demo_data);
    assert_eq!(c.mail_transport, crate::outbox::email::MailTransport::Off);
    assert_eq!(c.log_format, LogFormat::Json);
    assert_eq!(c.cors_origins, CorsOrigins::List(vec![]));
}

#[test]
fn production_may_enable_introspection() {
    let c = config(&[
        ("APP_ENV", "production"),
        ("DATABASE_URL", "postgres://db/x"),
        ("PUBLIC_URL", "https://conduit.example"),
        ("WEBHOOK_SECRET_KEY", KEY),
        ("INTROSPECTION_ENABLED", "true"),
    ])
    .unwrap();
    assert!(c.introspection && !c.graphiql);
}

#[test]
fn bad_values_name_the_variable() {
    for (name, value) in [
        ("PORT", "eighty"),
        ("APP_ENV", "staging"),
        ("BODY_LIMIT_BYTES", "0"),
        ("LOG_FORMAT", "xml"),
        ("GRAPHIQL_ENABLED", "yes please"),
        ("DEMO_DATA", "maybe"),
        // Less than one query of the highest complexity allowed.
        ("COST_BUDGET_PER_MINUTE", "9999"),
        ("AUTH_ATTEMPTS_PER_ACCOUNT_TOTAL", "0"),
        ("TRUSTED_PROXIES", "10.0.0.0/8,nginx"),
        ("WORKER_THREADS", "0"),
        ("WORKER_THREADS", "all"),
    ] {
        let err = config(&[(name, value)]).unwrap_err().to_string();
        assert!(err.starts_with(name), "{err}");
    }
}

#[test]
fn the_cost_budget_is_on_unless_zero() {
    assert_eq!(
        config(&[]).unwrap().cost_budget.map(|n| n.get()),
        Some(100_000)
    );
    assert_eq!(
        config(&[("COST_BUDGET_PER_MINUTE", "0")])
            .unwrap()
            .cost_budget,
        None
    );
}

#[test]
fn metrics_token_is_optional_trimmed_and_never_printed() {
    let c = config(&[]).unwrap();
    assert!(c.metrics.token.is_none());
    assert_eq!(c.metrics.operation_names, 200);
    let c = config(&[
        ("METRICS_TOKEN", " s3cret "),
        ("METRICS_OPERATION_NAMES", "5"),
    ])
    .unwrap();
    let token = c.metrics.token.as_ref().unwrap();
    assert!(token.matches("s3cret"));
    assert!(!token.matches("s3cre") && !token.matches("s3creT") && !token.matches(""));
    assert_eq!(c.metrics.operation_names, 5);
    assert!(!format!("{c:?}").contains("s3cret"));
}

#[test]
fn throttle_proxies_and_redis() {
    let c = config(&[]).unwrap();
    assert_eq!((c.throttle.per_account_total.get(), c.redis), (100, None));
    assert_eq!(c.trusted_proxies, TrustedProxies::default());
    let c = config(&[
        ("AUTH_ATTEMPTS_PER_ACCOUNT_TOTAL", "7"),
        ("TRUSTED_PROXIES", "10.0.0.0/8, ::1"),
        ("REDIS_URL", " redis://r:6379 "),
    ])
    .unwrap();
    assert_eq!(c.throttle.per_account_total.get(), 7);
    assert!(c.trusted_proxies.contains("10.2.3.4".parse().unwrap()));
    let redis = c.redis.unwrap();
    assert_eq!(
        (&*redis.url, &*redis.key_prefix),
        ("redis://r:6379", "conduit:")
    );
}

#[test]
fn cors_list_is_trimmed() {
    let c = config(&[(
        "CORS_ALLOWED_ORIGINS",
        " https://a.example/ ,https://b.example",
    )])
    .unwrap();
    assert_eq!(
        c.cors_origins,
        CorsOrigins::List(vec!["https://a.example".into(), "https://b.example".into()])
    );
}

#[test]
fn only_development_without_database_url_may_fall_back_to_the_private_cluster() {
    let c = config(&[]).unwrap();
    assert!(c.dev_db_fallback);
    let probe = "postgres://postgres@127.0.0.1:1/conduit";
    let c = config(&[("CONDUIT_DEV_DB_PROBE_URL", probe)]).unwrap();
    assert_eq!((c.database.url.as_str(), c.dev_db_fallback), (probe, true));
    let given = "postgres://app@db.internal/conduit";
    let c = config(&[("DATABASE_URL", given), ("CONDUIT_DEV_DB_PROBE_URL", probe)]).unwrap();
    assert_eq!((c.database.url.as_str(), c.dev_db_fallback), (given, false));
    let production = [
        ("APP_ENV", "production"),
        ("DATABASE_URL", given),
        ("PUBLIC_URL", "https://conduit.example"),
        ("WEBHOOK_SECRET_KEY", KEY),
    ];
    assert!(!config(&production).unwrap().dev_db_fallback);
}
