//! The sample workspace includes demo readiness: environments with probes and upcoming demos
//! whose scripts cover features at every stage and a bare promise; on SQLite and PostgreSQL.

use cunjin_store::testing::{TestDb, TestEngine};

async fn the_sample_has_environments_probes_and_upcoming_demos(engine: TestEngine) {
    let db = TestDb::new(engine).await.unwrap();
    let store = db.store().await.unwrap();
    let ws = store.create_workspace("demo").await.unwrap().id;
    let summary = store
        .seed_demo(ws, cunjin_store::today())
        .await
        .unwrap()
        .unwrap();
    assert_eq!((summary.environments, summary.demos), (2, 2));
    let envs = store.list_environments(ws).await.unwrap();
    assert_eq!(envs.len(), 2);
    let json = serde_json::to_string(&envs).unwrap();
    assert!(!json.contains("sample-demo-login-token"), "{json}");
    let probes = store.list_probes(ws, None).await.unwrap();
    assert_eq!(probes.len(), 6);
    assert!(probes.iter().any(|p| p.dataset.is_some()));
    assert!(
        probes.iter().all(|p| p.last_run.is_none()),
        "nothing ran yet"
    );
    let now = cunjin_store::stored_time(chrono::Utc::now());
    let demos = store.list_demos(ws, Some(&now)).await.unwrap();
    assert_eq!(demos.len(), 2, "both are upcoming");
    for d in demos {
        let d = store.get_demo(ws, d.id).await.unwrap();
        assert!(d.script.len() >= 5);
        assert!(d.script.iter().any(|i| i.must_show));
        assert!(
            d.script.iter().any(|i| i.text.is_some()),
            "a bare promise on the script"
        );
        assert!(d.environment_id.is_some() && d.deal_id.is_some());
        assert!(d.last_check.is_none());
    }
}

#[tokio::test]
async fn sqlite() {
    the_sample_has_environments_probes_and_upcoming_demos(TestEngine::Sqlite).await;
}

#[tokio::test]
async fn postgres() {
    the_sample_has_environments_probes_and_upcoming_demos(TestEngine::Postgres).await;
}
