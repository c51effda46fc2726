//! Backup and restore across engines: SQLite → PostgreSQL and PostgreSQL → SQLite.

use cunjin_store::ops::backup::{DERIVED, LOCAL, TABLES};
use cunjin_store::ops::secrets::{SecretKey, SecretKeySource};
use cunjin_store::testing::{row_counts, TestDb, TestEngine};
use cunjin_store::Store;

/// The key of every database here: the demo's environments carry secret headers, which a
/// backup keeps encrypted and only a database with the same key restores.
fn key() -> SecretKeySource {
    static KEY: std::sync::OnceLock<SecretKey> = std::sync::OnceLock::new();
    SecretKeySource::Key(KEY.get_or_init(SecretKey::generate).clone())
}

async fn open(db: &TestDb) -> Store {
    Store::open_with(&db.url, key()).await.unwrap()
}

async fn seeded(engine: TestEngine) -> (TestDb, Store, i64) {
    let db = TestDb::new(engine).await.unwrap();
    let store = open(&db).await;
    store
        .ensure_first_admin(Some("admin-pass-1"))
        .await
        .unwrap();
    let ws = store.first_workspace().await.unwrap().unwrap().id;
    store
        .seed_demo(ws, cunjin_store::today())
        .await
        .unwrap()
        .unwrap();
    (db, store, ws)
}

async fn round_trip(from: TestEngine, to: TestEngine) {
    let (_a, source, ws) = seeded(from).await;
    let mut file = Vec::new();
    let moved = source.backup(&mut file, |_, _| {}).await.unwrap();
    assert!(moved.rows() > 500, "{moved:?}");
    let b = TestDb::new(to).await.unwrap();
    let target = open(&b).await;
    let restored = target.restore(&file[..], |_, _| {}).await.unwrap();
    assert_eq!(restored.rows(), moved.rows());
    // Every row is there, the gap and the roadmap are the same, people can log in.
    assert_eq!(
        row_counts(&target).await.unwrap(),
        row_counts(&source).await.unwrap()
    );
    let (g1, g2) = (
        source.gap(ws, None).await.unwrap(),
        target.gap(ws, None).await.unwrap(),
    );
    assert_eq!((g1.chi, g1.cun), (g2.chi, g2.cun));
    assert_eq!(g1.customers.len(), g2.customers.len());
    let today = cunjin_store::today();
    let (r1, r2) = (
        source.roadmap(ws, today).await.unwrap(),
        target.roadmap(ws, today).await.unwrap(),
    );
    assert_eq!(
        r1.iter()
            .map(|e| (e.feature_id, e.score.to_bits()))
            .collect::<Vec<_>>(),
        r2.iter()
            .map(|e| (e.feature_id, e.score.to_bits()))
            .collect::<Vec<_>>()
    );
    assert!(target
        .verify_login("admin@localhost", "admin-pass-1")
        .await
        .unwrap()
        .is_some());
    // New rows get new ids after the restored ones.
    let c = target
        .create_customer(ws, "恢复后新增的医院", None)
        .await
        .unwrap();
    assert!(target
        .list_customers(ws)
        .await
        .unwrap()
        .iter()
        .all(|x| x.id <= c.id));
    // A second restore into the same database is refused and writes nothing.
    let before = row_counts(&target).await.unwrap();
    assert!(target.restore(&file[..], |_, _| {}).await.is_err());
    assert_eq!(row_counts(&target).await.unwrap(), before);
}

#[tokio::test]
async fn sqlite_to_postgres() {
    round_trip(TestEngine::Sqlite, TestEngine::Postgres).await;
}

#[tokio::test]
async fn postgres_to_sqlite() {
    round_trip(TestEngine::Postgres, TestEngine::Sqlite).await;
}

#[tokio::test]
async fn every_table_is_backed_up() {
    for engine in [TestEngine::Sqlite, TestEngine::Postgres] {
        let db = TestDb::new(engine).await.unwrap();
        let store = db.store().await.unwrap();
        let mut listed: Vec<String> = TABLES
            .iter()
            .chain(DERIVED)
            .chain(LOCAL)
            .map(|t| t.to_string())
            .collect();
        listed.sort();
        assert_eq!(store.schema_tables().await.unwrap(), listed, "{engine:?}");
    }
}

#[tokio::test]
async fn a_broken_file_restores_nothing() {
    let (_a, source, _) = seeded(TestEngine::Sqlite).await;
    let mut file = Vec::new();
    source.backup(&mut file, |_, _| {}).await.unwrap();
    let text = String::from_utf8(file).unwrap();
    // Cut in the middle of the last line, as a full disk would.
    let cut = &text[..text.len() - 10];
    for engine in [TestEngine::Sqlite, TestEngine::Postgres] {
        let db = TestDb::new(engine).await.unwrap();
        let target = open(&db).await;
        let err = target.restore(cut.as_bytes(), |_, _| {}).await.unwrap_err();
        assert!(err.to_string().contains("line"), "{err}");
        assert!(
            row_counts(&target)
                .await
                .unwrap()
                .iter()
                .all(|(t, n)| *n == 0 || LOCAL.contains(&t.as_str())),
            "{engine:?}: nothing restored"
        );
        assert!(target
            .restore(&b"{\"hello\": 1}\n"[..], |_, _| {})
            .await
            .is_err());
    }
}
