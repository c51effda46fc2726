//! Secrets at rest: the values of probe headers (a demo-login token) and webhook signing secrets
//! are stored encrypted, so that a copied database file, a leaked dump or a backup does not give
//! them away. The key lives outside the database: given by the configuration, or a key file
//! (next to the SQLite file by default).
//!
//! A stored secret reads `enc:v1:<key id>:<base64url(nonce ‖ ciphertext ‖ tag)>`, XChaCha20-
//! Poly1305 with a random 24-byte nonce (random nonces are safe at that size) and the column's
//! name as associated data, so that a value moved into another column does not decrypt. The key
//! id (8 hex digits of a hash of the key) says which key a value needs: a wrong key is reported
//! by its id, never answered as garbage. The table `secret_key_check` holds a known text
//! encrypted with the database's key, checked on every start.
//!
//! In memory the store's types carry plaintext: the prober and the webhook dispatcher read
//! `Environment::headers` and `Outgoing::secret` as they are.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::RwLock;

use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use base64::Engine as _;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::{now, Engine, Result, Store, StoreError};

/// Bytes of a key.
pub const KEY_BYTES: usize = 32;
const NONCE_BYTES: usize = 24;
const TAG_BYTES: usize = 16;
/// What every stored secret starts with.
const PREFIX: &str = "enc:";
const VERSION: &str = "v1";
/// The text `secret_key_check` holds encrypted.
const CHECK_TEXT: &str = "cunjin secret key check";
const CHECK_AAD: &str = "secret_key_check";
/// The key file of a PostgreSQL database when none is configured, in the working directory.
pub const POSTGRES_KEY_FILE: &str = "cunjin.key";

/// A column that holds secrets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretColumn {
    /// `environments.headers`: the JSON object of probe headers, encrypted whole.
    EnvironmentHeaders,
    /// `webhooks.secret`: a DingTalk or Feishu signing secret.
    WebhookSecret,
}

impl SecretColumn {
    /// Every column that holds secrets.
    pub const ALL: [SecretColumn; 2] = [
        SecretColumn::EnvironmentHeaders,
        SecretColumn::WebhookSecret,
    ];

    /// The table.
    pub fn table(self) -> &'static str {
        match self {
            SecretColumn::EnvironmentHeaders => "environments",
            SecretColumn::WebhookSecret => "webhooks",
        }
    }

    /// The column.
    pub fn column(self) -> &'static str {
        match self {
            SecretColumn::EnvironmentHeaders => "headers",
            SecretColumn::WebhookSecret => "secret",
        }
    }

    /// Associated data of its ciphertexts.
    fn aad(self) -> &'static str {
        match self {
            SecretColumn::EnvironmentHeaders => "environments.headers",
            SecretColumn::WebhookSecret => "webhooks.secret",
        }
    }

    /// A stored value with nothing secret in it: no headers.
    fn is_empty_value(self, stored: &str) -> bool {
        self == SecretColumn::EnvironmentHeaders && stored.trim() == "{}"
    }

    fn of(table: &str, column: &str) -> Option<SecretColumn> {
        SecretColumn::ALL
            .into_iter()
            .find(|c| c.table() == table && c.column() == column)
    }
}

/// Why a key cannot be used. Messages name keys by id only, never a key or a secret.
#[derive(Debug, Clone, thiserror::Error)]
pub enum SecretKeyError {
    /// The key text is not 32 bytes in hex or base64.
    #[error("the secret key is not valid ({0}): give 32 bytes as 64 hex digits or in base64 / 密钥无效（{0}）：须为 32 字节，写成 64 位十六进制或 base64")]
    Invalid(String),
    /// Stored secrets need another key.
    #[error("the secret key does not match: the stored secrets were encrypted with key {stored}, this key is {given}; use the key they were encrypted with (CUNJIN_SECRET_KEY, CUNJIN_SECRET_KEY_FILE or secret_key_file; for SQLite the file DB.key next to the database) / 密钥不匹配：已存储的机密是用密钥 {stored} 加密的，当前密钥是 {given}；请使用加密时的密钥（CUNJIN_SECRET_KEY、CUNJIN_SECRET_KEY_FILE 或 secret_key_file；SQLite 为数据库旁的 DB.key 文件）")]
    Mismatch {
        /// Id of the key the stored values need.
        stored: String,
        /// Id of the key given.
        given: String,
    },
    /// The key id fits but the value does not decrypt: it was changed outside cunjin.
    #[error("a stored secret does not decrypt with key {key}: it was changed outside cunjin / 已存储的机密无法用密钥 {key} 解密：数据已在寸进之外被改动")]
    Undecryptable {
        /// Id of the key.
        key: String,
    },
    /// The database holds encrypted secrets and no key was found.
    #[error("no secret key: the stored secrets were encrypted with key {stored} and the key file {path} does not exist; put that key there or give it with CUNJIN_SECRET_KEY, CUNJIN_SECRET_KEY_FILE or secret_key_file / 找不到密钥：已存储的机密是用密钥 {stored} 加密的，密钥文件 {path} 不存在；请放回该密钥，或用 CUNJIN_SECRET_KEY、CUNJIN_SECRET_KEY_FILE、secret_key_file 指定")]
    Missing {
        /// Id of the key the stored values need.
        stored: String,
        /// Where it was looked for.
        path: String,
    },
    /// This store was opened without a key.
    #[error("no secret key is loaded, so secrets cannot be read or stored / 未加载密钥，无法读取或保存机密")]
    NotLoaded,
    /// A key file could not be read or written.
    #[error("key file {path}: {message} / 密钥文件 {path}：{message}")]
    File {
        /// The file.
        path: String,
        /// What went wrong.
        message: String,
    },
}

/// A 32-byte key for the secrets of one database. `Debug` shows its id only.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretKey {
    bytes: [u8; KEY_BYTES],
    id: String,
}

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SecretKey({})", self.id)
    }
}

impl SecretKey {
    /// A new random key.
    pub fn generate() -> SecretKey {
        let mut bytes = [0u8; KEY_BYTES];
        rand::rng().fill_bytes(&mut bytes);
        SecretKey::from_bytes(bytes)
    }

    /// The key of these bytes.
    pub fn from_bytes(bytes: [u8; KEY_BYTES]) -> SecretKey {
        let digest = Sha256::new()
            .chain_update(b"cunjin secret key id\0")
            .chain_update(bytes)
            .finalize();
        SecretKey {
            id: hex::encode(&digest[..4]),
            bytes,
        }
    }

    /// Reads a key written as 64 hex digits or as base64 (standard or URL-safe, with or without
    /// padding); surrounding white space is ignored.
    pub fn parse(text: &str) -> std::result::Result<SecretKey, SecretKeyError> {
        let t = text.trim();
        let decoded = if t.len() == 2 * KEY_BYTES && t.bytes().all(|b| b.is_ascii_hexdigit()) {
            hex::decode(t).ok()
        } else {
            [STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD]
                .iter()
                .find_map(|e| e.decode(t).ok())
        };
        match decoded {
            None if t.is_empty() => Err(SecretKeyError::Invalid("empty".into())),
            None => Err(SecretKeyError::Invalid("neither hex nor base64".into())),
            Some(b) => {
                let n = b.len();
                let bytes: [u8; KEY_BYTES] = b
                    .try_into()
                    .map_err(|_| SecretKeyError::Invalid(format!("{n} bytes, not 32")))?;
                Ok(SecretKey::from_bytes(bytes))
            }
        }
    }

    /// Names the key in stored values and messages; tells nothing of the key.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The key as a key file holds it: standard base64.
    pub fn to_text(&self) -> String {
        STANDARD.encode(self.bytes)
    }

    fn cipher(&self) -> XChaCha20Poly1305 {
        XChaCha20Poly1305::new((&self.bytes).into())
    }

    fn seal_with_aad(&self, aad: &str, plain: &str) -> String {
        let mut nonce = [0u8; NONCE_BYTES];
        rand::rng().fill_bytes(&mut nonce);
        // Encrypting into a Vec fails only when the buffer cannot grow, which aborts anyway.
        let sealed = self
            .cipher()
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: plain.as_bytes(),
                    aad: aad.as_bytes(),
                },
            )
            .unwrap_or_default();
        let mut body = nonce.to_vec();
        body.extend_from_slice(&sealed);
        format!(
            "{PREFIX}{VERSION}:{}:{}",
            self.id,
            URL_SAFE_NO_PAD.encode(body)
        )
    }

    fn unseal_with_aad(
        &self,
        aad: &str,
        stored: &str,
    ) -> std::result::Result<String, SecretKeyError> {
        let undecryptable = || SecretKeyError::Undecryptable {
            key: self.id.clone(),
        };
        let rest = stored.strip_prefix(PREFIX).ok_or_else(undecryptable)?;
        let mut parts = rest.splitn(3, ':');
        let (Some(VERSION), Some(kid), Some(body)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(undecryptable());
        };
        if kid != self.id {
            return Err(SecretKeyError::Mismatch {
                stored: kid.chars().take(16).collect(),
                given: self.id.clone(),
            });
        }
        let body = URL_SAFE_NO_PAD.decode(body).map_err(|_| undecryptable())?;
        if body.len() < NONCE_BYTES + TAG_BYTES {
            return Err(undecryptable());
        }
        let (nonce, sealed) = body.split_at(NONCE_BYTES);
        let plain = self
            .cipher()
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: sealed,
                    aad: aad.as_bytes(),
                },
            )
            .map_err(|_| undecryptable())?;
        String::from_utf8(plain).map_err(|_| undecryptable())
    }

    /// Encrypts `plain` for `column`.
    pub fn seal(&self, column: SecretColumn, plain: &str) -> String {
        self.seal_with_aad(column.aad(), plain)
    }

    /// Decrypts a value of `column`; a value stored before encryption (no `enc:` prefix) is
    /// answered as it is.
    pub fn unseal(
        &self,
        column: SecretColumn,
        stored: &str,
    ) -> std::result::Result<String, SecretKeyError> {
        if !is_sealed(stored) {
            return Ok(stored.to_string());
        }
        self.unseal_with_aad(column.aad(), stored)
    }
}

/// Whether a stored value is encrypted.
pub fn is_sealed(stored: &str) -> bool {
    stored.starts_with(PREFIX)
}

/// The id of the key a stored value needs, if it is encrypted.
pub fn key_id_of(stored: &str) -> Option<&str> {
    stored.strip_prefix(PREFIX)?.split(':').nth(1)
}

/// Where the key of a database comes from.
#[derive(Debug, Clone)]
pub enum SecretKeySource {
    /// Given by the configuration (`CUNJIN_SECRET_KEY`, `secret_key`).
    Key(SecretKey),
    /// A key file (`CUNJIN_SECRET_KEY_FILE`, `secret_key_file`), created when missing on a
    /// database that holds no workspace and no encrypted secret yet.
    File(PathBuf),
    /// The default: `FILE.key` next to a SQLite file; `cunjin.key` in the working directory for
    /// PostgreSQL; a key of its own for an in-memory SQLite database. Created like `File`.
    Default,
}

/// Where the key in use came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyOrigin {
    /// The configuration.
    Given,
    /// A key file; `created` when this start wrote it.
    File {
        /// The file.
        path: PathBuf,
        /// Whether it was generated now.
        created: bool,
    },
    /// A key made for an in-memory database, gone with it.
    Ephemeral,
}

/// The key a store encrypts with, shared by its clones.
#[derive(Debug, Default)]
pub(crate) struct Keyring {
    key: RwLock<Option<SecretKey>>,
    origin: RwLock<Option<KeyOrigin>>,
}

/// The default key file of database URL `url` (as `normalize_url` gives it); `None` for an
/// in-memory SQLite database.
pub fn default_key_file(url: &str, engine: Engine) -> Option<PathBuf> {
    match engine {
        Engine::Postgres => Some(PathBuf::from(POSTGRES_KEY_FILE)),
        Engine::Sqlite => {
            let rest = url
                .strip_prefix("sqlite://")
                .or(url.strip_prefix("sqlite:"))
                .unwrap_or(url);
            let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
            if path.is_empty() || path == ":memory:" || query.contains("mode=memory") {
                return None;
            }
            Some(PathBuf::from(format!("{path}.key")))
        }
    }
}

fn file_error(path: &Path, e: impl std::fmt::Display) -> SecretKeyError {
    SecretKeyError::File {
        path: path.display().to_string(),
        message: e.to_string(),
    }
}

/// Reads a key file; warns when others than its owner may read it.
pub fn read_key_file(path: &Path) -> std::result::Result<SecretKey, SecretKeyError> {
    use std::os::unix::fs::PermissionsExt;
    let text = std::fs::read_to_string(path).map_err(|e| file_error(path, e))?;
    if let Ok(meta) = std::fs::metadata(path) {
        if meta.permissions().mode() & 0o077 != 0 {
            tracing::warn!(
                path = %path.display(),
                "the secret key file may be read by others than its owner; chmod 600 it / 密钥文件权限过宽，请改为 600"
            );
        }
    }
    SecretKey::parse(&text)
}

/// Writes `key` to a new file at `path`, readable by its owner only (0600). `false` when the
/// file exists already (another instance wrote it first): it is then not touched. The key goes
/// to a temporary file that is linked into place, so that nobody reads a half-written key.
pub fn write_new_key_file(
    path: &Path,
    key: &SecretKey,
) -> std::result::Result<bool, SecretKeyError> {
    use std::os::unix::fs::OpenOptionsExt;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "cunjin.key".into());
    let tmp = dir.join(format!(
        ".{name}.{}.tmp",
        &crate::access::auth::new_secret()[..12]
    ));
    let written = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&tmp)
        .and_then(|mut f| {
            writeln!(f, "{}", key.to_text())?;
            f.sync_all()
        });
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(file_error(path, e));
    }
    let linked = std::fs::hard_link(&tmp, path);
    let _ = std::fs::remove_file(&tmp);
    match linked {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
        Err(e) => Err(file_error(path, e)),
    }
}

/// The row of `secret_key_check`.
#[derive(sqlx::FromRow)]
struct KeyCheck {
    key_id: String,
    value: String,
}

impl Store {
    /// Connects, applies every pending migration and loads the key of the stored secrets from
    /// `source`: see [`Store::use_secret_key`].
    pub async fn open_with(db: &str, source: SecretKeySource) -> Result<Store> {
        let store = Store::connect(db).await?;
        store.migrate().await?;
        store.use_secret_key(source).await?;
        Ok(store)
    }

    /// Loads the key of the stored secrets and checks it against the database: a key that
    /// does not match is an error here, at start, rather than at the first probe. A key file
    /// that is missing is generated when the database holds no workspace and no encrypted
    /// secret; a database without a key check gets one. Then secrets stored in clear text (by
    /// versions before encryption, or restored from their backups) are encrypted.
    pub async fn use_secret_key(&self, source: SecretKeySource) -> Result<KeyOrigin> {
        let check = self.key_check().await?;
        let fresh = self.holds_nothing_to_protect().await?;
        let path = match &source {
            SecretKeySource::Key(_) => None,
            SecretKeySource::File(p) => Some(p.clone()),
            SecretKeySource::Default => default_key_file(&self.url, self.engine),
        };
        let (key, origin) = match (source, path) {
            (SecretKeySource::Key(k), _) => (k, KeyOrigin::Given),
            (_, None) => (SecretKey::generate(), KeyOrigin::Ephemeral),
            (_, Some(path)) => {
                let path = std::path::absolute(&path).unwrap_or(path);
                if path.exists() {
                    let key = read_key_file(&path)?;
                    (
                        key,
                        KeyOrigin::File {
                            path,
                            created: false,
                        },
                    )
                } else if let (Some(c), false) = (&check, fresh) {
                    return Err(SecretKeyError::Missing {
                        stored: c.key_id.clone(),
                        path: path.display().to_string(),
                    }
                    .into());
                } else {
                    let key = SecretKey::generate();
                    if write_new_key_file(&path, &key)? {
                        (
                            key,
                            KeyOrigin::File {
                                path,
                                created: true,
                            },
                        )
                    } else {
                        // Another instance wrote it between the two looks: use theirs.
                        let key = read_key_file(&path)?;
                        (
                            key,
                            KeyOrigin::File {
                                path,
                                created: false,
                            },
                        )
                    }
                }
            }
        };
        match check {
            Some(c) if c.key_id == key.id() => {
                if key.unseal_with_aad(CHECK_AAD, &c.value)? != CHECK_TEXT {
                    return Err(SecretKeyError::Undecryptable {
                        key: key.id().to_string(),
                    }
                    .into());
                }
            }
            Some(c) if !fresh => {
                return Err(SecretKeyError::Mismatch {
                    stored: c.key_id,
                    given: key.id().to_string(),
                }
                .into())
            }
            // An empty database (a restore that failed on the key, a start with another key
            // file before anything was written) takes the key it is given.
            Some(_) => {
                sqlx::query("DELETE FROM secret_key_check")
                    .execute(self.writer())
                    .await?;
                self.write_key_check(&key).await?;
            }
            None => self.write_key_check(&key).await?,
        }
        // Two instances starting at once on a new database: the first check written wins.
        if let Some(c) = self.key_check().await? {
            if c.key_id != key.id() {
                return Err(SecretKeyError::Mismatch {
                    stored: c.key_id,
                    given: key.id().to_string(),
                }
                .into());
            }
        }
        if let Some(other) = self.sealed_with_other_key(&key).await? {
            return Err(SecretKeyError::Mismatch {
                stored: other,
                given: key.id().to_string(),
            }
            .into());
        }
        *self.keyring.key.write().unwrap_or_else(|p| p.into_inner()) = Some(key);
        *self
            .keyring
            .origin
            .write()
            .unwrap_or_else(|p| p.into_inner()) = Some(origin.clone());
        let encrypted = self.encrypt_clear_secrets().await?;
        if encrypted > 0 {
            tracing::info!(
                encrypted,
                "secrets stored in clear text are now encrypted / 明文存储的机密已加密"
            );
        }
        Ok(origin)
    }

    /// Where the key in use came from; `None` before one is loaded.
    pub fn secret_key_origin(&self) -> Option<KeyOrigin> {
        self.keyring
            .origin
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// The id of the key in use.
    pub fn secret_key_id(&self) -> Option<String> {
        self.current_key().ok().map(|k| k.id().to_string())
    }

    fn current_key(&self) -> Result<SecretKey> {
        self.keyring
            .key
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
            .ok_or_else(|| SecretKeyError::NotLoaded.into())
    }

    async fn key_check(&self) -> Result<Option<KeyCheck>> {
        Ok(
            sqlx::query_as(
                "SELECT key_id, check_value AS value FROM secret_key_check WHERE id = 1",
            )
            .fetch_optional(self.writer())
            .await?,
        )
    }

    async fn write_key_check(&self, key: &SecretKey) -> Result<()> {
        sqlx::query(
            "INSERT INTO secret_key_check (id, key_id, check_value, created_at) VALUES (1, $1, $2, $3) \
             ON CONFLICT (id) DO NOTHING",
        )
        .bind(key.id())
        .bind(key.seal_with_aad(CHECK_AAD, CHECK_TEXT))
        .bind(now())
        .execute(self.writer())
        .await?;
        Ok(())
    }

    /// No workspace and no encrypted secret: a key that does not match loses nothing.
    async fn holds_nothing_to_protect(&self) -> Result<bool> {
        let workspaces: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM workspaces")
            .fetch_one(self.writer())
            .await?;
        if workspaces > 0 {
            return Ok(false);
        }
        for c in SecretColumn::ALL {
            let n: i64 = sqlx::query_scalar(&format!(
                "SELECT COUNT(*) FROM {} WHERE {} LIKE 'enc:%'",
                c.table(),
                c.column()
            ))
            .fetch_one(self.writer())
            .await?;
            if n > 0 {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// The id of another key that a stored secret was encrypted with, if any.
    async fn sealed_with_other_key(&self, key: &SecretKey) -> Result<Option<String>> {
        for c in SecretColumn::ALL {
            let other: Option<String> = sqlx::query_scalar(&format!(
                "SELECT {col} FROM {table} WHERE {col} LIKE 'enc:%' AND {col} NOT LIKE $1 LIMIT 1",
                col = c.column(),
                table = c.table()
            ))
            .bind(format!("{PREFIX}{VERSION}:{}:%", key.id()))
            .fetch_optional(self.writer())
            .await?;
            if let Some(v) = other {
                return Ok(Some(
                    key_id_of(&v)
                        .unwrap_or("?")
                        .chars()
                        .take(16)
                        .collect::<String>(),
                ));
            }
        }
        Ok(None)
    }

    /// Encrypts every secret still stored in clear text; returns how many. Each row is
    /// replaced only if it still holds the value read, so that instances starting together
    /// do not encrypt one value twice.
    async fn encrypt_clear_secrets(&self) -> Result<u64> {
        let key = self.current_key()?;
        let mut done = 0;
        for c in SecretColumn::ALL {
            let rows: Vec<(i64, String)> = sqlx::query_as(&format!(
                "SELECT id, {col} FROM {table} WHERE {col} IS NOT NULL AND {col} NOT LIKE 'enc:%'",
                col = c.column(),
                table = c.table()
            ))
            .fetch_all(self.writer())
            .await?;
            for (id, value) in rows {
                if c.is_empty_value(&value) {
                    continue;
                }
                done += sqlx::query(&format!(
                    "UPDATE {table} SET {col} = $1 WHERE id = $2 AND {col} = $3",
                    col = c.column(),
                    table = c.table()
                ))
                .bind(key.seal(c, &value))
                .bind(id)
                .bind(&value)
                .execute(self.writer())
                .await?
                .rows_affected();
            }
        }
        Ok(done)
    }

    /// Re-encrypts every stored secret, of every workspace, with `new`, in one transaction,
    /// and makes `new` the key of this store; returns how many values were re-encrypted. The
    /// key in use must decrypt them all, or nothing changes. Other instances on the database
    /// must be restarted with the new key.
    pub async fn rotate_secret_key(&self, new: &SecretKey) -> Result<u64> {
        let old = self.current_key()?;
        if old.id() == new.id() {
            return Err(StoreError::Conflict(
                "the new key is the key in use / 新密钥与当前密钥相同".into(),
            ));
        }
        let mut tx = self.writer().begin().await?;
        let mut done = 0;
        for c in SecretColumn::ALL {
            let rows: Vec<(i64, String)> = sqlx::query_as(&format!(
                "SELECT id, {col} FROM {table} WHERE {col} IS NOT NULL",
                col = c.column(),
                table = c.table()
            ))
            .fetch_all(&mut *tx)
            .await?;
            for (id, value) in rows {
                if c.is_empty_value(&value) {
                    continue;
                }
                let plain = old.unseal(c, &value)?;
                sqlx::query(&format!(
                    "UPDATE {table} SET {col} = $1 WHERE id = $2",
                    col = c.column(),
                    table = c.table()
                ))
                .bind(new.seal(c, &plain))
                .bind(id)
                .execute(&mut *tx)
                .await?;
                done += 1;
            }
        }
        sqlx::query("DELETE FROM secret_key_check")
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO secret_key_check (id, key_id, check_value, created_at) VALUES (1, $1, $2, $3)",
        )
        .bind(new.id())
        .bind(new.seal_with_aad(CHECK_AAD, CHECK_TEXT))
        .bind(now())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        *self.keyring.key.write().unwrap_or_else(|p| p.into_inner()) = Some(new.clone());
        Ok(done)
    }

    /// Encrypts a secret for `column`.
    pub(crate) fn seal(&self, column: SecretColumn, plain: &str) -> Result<String> {
        Ok(self.current_key()?.seal(column, plain))
    }

    /// Decrypts a stored secret of `column`.
    pub(crate) fn unseal(&self, column: SecretColumn, stored: &str) -> Result<String> {
        if !is_sealed(stored) {
            return Ok(stored.to_string());
        }
        Ok(self.current_key()?.unseal(column, stored)?)
    }

    /// Probe headers as stored: no headers stay `{}`, anything else is encrypted whole.
    pub(crate) fn seal_headers(&self, headers: &BTreeMap<String, String>) -> Result<String> {
        if headers.is_empty() {
            return Ok("{}".into());
        }
        let json =
            serde_json::to_string(headers).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        self.seal(SecretColumn::EnvironmentHeaders, &json)
    }

    /// Probe headers as stored, decrypted.
    pub(crate) fn unseal_headers(&self, stored: &str) -> Result<BTreeMap<String, String>> {
        let json = self.unseal(SecretColumn::EnvironmentHeaders, stored)?;
        serde_json::from_str(&json).map_err(|e| StoreError::Corrupt(format!("headers: {e}")))
    }

    /// A value of a backup as it is restored: an encrypted secret must decrypt with this
    /// store's key (checked, kept as it is: a backup carries secrets encrypted); a secret in
    /// clear text (a backup of a version before encryption) is encrypted. `None` keeps it.
    pub(crate) fn restored_value(
        &self,
        table: &str,
        column: &str,
        value: &str,
    ) -> Result<Option<String>> {
        let Some(c) = SecretColumn::of(table, column) else {
            return Ok(None);
        };
        if c.is_empty_value(value) {
            return Ok(None);
        }
        if is_sealed(value) {
            self.unseal(c, value)?;
            return Ok(None);
        }
        Ok(Some(self.seal(c, value)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_value_opens_with_its_key_only() {
        let k = SecretKey::generate();
        let sealed = k.seal(SecretColumn::WebhookSecret, "SEC-签名密钥");
        assert!(sealed.starts_with(&format!("enc:v1:{}:", k.id())));
        assert!(!sealed.contains("SEC"));
        assert_eq!(
            k.unseal(SecretColumn::WebhookSecret, &sealed).unwrap(),
            "SEC-签名密钥"
        );
        // Two seals of one text differ (random nonces).
        assert_ne!(sealed, k.seal(SecretColumn::WebhookSecret, "SEC-签名密钥"));
        let other = SecretKey::generate();
        assert!(matches!(
            other.unseal(SecretColumn::WebhookSecret, &sealed),
            Err(SecretKeyError::Mismatch { .. })
        ));
        // Moved to another column, or changed: not garbage, an error.
        assert!(matches!(
            k.unseal(SecretColumn::EnvironmentHeaders, &sealed),
            Err(SecretKeyError::Undecryptable { .. })
        ));
        let mut bent = sealed.clone();
        bent.pop();
        bent.push(if sealed.ends_with('A') { 'B' } else { 'A' });
        assert!(k.unseal(SecretColumn::WebhookSecret, &bent).is_err());
        assert!(k
            .unseal(SecretColumn::WebhookSecret, &format!("enc:v1:{}:", k.id()))
            .is_err());
        // Clear text from before encryption reads as it is.
        assert_eq!(
            k.unseal(SecretColumn::WebhookSecret, "plain").unwrap(),
            "plain"
        );
    }

    #[test]
    fn keys_are_read_in_hex_and_base64() {
        let k = SecretKey::generate();
        assert_eq!(SecretKey::parse(&k.to_text()).unwrap(), k);
        assert_eq!(SecretKey::parse(&hex::encode(k.bytes)).unwrap(), k);
        assert_eq!(
            SecretKey::parse(&format!("  {}\n", URL_SAFE_NO_PAD.encode(k.bytes))).unwrap(),
            k
        );
        assert!(SecretKey::parse("").is_err());
        assert!(SecretKey::parse("c2hvcnQ=").is_err());
        assert!(SecretKey::parse("not a key!").is_err());
        let e = SecretKey::parse(&STANDARD.encode([7u8; 16])).unwrap_err();
        assert!(e.to_string().contains("16 bytes") && e.to_string().contains("密钥无效"));
        assert_eq!(format!("{k:?}"), format!("SecretKey({})", k.id()));
    }

    #[test]
    fn default_key_files() {
        assert_eq!(
            default_key_file("sqlite:///tmp/x/cunjin.db?mode=rwc", Engine::Sqlite),
            Some(PathBuf::from("/tmp/x/cunjin.db.key"))
        );
        assert_eq!(
            default_key_file("sqlite://cunjin.db?mode=rwc", Engine::Sqlite),
            Some(PathBuf::from("cunjin.db.key"))
        );
        assert_eq!(default_key_file("sqlite::memory:", Engine::Sqlite), None);
        assert_eq!(
            default_key_file("postgres://u@h/db", Engine::Postgres),
            Some(PathBuf::from("cunjin.key"))
        );
    }
}
