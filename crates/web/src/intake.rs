//! The public intake link: who may post without an account, how often, and what is refused as
//! spam.
//!
//! Limits are token buckets kept in memory, per client address and per intake token. Several
//! `cunjin serve` instances each keep their own buckets, which at worst multiplies the allowance
//! by the number of instances: acceptable for a spam brake, and it needs no shared state.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;

/// A bucket of `capacity` tokens that refills one token every `refill`.
#[derive(Debug, Clone, Copy)]
pub struct Rate {
    /// Requests allowed in a burst.
    pub capacity: u32,
    /// Time to earn one more.
    pub refill: Duration,
}

/// Limits of the intake link.
#[derive(Debug, Clone, Copy)]
pub struct IntakeLimits {
    /// Per client address: 5 at once, then one every 2 minutes.
    pub per_ip: Rate,
    /// Per intake token (the whole workspace): 60 at once, then one every 10 seconds.
    pub per_token: Rate,
}

impl Default for IntakeLimits {
    fn default() -> Self {
        IntakeLimits {
            per_ip: Rate {
                capacity: 5,
                refill: Duration::from_secs(120),
            },
            per_token: Rate {
                capacity: 60,
                refill: Duration::from_secs(10),
            },
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

/// The buckets of every client address and intake token seen recently.
#[derive(Debug, Default)]
pub struct IntakeLimiter {
    limits: IntakeLimits,
    buckets: Mutex<HashMap<String, Bucket>>,
}

/// Beyond this many buckets, full ones are forgotten (they hold no information).
const MAX_BUCKETS: usize = 100_000;

impl IntakeLimiter {
    /// A limiter with the given limits.
    pub fn new(limits: IntakeLimits) -> Self {
        IntakeLimiter {
            limits,
            buckets: Mutex::default(),
        }
    }

    /// Takes one token from the client's and the link's buckets; `Err` with the seconds to wait
    /// when either is empty (then neither is charged).
    pub fn check(&self, ip: &str, token: &str) -> Result<(), u64> {
        self.take(&[
            (format!("ip:{ip}"), self.limits.per_ip),
            (format!("token:{token}"), self.limits.per_token),
        ])
    }

    /// Takes one token from the client's bucket only (the per-client limit of public pages);
    /// `Err` with the seconds to wait.
    pub fn check_client(&self, ip: &str) -> Result<(), u64> {
        self.take(&[(format!("ip:{ip}"), self.limits.per_ip)])
    }

    /// Takes one token from each bucket of `keys`, or from none when one is empty (`Err` with
    /// the longest wait).
    fn take(&self, keys: &[(String, Rate)]) -> Result<(), u64> {
        let now = Instant::now();
        // A poisoned lock only means another request panicked mid-update; the counts are
        // still usable.
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        if buckets.len() > MAX_BUCKETS {
            let limits = self.limits;
            buckets.retain(|k, b| {
                let rate = if k.starts_with("ip:") {
                    limits.per_ip
                } else {
                    limits.per_token
                };
                level(b, rate, now) < f64::from(rate.capacity)
            });
        }
        let mut wait = 0u64;
        let mut levels = Vec::with_capacity(keys.len());
        for (key, rate) in keys {
            let l = buckets
                .get(key)
                .map_or(f64::from(rate.capacity), |b| level(b, *rate, now));
            if l < 1.0 {
                let secs = ((1.0 - l) * rate.refill.as_secs_f64()).ceil() as u64;
                wait = wait.max(secs.max(1));
            }
            levels.push(l);
        }
        if wait > 0 {
            return Err(wait);
        }
        for ((key, _), l) in keys.iter().zip(levels) {
            buckets.insert(
                key.clone(),
                Bucket {
                    tokens: l - 1.0,
                    at: now,
                },
            );
        }
        Ok(())
    }
}

fn level(b: &Bucket, rate: Rate, now: Instant) -> f64 {
    let earned = now.duration_since(b.at).as_secs_f64() / rate.refill.as_secs_f64().max(0.001);
    (b.tokens + earned).min(f64::from(rate.capacity))
}

/// The address of the client: from the TCP connection, or — behind a reverse proxy, and only
/// when [`crate::WebConfig::trusted_proxy_header`] names it — from the header the proxy sets.
/// Without that setting every such header is ignored: a client could write anything in it.
pub struct ClientIp(pub String);

impl ClientIp {
    /// The client address of a request with these headers and extensions.
    pub fn of(
        headers: &axum::http::HeaderMap,
        extensions: &axum::http::Extensions,
        trusted_header: Option<&str>,
    ) -> ClientIp {
        let proxied = trusted_header
            .and_then(|h| headers.get(h))
            .and_then(|v| v.to_str().ok())
            // A proxy appends the address it saw to what the client sent: the last entry is
            // the one the trusted proxy wrote, the ones before it anybody could have.
            .and_then(|v| v.rsplit(',').next())
            .and_then(|v| v.trim().parse::<std::net::IpAddr>().ok());
        let ip = proxied.or_else(|| {
            extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|c| c.0.ip())
        });
        ClientIp(ip.map_or_else(|| "unknown".into(), |ip| ip.to_string()))
    }
}

impl FromRequestParts<crate::AppState> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &crate::AppState,
    ) -> Result<Self, Self::Rejection> {
        Ok(ClientIp::of(
            &parts.headers,
            &parts.extensions,
            state.config.trusted_proxy_header.as_deref(),
        ))
    }
}

/// Longest text accepted through the intake link.
pub const MAX_TEXT: usize = 2000;
/// Shortest: a few characters say nothing.
pub const MIN_TEXT: usize = 4;
/// Links allowed in one request; more is advertising.
pub const MAX_LINKS: usize = 2;

/// Why an intake post was refused as spam or junk; the message is shown to the sender.
pub fn spam_check(text: &str, honeypot: &str) -> Result<(), &'static str> {
    if !honeypot.trim().is_empty() {
        return Err("the request was refused");
    }
    let n = text.trim().chars().count();
    if n < MIN_TEXT {
        return Err("text: describe the request in at least 4 characters");
    }
    if n > MAX_TEXT {
        return Err("text: at most 2000 characters");
    }
    let lower = text.to_lowercase();
    let links = lower.matches("http://").count()
        + lower.matches("https://").count()
        + lower.matches("www.").count();
    if links > MAX_LINKS {
        return Err("text: too many links");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_then_a_wait() {
        let l = IntakeLimiter::new(IntakeLimits {
            per_ip: Rate {
                capacity: 2,
                refill: Duration::from_secs(60),
            },
            per_token: Rate {
                capacity: 3,
                refill: Duration::from_secs(60),
            },
        });
        assert!(l.check("1.1.1.1", "t").is_ok());
        assert!(l.check("1.1.1.1", "t").is_ok());
        let wait = l.check("1.1.1.1", "t").unwrap_err();
        assert!((1..=60).contains(&wait), "{wait}");
        // Another address still may, until the link's own bucket runs dry.
        assert!(l.check("2.2.2.2", "t").is_ok());
        assert!(l.check("3.3.3.3", "t").is_err());
        assert!(l.check("3.3.3.3", "other").is_ok());
    }

    #[test]
    fn spam_is_refused() {
        assert!(spam_check("希望门诊能上传医保结算清单", "").is_ok());
        assert!(spam_check("希望门诊能上传医保结算清单", "http://x").is_err());
        assert!(spam_check("好", "").is_err());
        assert!(spam_check(&"长".repeat(2001), "").is_err());
        assert!(spam_check("buy http://a http://b www.c.com now", "").is_err());
        assert!(spam_check("见 https://wiki/页面 说明", "").is_ok());
    }
}
