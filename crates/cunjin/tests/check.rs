//! `cunjin check`, run as cron would run it, against a real local HTTP server playing the demo
//! environment; exit status 0 ready, 1 not ready, 2 could not check; on SQLite and PostgreSQL.

use std::collections::BTreeMap;
use std::process::{Command, Output};
use std::time::Duration;

use axum::http::StatusCode;
use axum::routing::get;
use cunjin_core::{MenuPath, Stage};
use cunjin_store::demos::environments::{NewEnvironment, NewProbe};
use cunjin_store::demos::{NewDemo, NewDemoItem};
use cunjin_store::ledger::catalogue::NewFeature;
use cunjin_store::testing::{TestDb, TestEngine};
use cunjin_store::Store;

fn cunjin(db: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cunjin"))
        .args(args)
        .env("CUNJIN_DB", db)
        .env("CUNJIN_LOG", "warn")
        .output()
        .expect("cunjin runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// The demo environment, on its own thread and runtime: the test thread blocks on the child.
fn fake_environment() -> String {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Runtime::new().unwrap();
        rt.block_on(async move {
            let app = axum::Router::new()
                .route("/ok", get(|| async { r#"{"status":"ok"}"# }))
                .route(
                    "/fail",
                    get(|| async { (StatusCode::INTERNAL_SERVER_ERROR, "boom") }),
                )
                .route(
                    "/slow",
                    get(|| async {
                        tokio::time::sleep(Duration::from_secs(3)).await;
                        "late"
                    }),
                )
                .route("/wrong-body", get(|| async { "系统维护中" }))
                .route(
                    "/patients",
                    get(|| async { r#"{"data":[{"name":"李四"}]}"# }),
                );
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            tx.send(format!("http://{}", listener.local_addr().unwrap()))
                .unwrap();
            axum::serve(listener, app).await.unwrap();
        });
    });
    rx.recv().unwrap()
}

struct World {
    ws: i64,
    customer: i64,
    env: i64,
    ok: i64,
    fail: i64,
    slow: i64,
    wrong_body: i64,
    wrong_json: i64,
}

async fn world(store: &Store, base_url: &str) -> World {
    let ws = store.create_workspace("测试").await.unwrap().id;
    let product = store.create_product(ws, "HIS").await.unwrap().id;
    let f = |path: &'static str| {
        let store = store.clone();
        async move {
            store
                .create_feature(
                    ws,
                    "t@t",
                    NewFeature {
                        product_id: product,
                        menu_path: MenuPath::parse(path).unwrap(),
                        title: None,
                        stage: Stage::Built,
                        effort_days: None,
                        target_release: None,
                        slide_url: None,
                        recording_url: None,
                    },
                )
                .await
                .unwrap()
                .id
        }
    };
    let (ok, fail, slow, wrong_body, wrong_json) = (
        f("门诊/挂号").await,
        f("门诊/收费").await,
        f("住院/医嘱").await,
        f("住院/病历").await,
        f("住院/床位").await,
    );
    let customer = store
        .create_customer(ws, "某某医院", None)
        .await
        .unwrap()
        .id
        .get();
    let env = store
        .create_environment(
            ws,
            NewEnvironment {
                name: "demo-east".into(),
                base_url: base_url.into(),
                headers: BTreeMap::new(),
                interval_s: None,
            },
        )
        .await
        .unwrap()
        .id;
    for (feature, path, body, pointer) in [
        (ok, "/ok", Some("ok"), None),
        (fail, "/fail", None, None),
        (slow, "/slow", None, None),
        (wrong_body, "/wrong-body", Some("欢迎"), None),
        (
            wrong_json,
            "/patients",
            None,
            Some(("/data/0/name", "张三")),
        ),
    ] {
        store
            .create_probe(
                ws,
                NewProbe {
                    environment_id: env,
                    feature_id: Some(feature),
                    path: path.into(),
                    expect_body: body.map(str::to_string),
                    json_pointer: pointer.map(|p| p.0.to_string()),
                    json_value: pointer.map(|p| p.1.to_string()),
                    timeout_ms: Some(300),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
    }
    World {
        ws,
        customer,
        env,
        ok,
        fail,
        slow,
        wrong_body,
        wrong_json,
    }
}

async fn demo(store: &Store, w: &World, env: Option<i64>, features: &[(i64, bool)]) -> String {
    store
        .create_demo(
            w.ws,
            NewDemo {
                customer_id: w.customer,
                deal_id: None,
                environment_id: env,
                title: None,
                starts_at: chrono::Utc::now() + chrono::Duration::days(2),
                attendees: vec![],
                script: features
                    .iter()
                    .map(|(f, must)| NewDemoItem {
                        feature_id: Some(*f),
                        text: None,
                        must_show: *must,
                    })
                    .collect(),
            },
        )
        .await
        .unwrap()
        .id
        .to_string()
}

macro_rules! on_both_engines {
    ($($name:ident($db:ident) $body:block)*) => {
        mod sqlite { use super::*; $( #[tokio::test] async fn $name() { let $db = TestDb::new(TestEngine::Sqlite).await.unwrap(); $body } )* }
        mod postgres { use super::*; $( #[tokio::test] async fn $name() { let $db = TestDb::new(TestEngine::Postgres).await.unwrap(); $body } )* }
    };
}

#[test]
fn help_explains_the_exit_status() {
    let o = cunjin("unused.db", &["check", "--help"]);
    let text = stdout(&o);
    for s in [
        "--demo",
        "--env",
        "--json",
        "0 ready",
        "1 not ready",
        "2 could not check",
    ] {
        assert!(text.contains(s), "{s} in {text}");
    }
    let o = cunjin("unused.db", &["check", "--demo", "1", "--env", "x"]);
    assert_eq!(o.status.code(), Some(2), "one of the two");
}

on_both_engines! {
    exit_status_follows_the_talk_track(db) {
        let store = db.store().await.unwrap();
        let w = world(&store, &fake_environment()).await;

        let ready = demo(&store, &w, Some(w.env), &[(w.ok, true), (w.fail, false)]).await;
        let o = cunjin(&db.url, &["check", "--demo", &ready]);
        assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
        let text = stdout(&o);
        assert!(text.contains("现场演示 Live") && text.contains("READY / 可以演示"), "{text}");
        assert!(text.contains("期望状态 200，实际 500") && text.contains("expected status 200, got 500"), "{text}");

        let not_ready = demo(&store, &w, Some(w.env), &[
            (w.ok, true), (w.fail, true), (w.slow, false), (w.wrong_body, false), (w.wrong_json, false),
        ]).await;
        let o = cunjin(&db.url, &["check", "--demo", &not_ready, "--json"]);
        assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        let modes: Vec<&str> = v["items"].as_array().unwrap().iter().map(|i| i["mode"].as_str().unwrap()).collect();
        assert_eq!(modes, ["live", "fallback", "fallback", "fallback", "fallback"]);
        let note = |i: usize| v["items"][i]["notes"].to_string();
        assert!(note(1).contains("got 500") && note(1).contains("no recording"), "{}", note(1));
        assert!(note(2).contains("timeout"), "{}", note(2));
        assert!(note(3).contains("does not contain \\\"欢迎\\\""), "{}", note(3));
        assert!(note(4).contains("/data/0/name is \\\"李四\\\", expected \\\"张三\\\""), "{}", note(4));
        assert_eq!(v["ready"], false);
        assert_eq!(v["readiness"].as_f64(), Some(0.2));
        assert_eq!(v["could_not_check"], false);
        // The check is kept on the demo, as a server-side check would be.
        let kept = store.get_demo(w.ws, not_ready.parse().unwrap()).await.unwrap();
        assert_eq!(kept.last_check.unwrap().trigger, "cli");

        let o = cunjin(&db.url, &["check", "--env", "demo-east", "--json"]);
        assert_eq!(o.status.code(), Some(1));
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!((v["passed"].as_u64(), v["failed"].as_u64()), (Some(1), Some(4)));
        let o = cunjin(&db.url, &["check", "--env", "demo-east"]);
        assert!(stdout(&o).contains("NOT READY / 尚未就绪"), "{}", stdout(&o));
    }

    nothing_answering_means_could_not_check(db) {
        let store = db.store().await.unwrap();
        // Port 9 (discard) on localhost: nothing listens, the connection is refused.
        let w = world(&store, "http://127.0.0.1:9").await;
        let id = demo(&store, &w, Some(w.env), &[(w.ok, true)]).await;
        let o = cunjin(&db.url, &["check", "--demo", &id]);
        assert_eq!(o.status.code(), Some(2), "{}", stdout(&o));
        assert!(stdout(&o).contains("无法检查"), "{}", stdout(&o));
        assert_eq!(cunjin(&db.url, &["check", "--env", "demo-east"]).status.code(), Some(2));
        assert_eq!(cunjin(&db.url, &["check", "--env", "no-such-env"]).status.code(), Some(2));
        assert_eq!(cunjin(&db.url, &["check", "--demo", "999999"]).status.code(), Some(2));
        // Without an environment nothing is verified: not ready, but checked.
        let unverified = demo(&store, &w, None, &[(w.ok, true)]).await;
        let o = cunjin(&db.url, &["check", "--demo", &unverified]);
        assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
        assert!(stdout(&o).contains("未验证 Unverified"), "{}", stdout(&o));
    }
}
