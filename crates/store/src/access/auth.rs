//! People and scripts: users with argon2id passwords, session cookies, API tokens.

use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::Argon2;
use cunjin_core::{Email, ParseError, Role};
use rand::RngCore;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::{conflict_on_unique, now, Result, Store, StoreError};

/// How long a login lasts.
pub const SESSION_DAYS: i64 = 30;
/// Shortest accepted password.
pub const MIN_PASSWORD_CHARS: usize = 8;

/// A person with an account.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct User {
    /// Id.
    pub id: i64,
    /// Workspace the user belongs to.
    pub workspace_id: i64,
    /// Login address.
    pub email: String,
    /// Display name.
    pub name: String,
    /// Role.
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "pm"))]
    #[sqlx(try_from = "String")]
    pub role: Role,
}

/// What a new user needs.
#[derive(Debug, Clone)]
pub struct NewUser<'a> {
    /// Workspace.
    pub workspace_id: i64,
    /// Login address.
    pub email: Email,
    /// Display name; the part of the address before `@` when empty.
    pub name: &'a str,
    /// Role.
    pub role: Role,
    /// Password in clear, hashed here and never stored.
    pub password: &'a str,
}

/// The administrator created on first start.
#[derive(Debug, Clone)]
pub struct FirstAdmin {
    /// The administrator.
    pub user: User,
    /// The generated password, when none was given; shown once.
    pub generated_password: Option<String>,
}

/// A new random secret: 32 bytes as hex.
pub fn new_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// A new secret for a key that a large table indexes (a request's status link): 64 hex digits
/// like [`new_secret`], of which the first 12 are the time in milliseconds and the other 52
/// random (208 bits). New tokens sort after older ones, so each lands at the end of the index
/// instead of on a random page of it: an import of 1,000,000 requests otherwise rewrites most
/// of the index's pages again and again (SQLite keeps a copy of each page a statement changes).
/// The time is no secret: a request's status page shows when it was filed.
pub fn new_ordered_secret() -> String {
    let millis = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis());
    let mut random = [0u8; 26];
    rand::rng().fill_bytes(&mut random);
    // 48 bits of milliseconds last until the year 10889.
    format!("{:012x}{}", millis & 0xffff_ffff_ffff, hex::encode(random))
}

/// The anti-forgery token of a session: derived from the session's secret (which only the
/// browser holding the cookie knows), so a page on another site cannot know it. It differs from
/// the stored hash of the session, so a leaked database gives no token either.
pub fn csrf_token(session: &str) -> String {
    hex::encode(Sha256::digest(format!("cunjin-csrf:{session}").as_bytes()))
}

/// A password a person can type: 20 characters without look-alikes.
pub fn generate_password() -> String {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut rng = rand::rng();
    (0..20)
        .map(|_| ALPHABET[(rng.next_u32() as usize) % ALPHABET.len()] as char)
        .collect()
}

/// How long a browser stays a known device of an account (see [`Store::issue_device_token`]).
pub const DEVICE_DAYS: i64 = 365;

/// The mark of one account on one device: HMAC-SHA256 of the address and the device's nonce,
/// keyed with the account's password hash.
fn device_mac(password_hash: &str, email: &str, nonce: &str) -> String {
    use hmac::Mac;
    // HMAC takes a key of any length; `new_from_slice` cannot fail for it.
    let mut mac = hmac::Hmac::<Sha256>::new_from_slice(password_hash.as_bytes())
        .expect("HMAC accepts keys of any length");
    mac.update(format!("cunjin-device:{}:{nonce}", email.to_lowercase()).as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// Secrets are stored hashed: a stolen database yields no usable cookie or token.
fn secret_hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// Passwords too common to keep anybody out: the first ones any guesser tries.
static COMMON_PASSWORDS: std::sync::LazyLock<std::collections::HashSet<&'static str>> =
    std::sync::LazyLock::new(|| {
        include_str!("common_passwords.txt")
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .collect()
    });

/// Checks that a password is long enough and not easy to guess: not blank, not one character
/// repeated, not on the list of common passwords (in any letter case). The message says why
/// in English and Chinese.
pub fn check_password(password: &str) -> Result<()> {
    let refuse = |why: &str| -> Result<()> { Err(ParseError::new("password", why).into()) };
    if password.trim().is_empty() {
        return refuse("may not be blank (密码不能为空)");
    }
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return refuse(&format!(
            "at least {MIN_PASSWORD_CHARS} characters (密码至少 {MIN_PASSWORD_CHARS} 个字符)"
        ));
    }
    let mut chars = password.chars();
    let first = chars.next();
    if chars.all(|c| Some(c) == first) {
        return refuse(
            "one character repeated is too easy to guess; choose another \
             (密码不能是同一个字符重复，太容易被猜到，请换一个)",
        );
    }
    if COMMON_PASSWORDS.contains(password.trim().to_lowercase().as_str()) {
        return refuse(
            "this is one of the most common passwords and is guessed first; choose another \
             (这是最常见的密码之一，最先被猜到，请换一个)",
        );
    }
    Ok(())
}

/// Hashes a password with argon2id.
pub fn hash_password(password: &str) -> Result<String> {
    check_password(password)?;
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| StoreError::Corrupt(format!("password hash: {e}")))
}

/// An argon2id hash of a random password, verified against when the address is unknown.
static DUMMY_HASH: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(new_secret().as_bytes(), &salt)
        .map(|h| h.to_string())
        .unwrap_or_default()
});

fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .map(|h| {
            Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        })
        .unwrap_or(false)
}

/// A user with the password hash, for checking a login.
#[derive(sqlx::FromRow)]
struct UserWithHash {
    #[sqlx(flatten)]
    user: User,
    password_hash: String,
}

/// A new user whose password is hashed, ready to insert.
struct HashedUser {
    workspace_id: i64,
    email: Email,
    name: String,
    role: Role,
    hash: String,
}

impl HashedUser {
    /// Checks the password and name and hashes the password.
    async fn new(new: NewUser<'_>) -> Result<HashedUser> {
        check_password(new.password)?;
        let password = new.password.to_string();
        // argon2 takes tens of milliseconds of CPU: keep it off the async workers.
        let hash = tokio::task::spawn_blocking(move || hash_password(&password))
            .await
            .map_err(|e| StoreError::Corrupt(format!("password hashing stopped: {e}")))??;
        let name = match new.name.trim() {
            "" => new
                .email
                .as_str()
                .split('@')
                .next()
                .unwrap_or_default()
                .to_string(),
            n => cunjin_core::required_text("name", n, 200)?,
        };
        Ok(HashedUser {
            workspace_id: new.workspace_id,
            email: new.email,
            name,
            role: new.role,
            hash,
        })
    }

    async fn insert(self, conn: &mut sqlx::AnyConnection) -> Result<User> {
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO users (workspace_id, email, name, role, password_hash, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(self.workspace_id)
        .bind(self.email.as_str())
        .bind(&self.name)
        .bind(self.role.as_str())
        .bind(&self.hash)
        .bind(now())
        .fetch_one(&mut *conn)
        .await
        // Addresses are unique across workspaces; the message does not say where the other one is.
        .map_err(|e| {
            conflict_on_unique(e, || format!("the address {} cannot be used", self.email))
        })?;
        Ok(User {
            id,
            workspace_id: self.workspace_id,
            email: self.email.as_str().to_string(),
            name: self.name,
            role: self.role,
        })
    }
}

const USER_COLUMNS: &str = "u.id, u.workspace_id, u.email, u.name, u.role";

impl Store {
    /// Adds a user with an argon2id-hashed password.
    pub async fn create_user(&self, new: NewUser<'_>) -> Result<User> {
        let hashed = HashedUser::new(new).await?;
        let mut conn = self.writer().acquire().await?;
        hashed.insert(&mut conn).await
    }

    /// Number of users in the whole database.
    pub async fn count_users(&self) -> Result<i64> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM users")
            .fetch_one(self.reader())
            .await?)
    }

    /// The users of a workspace.
    pub async fn list_users(&self, workspace_id: i64) -> Result<Vec<User>> {
        Ok(sqlx::query_as(&format!(
            "SELECT {USER_COLUMNS} FROM users u WHERE u.workspace_id = $1 ORDER BY u.id"
        ))
        .bind(workspace_id)
        .fetch_all(self.reader())
        .await?)
    }

    /// On an empty database: creates the first workspace and `admin@localhost`, with `password`
    /// or a generated one. Returns `None` when users exist already.
    pub async fn ensure_first_admin(&self, password: Option<&str>) -> Result<Option<FirstAdmin>> {
        if self.count_users().await? > 0 {
            return Ok(None);
        }
        let generated = password.is_none().then(generate_password);
        let password = password.or(generated.as_deref()).unwrap_or_default();
        // Hashed before the transaction, which instances starting together wait for in turn.
        let admin = HashedUser::new(NewUser {
            workspace_id: 0,
            email: Email::parse("admin@localhost")?,
            name: "Administrator",
            role: Role::Admin,
            password,
        })
        .await?;
        // Run alone: two instances starting on an empty database would otherwise both see no
        // workspace and make one each.
        let mut tx = self.begin_alone(crate::AloneLock::FirstStart).await?;
        let users: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users")
            .fetch_one(&mut *tx)
            .await?;
        if users > 0 {
            // Another instance starting on the same empty database created it first.
            return Ok(None);
        }
        let workspace = crate::access::workspaces::first_or_new_workspace_in(
            &mut tx,
            crate::access::workspaces::DEFAULT_WORKSPACE,
        )
        .await?;
        let user = HashedUser {
            workspace_id: workspace.id,
            ..admin
        }
        .insert(&mut tx)
        .await?;
        tx.commit().await?;
        Ok(Some(FirstAdmin {
            user,
            generated_password: generated,
        }))
    }

    /// Checks an e-mail and password; `None` when either is wrong.
    pub async fn verify_login(&self, email: &str, password: &str) -> Result<Option<User>> {
        let Ok(email) = Email::parse(email) else {
            return Ok(None);
        };
        let row: Option<UserWithHash> = sqlx::query_as(&format!(
            "SELECT {USER_COLUMNS}, u.password_hash FROM users u WHERE u.email = $1"
        ))
        .bind(email.as_str())
        .fetch_optional(self.reader())
        .await?;
        let Some(row) = row else {
            // Spend the same work on an unknown address as on a wrong password, so that response
            // times do not tell which addresses have accounts.
            let password = password.to_string();
            let _ =
                tokio::task::spawn_blocking(move || verify_password(&password, &DUMMY_HASH)).await;
            return Ok(None);
        };
        let UserWithHash {
            user,
            password_hash: hash,
        } = row;
        let password = password.to_string();
        // argon2 takes tens of milliseconds of CPU: keep it off the async workers.
        let ok = tokio::task::spawn_blocking(move || verify_password(&password, &hash))
            .await
            .unwrap_or(false);
        Ok(ok.then_some(user))
    }

    /// A token for the browser a user just logged in from, which makes it a known device of
    /// that account: `nonce.mac`, where the mac is keyed with the account's password hash. It is
    /// checked without storing anything (so every instance, and the next start, knows it), and
    /// it stops counting when the password changes. A leaked database gives no more than it gave
    /// before: the hashes can be attacked offline anyway; a forged token only skips the
    /// per-client login back-off, never the password.
    pub async fn issue_device_token(&self, user: &User) -> Result<String> {
        let hash: String = sqlx::query_scalar("SELECT password_hash FROM users WHERE id = $1")
            .bind(user.id)
            .fetch_optional(self.reader())
            .await?
            .ok_or_else(|| StoreError::not_found("user", user.id))?;
        let nonce = new_secret();
        let mac = device_mac(&hash, &user.email, &nonce);
        Ok(format!("{nonce}.{mac}"))
    }

    /// Whether `token` was issued by [`Store::issue_device_token`] to the account `email` (as
    /// typed at login) since its password last changed.
    pub async fn is_known_device(&self, email: &str, token: &str) -> Result<bool> {
        let Some((nonce, mac)) = token.split_once('.') else {
            return Ok(false);
        };
        let Ok(email) = Email::parse(email) else {
            return Ok(false);
        };
        let Some((stored, hash)): Option<(String, String)> =
            sqlx::query_as("SELECT email, password_hash FROM users WHERE email = $1")
                .bind(email.as_str())
                .fetch_optional(self.reader())
                .await?
        else {
            return Ok(false);
        };
        let expected = device_mac(&hash, &stored, nonce);
        Ok(expected.len() == mac.len()
            && expected
                .bytes()
                .zip(mac.bytes())
                .fold(0u8, |acc, (x, y)| acc | (x ^ y))
                == 0)
    }

    /// Starts a session for a user; returns the cookie value.
    pub async fn create_session(&self, user_id: i64) -> Result<String> {
        let token = new_secret();
        let expires = (chrono::Utc::now() + chrono::Duration::days(SESSION_DAYS))
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        sqlx::query(
            "INSERT INTO sessions (token_hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(secret_hash(&token))
        .bind(user_id)
        .bind(now())
        .bind(expires)
        .execute(self.writer())
        .await?;
        Ok(token)
    }

    /// The user of a live session.
    pub async fn user_for_session(&self, token: &str) -> Result<Option<User>> {
        Ok(sqlx::query_as(&format!(
            "SELECT {USER_COLUMNS} FROM sessions s JOIN users u ON u.id = s.user_id \
             WHERE s.token_hash = $1 AND s.expires_at > $2"
        ))
        .bind(secret_hash(token))
        .bind(now())
        .fetch_optional(self.reader())
        .await?)
    }

    /// Ends a session.
    pub async fn delete_session(&self, token: &str) -> Result<()> {
        sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
            .bind(secret_hash(token))
            .execute(self.writer())
            .await?;
        Ok(())
    }

    /// Creates an API token for a user; the token is returned once and stored hashed.
    pub async fn create_api_token(&self, user_id: i64, name: &str) -> Result<(i64, String)> {
        let name = cunjin_core::required_text("name", name, 200)?;
        let token = format!("cj_{}", new_secret());
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO api_tokens (user_id, name, token_hash, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
        )
        .bind(user_id)
        .bind(name)
        .bind(secret_hash(&token))
        .bind(now())
        .fetch_one(self.writer())
        .await?;
        Ok((id, token))
    }

    /// The user an API token acts for.
    pub async fn user_for_token(&self, token: &str) -> Result<Option<User>> {
        Ok(sqlx::query_as(&format!(
            "SELECT {USER_COLUMNS} FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.token_hash = $1"
        ))
        .bind(secret_hash(token))
        .fetch_optional(self.reader())
        .await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_argon2id_and_verify() {
        let h = hash_password("correct horse").unwrap();
        assert!(h.starts_with("$argon2id$"), "{h}");
        assert!(verify_password("correct horse", &h));
        assert!(!verify_password("wrong horse!", &h));
        assert!(hash_password("short").is_err());
    }

    #[test]
    fn blank_repeated_and_common_passwords_are_refused() {
        for bad in [
            "        ",
            "\t \t \t \t ",
            "12345678",
            "password",
            "qwertyui",
            "11111111",
            "88888888",
            "a1234567",
            "iloveyou",
            "woaini1314",
            "1qaz2wsx",
            "Password",
            "PASSWORD",
            "aaaaaaaaaaaa",
            "密密密密密密密密",
            "1QAZ2WSX",
        ] {
            let e = check_password(bad).unwrap_err().to_string();
            assert!(e.contains("password"), "{bad:?}: {e}");
            assert!(
                e.contains("密码"),
                "{bad:?}: the reason in Chinese too: {e}"
            );
        }
        assert!(COMMON_PASSWORDS.len() >= 300, "{}", COMMON_PASSWORDS.len());
        assert!(COMMON_PASSWORDS.iter().all(|p| *p == p.to_lowercase()));
        for good in [
            "correct horse",
            "admin-pass-1",
            "门诊医保结算2025",
            "s3cret-pass",
        ] {
            assert!(check_password(good).is_ok(), "{good:?}");
        }
    }

    #[test]
    fn secrets_are_long_and_distinct() {
        let (a, b) = (new_secret(), new_secret());
        assert_eq!(a.len(), 64);
        assert_ne!(a, b);
        assert_eq!(generate_password().len(), 20);
    }

    #[test]
    fn ordered_secrets_sort_by_time_and_stay_random() {
        let first = new_ordered_secret();
        std::thread::sleep(std::time::Duration::from_millis(2));
        let later: Vec<String> = (0..1000).map(|_| new_ordered_secret()).collect();
        for s in &later {
            assert_eq!(s.len(), 64);
            assert!(s
                .bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));
            assert!(*s > first, "{s} after {first}");
        }
        // The random part differs even within one millisecond.
        let distinct: std::collections::HashSet<&str> = later.iter().map(|s| &s[12..]).collect();
        assert_eq!(distinct.len(), later.len());
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis();
        let stamped = u128::from_str_radix(&later[999][..12], 16).unwrap();
        assert!(
            now.abs_diff(stamped) < 60_000,
            "{stamped} is not about {now}"
        );
    }

    #[test]
    fn csrf_tokens_follow_the_session_and_are_not_its_stored_hash() {
        let (a, b) = (new_secret(), new_secret());
        assert_eq!(csrf_token(&a), csrf_token(&a));
        assert_ne!(csrf_token(&a), csrf_token(&b));
        assert_ne!(csrf_token(&a), secret_hash(&a));
        assert_eq!(csrf_token(&a).len(), 64);
    }
}
