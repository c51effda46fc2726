//! Configuration in one typed struct: flags and `CUNJIN_*` variables first, then an optional TOML
//! file, then defaults that run out of the box.

use std::path::Path;
use std::time::Duration;

use anyhow::Context;
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
}

impl Config {
    /// Flags and environment win over the file, the file over defaults.
    pub fn resolve(db: Option<String>, listen: Option<String>, file: FileConfig) -> Config {
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
        Config {
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
                trusted_proxy_header: proxy_header,
                ..defaults
            },
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_win_over_the_file_and_the_file_over_defaults() {
        let file: FileConfig =
            toml::from_str("db = \"file.db\"\nlisten = \"0.0.0.0:9000\"\nrequest_timeout_s = 5")
                .unwrap();
        let c = Config::resolve(Some("flag.db".into()), None, file);
        assert_eq!(c.db, "flag.db");
        assert_eq!(c.listen, "0.0.0.0:9000");
        assert_eq!(c.web.request_timeout, Duration::from_secs(5));
        let c = Config::resolve(None, None, FileConfig::default());
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
                .web
                .trusted_proxy_header
                .as_deref(),
            Some("x-forwarded-for")
        );
        let file: FileConfig = toml::from_str("probe_retention_days = 30").unwrap();
        assert_eq!(
            Config::resolve(None, None, file).scheduler.retention_days,
            30
        );
    }

    #[test]
    fn passwords_are_not_displayed() {
        let c = Config::resolve(
            Some("postgres://u:secret@h/db".into()),
            None,
            FileConfig::default(),
        );
        assert!(!c.display_db().contains("secret"));
    }
}
