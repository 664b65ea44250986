//! The front ends' first build: a development server whose `WEB_DIST` or `IDE_DIST` is
//! missing builds it with npm before it listens (`FRONTEND_BUILD`), so that a fresh
//! clone's `cargo run --release` serves the web app and the IDEs. Not a `build.rs`: that
//! would run inside clippy, `export-schema` and every test build.

use std::{path::Path, process::Stdio};

use tokio::process::Command;

use crate::config::FrontendConfig;

/// Builds each missing front end (the web app, the IDEs) when `config` asks for it and
/// npm is installed; says what it did, or what to run instead. A failed build is logged
/// and the server starts anyway: the API does not need the pages.
pub async fn ensure_built(config: &FrontendConfig) {
    let wanted = [
        ("the web app", &config.web_dist, "index.html"),
        (
            "GraphiQL and Playground",
            &config.ide_dist,
            "graphiql/index.html",
        ),
    ];
    for (what, dist, marker) in wanted {
        if dist.join(marker).is_file() {
            continue;
        }
        let Some(source) = dist.parent().filter(|p| p.join("package.json").is_file()) else {
            tracing::warn!(dist = %dist.display(), "{what} is not built, and its source is not beside it");
            continue;
        };
        if !config.build_on_start {
            tracing::warn!(
                "{what} is not built ({}): run `npm ci && npm run build` in {}",
                dist.display(),
                source.display()
            );
            continue;
        }
        match build(source).await {
            Ok(()) => tracing::info!("built {what} into {}", dist.display()),
            Err(error) => tracing::warn!(
                "could not build {what} ({error}); run `npm ci && npm run build` in {}",
                source.display()
            ),
        }
    }
}

/// `npm ci`, then `npm run build`, in `source`, their output passed through.
async fn build(source: &Path) -> Result<(), String> {
    for args in [
        &["ci", "--no-audit", "--no-fund"][..],
        &["run", "build"][..],
    ] {
        tracing::info!(
            "first start: npm {} in {}",
            args.join(" "),
            source.display()
        );
        let status = Command::new("npm")
            .args(args)
            .current_dir(source)
            .stdin(Stdio::null())
            .status()
            .await
            .map_err(|e| format!("npm: {e}"))?;
        if !status.success() {
            return Err(format!("npm {} ended with {status}", args.join(" ")));
        }
    }
    Ok(())
}
