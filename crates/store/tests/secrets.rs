//! Secrets at rest, on both engines: probe headers and webhook signing secrets are stored
//! encrypted, read back in clear by the prober and the dispatcher, refused with a clear error
//! under another key, re-encrypted by a rotation and carried encrypted by backups.

use std::collections::BTreeMap;

use cunjin_core::notify::{Event, WebhookKind};
use cunjin_store::demos::environments::{EnvironmentChange, NewEnvironment};
use cunjin_store::notify::{NewWebhook, WebhookChange};
use cunjin_store::ops::secrets::{SecretColumn, SecretKey, SecretKeyError, SecretKeySource};
use cunjin_store::testing::{raw_secret_values, write_raw_secret, TestDb, TestEngine};
use cunjin_store::{Store, StoreError};

const TOKEN: &str = "Bearer demo-login-TOKEN-7f3a";
const SIGNING: &str = "SECsigning-secret-91c2";

/// A store on a fresh database with key `key`, its workspace, an environment with a secret
/// header and a signed DingTalk webhook.
async fn with_secrets(engine: TestEngine, key: &SecretKey) -> (TestDb, Store, i64, i64, i64) {
    let db = TestDb::new(engine).await.unwrap();
    let store = Store::open_with(&db.url, SecretKeySource::Key(key.clone()))
        .await
        .unwrap();
    let ws = store.create_workspace("加密测试").await.unwrap().id;
    let env = store
        .create_environment(
            ws,
            NewEnvironment {
                name: "演示环境".into(),
                base_url: "http://127.0.0.1:9".into(),
                headers: BTreeMap::from([("Authorization".to_string(), TOKEN.to_string())]),
                interval_s: None,
            },
        )
        .await
        .unwrap();
    let hook = store
        .create_webhook(
            ws,
            "pm@test.cn",
            NewWebhook {
                kind: WebhookKind::Dingtalk,
                url: "http://127.0.0.1:9/robot".into(),
                events: vec![Event::CommitmentDue],
                secret: Some(SIGNING.into()),
            },
        )
        .await
        .unwrap();
    (db, store, ws, env.id, hook.id)
}

fn assert_no_clear_text(values: &[String]) {
    assert_eq!(values.len(), 2, "{values:?}");
    for v in values {
        assert!(v.starts_with("enc:v1:"), "stored encrypted: {v}");
        assert!(!v.contains("TOKEN") && !v.contains("SECsigning") && !v.contains("Authorization"));
    }
}

fn is_mismatch(e: &StoreError) -> bool {
    matches!(e, StoreError::SecretKey(SecretKeyError::Mismatch { .. }))
}

/// The secret the dispatcher gets for the webhook's next message.
async fn dispatched_secret(store: &Store, ws: i64, hook: i64) -> Option<String> {
    let d = store.enqueue_test_message(ws, hook).await.unwrap();
    let now = chrono::Utc::now();
    store
        .claim_delivery(d.id, "test-instance", now, chrono::Duration::seconds(60))
        .await
        .unwrap()
        .expect("the message is due")
        .secret
}

async fn stored_encrypted_read_in_clear(engine: TestEngine) {
    let key = SecretKey::generate();
    let (db, store, ws, env, hook) = with_secrets(engine, &key).await;
    assert_no_clear_text(&raw_secret_values(&store).await.unwrap());
    // The prober's and the dispatcher's view: plaintext.
    let e = store.get_environment(ws, env).await.unwrap();
    assert_eq!(e.headers["Authorization"], TOKEN);
    assert_eq!(
        dispatched_secret(&store, ws, hook).await.as_deref(),
        Some(SIGNING)
    );
    // Answered masked, as before.
    let json = serde_json::to_string(&e).unwrap();
    assert!(!json.contains("TOKEN"), "{json}");
    let json = serde_json::to_string(&store.get_webhook(ws, hook).await.unwrap()).unwrap();
    assert!(
        !json.contains("SECsigning") && json.contains("\"signed\":true"),
        "{json}"
    );
    // Changes are encrypted too; a header not named is kept.
    let e = store
        .update_environment(
            ws,
            env,
            EnvironmentChange {
                headers: BTreeMap::from([("X-Tenant".to_string(), Some("tenant-42".to_string()))]),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(e.headers["Authorization"], TOKEN);
    assert_eq!(e.headers["X-Tenant"], "tenant-42");
    store
        .update_webhook(
            ws,
            hook,
            WebhookChange {
                secret: Some(Some("SECsigning-second".into())),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let raw = raw_secret_values(&store).await.unwrap();
    assert_no_clear_text(&raw);
    assert!(!raw.iter().any(|v| v.contains("tenant-42")));
    assert_eq!(
        dispatched_secret(&store, ws, hook).await.as_deref(),
        Some("SECsigning-second")
    );
    // No headers stay `{}`: nothing secret there.
    let bare = store
        .create_environment(
            ws,
            NewEnvironment {
                name: "无头".into(),
                base_url: "http://127.0.0.1:9".into(),
                headers: BTreeMap::new(),
                interval_s: None,
            },
        )
        .await
        .unwrap();
    assert!(store
        .get_environment(ws, bare.id)
        .await
        .unwrap()
        .headers
        .is_empty());
    if engine == TestEngine::Sqlite {
        // Nor anywhere in the file or its write-ahead log.
        let path = db
            .url
            .trim_start_matches("sqlite://")
            .split('?')
            .next()
            .unwrap()
            .to_string();
        for file in [path.clone(), format!("{path}-wal")] {
            let bytes = std::fs::read(&file).unwrap_or_default();
            for secret in ["TOKEN-7f3a", "SECsigning", "tenant-42"] {
                assert!(
                    !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
                    "{secret} in {file}"
                );
            }
        }
    }
    store.close().await;
}

async fn a_wrong_key_is_a_clear_error(engine: TestEngine) {
    let key = SecretKey::generate();
    let (db, store, ws, env, _) = with_secrets(engine, &key).await;
    store.close().await;
    let other = SecretKey::generate();
    let e = Store::open_with(&db.url, SecretKeySource::Key(other.clone()))
        .await
        .unwrap_err();
    assert!(is_mismatch(&e), "{e}");
    let text = e.to_string();
    assert!(
        text.contains(key.id()) && text.contains(other.id()),
        "{text}"
    );
    assert!(
        text.contains("does not match") && text.contains("密钥不匹配"),
        "{text}"
    );
    // A value changed outside cunjin is an error at first use, not garbage.
    let store = Store::open_with(&db.url, SecretKeySource::Key(key.clone()))
        .await
        .unwrap();
    write_raw_secret(
        &store,
        SecretColumn::EnvironmentHeaders,
        env,
        &key.seal(SecretColumn::WebhookSecret, "{}"),
    )
    .await
    .unwrap();
    let e = store.get_environment(ws, env).await.unwrap_err();
    assert!(
        matches!(
            e,
            StoreError::SecretKey(SecretKeyError::Undecryptable { .. })
        ),
        "{e}"
    );
    // A value of another key is named at start.
    write_raw_secret(
        &store,
        SecretColumn::EnvironmentHeaders,
        env,
        &other.seal(SecretColumn::EnvironmentHeaders, "{}"),
    )
    .await
    .unwrap();
    assert!(is_mismatch(
        &store.get_environment(ws, env).await.unwrap_err()
    ));
    store.close().await;
    let e = Store::open_with(&db.url, SecretKeySource::Key(key))
        .await
        .unwrap_err();
    assert!(is_mismatch(&e) && e.to_string().contains(other.id()), "{e}");
}

async fn key_files(engine: TestEngine) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("secrets.key");
    let db = TestDb::new(engine).await.unwrap();
    let store = Store::open_with(&db.url, SecretKeySource::File(file.clone()))
        .await
        .unwrap();
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).unwrap().permissions().mode();
        assert_eq!(
            mode & 0o777,
            0o600,
            "the generated key file is its owner's only"
        );
    }
    let key = SecretKey::parse(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert_eq!(store.secret_key_id().as_deref(), Some(key.id()));
    let ws = store.create_workspace("密钥文件").await.unwrap().id;
    store
        .create_webhook(
            ws,
            "pm@test.cn",
            NewWebhook {
                kind: WebhookKind::Feishu,
                url: "http://127.0.0.1:9/robot".into(),
                events: vec![Event::CommitmentDue],
                secret: Some(SIGNING.into()),
            },
        )
        .await
        .unwrap();
    store.close().await;
    // The file read again; then lost: no new key is made over encrypted secrets.
    Store::open_with(&db.url, SecretKeySource::File(file.clone()))
        .await
        .unwrap()
        .close()
        .await;
    std::fs::remove_file(&file).unwrap();
    let e = Store::open_with(&db.url, SecretKeySource::File(file.clone()))
        .await
        .unwrap_err();
    assert!(
        matches!(e, StoreError::SecretKey(SecretKeyError::Missing { .. })),
        "{e}"
    );
    assert!(e.to_string().contains("找不到密钥") && e.to_string().contains(key.id()));
    assert!(!file.exists());
}

async fn clear_text_is_encrypted_on_start(engine: TestEngine) {
    let key = SecretKey::generate();
    let (db, store, ws, env, hook) = with_secrets(engine, &key).await;
    // As a version before encryption wrote them.
    let headers = serde_json::json!({"Authorization": TOKEN}).to_string();
    write_raw_secret(&store, SecretColumn::EnvironmentHeaders, env, &headers)
        .await
        .unwrap();
    write_raw_secret(&store, SecretColumn::WebhookSecret, hook, SIGNING)
        .await
        .unwrap();
    assert!(raw_secret_values(&store)
        .await
        .unwrap()
        .iter()
        .any(|v| v == SIGNING));
    store.close().await;
    let store = Store::open_with(&db.url, SecretKeySource::Key(key))
        .await
        .unwrap();
    assert_no_clear_text(&raw_secret_values(&store).await.unwrap());
    assert_eq!(
        store.get_environment(ws, env).await.unwrap().headers["Authorization"],
        TOKEN
    );
    assert_eq!(
        dispatched_secret(&store, ws, hook).await.as_deref(),
        Some(SIGNING)
    );
}

async fn rotation(engine: TestEngine) {
    let old = SecretKey::generate();
    let (db, store, ws, env, hook) = with_secrets(engine, &old).await;
    let before = raw_secret_values(&store).await.unwrap();
    let new = SecretKey::generate();
    assert_eq!(store.rotate_secret_key(&new).await.unwrap(), 2);
    let after = raw_secret_values(&store).await.unwrap();
    assert_no_clear_text(&after);
    for v in &after {
        assert!(v.starts_with(&format!("enc:v1:{}:", new.id())), "{v}");
        assert!(!before.contains(v));
        assert!(old.unseal(SecretColumn::EnvironmentHeaders, v).is_err());
        assert!(old.unseal(SecretColumn::WebhookSecret, v).is_err());
    }
    // The same store goes on with the new key.
    assert_eq!(
        store.get_environment(ws, env).await.unwrap().headers["Authorization"],
        TOKEN
    );
    assert!(
        store.rotate_secret_key(&new).await.is_err(),
        "same key twice"
    );
    store.close().await;
    assert!(is_mismatch(
        &Store::open_with(&db.url, SecretKeySource::Key(old))
            .await
            .unwrap_err()
    ));
    let store = Store::open_with(&db.url, SecretKeySource::Key(new))
        .await
        .unwrap();
    assert_eq!(
        dispatched_secret(&store, ws, hook).await.as_deref(),
        Some(SIGNING)
    );
}

async fn backups_carry_secrets_encrypted(engine: TestEngine, to: TestEngine) {
    let key = SecretKey::generate();
    let (_db, store, ws, env, hook) = with_secrets(engine, &key).await;
    let mut file = Vec::new();
    store.backup(&mut file, |_, _| {}).await.unwrap();
    let text = String::from_utf8(file.clone()).unwrap();
    assert!(!text.contains("TOKEN-7f3a") && !text.contains("SECsigning"));
    assert!(
        !text.contains("secret_key_check"),
        "the key check stays with its database"
    );
    assert_eq!(text.matches("enc:v1:").count(), 2);
    // Into a database with another key: refused, nothing written, the key named.
    let target = TestDb::new(to).await.unwrap();
    let other = SecretKey::generate();
    let wrong = Store::open_with(&target.url, SecretKeySource::Key(other))
        .await
        .unwrap();
    let e = wrong.restore(&file[..], |_, _| {}).await.unwrap_err();
    assert!(is_mismatch(&e) && e.to_string().contains(key.id()), "{e}");
    assert!(wrong.first_workspace().await.unwrap().is_none());
    wrong.close().await;
    // The same empty database, with the backup's key: restored, secrets readable.
    let right = Store::open_with(&target.url, SecretKeySource::Key(key.clone()))
        .await
        .unwrap();
    right.restore(&file[..], |_, _| {}).await.unwrap();
    assert_eq!(
        right.get_environment(ws, env).await.unwrap().headers["Authorization"],
        TOKEN
    );
    assert_eq!(
        dispatched_secret(&right, ws, hook).await.as_deref(),
        Some(SIGNING)
    );
    right.close().await;
    let again = Store::open_with(&target.url, SecretKeySource::Key(key))
        .await
        .unwrap();
    assert_no_clear_text(&raw_secret_values(&again).await.unwrap());
}

async fn old_clear_text_backups_restore_encrypted(engine: TestEngine) {
    let key = SecretKey::generate();
    let (_db, store, _ws, env, hook) = with_secrets(engine, &key).await;
    let headers = serde_json::json!({"Authorization": TOKEN}).to_string();
    write_raw_secret(&store, SecretColumn::EnvironmentHeaders, env, &headers)
        .await
        .unwrap();
    write_raw_secret(&store, SecretColumn::WebhookSecret, hook, SIGNING)
        .await
        .unwrap();
    let mut file = Vec::new();
    store.backup(&mut file, |_, _| {}).await.unwrap();
    let target = TestDb::new(engine).await.unwrap();
    let restored = Store::open_with(&target.url, SecretKeySource::Key(SecretKey::generate()))
        .await
        .unwrap();
    restored.restore(&file[..], |_, _| {}).await.unwrap();
    assert_no_clear_text(&raw_secret_values(&restored).await.unwrap());
}

macro_rules! on_both_engines {
    ($($name:ident),*) => {
        mod sqlite { $( #[tokio::test] async fn $name() { super::$name(cunjin_store::testing::TestEngine::Sqlite).await } )* }
        mod postgres { $( #[tokio::test] async fn $name() { super::$name(cunjin_store::testing::TestEngine::Postgres).await } )* }
    };
}

on_both_engines!(
    stored_encrypted_read_in_clear,
    a_wrong_key_is_a_clear_error,
    key_files,
    clear_text_is_encrypted_on_start,
    rotation,
    old_clear_text_backups_restore_encrypted
);

#[tokio::test]
async fn backup_sqlite_restore_postgres() {
    backups_carry_secrets_encrypted(TestEngine::Sqlite, TestEngine::Postgres).await;
}

#[tokio::test]
async fn backup_postgres_restore_sqlite() {
    backups_carry_secrets_encrypted(TestEngine::Postgres, TestEngine::Sqlite).await;
}
