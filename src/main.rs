//! The `conduit` command line: serve, migrate, export-schema.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use conduit::{config::Config, server, telemetry};

/// Conduit: a GraphQL API server for the RealWorld publishing platform.
///
/// Settings come from environment variables (and `.env`); see README.md.
#[derive(Debug, Parser)]
#[command(name = "conduit", version)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the server (the default): create the database if missing, migrate, serve.
    Serve,
    /// Create the database if missing and apply pending migrations, then exit.
    Migrate,
    /// Print the GraphQL schema (SDL) to standard output.
    ExportSchema,
}

fn main() -> ExitCode {
    let command = Cli::parse().command.unwrap_or(Command::Serve);
    if let Command::ExportSchema = command {
        print!("{}", conduit::graphql::sdl());
        return ExitCode::SUCCESS;
    }

    let config = match Config::from_env() {
        Ok(config) => config,
        Err(err) => {
            eprintln!("error: {err}");
            return ExitCode::from(2);
        }
    };
    telemetry::init(config.log_format);
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("error: cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match command {
            Command::Migrate => server::migrate(&config).await,
            _ => server::run(config).await,
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}
