//! Slowing down password guessing without letting anybody lock the owner out of an account.
//!
//! Attempts are counted per account *and* client together, never per account alone: ten
//! wrong passwords from an attacker's address used to answer the real owner 429 as well.
//!
//! - A browser that logged in to the account before carries a **device cookie** (a token
//!   signed with the account's password hash, [`cunjin_store::Store::issue_device_token`]).
//!   Its attempts count only against that device, so the owner's browser logs in at once,
//!   whatever an attacker does elsewhere — even from the same office network.
//! - Any other client is counted per (account, client address): a few wrong passwords are
//!   free, then the client waits 30 s, and each further wrong one doubles the wait (1 min,
//!   2 min … at most 15 min); the right password clears it. Attempts during a wait are refused
//!   without checking the password. A person who mistypes waits half a minute; a guesser gets
//!   about 100 tries a day per address.
//! - A client address has a wide allowance across all accounts (password spraying), and an
//!   account a wide one across all unknown clients (guessing from many addresses); the owner's
//!   known device is outside both.
//!
//! Counts live in memory, per instance, like the intake limits: several instances multiply
//! the allowance, and a restart forgets it; device cookies survive both (nothing is stored).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::intake::{IntakeLimiter, IntakeLimits, Rate};

/// Wrong passwords allowed from one client to one account before waits begin.
pub const FREE_FAILURES: u32 = 5;
/// The wait after the first failure beyond the free ones.
pub const FIRST_WAIT: Duration = Duration::from_secs(30);
/// The longest wait after wrong passwords.
pub const MAX_WAIT: Duration = Duration::from_secs(15 * 60);
/// Beyond this many back-off entries, those whose wait is over are forgotten.
const MAX_ENTRIES: usize = 100_000;

/// Where a login attempt comes from.
#[derive(Debug, Clone, Copy)]
pub struct Attempt<'a> {
    /// The client's address (see [`crate::intake::ClientIp`]).
    pub ip: &'a str,
    /// The account's address as typed.
    pub email: &'a str,
    /// The device id (the nonce of its cookie) when the browser is a known device of this
    /// account.
    pub device: Option<&'a str>,
}

impl Attempt<'_> {
    fn key(&self) -> String {
        let email = self.email.trim().to_lowercase();
        match self.device {
            Some(d) => format!("device:{email}|{d}"),
            None => format!("pair:{email}|{}", self.ip),
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Backoff {
    failures: u32,
    until: Instant,
}

/// The login counts of this instance.
#[derive(Debug)]
pub struct LoginGuard {
    wide: IntakeLimiter,
    backoff: Mutex<HashMap<String, Backoff>>,
}

impl Default for LoginGuard {
    fn default() -> Self {
        LoginGuard {
            wide: IntakeLimiter::new(IntakeLimits {
                // Per client address, every account: 30 at once, then one every 2 seconds.
                per_ip: Rate {
                    capacity: 30,
                    refill: Duration::from_secs(2),
                },
                // Per account, every unknown client: 100 at once, then one every 10 seconds.
                per_token: Rate {
                    capacity: 100,
                    refill: Duration::from_secs(10),
                },
            }),
            backoff: Mutex::default(),
        }
    }
}

/// The wait after `failures` wrong passwords in a row.
pub fn wait_after(failures: u32) -> Duration {
    if failures < FREE_FAILURES {
        return Duration::ZERO;
    }
    let doublings = (failures - FREE_FAILURES).min(20);
    (FIRST_WAIT * (1u32 << doublings)).min(MAX_WAIT)
}

impl LoginGuard {
    /// Whether the attempt may check a password now; `Err` carries the seconds to wait. A
    /// refused attempt is not a failure: waiting out the back-off is enough.
    pub fn check(&self, a: Attempt<'_>) -> Result<(), u64> {
        let now = Instant::now();
        {
            let backoff = self.backoff.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(b) = backoff.get(&a.key()) {
                if b.until > now {
                    return Err((b.until - now).as_secs_f64().ceil().max(1.0) as u64);
                }
            }
        }
        if a.device.is_some() {
            return Ok(());
        }
        self.wide.check(a.ip, &a.email.trim().to_lowercase())
    }

    /// Records a wrong password.
    pub fn failed(&self, a: Attempt<'_>) {
        let now = Instant::now();
        // A poisoned lock only means another request panicked mid-update; the counts are
        // still usable.
        let mut backoff = self.backoff.lock().unwrap_or_else(|e| e.into_inner());
        if backoff.len() > MAX_ENTRIES {
            backoff.retain(|_, b| b.until > now);
        }
        let b = backoff.entry(a.key()).or_insert(Backoff {
            failures: 0,
            until: now,
        });
        b.failures += 1;
        b.until = now + wait_after(b.failures);
    }

    /// Records a login: this client starts again from nothing. Only the key the attempt was
    /// counted under is cleared: the owner's device logging in from an address an attacker
    /// shares leaves the attacker's back-off as it is.
    pub fn succeeded(&self, a: Attempt<'_>) {
        let mut backoff = self.backoff.lock().unwrap_or_else(|e| e.into_inner());
        backoff.remove(&a.key());
    }
}

/// A login that worked: the user, the new session's cookie value and the device token that
/// makes this browser a known device of the account.
pub struct LoggedIn {
    /// Who logged in.
    pub user: cunjin_store::access::auth::User,
    /// The session cookie's value.
    pub session: String,
    /// The device cookie's value.
    pub device: String,
}

/// Why a login did not happen.
pub enum Refused {
    /// Too many attempts from this client; seconds to wait.
    TooMany(u64),
    /// Wrong address or password.
    BadCredentials,
    /// The database failed.
    Store(cunjin_store::StoreError),
}

impl From<cunjin_store::StoreError> for Refused {
    fn from(e: cunjin_store::StoreError) -> Self {
        Refused::Store(e)
    }
}

/// Checks a login attempt against the guard and the password, for the login form and the API
/// alike: the device cookie sent (if it is this account's) decides how the attempt is counted.
pub async fn log_in(
    state: &crate::AppState,
    ip: &str,
    headers: &axum::http::HeaderMap,
    email: &str,
    password: &str,
) -> Result<LoggedIn, Refused> {
    let sent = crate::auth::cookie(headers, crate::auth::DEVICE_COOKIE);
    let known = match sent {
        Some(t) => state.store.is_known_device(email, t).await?,
        None => false,
    };
    let attempt = Attempt {
        ip,
        email,
        // The nonce names the device; its mac was just checked.
        device: sent
            .filter(|_| known)
            .and_then(|t| t.split_once('.'))
            .map(|(nonce, _)| nonce),
    };
    state.logins.check(attempt).map_err(Refused::TooMany)?;
    let Some(user) = state.store.verify_login(email, password).await? else {
        state.logins.failed(attempt);
        return Err(Refused::BadCredentials);
    };
    state.logins.succeeded(attempt);
    let session = state.store.create_session(user.id).await?;
    let device = state.store.issue_device_token(&user).await?;
    Ok(LoggedIn {
        user,
        session,
        device,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_double_after_the_free_failures() {
        assert_eq!(wait_after(FREE_FAILURES - 1), Duration::ZERO);
        assert_eq!(wait_after(FREE_FAILURES), FIRST_WAIT);
        assert_eq!(wait_after(FREE_FAILURES + 3), Duration::from_secs(240));
        assert_eq!(wait_after(u32::MAX), MAX_WAIT);
    }

    #[test]
    fn an_attacker_locks_out_only_their_own_client() {
        let g = LoginGuard::default();
        let attacker = Attempt {
            ip: "10.0.0.9",
            email: "li@x.cn",
            device: None,
        };
        let mut refused = 0;
        for _ in 0..20 {
            match g.check(attacker) {
                Ok(()) => g.failed(attacker),
                Err(_) => refused += 1,
            }
        }
        assert_eq!(refused, 20 - FREE_FAILURES);
        // The owner: from the same address with their device cookie, or from elsewhere.
        let device = Attempt {
            device: Some("abc"),
            ..attacker
        };
        assert!(g.check(device).is_ok());
        let elsewhere = Attempt {
            ip: "10.0.0.1",
            ..attacker
        };
        assert!(g.check(elsewhere).is_ok());
        g.succeeded(device);
        assert!(g.check(device).is_ok());
        assert!(g.check(attacker).is_err(), "the attacker still waits");
        // Another account from the attacker's address is not affected either.
        assert!(g
            .check(Attempt {
                email: "wang@x.cn",
                ..attacker
            })
            .is_ok());
    }
}
