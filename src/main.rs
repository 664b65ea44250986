//! The `conduit` command line: serve, migrate, export-schema.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use conduit::{
    AppState,
    config::Config,
    domain::{accounts, policy::Role},
    server, telemetry,
};

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
    /// Manage accounts.
    #[command(subcommand)]
    User(UserCommand),
}

#[derive(Debug, Subcommand)]
enum UserCommand {
    /// Give a user a role: `conduit user set-role <username> admin|user`.
    SetRole {
        /// The user's username (any case).
        username: String,
        /// The new role.
        role: RoleArg,
    },
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum RoleArg {
    User,
    Admin,
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
            Command::User(UserCommand::SetRole { username, role }) => {
                set_role(config, &username, role).await
            }
            Command::Serve | Command::ExportSchema => server::run(config).await,
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

async fn set_role(config: Config, username: &str, role: RoleArg) -> anyhow::Result<()> {
    let role = match role {
        RoleArg::User => Role::User,
        RoleArg::Admin => Role::Admin,
    };
    server::migrate(&config).await?;
    let state = AppState::new(config)?;
    accounts::set_role(&state, username, role)
        .await
        .map_err(|err| anyhow::anyhow!(err.client_message()))?;
    println!("{username} is now {}", role.as_db());
    Ok(())
}
