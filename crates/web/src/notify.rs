//! Sending the outbox: claim due messages, post them to their webhooks, mark them sent or
//! schedule the next attempt. The time is passed in (`dispatch_once(store, now)`) so that the
//! retry schedule can be driven without waiting.
//!
//! Guarantees (docs/notifications.md): a message is written with the change that causes it, so
//! it survives a restart; a claimed message is held by one instance until its lease ends, and
//! the lease is longer than the HTTP timeout, so two live instances never both send it; a crash
//! after sending and before marking lets it be sent again after the lease (at least once, with
//! the dedupe key in the `X-Cunjin-Dedupe-Key` header and, for generic webhooks, in the body).

use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use chrono::{DateTime, Utc};
use cunjin_core::notify::WebhookKind;
use cunjin_store::notify::{AfterFailure, Outgoing};
use cunjin_store::Store;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::outbound::{Guard, OutboundConfig, Purpose};

/// Messages claimed by one pass at most.
const BATCH: i64 = 100;

/// Largest answer read from a webhook: a chat robot answers a few bytes of JSON.
const MAX_ANSWER_BYTES: usize = 64 * 1024;

/// What one pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DispatchReport {
    /// Messages delivered.
    pub sent: usize,
    /// Messages that failed and will be tried again.
    pub retried: usize,
    /// Messages given up after their last attempt.
    pub failed: usize,
}

/// Posts outbox messages for one server instance.
#[derive(Clone)]
pub struct Dispatcher {
    client: reqwest::Client,
    instance: Arc<str>,
    lease: chrono::Duration,
    timeout: Duration,
    guard: Guard,
    outbound: OutboundConfig,
}

impl Dispatcher {
    /// A dispatcher with its own instance id and an HTTP timeout of `timeout`; claims are held
    /// for six times the timeout, so a send always ends long before its claim does. The default
    /// outbound settings apply: no loopback, private, link-local or metadata addresses.
    pub fn new(timeout: Duration) -> Self {
        Dispatcher::with_outbound(timeout, &OutboundConfig::default())
    }

    /// A dispatcher under the given outbound settings (the allow-list lets internal IM gateways
    /// through). Redirects are never followed and no proxy from the environment is used.
    pub fn with_outbound(timeout: Duration, outbound: &OutboundConfig) -> Self {
        let guard = outbound.guard(Purpose::Webhook);
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .referer(false)
            .no_proxy()
            .dns_resolver(guard.resolver())
            .user_agent(concat!("cunjin/", env!("CARGO_PKG_VERSION")))
            .build()
            .unwrap_or_default();
        let lease = chrono::Duration::from_std(timeout * 6)
            .unwrap_or_else(|_| chrono::Duration::minutes(1));
        Dispatcher {
            client,
            instance: Arc::from(format!(
                "cunjin-{}",
                &cunjin_store::access::auth::new_secret()[..16]
            )),
            lease,
            timeout,
            guard,
            outbound: outbound.clone(),
        }
    }

    /// One pass at `now`: claims every due message (up to a batch) and sends them at once.
    pub async fn dispatch_once(&self, store: &Store, now: DateTime<Utc>) -> DispatchReport {
        let mut report = DispatchReport::default();
        let due = match store.due_deliveries(now, BATCH).await {
            Ok(d) => d,
            Err(e) => {
                tracing::warn!(error = %e, "could not look for due notifications");
                return report;
            }
        };
        let mut sends = tokio::task::JoinSet::new();
        for id in due {
            match store
                .claim_delivery(id, &self.instance, now, self.lease)
                .await
            {
                Ok(Some(out)) => {
                    let this = self.clone();
                    sends.spawn(async move {
                        let result = this.send(&out, now).await;
                        (out, result)
                    });
                }
                Ok(None) => {}
                Err(e) => tracing::warn!(error = %e, "could not claim a notification"),
            }
        }
        while let Some(joined) = sends.join_next().await {
            let Ok((out, result)) = joined else { continue };
            match result {
                Ok(()) => match store.mark_delivered(out.id, &self.instance, now).await {
                    Ok(_) => report.sent += 1,
                    Err(e) => tracing::warn!(error = %e, id = out.id, "sent but not marked"),
                },
                Err(error) => {
                    tracing::info!(id = out.id, webhook = out.webhook_id, %error, "notification not delivered");
                    match store
                        .mark_failed_attempt(&out, &self.instance, now, &error)
                        .await
                    {
                        Ok(AfterFailure::RetryAt(_)) => report.retried += 1,
                        Ok(AfterFailure::GaveUp) => report.failed += 1,
                        Err(e) => tracing::warn!(error = %e, id = out.id, "failure not kept"),
                    }
                }
            }
        }
        report
    }

    /// Posts one message; `Err` says why it did not arrive.
    async fn send(&self, out: &Outgoing, now: DateTime<Utc>) -> Result<(), String> {
        let mut body: serde_json::Value =
            serde_json::from_str(&out.payload).map_err(|e| format!("stored message: {e}"))?;
        let url = reqwest::Url::parse(&out.url).map_err(|e| format!("bad URL / 地址无效: {e}"))?;
        self.guard.check_url(&url)?;
        // The timeout is set on each request too, so that it holds even with the fallback client.
        let mut req = self.client.post(url).timeout(self.timeout);
        if let Some(secret) = out.secret.as_deref() {
            match out.kind {
                WebhookKind::Dingtalk => {
                    let ts = now.timestamp_millis().to_string();
                    let sign = dingtalk_sign(secret, &ts);
                    req = req.query(&[("timestamp", ts), ("sign", sign)]);
                }
                WebhookKind::Feishu => {
                    let ts = now.timestamp().to_string();
                    body["sign"] = feishu_sign(secret, &ts).into();
                    body["timestamp"] = ts.into();
                }
                _ => {}
            }
        }
        let res = req
            .header("x-cunjin-dedupe-key", &out.dedupe_key)
            .json(&body)
            .send()
            .await
            .map_err(|e| format!("no answer: {}", innermost(&e)))?;
        let status = res.status();
        let text = read_capped(res).await;
        if !status.is_success() {
            return Err(format!("HTTP {status}: {}", self.outbound.excerpt(&text)));
        }
        // The chat robots answer 200 with an error code in the body (a wrong signature, a
        // blocked keyword): that message did not arrive.
        if let Ok(v) = serde_json::from_str::<serde_json::Value>(&text) {
            let code = match out.kind {
                WebhookKind::Wecom | WebhookKind::Dingtalk => v.get("errcode"),
                WebhookKind::Feishu => v.get("code").or_else(|| v.get("StatusCode")),
                _ => None,
            };
            if let Some(c) = code.and_then(serde_json::Value::as_i64).filter(|c| *c != 0) {
                return Err(format!(
                    "refused with code {c}: {}",
                    self.outbound.excerpt(&text)
                ));
            }
        }
        Ok(())
    }
}

/// The answer's body, at most [`MAX_ANSWER_BYTES`] of it; a body that cannot be read is empty.
async fn read_capped(mut res: reqwest::Response) -> String {
    let mut body = Vec::new();
    while let Ok(Some(chunk)) = res.chunk().await {
        let room = MAX_ANSWER_BYTES.saturating_sub(body.len());
        body.extend_from_slice(&chunk[..chunk.len().min(room)]);
        if body.len() >= MAX_ANSWER_BYTES {
            break;
        }
    }
    String::from_utf8_lossy(&body).into_owned()
}

/// The innermost cause of an error: "Connection refused", or the guard's refusal, rather than
/// reqwest's "error sending request".
fn innermost(e: &reqwest::Error) -> String {
    let mut cause: &dyn std::error::Error = e;
    while let Some(next) = cause.source() {
        cause = next;
    }
    cause.to_string()
}

fn hmac_base64(key: &[u8], message: &[u8]) -> String {
    // HMAC takes keys of any length, so new_from_slice cannot fail here.
    let mut mac = <Hmac<Sha256>>::new_from_slice(key).expect("HMAC accepts any key length");
    mac.update(message);
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// DingTalk robot signature: base64(HMAC-SHA256(key = secret, "timestamp\nsecret")).
pub fn dingtalk_sign(secret: &str, timestamp_ms: &str) -> String {
    hmac_base64(
        secret.as_bytes(),
        format!("{timestamp_ms}\n{secret}").as_bytes(),
    )
}

/// Feishu robot signature: base64(HMAC-SHA256(key = "timestamp\nsecret", empty message)).
pub fn feishu_sign(secret: &str, timestamp_s: &str) -> String {
    hmac_base64(format!("{timestamp_s}\n{secret}").as_bytes(), b"")
}

/// The reminder and digest scans of `today`, safe on any number of instances (dedupe keys).
pub async fn scan(store: &Store, today: chrono::NaiveDate) {
    match store.enqueue_due_reminders(today).await {
        Ok(n) if n > 0 => tracing::info!(enqueued = n, "commitment reminders"),
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e, "could not scan for due commitments"),
    }
    match store.enqueue_weekly_digests(today).await {
        Ok(n) if n > 0 => tracing::info!(enqueued = n, "weekly digests"),
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e, "could not enqueue weekly digests"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_follow_the_published_recipes() {
        // Computed independently with: printf '1700000000000\nSECabc' |
        //   openssl dgst -sha256 -hmac SECabc -binary | base64
        assert_eq!(dingtalk_sign("SECabc", "1700000000000"), DINGTALK_EXPECTED);
        // printf '' | openssl dgst -sha256 -hmac "$(printf '1700000000\nSECabc')" -binary | base64
        assert_eq!(feishu_sign("SECabc", "1700000000"), FEISHU_EXPECTED);
    }

    const DINGTALK_EXPECTED: &str = "jcUpW0QmtKduN03n4JqQ0PBosVjqnM8gU7fIIvsDmCM=";
    const FEISHU_EXPECTED: &str = "XprR1de+0SSBnwWyU/4k6x2TL+Q2SJlM5NNEdAv7MWg=";
}
