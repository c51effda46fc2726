//! Sending probes: the HTTP side of demo readiness. Whether an answer passes is decided by the
//! core (`Expectation::check`); this module only asks, with a timeout per probe and a bound on
//! how many probes run at once across the whole server.

use std::sync::Arc;
use std::time::{Duration, Instant};

use cunjin_core::{ProbeFailure, ProbeMethod};
use cunjin_store::demos::environments::{Environment, Probe, ProbeRun};
use tokio::sync::Semaphore;

use crate::outbound::{Guard, OutboundConfig, ProbeRedirects, Purpose};

/// Largest body read from an answer; a probe checks a page, not a download.
const MAX_BODY_BYTES: usize = 1024 * 1024;

/// Redirects a probe follows at most (to the same host).
const MAX_REDIRECTS: usize = 5;

/// Sends probes, at most `concurrency` at a time, under the outbound guard
/// ([`crate::outbound`]): never to link-local or metadata addresses, redirects only to the same
/// host (or none), no `Referer`, no proxy from the environment.
#[derive(Clone)]
pub struct Prober {
    client: reqwest::Client,
    permits: Arc<Semaphore>,
    guard: Guard,
    outbound: OutboundConfig,
}

impl Prober {
    /// A prober that runs at most `concurrency` probes at once, with the default outbound
    /// settings.
    pub fn new(concurrency: usize) -> Prober {
        Prober::with_outbound(concurrency, &OutboundConfig::default())
    }

    /// A prober with the given outbound settings.
    pub fn with_outbound(concurrency: usize, outbound: &OutboundConfig) -> Prober {
        let guard = outbound.guard(Purpose::Probe);
        let client = reqwest::Client::builder()
            .user_agent(concat!("cunjin-probe/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(Duration::from_secs(10))
            .redirect(redirect_policy(outbound.probe_redirects, guard.clone()))
            .referer(false)
            .no_proxy()
            .dns_resolver(guard.resolver())
            .build()
            .unwrap_or_default();
        Prober {
            client,
            permits: Arc::new(Semaphore::new(concurrency.max(1))),
            guard,
            outbound: outbound.clone(),
        }
    }

    /// Runs `probes` against `env`, concurrently within the bound; one run per probe, in the
    /// order given.
    pub async fn run(&self, env: &Environment, probes: &[Probe]) -> Vec<ProbeRun> {
        let tasks = probes.iter().map(|p| self.run_one(env, p));
        futures_util::future::join_all(tasks).await
    }

    async fn run_one(&self, env: &Environment, probe: &Probe) -> ProbeRun {
        // The semaphore is never closed, so acquiring only waits.
        let _permit = self.permits.acquire().await;
        let started = Instant::now();
        let timeout = Duration::from_millis(probe.timeout_ms.max(1) as u64);
        let outcome = tokio::time::timeout(timeout, self.ask(env, probe)).await;
        let elapsed = started.elapsed().as_millis() as u64;
        let (status, failure) = match outcome {
            Err(_) => (
                None,
                Some(ProbeFailure::Timeout {
                    ms: probe.timeout_ms as u64,
                }),
            ),
            Ok(Err(f)) => (None, Some(f)),
            Ok(Ok((status, body))) => {
                let failure = match probe.expectation() {
                    Ok(e) => e.check(status, &body).err().map(|f| self.shorten(f)),
                    Err(e) => Some(ProbeFailure::Unreachable {
                        message: e.to_string(),
                    }),
                };
                (Some(status), failure)
            }
        };
        tracing::debug!(
            probe = probe.id,
            ?status,
            passed = failure.is_none(),
            elapsed,
            "probe ran"
        );
        ProbeRun::new(probe.id, status, elapsed, failure)
    }

    /// A failure that quotes the answer quotes a short excerpt only: a probe checks a page, it
    /// is not a way to read internal services back.
    fn shorten(&self, failure: ProbeFailure) -> ProbeFailure {
        match failure {
            ProbeFailure::ValueDiffers {
                pointer,
                expected,
                got,
            } => ProbeFailure::ValueDiffers {
                pointer,
                expected,
                got: self.outbound.excerpt(&got),
            },
            other => other,
        }
    }

    async fn ask(&self, env: &Environment, probe: &Probe) -> Result<(u16, String), ProbeFailure> {
        let url = format!("{}{}", env.base_url, probe.path);
        let url = reqwest::Url::parse(&url).map_err(|e| ProbeFailure::Unreachable {
            message: format!("bad URL / 地址无效 {url}: {e}"),
        })?;
        self.guard
            .check_url(&url)
            .map_err(|message| ProbeFailure::Unreachable { message })?;
        let method = match probe.method {
            ProbeMethod::Get => reqwest::Method::GET,
            ProbeMethod::Head => reqwest::Method::HEAD,
            ProbeMethod::Post => reqwest::Method::POST,
        };
        let mut req = self.client.request(method, url);
        for (k, v) in &env.headers {
            req = req.header(k.as_str(), v.as_str());
        }
        let mut res = req.send().await.map_err(unreachable)?;
        let status = res.status().as_u16();
        let mut body = Vec::new();
        while let Some(chunk) = res.chunk().await.map_err(unreachable)? {
            let room = MAX_BODY_BYTES.saturating_sub(body.len());
            body.extend_from_slice(&chunk[..chunk.len().min(room)]);
            if body.len() >= MAX_BODY_BYTES {
                break;
            }
        }
        Ok((status, String::from_utf8_lossy(&body).into_owned()))
    }
}

/// Follows redirects to the same scheme, host and port only, each target checked by the guard;
/// or none.
fn redirect_policy(rule: ProbeRedirects, guard: Guard) -> reqwest::redirect::Policy {
    match rule {
        ProbeRedirects::None => reqwest::redirect::Policy::none(),
        ProbeRedirects::SameHost => reqwest::redirect::Policy::custom(move |attempt| {
            let next = attempt.url();
            let Some(first) = attempt.previous().first() else {
                return attempt.follow();
            };
            let same = next.scheme() == first.scheme()
                && next.host_str() == first.host_str()
                && next.port_or_known_default() == first.port_or_known_default();
            if !same {
                let to = next.host_str().unwrap_or("").to_string();
                return attempt.error(format!(
                    "a redirect to another host ({to}) is not followed / 不跟随跳转到其他主机（{to}）"
                ));
            }
            if attempt.previous().len() > MAX_REDIRECTS {
                return attempt.error(format!(
                    "more than {MAX_REDIRECTS} redirects / 跳转超过 {MAX_REDIRECTS} 次"
                ));
            }
            match guard.check_url(next) {
                Ok(()) => attempt.follow(),
                Err(e) => attempt.error(e),
            }
        }),
    }
}

fn unreachable(e: reqwest::Error) -> ProbeFailure {
    // The innermost cause says what happened ("Connection refused"); reqwest's own text only
    // says that sending failed.
    let mut cause: &dyn std::error::Error = &e;
    while let Some(next) = cause.source() {
        cause = next;
    }
    ProbeFailure::Unreachable {
        message: cause.to_string(),
    }
}
