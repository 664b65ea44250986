//! Where the browser-facing assets live: the web app's build (`WEB_DIST`) and the IDEs'
//! (`IDE_DIST`), and whether a development server builds what is missing at start
//! (`FRONTEND_BUILD`). Part of the composition root, read by
//! [`super::Config::from_lookup`].

use std::path::PathBuf;

use super::{ConfigError, parse};

/// The built front ends Conduit serves from disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrontendConfig {
    /// The web app's build (`WEB_DIST`, default `web/dist`): `index.html` and hashed
    /// `assets/`. Its parent, when it holds a `package.json`, is the app's source.
    pub web_dist: PathBuf,
    /// The IDEs' build (`IDE_DIST`, default `ide/dist`): `graphiql/` and `playground/`.
    /// Its parent, when it holds a `package.json`, is their source.
    pub ide_dist: PathBuf,
    /// Build a missing `WEB_DIST` or `IDE_DIST` at start with npm, when npm is there
    /// (`FRONTEND_BUILD`; default: in development).
    pub build_on_start: bool,
}

/// `WEB_DIST`, `IDE_DIST` and `FRONTEND_BUILD` (default `dev`).
pub(super) fn read(
    get: &impl Fn(&'static str) -> Option<String>,
    dev: bool,
) -> Result<FrontendConfig, ConfigError> {
    let path = |name, default: &str| PathBuf::from(get(name).unwrap_or_else(|| default.into()));
    Ok(FrontendConfig {
        web_dist: path("WEB_DIST", "web/dist"),
        ide_dist: path("IDE_DIST", "ide/dist"),
        build_on_start: parse(get, "FRONTEND_BUILD", dev)?,
    })
}
