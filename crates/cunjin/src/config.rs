//! Configuration from one table of settings ([`SETTINGS`]): each setting is a key of the TOML
//! file (`--config FILE`), a `CUNJIN_*` variable and, unless it is a secret, a flag; documented
//! once, here, and shown by `cunjin --help`. A flag or a variable wins over the file, the file
//! over the default.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use anyhow::{anyhow, bail, Context};
use cunjin_store::ops::secrets::{SecretKey, SecretKeySource};
use cunjin_web::outbound::{AllowList, OutboundConfig, ProbeRedirects};
use cunjin_web::WebConfig;

/// One setting.
#[derive(Debug)]
pub struct Setting {
    /// Its key in the TOML file; the flag is the key with `-` for `_`.
    pub key: &'static str,
    /// Its environment variable.
    pub env: &'static str,
    /// Whether it has a flag too: a secret has none, since `ps` shows command lines to all.
    pub flag: bool,
    /// The value when nothing sets it, as shown.
    pub default: &'static str,
    /// What it does, in a line.
    pub help: &'static str,
}

/// Every setting.
pub const SETTINGS: &[Setting] = &[
    Setting { key: "db", env: "CUNJIN_DB", flag: true, default: "cunjin.db", help: "Database: a SQLite file path, sqlite://FILE or postgres://USER@HOST/DB" },
    Setting { key: "listen", env: "CUNJIN_LISTEN", flag: true, default: "127.0.0.1:8080", help: "Address the server listens on" },
    Setting { key: "max_body_bytes", env: "CUNJIN_MAX_BODY_BYTES", flag: true, default: "1048576", help: "Largest request body; larger ones are answered 413" },
    Setting { key: "request_timeout_s", env: "CUNJIN_REQUEST_TIMEOUT_S", flag: true, default: "30", help: "Seconds a request may take before it is answered 408" },
    Setting { key: "max_concurrent_requests", env: "CUNJIN_MAX_CONCURRENT_REQUESTS", flag: true, default: "512", help: "Requests handled at once; one more is answered 503 with Retry-After" },
    Setting { key: "secure_cookies", env: "CUNJIN_SECURE_COOKIES", flag: true, default: "false", help: "Mark the session cookie Secure (when served over HTTPS)" },
    Setting { key: "trusted_proxy_header", env: "CUNJIN_TRUSTED_PROXY_HEADER", flag: true, default: "none", help: "Behind a reverse proxy: the header with the client's address (its last entry is used), e.g. X-Forwarded-For" },
    Setting { key: "probe_retention_days", env: "CUNJIN_PROBE_RETENTION_DAYS", flag: true, default: "90", help: "Days of probe history and sent notifications kept" },
    Setting { key: "probe_concurrency", env: "CUNJIN_PROBE_CONCURRENCY", flag: true, default: "64", help: "Probes running at once across the server" },
    Setting { key: "outbound_allow", env: "CUNJIN_OUTBOUND_ALLOW", flag: true, default: "none", help: "Host names or networks (comma-separated) that webhooks and probes may reach although the guard refuses them, e.g. im.corp.example,10.1.2.0/24" },
    Setting { key: "probe_redirects", env: "CUNJIN_PROBE_REDIRECTS", flag: true, default: "same-host", help: "Where probes follow redirects: same-host or none" },
    Setting { key: "failure_excerpt_chars", env: "CUNJIN_FAILURE_EXCERPT_CHARS", flag: true, default: "64", help: "Characters of an answer quoted in a probe or webhook failure, at most" },
    Setting { key: "secret_key_file", env: "CUNJIN_SECRET_KEY_FILE", flag: true, default: "DB.key next to a SQLite file, cunjin.key in the working directory for PostgreSQL", help: "File with the key that encrypts stored secrets (created 0600 on a new database)" },
    Setting { key: "secret_key", env: "CUNJIN_SECRET_KEY", flag: false, default: "none", help: "The key itself (32 bytes, base64 or 64 hex digits); wins over secret_key_file" },
];

/// Variables read outside the table: they are not settings of a running server.
pub const OTHER_VARIABLES: &[(&str, &str)] = &[
    ("CUNJIN_CONFIG", "the TOML file (or --config)"),
    (
        "CUNJIN_ADMIN_PASSWORD",
        "password of admin@localhost on the first start (else one is generated and printed once)",
    ),
    (
        "CUNJIN_USER_PASSWORD",
        "password for `cunjin user add` (or --password-stdin)",
    ),
    ("CUNJIN_LOG", "log filter, e.g. debug or info,sqlx=warn"),
    (
        "CUNJIN_LOG_FORMAT",
        "text (default) or json, one object a line",
    ),
    ("NO_COLOR", "no colours in the log even on a terminal"),
];

/// The settings part of `--help`: every setting with its variable and default.
pub fn settings_help() -> String {
    let mut out = String::from("Settings (flag, variable, or key of the --config TOML file; flag and variable win over the file):\n");
    for s in SETTINGS {
        let flag = if s.flag {
            format!("--{}", s.key.replace('_', "-"))
        } else {
            "(no flag)".to_string()
        };
        out.push_str(&format!(
            "  {} = {flag} / {}\n      {} [default: {}]\n",
            s.key, s.env, s.help, s.default
        ));
    }
    out.push_str("\nOther variables:\n");
    for (name, what) in OTHER_VARIABLES {
        out.push_str(&format!("  {name}: {what}\n"));
    }
    out
}

/// The settings given by flags and variables (clap reads both), as text.
#[derive(Debug, Clone, Default)]
pub struct SettingArgs {
    given: BTreeMap<&'static str, String>,
}

impl clap::FromArgMatches for SettingArgs {
    fn from_arg_matches(m: &clap::ArgMatches) -> Result<Self, clap::Error> {
        let mut given = BTreeMap::new();
        for s in SETTINGS.iter().filter(|s| s.flag) {
            if let Some(v) = m.get_one::<String>(s.key) {
                given.insert(s.key, v.clone());
            }
        }
        Ok(SettingArgs { given })
    }

    fn update_from_arg_matches(&mut self, m: &clap::ArgMatches) -> Result<(), clap::Error> {
        *self = Self::from_arg_matches(m)?;
        Ok(())
    }
}

impl clap::Args for SettingArgs {
    fn augment_args(cmd: clap::Command) -> clap::Command {
        SETTINGS.iter().filter(|s| s.flag).fold(cmd, |cmd, s| {
            cmd.arg(
                clap::Arg::new(s.key)
                    .long(s.key.replace('_', "-"))
                    .env(s.env)
                    .global(true)
                    .value_name("VALUE")
                    .hide_env_values(true)
                    .help(format!("{} [default: {}]", s.help, s.default)),
            )
        })
    }

    fn augment_args_for_update(cmd: clap::Command) -> clap::Command {
        Self::augment_args(cmd)
    }
}

/// Where settings come from: flags and variables (`given`), then the file.
#[derive(Debug, Clone, Default)]
pub struct Sources {
    given: BTreeMap<&'static str, String>,
    file: toml::Table,
    file_name: String,
}

impl Sources {
    /// Flags and variables as clap read them, the variables of settings without a flag, and
    /// the TOML file when one is given; an unknown key in the file is an error, so that a typo
    /// does not go unnoticed.
    pub fn new(args: &SettingArgs, file: Option<&Path>) -> anyhow::Result<Sources> {
        let mut given = args.given.clone();
        for s in SETTINGS.iter().filter(|s| !s.flag) {
            if let Ok(v) = std::env::var(s.env) {
                given.insert(s.key, v);
            }
        }
        let mut sources = Sources {
            given,
            ..Sources::default()
        };
        if let Some(path) = file {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read the config file {}", path.display()))?;
            sources = sources.with_file(&text, &path.display().to_string())?;
        }
        Ok(sources)
    }

    /// The same with `text` as the TOML file named `name`.
    pub fn with_file(mut self, text: &str, name: &str) -> anyhow::Result<Sources> {
        let table: toml::Table =
            toml::from_str(text).with_context(|| format!("invalid config file {name}"))?;
        if let Some(unknown) = table.keys().find(|k| !SETTINGS.iter().any(|s| s.key == *k)) {
            let known: Vec<&str> = SETTINGS.iter().map(|s| s.key).collect();
            bail!(
                "{name}: unknown setting '{unknown}' / 未知的设置项; the settings are {}",
                known.join(", ")
            );
        }
        self.file = table;
        self.file_name = name.to_string();
        Ok(self)
    }

    /// A setting given on the command line or in a variable (for tests and callers).
    #[cfg(test)]
    pub fn given(mut self, key: &'static str, value: &str) -> Sources {
        self.given.insert(key, value.to_string());
        self
    }

    fn setting(key: &str) -> &'static Setting {
        SETTINGS
            .iter()
            .find(|s| s.key == key)
            .unwrap_or_else(|| panic!("{key} is in SETTINGS"))
    }

    /// Where a value came from, for messages.
    fn origin(&self, key: &str) -> String {
        let s = Self::setting(key);
        if self.given.contains_key(key) {
            if s.flag {
                format!("--{} / {}", key.replace('_', "-"), s.env)
            } else {
                s.env.to_string()
            }
        } else {
            format!("{key} in {}", self.file_name)
        }
    }

    /// The value as text: given, or a string, number or boolean in the file.
    fn text(&self, key: &str) -> anyhow::Result<Option<String>> {
        if let Some(v) = self.given.get(key) {
            return Ok(Some(v.clone()));
        }
        match self.file.get(key) {
            None => Ok(None),
            Some(toml::Value::String(s)) => Ok(Some(s.clone())),
            Some(toml::Value::Integer(n)) => Ok(Some(n.to_string())),
            Some(toml::Value::Boolean(b)) => Ok(Some(b.to_string())),
            Some(other) => bail!(
                "{}: expected a single value, got {other} / 应为单个值",
                self.origin(key)
            ),
        }
    }

    fn parsed<T: FromStr>(&self, key: &str, what: &str) -> anyhow::Result<Option<T>> {
        match self.text(key)? {
            None => Ok(None),
            Some(v) => v.trim().parse().map(Some).map_err(|_| {
                anyhow!(
                    "{}: '{v}' is not {what} / 不是有效的{}",
                    self.origin(key),
                    if what.contains("number") {
                        "数字"
                    } else {
                        "值"
                    }
                )
            }),
        }
    }

    fn flag(&self, key: &str) -> anyhow::Result<Option<bool>> {
        match self.text(key)? {
            None => Ok(None),
            Some(v) => match v.trim().to_ascii_lowercase().as_str() {
                "true" | "1" | "yes" | "on" => Ok(Some(true)),
                "false" | "0" | "no" | "off" => Ok(Some(false)),
                _ => bail!(
                    "{}: '{v}' is not true or false / 应为 true 或 false",
                    self.origin(key)
                ),
            },
        }
    }

    /// A list: comma-separated when given, a TOML array (or one string) in the file.
    fn list(&self, key: &str) -> anyhow::Result<Vec<String>> {
        let split = |v: &str| -> Vec<String> {
            v.split(',')
                .map(|e| e.trim().to_string())
                .filter(|e| !e.is_empty())
                .collect()
        };
        if let Some(v) = self.given.get(key) {
            return Ok(split(v));
        }
        match self.file.get(key) {
            None => Ok(Vec::new()),
            Some(toml::Value::String(s)) => Ok(split(s)),
            Some(toml::Value::Array(items)) => items
                .iter()
                .map(|i| match i {
                    toml::Value::String(s) => Ok(s.trim().to_string()),
                    other => bail!("{}: {other} is not text / 应为文本", self.origin(key)),
                })
                .collect(),
            Some(other) => bail!(
                "{}: expected a list, got {other} / 应为列表",
                self.origin(key)
            ),
        }
    }
}

/// The resolved configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// Database URL or SQLite path.
    pub db: String,
    /// Listen address.
    pub listen: String,
    /// HTTP settings.
    pub web: WebConfig,
    /// Background jobs.
    pub scheduler: cunjin_web::scheduler::SchedulerConfig,
    /// Where the key of stored secrets comes from.
    pub secret_key: SecretKeySource,
}

impl Config {
    /// Every setting from its sources; `Err` names a setting whose value is not valid and where
    /// it was set.
    pub fn resolve(src: &Sources) -> anyhow::Result<Config> {
        let web = WebConfig::default();
        let jobs = cunjin_web::scheduler::SchedulerConfig::default();
        let number = "a number";
        Ok(Config {
            db: src.text("db")?.unwrap_or_else(|| "cunjin.db".to_string()),
            listen: src
                .text("listen")?
                .unwrap_or_else(|| "127.0.0.1:8080".to_string()),
            scheduler: cunjin_web::scheduler::SchedulerConfig {
                retention_days: src
                    .parsed("probe_retention_days", number)?
                    .unwrap_or(jobs.retention_days)
                    .max(1),
                concurrency: src
                    .parsed("probe_concurrency", number)?
                    .unwrap_or(jobs.concurrency)
                    .max(1),
                ..jobs
            },
            secret_key: secret_key_source(src)?,
            web: WebConfig {
                max_body_bytes: src
                    .parsed("max_body_bytes", number)?
                    .unwrap_or(web.max_body_bytes),
                request_timeout: src
                    .parsed("request_timeout_s", number)?
                    .map(Duration::from_secs)
                    .unwrap_or(web.request_timeout),
                max_concurrent_requests: src
                    .parsed("max_concurrent_requests", number)?
                    .unwrap_or(web.max_concurrent_requests)
                    .max(1),
                secure_cookies: src.flag("secure_cookies")?.unwrap_or(web.secure_cookies),
                trusted_proxy_header: src
                    .text("trusted_proxy_header")?
                    .map(|h| h.trim().to_ascii_lowercase())
                    .filter(|h| !h.is_empty()),
                outbound: outbound(src)?,
                ..web
            },
        })
    }

    /// The database for messages, without a password.
    pub fn display_db(&self) -> String {
        match self.db.split_once("://") {
            Some((scheme, rest)) => match rest.split_once('@') {
                Some((_, host)) => format!("{scheme}://…@{host}"),
                None => self.db.clone(),
            },
            None => self.db.clone(),
        }
    }
}

/// Where the key of stored secrets comes from: the key itself given (`CUNJIN_SECRET_KEY`), then a
/// key file given (`--secret-key-file`, `CUNJIN_SECRET_KEY_FILE`), then the file's `secret_key`
/// or `secret_key_file` (not both); else the default key file.
fn secret_key_source(src: &Sources) -> anyhow::Result<SecretKeySource> {
    let given = |k: &str| src.given.get(k).filter(|v| !v.trim().is_empty());
    if let Some(k) = given("secret_key") {
        return Ok(SecretKeySource::Key(
            SecretKey::parse(k).context("CUNJIN_SECRET_KEY")?,
        ));
    }
    if let Some(f) = given("secret_key_file") {
        return Ok(SecretKeySource::File(PathBuf::from(f)));
    }
    let in_file = |k: &str| src.file.get(k).and_then(|v| v.as_str().map(str::to_string));
    match (in_file("secret_key"), in_file("secret_key_file")) {
        (Some(_), Some(_)) => bail!(
            "the config file sets both secret_key and secret_key_file: keep one / 配置文件中 secret_key 与 secret_key_file 只能设置一个"
        ),
        (Some(k), None) => Ok(SecretKeySource::Key(
            SecretKey::parse(&k).context("secret_key in the config file")?,
        )),
        (None, Some(f)) => Ok(SecretKeySource::File(PathBuf::from(f))),
        (None, None) => Ok(SecretKeySource::Default),
    }
}

/// The outbound guard's settings.
fn outbound(src: &Sources) -> anyhow::Result<OutboundConfig> {
    let defaults = OutboundConfig::default();
    let allow = src.list("outbound_allow")?;
    Ok(OutboundConfig {
        allow: std::sync::Arc::new(AllowList::parse(&allow).map_err(anyhow::Error::msg)?),
        probe_redirects: match src.text("probe_redirects")? {
            Some(r) => ProbeRedirects::parse(&r).map_err(anyhow::Error::msg)?,
            None => defaults.probe_redirects,
        },
        excerpt_chars: src
            .parsed("failure_excerpt_chars", "a number")?
            .unwrap_or(defaults.excerpt_chars)
            .min(10_000),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(text: &str) -> Sources {
        Sources::default().with_file(text, "cunjin.toml").unwrap()
    }

    #[test]
    fn flags_and_variables_win_over_the_file_and_the_file_over_defaults() {
        let src = file("db = \"file.db\"\nlisten = \"0.0.0.0:9000\"\nrequest_timeout_s = 5")
            .given("db", "flag.db");
        let c = Config::resolve(&src).unwrap();
        assert_eq!(c.db, "flag.db");
        assert_eq!(c.listen, "0.0.0.0:9000");
        assert_eq!(c.web.request_timeout, Duration::from_secs(5));
        let c = Config::resolve(&Sources::default()).unwrap();
        assert_eq!(
            (c.db.as_str(), c.listen.as_str()),
            ("cunjin.db", "127.0.0.1:8080")
        );
        assert_eq!(
            c.scheduler.retention_days, 90,
            "90 days of probe history by default"
        );
        assert_eq!(c.web.max_concurrent_requests, 512);
        assert_eq!(
            c.web.trusted_proxy_header, None,
            "no header is trusted by default"
        );
        assert!(!c.web.secure_cookies);
        // Every setting can be given as a variable (read by clap) and is parsed the same way.
        let src =
            file("max_concurrent_requests = 64\nsecure_cookies = true\nprobe_retention_days = 30")
                .given("max_body_bytes", "2048")
                .given("trusted_proxy_header", "X-Forwarded-For")
                .given("probe_concurrency", "8");
        let c = Config::resolve(&src).unwrap();
        assert_eq!(c.web.max_concurrent_requests, 64);
        assert!(c.web.secure_cookies);
        assert_eq!(c.scheduler.retention_days, 30);
        assert_eq!(c.web.max_body_bytes, 2048);
        assert_eq!(c.scheduler.concurrency, 8);
        assert_eq!(
            c.web.trusted_proxy_header.as_deref(),
            Some("x-forwarded-for")
        );
    }

    #[test]
    fn a_bad_value_or_an_unknown_key_is_an_error_that_says_where() {
        let err = Sources::default()
            .with_file("dbb = \"x\"", "cunjin.toml")
            .unwrap_err();
        assert!(err.to_string().contains("unknown setting 'dbb'"), "{err}");
        let err = Config::resolve(&Sources::default().given("request_timeout_s", "soon"))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("--request-timeout-s / CUNJIN_REQUEST_TIMEOUT_S") && err.contains("soon"),
            "{err}"
        );
        let err = Config::resolve(&file("secure_cookies = \"maybe\""))
            .unwrap_err()
            .to_string();
        assert!(err.contains("secure_cookies in cunjin.toml"), "{err}");
        let err = Config::resolve(&file("outbound_allow = [\"10.0.0.0/33\"]")).unwrap_err();
        assert!(err.to_string().contains("outbound_allow"), "{err}");
        assert!(Config::resolve(&file("probe_redirects = \"anywhere\"")).is_err());
    }

    #[test]
    fn the_outbound_guard_is_configured_in_the_file_or_a_variable() {
        let src = file("outbound_allow = [\"im.corp.example\", \"10.1.2.0/24\"]\nprobe_redirects = \"none\"\nfailure_excerpt_chars = 0");
        let c = Config::resolve(&src).unwrap();
        assert_eq!(c.web.outbound.probe_redirects, ProbeRedirects::None);
        assert_eq!(c.web.outbound.excerpt("secret value"), "…");
        let g = c.web.outbound.guard(cunjin_web::outbound::Purpose::Webhook);
        assert!(g.check_ip("x", "10.1.2.9".parse().unwrap()).is_ok());
        assert!(g.check_ip("x", "10.1.3.9".parse().unwrap()).is_err());
        let c =
            Config::resolve(&Sources::default().given("outbound_allow", "10.9.0.0/16, gw.example"))
                .unwrap();
        let g = c.web.outbound.guard(cunjin_web::outbound::Purpose::Webhook);
        assert!(g
            .check_ip("gw.example", "192.168.1.1".parse().unwrap())
            .is_ok());
        assert!(g.check_ip("x", "10.9.3.3".parse().unwrap()).is_ok());
    }

    #[test]
    fn the_secret_key_comes_from_the_key_then_a_key_file_then_the_file() {
        let key = SecretKey::generate();
        let in_file = file(&format!("secret_key = \"{}\"", key.to_text()));
        assert!(
            matches!(secret_key_source(&in_file).unwrap(), SecretKeySource::Key(k) if k == key)
        );
        let flagged = in_file.clone().given("secret_key_file", "/k");
        assert!(
            matches!(secret_key_source(&flagged).unwrap(), SecretKeySource::File(f) if f == Path::new("/k"))
        );
        let other = SecretKey::generate();
        let env = flagged.given("secret_key", &other.to_text());
        assert!(matches!(secret_key_source(&env).unwrap(), SecretKeySource::Key(k) if k == other));
        let e = secret_key_source(&in_file.clone().given("secret_key", "short")).unwrap_err();
        assert!(format!("{e:#}").contains("CUNJIN_SECRET_KEY"), "{e:#}");
        let f = file("secret_key_file = \"/etc/cunjin.key\"");
        assert!(matches!(
            secret_key_source(&f).unwrap(),
            SecretKeySource::File(_)
        ));
        assert!(secret_key_source(&file("secret_key = \"x\"\nsecret_key_file = \"/k\"")).is_err());
        assert!(matches!(
            secret_key_source(&Sources::default().given("secret_key", "")).unwrap(),
            SecretKeySource::Default
        ));
    }

    #[test]
    fn every_setting_is_in_the_readme_example_and_in_the_help() {
        let readme = include_str!("../../../README.md");
        let help = settings_help();
        for s in SETTINGS {
            assert!(
                readme.contains(&format!("\n{} = ", s.key))
                    || readme.contains(&format!("\n# {} = ", s.key)),
                "{} in the README's configuration example",
                s.key
            );
            assert!(
                help.contains(s.env) && help.contains(s.help),
                "{} in --help",
                s.key
            );
        }
    }

    #[test]
    fn passwords_are_not_displayed() {
        let c =
            Config::resolve(&Sources::default().given("db", "postgres://u:secret@h/db")).unwrap();
        assert!(!c.display_db().contains("secret"));
    }
}
