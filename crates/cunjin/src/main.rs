//! `cunjin` (寸进): the server and the command-line verbs people script.

mod check;
mod config;
mod exchange;

use std::io::BufRead;
use std::process::ExitCode;

use anyhow::{bail, Context};
use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};
use cunjin_core::{Email, Role};
use cunjin_store::access::auth::NewUser;
use cunjin_store::access::workspaces::DEFAULT_WORKSPACE;
use cunjin_store::Store;

use crate::config::Config;

/// cunjin (寸进): see and close the gap between what was sold and what was shipped.
///
/// Records every promise made to a customer against the feature catalogue and measures the gap
/// in 尺 (product not built) and 寸 (delivered, but not yet what the customer really wants).
#[derive(Parser, Debug)]
#[command(name = "cunjin", version, about, long_about)]
struct Cli {
    /// TOML file with any of the settings that `cunjin --help` lists, by their keys.
    #[arg(long, env = "CUNJIN_CONFIG", global = true)]
    config: Option<std::path::PathBuf>,
    /// Every setting, as a flag (and a variable): see `config::SETTINGS`.
    #[command(flatten)]
    settings: config::SettingArgs,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run the web UI, the JSON API and background jobs.
    ///
    /// On an empty database this creates the administrator admin@localhost, with the password in
    /// CUNJIN_ADMIN_PASSWORD or a generated one printed once.
    Serve {
        /// Fill an empty workspace with a sample medical-IT vendor (EMR, HIS, DRG/DIP…) and a dozen hospitals.
        #[arg(long)]
        demo: bool,
    },
    /// Apply pending database migrations and exit (serve also does this on start).
    Migrate,
    /// Manage users.
    #[command(subcommand)]
    User(UserCommand),
    /// Manage workspaces: one per vendor, so that one deployment can host several.
    #[command(subcommand)]
    Workspace(WorkspaceCommand),
    /// Print the gap in 尺 and 寸: the portfolio, or one customer.
    Gap {
        /// One customer, by exact name.
        #[arg(long)]
        customer: Option<String>,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
        /// Workspace id (default: the first).
        #[arg(long)]
        workspace: Option<i64>,
    },
    /// Check a demo's readiness, or a demo environment's probes, now, from this machine.
    ///
    /// Runs the probes (not through a server), keeps their results in the database and prints
    /// the talk track: per scripted item how to show it (live, fallback, menu…) and why.
    /// Exit status: 0 ready, 1 not ready, 2 could not check (unknown demo or environment, bad
    /// URL, nothing answered) — so that cron or a CI pipeline can run it before a demo.
    Check {
        /// The demo id.
        #[arg(long, required_unless_present = "env", conflicts_with = "env")]
        demo: Option<i64>,
        /// Or the environment's exact name: runs all its probes.
        #[arg(long)]
        env: Option<String>,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
        /// Workspace id (default: the first).
        #[arg(long)]
        workspace: Option<i64>,
    },
    /// Write every table to FILE (JSON lines), readable by either engine: back up SQLite,
    /// restore into PostgreSQL, or the other way round.
    Backup {
        /// The file to write; written under a temporary name and renamed when complete.
        file: std::path::PathBuf,
    },
    /// Restore a backup into an empty database, all of it or nothing.
    Restore {
        /// The file written by `cunjin backup`.
        file: std::path::PathBuf,
    },
    /// Import requests, features, commitments or customers (with their deals) from a CSV or
    /// Excel (.xlsx) file, all or none.
    ///
    /// Reads UTF-8 (with or without BOM), GBK and GB18030; cunjin's own columns (as `cunjin
    /// export` writes them, in English or Chinese) or a ZenTao, Jira or Redmine export, guessed
    /// from the header line unless --format says. Customers and products named in the file are
    /// created when missing; deals must exist (import customers first). Every bad row is
    /// reported with its line and reason, and then nothing is written; columns with text that
    /// the import does not read are named. To move a workspace to another database, export and
    /// import in this order: features, customers, commitments, requests. Exit status: 0 imported
    /// (or a clean dry run), 1 bad rows (nothing written), 2 the file or the database could not
    /// be used.
    Import {
        /// requests, features, commitments or customers.
        #[arg(value_enum)]
        kind: exchange::KindArg,
        /// The file to read.
        file: std::path::PathBuf,
        /// csv or xlsx (cunjin's own columns), zentao, jira or redmine; guessed when absent.
        #[arg(long, value_enum)]
        format: Option<exchange::ImportFormat>,
        /// Check every row and print what would be created; write nothing.
        #[arg(long)]
        dry_run: bool,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
        /// No progress on standard error.
        #[arg(long)]
        quiet: bool,
        /// Workspace id (default: the first).
        #[arg(long)]
        workspace: Option<i64>,
    },
    /// Export requests, features, commitments or customers (with their deals) to a CSV (UTF-8
    /// with BOM) or Excel (.xlsx) file that `cunjin import` reads back: decisions, links,
    /// stages and criteria included.
    Export {
        /// requests, features, commitments or customers.
        #[arg(value_enum)]
        kind: exchange::KindArg,
        /// The file to write; written under a temporary name and renamed when complete.
        file: std::path::PathBuf,
        /// csv or xlsx; from the file's extension when absent (CSV unless .xlsx).
        #[arg(long, value_enum)]
        format: Option<exchange::ExportFormat>,
        /// Workspace id (default: the first).
        #[arg(long)]
        workspace: Option<i64>,
    },
    /// Fill an empty database with a synthetic medical-IT vendor, for load tests and benchmarks.
    ///
    /// `small`: 5 products, 500 features, 100 customers, 200 deals, 2,000 commitments, 10,000
    /// requests, 50 probes. `large` (the largest vendor of the design): 20 products, 20,000
    /// features, 5,000 customers, 10,000 deals, 200,000 commitments, 1,000,000 requests, 2,000
    /// probes. Chinese and English texts; the same seed gives the same data. Demo environments
    /// point at a closed local port. Progress goes to standard error.
    Generate {
        /// small or large.
        #[arg(long, default_value = "small")]
        scale: String,
        /// Seed of the generator.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Number of requests instead of the scale's.
        #[arg(long)]
        requests: Option<usize>,
        /// Seconds between scheduled probe runs of the generated demo environments.
        #[arg(long, default_value_t = 300)]
        probe_interval: i64,
        /// Workspace id (default: the first, created if there is none); it must be empty.
        #[arg(long)]
        workspace: Option<i64>,
    },
    /// Print the OpenAPI document of the JSON API.
    Openapi,
    /// Manage the key that encrypts stored secrets (probe headers, webhook signing secrets).
    #[command(subcommand)]
    Secrets(SecretsCommand),
}

#[derive(Subcommand, Debug)]
enum SecretsCommand {
    /// Re-encrypt every stored secret of every workspace with a new key, in one transaction.
    ///
    /// The key in use must be available (CUNJIN_SECRET_KEY, --secret-key-file, the config file
    /// or the default key file) and must decrypt every secret, or nothing changes. The new key
    /// comes from --new-key-file (read when the file exists, else generated into it, 0600);
    /// without it a new key is generated into the key file in use, whose old key is kept
    /// beside it as FILE.<old key id>.old for backups made before. Stop every `cunjin serve` on
    /// the database first and start them with the new key. Secrets are never printed.
    Rotate {
        /// Where the new key is read from, or generated into.
        #[arg(long)]
        new_key_file: Option<std::path::PathBuf>,
    },
}

#[derive(Subcommand, Debug)]
enum WorkspaceCommand {
    /// Create a workspace and print its id; add its first user with `cunjin user add --workspace ID`.
    Add {
        /// Display name, e.g. the vendor's name.
        name: String,
    },
    /// List workspaces.
    List {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand, Debug)]
enum UserCommand {
    /// Add a user. The password comes from --password-stdin, CUNJIN_USER_PASSWORD, or is generated and printed once.
    Add {
        /// Login e-mail address.
        #[arg(long)]
        email: String,
        /// Display name.
        #[arg(long, default_value = "")]
        name: String,
        /// admin, pm, presales, implementation, rnd, sales, leader or viewer.
        #[arg(long, default_value = "pm")]
        role: String,
        /// Read the password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
        /// Workspace id (default: the first).
        #[arg(long)]
        workspace: Option<i64>,
    },
    /// List the users of a workspace.
    List {
        /// Print JSON.
        #[arg(long)]
        json: bool,
        /// Workspace id (default: the first).
        #[arg(long)]
        workspace: Option<i64>,
    },
}

/// Logs to standard error, filtered by `CUNJIN_LOG`: as text, coloured only on a terminal (a
/// file or a log shipper would get escape codes), or one JSON object a line with
/// `CUNJIN_LOG_FORMAT=json`.
fn init_logging() {
    use std::io::IsTerminal;
    let filter = tracing_subscriber::EnvFilter::try_from_env("CUNJIN_LOG")
        .unwrap_or_else(|_| "info,sqlx=warn,tower_http=info".into());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match std::env::var("CUNJIN_LOG_FORMAT").as_deref() {
        Ok("json") => builder.json().init(),
        format => {
            let colour = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
            builder.with_ansi(colour).init();
            if let Ok(other) = format {
                if other != "text" {
                    tracing::warn!(
                        "CUNJIN_LOG_FORMAT={other} is neither text nor json; logging as text / 日志格式应为 text 或 json"
                    );
                }
            }
        }
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    init_logging();
    let cli = match Cli::command()
        .after_help(config::settings_help())
        .try_get_matches()
        .and_then(|m| Cli::from_arg_matches(&m))
    {
        Ok(cli) => cli,
        Err(e) => e.exit(),
    };
    match run(cli).await {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let sources = config::Sources::new(&cli.settings, cli.config.as_deref())?;
    let config = Config::resolve(&sources)?;
    match cli.command {
        Command::Serve { demo, .. } => serve(config, demo).await,
        Command::Migrate => migrate(&config).await,
        Command::User(UserCommand::Add {
            email,
            name,
            role,
            password_stdin,
            workspace,
        }) => add_user(&config, &email, &name, &role, password_stdin, workspace).await,
        Command::User(UserCommand::List { json, workspace }) => {
            list_users(&config, json, workspace).await
        }
        Command::Workspace(WorkspaceCommand::Add { name }) => add_workspace(&config, &name).await,
        Command::Workspace(WorkspaceCommand::List { json }) => list_workspaces(&config, json).await,
        Command::Gap {
            customer,
            json,
            workspace,
        } => gap(&config, workspace, customer.as_deref(), json).await,
        Command::Check {
            demo,
            env,
            json,
            workspace,
        } => check(&config, workspace, demo, env.as_deref(), json).await,
        Command::Backup { file } => backup(&config, &file).await,
        Command::Restore { file } => restore(&config, &file).await,
        Command::Import {
            kind,
            file,
            format,
            dry_run,
            json,
            quiet,
            workspace,
        } => {
            let args = exchange::ImportArgs {
                kind: kind.into(),
                file: &file,
                format,
                dry_run,
                json,
                quiet,
            };
            import(&config, workspace, args).await
        }
        Command::Export {
            kind,
            file,
            format,
            workspace,
        } => export(&config, workspace, kind.into(), &file, format).await,
        Command::Generate {
            scale,
            seed,
            requests,
            probe_interval,
            workspace,
        } => generate(&config, &scale, seed, requests, probe_interval, workspace).await,
        Command::Openapi => {
            println!("{}", serde_json::to_string_pretty(&cunjin_web::openapi())?);
            Ok(ExitCode::SUCCESS)
        }
        Command::Secrets(SecretsCommand::Rotate { new_key_file }) => {
            rotate_secret_key(&config, new_key_file).await
        }
    }
}

/// `cunjin migrate`: opening the store applies what is pending.
async fn migrate(config: &Config) -> anyhow::Result<ExitCode> {
    let store = open(config).await?;
    println!("migrations applied to {} / 迁移已完成", config.display_db());
    store.close().await;
    Ok(ExitCode::SUCCESS)
}

/// `cunjin workspace add NAME`: the id on standard output, for scripts.
async fn add_workspace(config: &Config, name: &str) -> anyhow::Result<ExitCode> {
    let store = open(config).await?;
    let w = store.create_workspace(name).await?;
    println!("{}", w.id);
    eprintln!("created workspace {} '{}' / 已创建工作区", w.id, w.name);
    Ok(ExitCode::SUCCESS)
}

/// `cunjin workspace list`.
async fn list_workspaces(config: &Config, json: bool) -> anyhow::Result<ExitCode> {
    let store = open(config).await?;
    let list = store.list_workspaces().await?;
    if json {
        println!("{}", serde_json::to_string_pretty(&list)?);
    } else {
        for w in list {
            println!("{:>6}  {}", w.id, w.name);
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `cunjin user list`.
async fn list_users(
    config: &Config,
    json: bool,
    workspace: Option<i64>,
) -> anyhow::Result<ExitCode> {
    let store = open(config).await?;
    let ws = workspace_or_first(&store, workspace).await?;
    let users = store.list_users(ws).await?;
    if json {
        println!("{}", serde_json::to_string_pretty(&users)?);
    } else {
        for u in users {
            println!("{:<32} {:<15} {}", u.email, u.role, u.name);
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `cunjin check`: see [`check::run`] for the exit status.
async fn check(
    config: &Config,
    workspace: Option<i64>,
    demo: Option<i64>,
    env: Option<&str>,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let store = open(config).await?;
    let ws = workspace_or_first(&store, workspace).await?;
    let code = check::run(&store, ws, demo, env, json).await;
    store.close().await;
    code
}

/// `cunjin import`: into the given workspace or the first one, made when there is none (a
/// database that was only migrated gets its default workspace, as `serve` makes it).
async fn import(
    config: &Config,
    workspace: Option<i64>,
    args: exchange::ImportArgs<'_>,
) -> anyhow::Result<ExitCode> {
    let store = open(config).await?;
    let ws = workspace_or_new(&store, workspace, DEFAULT_WORKSPACE).await?;
    let code = exchange::import(&store, ws, args).await;
    store.close().await;
    code
}

/// `cunjin export`.
async fn export(
    config: &Config,
    workspace: Option<i64>,
    kind: cunjin_exchange::Kind,
    file: &std::path::Path,
    format: Option<exchange::ExportFormat>,
) -> anyhow::Result<ExitCode> {
    let store = open(config).await?;
    let ws = workspace_or_first(&store, workspace).await?;
    let code = exchange::export(&store, ws, kind, file, format).await;
    store.close().await;
    code
}

/// `cunjin user add`: the password from standard input, `CUNJIN_USER_PASSWORD`, or generated and
/// shown once; into the given workspace or the first one (made when there is none).
async fn add_user(
    config: &Config,
    email: &str,
    name: &str,
    role: &str,
    password_stdin: bool,
    workspace: Option<i64>,
) -> anyhow::Result<ExitCode> {
    let email = Email::parse(email)?;
    let role = Role::parse(role)?;
    let (password, generated) = if password_stdin {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        (line.trim_end_matches(['\r', '\n']).to_string(), false)
    } else if let Ok(p) = std::env::var("CUNJIN_USER_PASSWORD") {
        (p, false)
    } else {
        (cunjin_store::access::auth::generate_password(), true)
    };
    cunjin_store::access::auth::check_password(&password)?;
    let store = open(config).await?;
    let ws = workspace_or_new(&store, workspace, DEFAULT_WORKSPACE).await?;
    let user = store
        .create_user(NewUser {
            workspace_id: ws,
            email,
            name,
            role,
            password: &password,
        })
        .await?;
    println!("added {} ({}) / 已添加用户", user.email, user.role);
    if generated {
        println!("password / 密码: {password}");
        println!("(shown once; 仅显示这一次)");
    }
    Ok(ExitCode::SUCCESS)
}

/// `cunjin backup FILE`: every table as JSON lines, written 0600 to `FILE.partial`, synced, then
/// renamed, so that a cut backup never stands under the final name.
async fn backup(config: &Config, file: &std::path::Path) -> anyhow::Result<ExitCode> {
    let store = open(config).await?;
    let tmp = file.with_extension("partial");
    // A backup holds password hashes and webhook secrets: readable by its owner only (a
    // file left by a killed run may have other permissions, so it is made anew).
    let _ = std::fs::remove_file(&tmp);
    let out = {
        use std::os::unix::fs::OpenOptionsExt;
        std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&tmp)
            .with_context(|| format!("cannot write {}", tmp.display()))?
    };
    let mut out = std::io::BufWriter::new(out);
    let moved = store
        .backup(&mut out, |table, n| {
            eprint!("\r{table}: {n} rows / 行          ")
        })
        .await;
    eprintln!();
    let moved = match moved {
        Ok(m) => m,
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            return Err(e.into());
        }
    };
    // Flushed and synced before the rename: a disk that fills up at the end must not leave
    // a cut backup under the final name (dropping the writer would swallow the error).
    let written = out
        .into_inner()
        .map_err(|e| e.into_error())
        .and_then(|f| f.sync_all());
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(anyhow::Error::from(e).context(format!("cannot write {}", tmp.display())));
    }
    std::fs::rename(&tmp, file).with_context(|| format!("cannot write {}", file.display()))?;
    println!(
        "backed up {} rows of {} tables to {} / 备份完成",
        moved.rows(),
        moved.tables.len(),
        file.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// `cunjin restore FILE` into an empty database, all or nothing.
async fn restore(config: &Config, file: &std::path::Path) -> anyhow::Result<ExitCode> {
    let input =
        std::fs::File::open(file).with_context(|| format!("cannot read {}", file.display()))?;
    let store = open(config).await?;
    let moved = store
        .restore(std::io::BufReader::new(input), |table, n| {
            eprint!("\r{table}: {n} rows / 行          ")
        })
        .await;
    eprintln!();
    let moved = moved.context("nothing was restored / 未恢复任何数据")?;
    println!(
        "restored {} rows of {} tables into {} / 恢复完成",
        moved.rows(),
        moved.tables.len(),
        config.display_db()
    );
    Ok(ExitCode::SUCCESS)
}

/// `cunjin generate`: a reproducible workspace at one of the scales, with progress every 5 s.
async fn generate(
    config: &Config,
    scale: &str,
    seed: u64,
    requests: Option<usize>,
    probe_interval: i64,
    workspace: Option<i64>,
) -> anyhow::Result<ExitCode> {
    let mut scale = cunjin_core::scale::Scale::parse(scale)?;
    if let Some(n) = requests {
        scale.requests = n;
    }
    let store = open(config).await?;
    let ws = workspace_or_new(&store, workspace, "生成数据 Generated vendor").await?;
    let options = cunjin_store::sample::generate::GenerateOptions {
        scale,
        seed,
        today: cunjin_store::today(),
        probe_interval_s: probe_interval.max(1),
    };
    let mut last_report = std::time::Instant::now();
    let s = store
        .generate(ws, &options, &mut |table, done, total| {
            if done == total || last_report.elapsed().as_secs() >= 5 {
                eprintln!("  {table}: {done} / {total}");
                last_report = std::time::Instant::now();
            }
        })
        .await?;
    println!(
        "generated / 已生成 in {:.1} s: {} products, {} features, {} customers, {} deals, {} commitments ({} criteria), {} requests, {} environments, {} probes, {} demos",
        s.seconds, s.products, s.features, s.customers, s.deals, s.commitments, s.criteria, s.requests, s.environments, s.probes, s.demos
    );
    store.close().await;
    Ok(ExitCode::SUCCESS)
}

/// `cunjin secrets rotate`: a new key, every secret re-encrypted with it in one transaction,
/// then the key files put in place. A key file is only ever created new, never overwritten.
async fn rotate_secret_key(
    config: &Config,
    new_key_file: Option<std::path::PathBuf>,
) -> anyhow::Result<ExitCode> {
    let store = open(config).await?;
    let code = rotate_with(&store, new_key_file).await;
    store.close().await;
    code
}

async fn rotate_with(
    store: &Store,
    new_key_file: Option<std::path::PathBuf>,
) -> anyhow::Result<ExitCode> {
    use cunjin_store::ops::secrets::{read_key_file, write_new_key_file, KeyOrigin, SecretKey};
    let old_id = store.secret_key_id().unwrap_or_default();
    let origin = store.secret_key_origin();
    // The new key, where it is, whether this run wrote that file, and the file in use that it
    // replaces once the database is re-encrypted.
    let (new, path, written, replaces) = match (new_key_file, &origin) {
        (Some(path), _) if path.exists() => (read_key_file(&path)?, path, false, None),
        (Some(path), _) => {
            let key = SecretKey::generate();
            if !write_new_key_file(&path, &key)? {
                bail!("{} appeared while it was written; run again", path.display());
            }
            (key, path, true, None)
        }
        (None, Some(KeyOrigin::File { path, .. })) => {
            let staged = std::path::PathBuf::from(format!("{}.new", path.display()));
            let key = SecretKey::generate();
            if !write_new_key_file(&staged, &key)? {
                bail!(
                    "{} exists (left by an earlier rotation?): remove it, or give it with --new-key-file / 文件已存在，请删除或用 --new-key-file 指定",
                    staged.display()
                );
            }
            (key, staged, true, Some(path.clone()))
        }
        (None, _) => bail!(
            "the key in use comes from CUNJIN_SECRET_KEY or the config file's secret_key: give --new-key-file FILE for the new one / 当前密钥来自 CUNJIN_SECRET_KEY 或配置文件，请用 --new-key-file 指定新密钥文件"
        ),
    };
    let n = match store.rotate_secret_key(&new).await {
        Ok(n) => n,
        Err(e) => {
            if written {
                let _ = std::fs::remove_file(&path);
            }
            return Err(
                anyhow::Error::from(e).context("nothing was re-encrypted / 未重新加密任何机密")
            );
        }
    };
    println!(
        "re-encrypted {n} secrets with the new key {} / 已用新密钥 {} 重新加密 {n} 个机密",
        new.id(),
        new.id()
    );
    match replaces {
        Some(in_use) => {
            let kept = std::path::PathBuf::from(format!("{}.{old_id}.old", in_use.display()));
            std::fs::rename(&in_use, &kept)
                .and_then(|()| std::fs::rename(&path, &in_use))
                .with_context(|| {
                    format!(
                        "the database now needs the key in {}: move it to {} / 数据库现在需要 {} 中的新密钥",
                        path.display(),
                        in_use.display(),
                        path.display()
                    )
                })?;
            println!(
                "the new key is in {} / 新密钥位于 {}",
                in_use.display(),
                in_use.display()
            );
            println!(
                "the old key {old_id} is kept in {} for backups made before now / 旧密钥 {old_id} 保留在 {}，用于恢复此前的备份",
                kept.display(),
                kept.display()
            );
        }
        None => {
            println!(
                "the new key is in {}: point secret_key_file or CUNJIN_SECRET_KEY_FILE at it before the next start / 新密钥位于 {}：下次启动前请把 secret_key_file 或 CUNJIN_SECRET_KEY_FILE 指向它",
                path.display(),
                path.display()
            );
            println!(
                "backups made before now need the old key {old_id} / 此前的备份需要旧密钥 {old_id}"
            );
        }
    }
    println!("restart every cunjin serve on this database / 请重启所有连接此数据库的 cunjin serve");
    Ok(ExitCode::SUCCESS)
}

async fn open(config: &Config) -> anyhow::Result<Store> {
    let store = Store::open_with(&config.db, config.secret_key.clone())
        .await
        .with_context(|| format!("cannot open the database {}", config.display_db()))?;
    if let Some(cunjin_store::ops::secrets::KeyOrigin::File {
        path,
        created: true,
    }) = store.secret_key_origin()
    {
        // On standard error: some verbs print a result on standard output for scripts.
        eprintln!(
            "generated the key that encrypts stored secrets in {} (mode 0600): back it up apart from the database; every instance on this database needs it / 已生成加密机密的密钥文件 {}：请与数据库分开备份，每个实例都需要它",
            path.display(),
            path.display()
        );
    }
    Ok(store)
}

/// The given workspace, or the first one, made with `name` when the database has none.
async fn workspace_or_new(store: &Store, ws: Option<i64>, name: &str) -> anyhow::Result<i64> {
    Ok(match ws {
        Some(w) => w,
        None => store.first_or_new_workspace(name).await?.id,
    })
}

/// The given workspace, or the first one; an error when the database has none.
async fn workspace_or_first(store: &Store, ws: Option<i64>) -> anyhow::Result<i64> {
    match ws {
        Some(w) => Ok(w),
        None => match store.first_workspace().await? {
            Some(w) => Ok(w.id),
            None => bail!("the database is empty: run `cunjin serve` once / 数据库为空：请先运行 cunjin serve"),
        },
    }
}

/// Text from the database or a file, made safe for a terminal: control characters (an escape
/// sequence in a customer's name could recolour or rewrite the screen) and the marks that
/// reorder text right to left are shown escaped, `\u{1b}`, instead of acting.
pub(crate) fn printable(text: &str) -> std::borrow::Cow<'_, str> {
    let acts =
        |c: char| c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}');
    if !text.chars().any(acts) {
        return text.into();
    }
    text.chars()
        .map(|c| {
            if acts(c) {
                c.escape_unicode().to_string()
            } else {
                c.to_string()
            }
        })
        .collect::<String>()
        .into()
}

/// `cunjin gap`: the portfolio, or one customer by exact name (exit status 1 when there is no
/// such customer).
async fn gap(
    config: &Config,
    workspace: Option<i64>,
    customer: Option<&str>,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let store = open(config).await?;
    let ws = workspace_or_first(&store, workspace).await?;
    if let Some(name) = customer {
        let Some(c) = store.find_customer_by_name(ws, name).await? else {
            eprintln!("no customer named '{name}' / 没有名为“{name}”的客户");
            return Ok(ExitCode::from(1));
        };
        let g = store.gap_for_customer(ws, c.id.get()).await?;
        if json {
            println!("{}", serde_json::to_string_pretty(&g)?);
        } else {
            println!(
                "{}: {} 尺 {} 寸 ({} open commitments / 未结承诺)",
                printable(&g.name),
                g.chi,
                g.cun,
                g.open_commitments
            );
        }
        return Ok(ExitCode::SUCCESS);
    }
    let g = store.gap(ws, None).await?;
    if json {
        println!("{}", serde_json::to_string_pretty(&g)?);
    } else {
        println!("portfolio gap / 全部差距: {} 尺 {} 寸", g.chi, g.cun);
        println!(
            "{:>6} {:>6} {:>6}  customer / 客户",
            "尺chi", "寸cun", "open"
        );
        for c in &g.customers {
            println!(
                "{:>6} {:>6} {:>6}  {}{}",
                c.chi,
                c.cun,
                c.open_commitments,
                printable(&c.name),
                if c.pilot { " [pilot 试点]" } else { "" }
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `cunjin serve`: the first administrator, the sample workspace if asked, then the web server
/// and the background jobs until a signal.
async fn serve(config: Config, demo: bool) -> anyhow::Result<ExitCode> {
    let store = open(&config).await?;
    let admin_password = std::env::var("CUNJIN_ADMIN_PASSWORD")
        .ok()
        .filter(|p| !p.is_empty());
    if let Some(first) = store.ensure_first_admin(admin_password.as_deref()).await? {
        match first.generated_password {
            Some(p) => {
                println!("created the administrator {} / 已创建管理员", first.user.email);
                println!("password / 密码: {p}");
                println!("(shown once: write it down, or set CUNJIN_ADMIN_PASSWORD on first start; 仅显示这一次)");
            }
            None => println!(
                "created the administrator {} with the password from CUNJIN_ADMIN_PASSWORD / 已创建管理员",
                first.user.email
            ),
        }
    }
    if demo {
        let ws = workspace_or_first(&store, None).await?;
        match store.seed_demo(ws, cunjin_store::today()).await? {
            Some(s) => println!(
                "sample workspace ready / 示例数据已生成: {} products, {} features, {} customers, {} deals, {} commitments, {} releases, {} requests, {} demo environments, {} demos, {} time entries",
                s.products, s.features, s.customers, s.deals, s.commitments, s.releases, s.requests, s.environments, s.demos, s.time_entries
            ),
            None => println!("the workspace already has data; sample not added / 工作区已有数据，未添加示例"),
        }
    }
    let listener = tokio::net::TcpListener::bind(&config.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.listen))?;
    let addr = listener.local_addr()?;
    println!("cunjin is running at http://{addr}/ / 寸进已启动");
    let mut state = cunjin_web::AppState::new(store.clone(), config.web.clone());
    // One bound on probes running at once, shared by "run now", checks and the scheduler.
    state.prober = cunjin_web::probing::Prober::with_outbound(
        config.scheduler.concurrency,
        &config.web.outbound,
    );
    // Scheduled probe runs, the checks 24 h and 1 h before demos, and history retention; safe
    // with several instances on one database (each run is claimed once).
    let jobs = cunjin_web::scheduler::spawn(
        store.clone(),
        state.prober.clone(),
        cunjin_web::notify::Dispatcher::with_outbound(
            std::time::Duration::from_secs(10),
            &config.web.outbound,
        ),
        config.scheduler.clone(),
    );
    cunjin_web::serve(listener, state, shutdown_signal()).await?;
    jobs.abort();
    store.close().await;
    Ok(ExitCode::SUCCESS)
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutting down");
}
