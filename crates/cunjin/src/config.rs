//! Configuration in one typed struct: flags and `CUNJIN_*` variables first, then an optional TOML
//! file, then defaults that run out of the box.

use std::path::Path;
use std::time::Duration;

use anyhow::{bail, Context};
use cunjin_store::secrets::{SecretKey, SecretKeySource};
use cunjin_web::outbound::{AllowList, OutboundConfig, ProbeRedirects};
use cunjin_web::WebConfig;
use serde::Deserialize;

/// Settings read from a TOML file; every field optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    /// Database URL or SQLite path.
    pub db: Option<String>,
    /// Listen address.
    pub listen: Option<String>,
    /// Largest request body in bytes.
    pub max_body_bytes: Option<usize>,
    /// Request timeout in seconds.
    pub request_timeout_s: Option<u64>,
    /// Requests handled at once before answering 503 (default 512).
    pub max_concurrent_requests: Option<usize>,
    /// Mark the session cookie Secure.
    pub secure_cookies: Option<bool>,
    /// Days of probe history to keep (default 90).
    pub probe_retention_days: Option<u32>,
    /// Probes running at once, across the server (default 64).
    pub probe_concurrency: Option<usize>,
    /// Host names and networks that webhooks and probes may reach although the guard refuses
    /// them by default (an internal IM gateway, `10.1.2.0/24`).
    pub outbound_allow: Option<Vec<String>>,
    /// Where probes follow redirects: `same-host` (default) or `none`.
    pub probe_redirects: Option<String>,
    /// Characters of an answer quoted in a probe or webhook failure, at most (default 64).
    pub failure_excerpt_chars: Option<usize>,
    /// The key of stored secrets: 32 bytes as 64 hex digits or base64.
    pub secret_key: Option<String>,
    /// A file holding that key (created, 0600, when missing on a new database).
    pub secret_key_file: Option<std::path::PathBuf>,
    /// Behind a reverse proxy: the header carrying the client's address (e.g.
    /// `X-Forwarded-For`); unset, such headers are ignored.
    pub trusted_proxy_header: Option<String>,
}

impl FileConfig {
    /// Reads a TOML file; an unknown key is an error, so a typo does not go unnoticed.
    pub fn load(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the config file {}", path.display()))?;
        toml::from_str(&text).with_context(|| format!("invalid config file {}", path.display()))
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
    /// Where the key of stored secrets comes from (see [`secret_key_source`]).
    pub secret_key: SecretKeySource,
}

/// Where the key of stored secrets comes from: `CUNJIN_SECRET_KEY` (`env_key`), then
/// `--secret-key-file`/`CUNJIN_SECRET_KEY_FILE` (`flag_file`), then the file's `secret_key` or
/// `secret_key_file`; else the default, a key file next to the SQLite database (`cunjin.key` in
/// the working directory for PostgreSQL). A key is never put on a command line, where `ps`
/// shows it to everybody.
pub fn secret_key_source(
    env_key: Option<String>,
    flag_file: Option<std::path::PathBuf>,
    file: &FileConfig,
) -> anyhow::Result<SecretKeySource> {
    if let Some(k) = env_key.filter(|k| !k.trim().is_empty()) {
        return Ok(SecretKeySource::Key(
            SecretKey::parse(&k).context("CUNJIN_SECRET_KEY")?,
        ));
    }
    if let Some(f) = flag_file.filter(|f| !f.as_os_str().is_empty()) {
        return Ok(SecretKeySource::File(f));
    }
    match (&file.secret_key, &file.secret_key_file) {
        (Some(_), Some(_)) => bail!(
            "the config file sets both secret_key and secret_key_file: keep one / 配置文件中 secret_key 与 secret_key_file 只能设置一个"
        ),
        (Some(k), None) => Ok(SecretKeySource::Key(
            SecretKey::parse(k).context("secret_key in the config file")?,
        )),
        (None, Some(f)) => Ok(SecretKeySource::File(f.clone())),
        (None, None) => Ok(SecretKeySource::Default),
    }
}

impl Config {
    /// Flags and environment win over the file, the file over defaults; `Err` names a setting
    /// whose value is not valid.
    pub fn resolve(
        db: Option<String>,
        listen: Option<String>,
        file: FileConfig,
    ) -> anyhow::Result<Config> {
        let outbound = outbound(&file)?;
        let defaults = WebConfig::default();
        let jobs = cunjin_web::scheduler::SchedulerConfig::default();
        let retention = std::env::var("CUNJIN_PROBE_RETENTION_DAYS")
            .ok()
            .and_then(|d| d.parse().ok())
            .or(file.probe_retention_days);
        let max_concurrent = std::env::var("CUNJIN_MAX_CONCURRENT_REQUESTS")
            .ok()
            .and_then(|n| n.parse().ok())
            .or(file.max_concurrent_requests);
        let proxy_header = std::env::var("CUNJIN_TRUSTED_PROXY_HEADER")
            .ok()
            .or(file.trusted_proxy_header)
            .map(|h| h.trim().to_ascii_lowercase())
            .filter(|h| !h.is_empty());
        Ok(Config {
            secret_key: SecretKeySource::Default,
            scheduler: cunjin_web::scheduler::SchedulerConfig {
                retention_days: retention.unwrap_or(jobs.retention_days).max(1),
                concurrency: file.probe_concurrency.unwrap_or(jobs.concurrency).max(1),
                ..jobs
            },
            db: db.or(file.db).unwrap_or_else(|| "cunjin.db".to_string()),
            listen: listen
                .or(file.listen)
                .unwrap_or_else(|| "127.0.0.1:8080".to_string()),
            web: WebConfig {
                max_body_bytes: file.max_body_bytes.unwrap_or(defaults.max_body_bytes),
                request_timeout: file
                    .request_timeout_s
                    .map(Duration::from_secs)
                    .unwrap_or(defaults.request_timeout),
                max_concurrent_requests: max_concurrent
                    .unwrap_or(defaults.max_concurrent_requests)
                    .max(1),
                secure_cookies: file.secure_cookies.unwrap_or(defaults.secure_cookies),
                outbound,
                trusted_proxy_header: proxy_header,
                ..defaults
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

/// The outbound guard's settings: `CUNJIN_OUTBOUND_ALLOW` (comma-separated),
/// `CUNJIN_PROBE_REDIRECTS`, `CUNJIN_FAILURE_EXCERPT_CHARS`, then the file.
fn outbound(file: &FileConfig) -> anyhow::Result<OutboundConfig> {
    let defaults = OutboundConfig::default();
    let allow: Vec<String> = match std::env::var("CUNJIN_OUTBOUND_ALLOW") {
        Ok(v) => v.split(',').map(|e| e.trim().to_string()).collect(),
        Err(_) => file.outbound_allow.clone().unwrap_or_default(),
    };
    let redirects = std::env::var("CUNJIN_PROBE_REDIRECTS")
        .ok()
        .or_else(|| file.probe_redirects.clone());
    let excerpt = match std::env::var("CUNJIN_FAILURE_EXCERPT_CHARS") {
        Ok(v) => Some(v.trim().parse::<usize>().map_err(|_| {
            anyhow::anyhow!("CUNJIN_FAILURE_EXCERPT_CHARS: '{v}' is not a number / 不是数字")
        })?),
        Err(_) => file.failure_excerpt_chars,
    };
    Ok(OutboundConfig {
        allow: std::sync::Arc::new(AllowList::parse(&allow).map_err(anyhow::Error::msg)?),
        probe_redirects: match redirects {
            Some(r) => ProbeRedirects::parse(&r).map_err(anyhow::Error::msg)?,
            None => defaults.probe_redirects,
        },
        excerpt_chars: excerpt.unwrap_or(defaults.excerpt_chars).min(10_000),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_win_over_the_file_and_the_file_over_defaults() {
        let file: FileConfig =
            toml::from_str("db = \"file.db\"\nlisten = \"0.0.0.0:9000\"\nrequest_timeout_s = 5")
                .unwrap();
        let c = Config::resolve(Some("flag.db".into()), None, file).unwrap();
        assert_eq!(c.db, "flag.db");
        assert_eq!(c.listen, "0.0.0.0:9000");
        assert_eq!(c.web.request_timeout, Duration::from_secs(5));
        let c = Config::resolve(None, None, FileConfig::default()).unwrap();
        assert_eq!(c.db, "cunjin.db");
        assert_eq!(c.listen, "127.0.0.1:8080");
        assert!(toml::from_str::<FileConfig>("dbb = \"x\"").is_err());
        assert_eq!(
            c.scheduler.retention_days, 90,
            "90 days of probe history by default"
        );
        assert_eq!(c.web.max_concurrent_requests, 512);
        let file: FileConfig = toml::from_str("max_concurrent_requests = 64").unwrap();
        assert_eq!(
            Config::resolve(None, None, file)
                .unwrap()
                .web
                .max_concurrent_requests,
            64
        );
        assert_eq!(
            c.web.trusted_proxy_header, None,
            "no header is trusted by default"
        );
        let file: FileConfig =
            toml::from_str("trusted_proxy_header = \"X-Forwarded-For\"").unwrap();
        assert_eq!(
            Config::resolve(None, None, file)
                .unwrap()
                .web
                .trusted_proxy_header
                .as_deref(),
            Some("x-forwarded-for")
        );
        let file: FileConfig = toml::from_str("probe_retention_days = 30").unwrap();
        assert_eq!(
            Config::resolve(None, None, file)
                .unwrap()
                .scheduler
                .retention_days,
            30
        );
    }

    #[test]
    fn the_outbound_guard_is_configured_in_the_file_and_bad_values_are_refused() {
        let file: FileConfig = toml::from_str(
            "outbound_allow = [\"im.corp.example\", \"10.1.2.0/24\"]\nprobe_redirects = \"none\"\nfailure_excerpt_chars = 0",
        )
        .unwrap();
        let c = Config::resolve(None, None, file).unwrap();
        assert_eq!(c.web.outbound.probe_redirects, ProbeRedirects::None);
        assert_eq!(c.web.outbound.excerpt("secret value"), "…");
        let g = c.web.outbound.guard(cunjin_web::outbound::Purpose::Webhook);
        assert!(g.check_ip("x", "10.1.2.9".parse().unwrap()).is_ok());
        assert!(g.check_ip("x", "10.1.3.9".parse().unwrap()).is_err());
        let bad: FileConfig = toml::from_str("outbound_allow = [\"10.0.0.0/33\"]").unwrap();
        let err = Config::resolve(None, None, bad).unwrap_err().to_string();
        assert!(err.contains("outbound_allow"), "{err}");
        let bad: FileConfig = toml::from_str("probe_redirects = \"anywhere\"").unwrap();
        assert!(Config::resolve(None, None, bad).is_err());
    }

    #[test]
    fn the_secret_key_comes_from_the_environment_then_the_flag_then_the_file() {
        let key = SecretKey::generate();
        let file: FileConfig =
            toml::from_str(&format!("secret_key = \"{}\"", key.to_text())).unwrap();
        assert!(matches!(
            secret_key_source(None, None, &file).unwrap(),
            SecretKeySource::Key(k) if k == key
        ));
        assert!(matches!(
            secret_key_source(None, Some("/k".into()), &file).unwrap(),
            SecretKeySource::File(f) if f == Path::new("/k")
        ));
        let other = SecretKey::generate();
        assert!(matches!(
            secret_key_source(Some(other.to_text()), Some("/k".into()), &file).unwrap(),
            SecretKeySource::Key(k) if k == other
        ));
        let e = secret_key_source(Some("short".into()), None, &file).unwrap_err();
        assert!(format!("{e:#}").contains("CUNJIN_SECRET_KEY"), "{e:#}");
        let file: FileConfig = toml::from_str("secret_key_file = \"/etc/cunjin.key\"").unwrap();
        assert!(matches!(
            secret_key_source(None, None, &file).unwrap(),
            SecretKeySource::File(_)
        ));
        let both: FileConfig =
            toml::from_str("secret_key = \"x\"\nsecret_key_file = \"/k\"").unwrap();
        assert!(secret_key_source(None, None, &both).is_err());
        assert!(matches!(
            secret_key_source(Some(String::new()), None, &FileConfig::default()).unwrap(),
            SecretKeySource::Default
        ));
    }

    #[test]
    fn passwords_are_not_displayed() {
        let c = Config::resolve(
            Some("postgres://u:secret@h/db".into()),
            None,
            FileConfig::default(),
        )
        .unwrap();
        assert!(!c.display_db().contains("secret"));
    }
}
