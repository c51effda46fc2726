//! The key of stored secrets on the command line, on SQLite and PostgreSQL: generated on first
//! start, a wrong key refused at start, `cunjin secrets rotate`, backups and restores.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Output};

use cunjin_core::notify::{Event, WebhookKind};
use cunjin_store::demos::environments::NewEnvironment;
use cunjin_store::notify::NewWebhook;
use cunjin_store::ops::secrets::{read_key_file, SecretKey, SecretKeySource};
use cunjin_store::testing::{raw_secret_values, TestDb, TestEngine};
use cunjin_store::Store;

const TOKEN: &str = "Bearer cli-TOKEN-55e1";
const SIGNING: &str = "SECcli-signing-0b7d";

/// Runs cunjin on `db` with the key file `key` and nothing else from the environment.
fn cunjin(db: &str, key: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_cunjin"));
    c.args(args)
        .env("CUNJIN_DB", db)
        .env("CUNJIN_SECRET_KEY_FILE", key)
        .env_remove("CUNJIN_SECRET_KEY")
        .env_remove("CUNJIN_CONFIG")
        .env("CUNJIN_LOG", "warn");
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().expect("cunjin runs")
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// A database with an environment's secret header and a signed webhook, and its key file.
async fn seeded(engine: TestEngine, key: &Path) -> TestDb {
    let db = TestDb::new(engine).await.unwrap();
    let o = cunjin(&db.url, key, &["workspace", "add", "加密厂商"], &[]);
    assert!(o.status.success(), "{o:?}");
    assert!(text(&o).contains("generated the key"), "{}", text(&o));
    let store = Store::open_with(&db.url, SecretKeySource::File(key.into()))
        .await
        .unwrap();
    let ws = store.first_workspace().await.unwrap().unwrap().id;
    store
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
    store
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
    store.close().await;
    db
}

async fn headers_with(db: &TestDb, source: SecretKeySource) -> String {
    let store = Store::open_with(&db.url, source).await.unwrap();
    let ws = store.first_workspace().await.unwrap().unwrap().id;
    let env = store.list_environments(ws).await.unwrap().remove(0);
    store.close().await;
    env.headers["Authorization"].clone()
}

fn assert_no_secret(s: &str) {
    assert!(!s.contains("TOKEN-55e1") && !s.contains("SECcli"), "{s}");
}

async fn rotate(engine: TestEngine) {
    let dir = tempfile::tempdir().unwrap();
    let key_file = dir.path().join("cunjin.key");
    let db = seeded(engine, &key_file).await;
    let old = read_key_file(&key_file).unwrap();

    let o = cunjin(&db.url, &key_file, &["secrets", "rotate", "--help"], &[]);
    assert!(text(&o).contains("--new-key-file"), "{}", text(&o));

    // In place: the key file gets the new key, the old one is kept beside it.
    let o = cunjin(&db.url, &key_file, &["secrets", "rotate"], &[]);
    assert!(o.status.success(), "{}", text(&o));
    let out = text(&o);
    assert!(out.contains("re-encrypted 2 secrets"), "{out}");
    assert!(out.contains(&key_file.display().to_string()), "{out}");
    assert_no_secret(&out);
    let new = read_key_file(&key_file).unwrap();
    assert_ne!(new, old);
    let kept = dir.path().join(format!("cunjin.key.{}.old", old.id()));
    assert_eq!(read_key_file(&kept).unwrap(), old);
    assert!(!dir.path().join("cunjin.key.new").exists());
    {
        let store = Store::open_with(&db.url, SecretKeySource::Key(new.clone()))
            .await
            .unwrap();
        for v in raw_secret_values(&store).await.unwrap() {
            assert!(v.starts_with(&format!("enc:v1:{}:", new.id())), "{v}");
        }
        store.close().await;
    }
    // The old key opens nothing any more: a clear error at start, in both languages.
    let o = cunjin(&db.url, &kept, &["migrate"], &[]);
    assert_eq!(o.status.code(), Some(2));
    let out = text(&o);
    assert!(
        out.contains("does not match") && out.contains("密钥不匹配"),
        "{out}"
    );
    assert!(out.contains(old.id()) && out.contains(new.id()), "{out}");
    assert_eq!(
        headers_with(&db, SecretKeySource::Key(new.clone())).await,
        TOKEN
    );

    // Into a file of its own: the key file in use is left alone.
    let third_file = dir.path().join("third.key");
    let o = cunjin(
        &db.url,
        &key_file,
        &[
            "secrets",
            "rotate",
            "--new-key-file",
            third_file.to_str().unwrap(),
        ],
        &[],
    );
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("point secret_key_file"), "{}", text(&o));
    assert_eq!(read_key_file(&key_file).unwrap(), new);
    let third = read_key_file(&third_file).unwrap();
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&third_file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    assert_eq!(
        cunjin(&db.url, &key_file, &["migrate"], &[]).status.code(),
        Some(2)
    );
    assert!(cunjin(&db.url, &third_file, &["migrate"], &[])
        .status
        .success());
    // The key given as text.
    let o = cunjin(
        &db.url,
        &key_file,
        &["migrate"],
        &[("CUNJIN_SECRET_KEY", &third.to_text())],
    );
    assert!(o.status.success(), "{}", text(&o));
    let o = cunjin(
        &db.url,
        &key_file,
        &["migrate"],
        &[("CUNJIN_SECRET_KEY", "short")],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).contains("CUNJIN_SECRET_KEY") && text(&o).contains("密钥无效"));
    // A rotation given the key as text needs a file for the new one.
    let o = cunjin(
        &db.url,
        &key_file,
        &["secrets", "rotate"],
        &[("CUNJIN_SECRET_KEY", &third.to_text())],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).contains("--new-key-file"), "{}", text(&o));
    assert_eq!(headers_with(&db, SecretKeySource::Key(third)).await, TOKEN);
}

async fn backup_and_restore(engine: TestEngine) {
    let dir = tempfile::tempdir().unwrap();
    let key_file = dir.path().join("source.key");
    let db = seeded(engine, &key_file).await;
    let backup = dir.path().join("backup.jsonl");
    let o = cunjin(
        &db.url,
        &key_file,
        &["backup", backup.to_str().unwrap()],
        &[],
    );
    assert!(o.status.success(), "{}", text(&o));
    let content = std::fs::read_to_string(&backup).unwrap();
    assert_no_secret(&content);
    assert_eq!(content.matches("enc:v1:").count(), 2);

    // Into a new database that made a key of its own: refused, saying why.
    let target = TestDb::new(engine).await.unwrap();
    let target_key = dir.path().join("target.key");
    let o = cunjin(
        &target.url,
        &target_key,
        &["restore", backup.to_str().unwrap()],
        &[],
    );
    assert_eq!(o.status.code(), Some(2));
    let out = text(&o);
    assert!(
        out.contains("nothing was restored") && out.contains("密钥不匹配"),
        "{out}"
    );
    // With the key of the database the backup was made from.
    let o = cunjin(
        &target.url,
        &key_file,
        &["restore", backup.to_str().unwrap()],
        &[],
    );
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(
        headers_with(&target, SecretKeySource::File(key_file.clone())).await,
        TOKEN
    );
    let other = SecretKey::generate();
    assert!(Store::open_with(&target.url, SecretKeySource::Key(other))
        .await
        .is_err());
}

macro_rules! on_both_engines {
    ($($name:ident),*) => {
        mod sqlite { $( #[tokio::test] async fn $name() { super::$name(cunjin_store::testing::TestEngine::Sqlite).await } )* }
        mod postgres { $( #[tokio::test] async fn $name() { super::$name(cunjin_store::testing::TestEngine::Postgres).await } )* }
    };
}

on_both_engines!(rotate, backup_and_restore);
