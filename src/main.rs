//! The `conduit` command line: serve, migrate, export-schema, seed, user set-role,
//! outbox list|retry, dev-db status|stop.

use std::{
    process::ExitCode,
    time::{Duration, Instant},
};

/// mimalloc instead of glibc malloc: allocation was a fifth of the CPU under load.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use clap::{Parser, Subcommand};
use conduit::{
    AppState,
    config::Config,
    dev_db,
    domain::{policy::Role, sessions},
    seed::{self, DEMO_PASSWORD, MAX_ROWS, SeedPlan},
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
    /// Fill the database (created and migrated first) with a realistic data set, added to
    /// what is there. Every seeded user's password is `conduit-demo`.
    Seed(SeedArgs),
    /// Manage accounts.
    #[command(subcommand)]
    User(UserCommand),
    /// Inspect and retry the outbox's messages (email, webhook deliveries).
    #[command(subcommand)]
    Outbox(OutboxCommand),
    /// The private development PostgreSQL of this folder's checkout, which development
    /// uses without DATABASE_URL when nothing answers at the default address.
    #[command(subcommand)]
    DevDb(DevDbCommand),
}

#[derive(Debug, Subcommand)]
enum DevDbCommand {
    /// Where it lives, whether it runs, and its URL.
    Status,
    /// Stop it, whoever started it (its data stays).
    Stop,
}

#[derive(Debug, Subcommand)]
enum OutboxCommand {
    /// List the newest messages: `conduit outbox list [--failed] [--limit N]`.
    List {
        /// Only FAILED messages (out of attempts, or given up).
        #[arg(long)]
        failed: bool,
        /// How many to list.
        #[arg(long, default_value_t = 50)]
        limit: u32,
    },
    /// Queue a FAILED (or delivered) message again, with the same id and a fresh budget of
    /// attempts: `conduit outbox retry <ID>`.
    Retry {
        /// The message's id (from `conduit outbox list`).
        id: uuid::Uuid,
    },
}

/// How many rows `conduit seed` writes.
#[derive(Debug, clap::Args)]
struct SeedArgs {
    /// Users to create.
    #[arg(long, default_value_t = 100, value_parser = rows())]
    users: u32,
    /// Articles, by users who had joined by then.
    #[arg(long, default_value_t = 500, value_parser = rows())]
    articles: u32,
    /// Comments.
    #[arg(long, default_value_t = 2000, value_parser = rows())]
    comments: u32,
    /// Favorites: distinct (user, article) pairs.
    #[arg(long, default_value_t = 2000, value_parser = rows())]
    favorites: u32,
    /// Follows: distinct pairs of two different users.
    #[arg(long, default_value_t = 500, value_parser = rows())]
    follows: u32,
}

/// A row count for `conduit seed`: 0 to `MAX_ROWS`.
fn rows() -> clap::builder::RangedI64ValueParser<u32> {
    clap::value_parser!(u32).range(0..=i64::from(MAX_ROWS))
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
    if let Command::DevDb(command) = command {
        return dev_db_command(command);
    }

    let mut config = match Config::from_env() {
        Ok(config) => config,
        Err(err) => {
            eprintln!("error: {err}");
            return ExitCode::from(2);
        }
    };
    telemetry::init(config.log_format);
    let mut runtime = tokio::runtime::Builder::new_multi_thread();
    if let Some(threads) = config.worker_threads {
        runtime.worker_threads(threads);
    }
    let runtime = match runtime.enable_all().build() {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("error: cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    // Held until the runtime (and with it every connection) is gone.
    let private_database = match runtime.block_on(server::private_database(&mut config)) {
        Ok(lease) => lease,
        Err(err) => {
            eprintln!("error: {err:#}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match command {
            Command::Migrate => server::migrate(&config).await,
            Command::Seed(args) => seed(&config, &args).await,
            Command::User(UserCommand::SetRole { username, role }) => {
                set_role(config, &username, role).await
            }
            Command::Outbox(command) => outbox(&config, command).await,
            Command::Serve => server::run(config, seed_demo).await,
            Command::ExportSchema | Command::DevDb(_) => {
                unreachable!("answered before the configuration is read")
            }
        }
    });
    runtime.shutdown_timeout(Duration::from_secs(5));
    // Stops the private cluster if this process started it and is its last user.
    drop(private_database);
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

/// `conduit dev-db status|stop`, for the working folder's checkout.
fn dev_db_command(command: DevDbCommand) -> ExitCode {
    let result = std::env::current_dir()
        .map_err(anyhow::Error::from)
        .and_then(|checkout| match command {
            DevDbCommand::Status => dev_db::status(&checkout),
            DevDbCommand::Stop => dev_db::stop(&checkout),
        });
    match result {
        Ok(text) => {
            println!("{text}");
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

/// The demo data a development server starts with (`DEMO_DATA`).
async fn seed_demo(state: &AppState) -> anyhow::Result<()> {
    seed::demo(&state.pool, &state.passwords).await
}

/// `conduit seed`: creates and migrates the database, then adds the rows `args` asks for.
async fn seed(config: &Config, args: &SeedArgs) -> anyhow::Result<()> {
    let started = Instant::now();
    let plan = SeedPlan {
        users: args.users,
        articles: args.articles,
        comments: args.comments,
        favorites: args.favorites,
        follows: args.follows,
    };
    server::migrate(config).await?;
    let report = seed::run(&config.database.url, &plan).await?;
    let pool = conduit::db::build_pool(&config.database)?;
    conduit::domain::body_html::backfill(&pool)
        .await
        .map_err(|e| anyhow::anyhow!(e.client_message()))?;
    println!(
        "Seeded in {:.1} s: {} users, {} articles, {} comments, {} favorites, {} follows, \
         {} notifications ({} tags on the new articles).",
        started.elapsed().as_secs_f64(),
        report.users,
        report.articles,
        report.comments,
        report.favorites,
        report.follows,
        report.notifications,
        report.tags,
    );
    println!("Every seeded user's password is {DEMO_PASSWORD}");
    if let Some(email) = &report.example_email {
        println!("Example login: email {email}, password {DEMO_PASSWORD}");
    }
    Ok(())
}

/// `conduit outbox list|retry`.
async fn outbox(config: &Config, command: OutboxCommand) -> anyhow::Result<()> {
    use conduit::db;
    server::migrate(config).await?;
    let pool = db::build_pool(&config.database)?;
    let mut conn = db::connect(&pool)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    match command {
        OutboxCommand::List { failed, limit } => {
            let status = failed.then_some("failed");
            let rows = db::outbox::list(&mut conn, status, i64::from(limit))
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            println!(
                "{:<36}  {:<7}  {:<22}  {:<9}  {:>8}  {:<20}  last error",
                "id", "queue", "kind", "status", "attempts", "created"
            );
            for row in &rows {
                println!(
                    "{:<36}  {:<7}  {:<22}  {:<9}  {:>8}  {:<20}  {}",
                    row.id,
                    row.queue,
                    row.kind,
                    row.status,
                    row.attempts,
                    row.created_at.format("%Y-%m-%d %H:%M:%S"),
                    row.last_error.as_deref().unwrap_or("")
                );
            }
            println!("{} message(s)", rows.len());
        }
        OutboxCommand::Retry { id } => {
            if db::outbox::requeue(&mut conn, id)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?
            {
                println!("{id} is queued again");
            } else {
                anyhow::bail!("no message {id} that is not pending already");
            }
        }
    }
    Ok(())
}

async fn set_role(config: Config, username: &str, role: RoleArg) -> anyhow::Result<()> {
    let role = match role {
        RoleArg::User => Role::User,
        RoleArg::Admin => Role::Admin,
    };
    server::migrate(&config).await?;
    let state = AppState::new(config)?;
    sessions::change_role(&state.pool, &state.events, username, role)
        .await
        .map_err(|err| anyhow::anyhow!(err.client_message()))?;
    println!("{username} is now {}", role.as_db());
    Ok(())
}
