//! Demo readiness end to end, on SQLite and PostgreSQL, against a real local HTTP server that
//! plays the demo environment: endpoints that pass, fail with 500, time out, answer the wrong
//! body and the wrong JSON value.

mod common;

use std::time::Duration;

use axum::http::{HeaderMap, StatusCode as AxStatus};
use axum::routing::get;
use cunjin_core::Role;
use cunjin_web::probing::Prober;
use cunjin_web::scheduler::{tick, SchedulerConfig};
use reqwest::StatusCode;
use serde_json::{json, Value};

const SECRET: &str = "demo-token-5f3a9c1e77";

/// The demo environment: a real HTTP server on a random port.
async fn fake_environment() -> String {
    let app = axum::Router::new()
        .route(
            "/ok",
            get(|h: HeaderMap| async move {
                // The environment only answers with the demo-login token, as real ones do.
                if h.get("x-demo-token").and_then(|v| v.to_str().ok()) == Some(SECRET) {
                    (AxStatus::OK, r#"{"status":"ok","page":"病历书写"}"#)
                } else {
                    (AxStatus::UNAUTHORIZED, "login required")
                }
            }),
        )
        .route(
            "/fail",
            get(|| async { (AxStatus::INTERNAL_SERVER_ERROR, "NullPointerException") }),
        )
        .route(
            "/slow",
            get(|| async {
                tokio::time::sleep(Duration::from_secs(3)).await;
                "too late"
            }),
        )
        .route("/wrong-body", get(|| async { "系统维护中 maintenance" }))
        .route(
            "/patients",
            get(|| async { r#"{"data":[{"name":"李四","age":61}]}"# }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    base
}

struct Setup {
    env: i64,
    demo: i64,
    /// Script item ids in order.
    items: Vec<i64>,
    features: Vec<i64>,
}

async fn feature(
    app: &common::TestApp,
    product: i64,
    path: &str,
    stage: &str,
    extra: Value,
) -> i64 {
    let mut body =
        json!({"product_id": product, "menu_path": path, "stage": stage, "target_release": "V5.2"});
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    let (s, f) = app.post(&app.admin, "/api/v1/features", body).await;
    assert_eq!(s, StatusCode::CREATED, "{f}");
    f["id"].as_i64().unwrap()
}

async fn probe(app: &common::TestApp, body: Value) -> Value {
    let (s, p) = app.post(&app.admin, "/api/v1/probes", body).await;
    assert_eq!(s, StatusCode::CREATED, "{p}");
    p
}

/// An environment with one probe of each kind and a demo scripting them.
async fn setup(app: &common::TestApp) -> Setup {
    let ids = app.catalogue().await;
    let base = fake_environment().await;
    let c = &app.admin;
    let (s, env) = app
        .post(c, "/api/v1/environments", json!({
            "name": "演示环境-华东", "base_url": base, "headers": {"X-Demo-Token": SECRET}, "interval_s": 60
        }))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{env}");
    let env = env["id"].as_i64().unwrap();
    let p = ids.product;
    let ok = feature(app, p, "住院医生站/病历书写", "built", json!({})).await;
    let broken = feature(
        app,
        p,
        "住院医生站/医嘱",
        "released",
        json!({"recording_url": "https://rec/orders.mp4"}),
    )
    .await;
    let slow = feature(app, p, "住院医生站/会诊", "built", json!({})).await;
    let wrong = feature(app, p, "门诊/挂号", "released", json!({})).await;
    let menu = feature(app, p, "护理/体温单", "stubbed", json!({})).await;
    let unprobed = feature(app, p, "护理/交班", "built", json!({})).await;
    probe(
        app,
        json!({"environment_id": env, "feature_id": ok, "path": "/ok", "expect_body": "\"ok\"",
        "json_pointer": "/page", "json_value": "病历书写"}),
    )
    .await;
    probe(
        app,
        json!({"environment_id": env, "feature_id": broken, "path": "/fail"}),
    )
    .await;
    probe(
        app,
        json!({"environment_id": env, "feature_id": slow, "path": "/slow", "timeout_ms": 300}),
    )
    .await;
    probe(app, json!({"environment_id": env, "feature_id": wrong, "method": "get", "path": "/wrong-body", "expect_regex": "欢迎.*登录"})).await;
    let script = json!([
        {"feature_id": ok, "must_show": true},
        {"feature_id": broken, "must_show": true},
        {"feature_id": slow},
        {"feature_id": wrong},
        {"feature_id": menu},
        {"feature_id": ids.feature},
        {"feature_id": unprobed},
        {"text": "全院一张床，跨科收治自动调配"}
    ]);
    let (s, demo) = app
        .post(c, "/api/v1/demos", json!({
            "customer_id": ids.customer, "deal_id": ids.deal, "environment_id": env,
            "starts_at": "2027-01-15T09:30:00+08:00", "attendees": ["王院长", "信息科李主任"], "script": script
        }))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{demo}");
    assert_eq!(demo["starts_at"], "2027-01-15T01:30:00.000Z");
    assert_eq!(demo["customer_name"], "华西第一人民医院");
    let items = demo["script"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_i64().unwrap())
        .collect();
    Setup {
        env,
        demo: demo["id"].as_i64().unwrap(),
        items,
        features: vec![ok, broken, slow, wrong, menu, ids.feature, unprobed],
    }
}

fn modes(check: &Value) -> Vec<&str> {
    check["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["mode"].as_str().unwrap())
        .collect()
}

fn notes(check: &Value, i: usize) -> String {
    check["items"][i]["notes"].to_string() + &check["items"][i]["notes_zh"].to_string()
}

on_both_engines! {
    the_talk_track_follows_the_probes(app) {
        let s = setup(&app).await;
        let (st, check) = app.post(&app.admin, &format!("/api/v1/demos/{}/check", s.demo), json!({})).await;
        assert_eq!(st, StatusCode::OK, "{check}");
        assert_eq!(modes(&check), ["live", "fallback", "fallback", "fallback", "menu", "slides", "unverified", "promise"]);
        assert!(notes(&check, 1).contains("GET /fail") && notes(&check, 1).contains("got 500"), "{}", notes(&check, 1));
        assert!(notes(&check, 1).contains("https://rec/orders.mp4"), "which asset to use");
        assert!(notes(&check, 2).contains("timeout") && notes(&check, 2).contains("超时"), "{}", notes(&check, 2));
        assert!(notes(&check, 2).contains("no recording"), "{}", notes(&check, 2));
        assert!(notes(&check, 3).contains("does not match"), "{}", notes(&check, 3));
        assert!(notes(&check, 5).contains("https://slides/emr") && notes(&check, 5).contains("not planned"), "{}", notes(&check, 5));
        assert!(notes(&check, 4).contains("V5.2"), "planned release: {}", notes(&check, 4));
        assert!(notes(&check, 6).contains("no probe"));
        assert!(notes(&check, 7).contains("do not commit"));
        assert_eq!(check["ready"], true, "must-show: live, and fallback with a recording");
        assert!((check["readiness"].as_f64().unwrap() - 0.125).abs() < 1e-9, "1 of 8 live");

        // The check is kept on the demo, and the probe runs in the environment's history.
        let (_, demo) = app.get(&app.admin, &format!("/api/v1/demos/{}", s.demo)).await;
        assert_eq!(demo["last_check"]["trigger"], "manual");
        assert_eq!(modes(&demo["last_check"]), modes(&check));
        let (_, runs) = app.get(&app.admin, &format!("/api/v1/environments/{}/runs", s.env)).await;
        assert_eq!(runs.as_array().unwrap().len(), 4);
        let (_, probes) = app.get(&app.admin, &format!("/api/v1/probes?environment_id={}", s.env)).await;
        let last: Vec<bool> = probes.as_array().unwrap().iter().map(|p| p["last_run"]["passed"].as_bool().unwrap()).collect();
        assert_eq!(last, [true, false, false, false]);

        // Demo data missing: the patient the demo relies on is not there.
        let data = probe(&app, json!({"environment_id": s.env, "dataset": "患者张三", "path": "/patients?name=张三",
            "json_pointer": "/data/0/name", "json_value": "\"张三\""})).await;
        let (_, check) = app.post(&app.admin, &format!("/api/v1/demos/{}/check", s.demo), json!({})).await;
        assert_eq!(modes(&check)[0], "fallback", "live on missing data falls back");
        assert!(notes(&check, 0).contains("演示数据缺失：患者张三") && notes(&check, 0).contains("李四"), "{}", notes(&check, 0));
        assert_eq!(check["ready"], false, "a must-show item without recording is not live");
        assert_eq!(check["readiness"].as_f64(), Some(0.0));
        let (st, _) = app.delete(&app.admin, &format!("/api/v1/probes/{}", data["id"])).await;
        assert_eq!(st, StatusCode::NO_CONTENT);

        // Run now: every probe of the environment.
        let (st, run) = app.post(&app.admin, &format!("/api/v1/environments/{}/run", s.env), json!({})).await;
        assert_eq!(st, StatusCode::OK, "{run}");
        assert_eq!((run["passed"].as_u64(), run["failed"].as_u64(), run["ready"].as_bool()), (Some(1), Some(3), Some(false)));
    }

    secrets_are_never_answered(app) {
        let s = setup(&app).await;
        let c = &app.admin;
        let mut bodies = Vec::new();
        for path in ["/api/v1/environments".to_string(), format!("/api/v1/environments/{}", s.env), "/api/v1/probes".into(),
                     format!("/api/v1/demos/{}", s.demo), "/api/v1/demos".into(), "/api/v1/openapi.json".into()] {
            let res = c.get(app.url(&path)).send().await.unwrap();
            assert_eq!(res.status(), StatusCode::OK, "{path}");
            bodies.push(res.text().await.unwrap());
        }
        for path in [format!("/api/v1/demos/{}/check", s.demo), format!("/api/v1/environments/{}/run", s.env)] {
            bodies.push(c.post(app.url(&path)).json(&json!({})).send().await.unwrap().text().await.unwrap());
        }
        for path in ["/environments".to_string(), format!("/environments/{}", s.env), format!("/demos/{}", s.demo), format!("/demos/{}/talk-track", s.demo)] {
            let res = c.get(app.url(&path)).send().await.unwrap();
            assert_eq!(res.status(), StatusCode::OK, "{path}");
            bodies.push(res.text().await.unwrap());
        }
        for b in &bodies {
            assert!(!b.contains(SECRET) && !b.contains("5f3a9c1e"), "the secret leaked: {b}");
        }
        let (_, env) = app.get(c, &format!("/api/v1/environments/{}", s.env)).await;
        assert_eq!(env["headers"]["X-Demo-Token"], "•••• (21 chars)");
        // Stored encrypted: the column holds no header, the prober still sends it (above).
        let raw = cunjin_store::testing::raw_secret_values(&app.store).await.unwrap();
        assert!(raw.iter().all(|v| (v == "{}" || v.starts_with("enc:v1:")) && !v.contains(SECRET) && !v.contains("X-Demo-Token")), "{raw:?}");

        // Changing the name keeps the secret (the /ok probe still passes); null removes it.
        let (st, env) = app.patch(c, &format!("/api/v1/environments/{}", s.env), json!({"name": "演示环境-华东2", "headers": {"X-Trace": "1"}})).await;
        assert_eq!(st, StatusCode::OK, "{env}");
        assert_eq!(env["headers"].as_object().unwrap().len(), 2);
        let (_, run) = app.post(c, &format!("/api/v1/environments/{}/run", s.env), json!({})).await;
        assert_eq!(run["results"][0]["run"]["passed"], true, "{run}");
        let (_, env) = app.patch(c, &format!("/api/v1/environments/{}", s.env), json!({"headers": {"X-Demo-Token": null}})).await;
        assert_eq!(env["headers"], json!({"X-Trace": "•••• (1 chars)"}));
        let (_, run) = app.post(c, &format!("/api/v1/environments/{}/run", s.env), json!({})).await;
        assert_eq!(run["results"][0]["run"]["status"], 401);

        // Headers encrypted with another key (a database put together by hand): a clear error
        // in both languages, naming keys by id, never garbage sent to the demo.
        let other = cunjin_store::ops::secrets::SecretKey::generate();
        let sealed = other.seal(cunjin_store::ops::secrets::SecretColumn::EnvironmentHeaders, "{\"X-Demo-Token\": \"x\"}");
        cunjin_store::testing::write_raw_secret(&app.store, cunjin_store::ops::secrets::SecretColumn::EnvironmentHeaders, s.env, &sealed).await.unwrap();
        let (st, e) = app.get(c, &format!("/api/v1/environments/{}", s.env)).await;
        assert_eq!((st, e["error"]["code"].as_str()), (StatusCode::INTERNAL_SERVER_ERROR, Some("secret_key")), "{e}");
        let m = e["error"]["message"].as_str().unwrap();
        assert!(m.contains("does not match") && m.contains("密钥不匹配") && m.contains(other.id()), "{m}");
        let (st, _) = app.post(c, &format!("/api/v1/environments/{}/run", s.env), json!({})).await;
        assert_eq!(st, StatusCode::INTERNAL_SERVER_ERROR);
    }

    promises_are_recorded_from_the_demo_in_one_step(app) {
        let s = setup(&app).await;
        let c = &app.admin;
        app.post(c, &format!("/api/v1/demos/{}/check", s.demo), json!({})).await;
        let before = app.footprint().await;
        // One bad item: nothing is recorded.
        let (st, e) = app.post(c, &format!("/api/v1/demos/{}/promises", s.demo), json!({"items": [
            {"item_id": s.items[0]}, {"item_id": 999_999}
        ]})).await;
        assert_eq!(st, StatusCode::NOT_FOUND, "{e}");
        assert_eq!(app.footprint().await, before, "all or nothing");
        let (st, recorded) = app.post(c, &format!("/api/v1/demos/{}/promises", s.demo), json!({"items": [
            {"item_id": s.items[0]},
            {"item_id": s.items[1], "shown_as": "live", "criteria": ["医嘱闭环可追溯"]},
            {"item_id": s.items[4]},
            {"item_id": s.items[7], "critical": true}
        ]})).await;
        assert_eq!(st, StatusCode::CREATED, "{recorded}");
        let r = recorded.as_array().unwrap();
        let shown: Vec<&str> = r.iter().map(|c| c["shown_as"].as_str().unwrap()).collect();
        assert_eq!(shown, ["live", "live", "menu", "promise"], "the last check's mode unless told");
        assert_eq!(r[0]["critical"], true, "must-show → critical by default");
        assert_eq!(r[1]["criteria"][0]["text"], "医嘱闭环可追溯");
        assert_eq!(r[3]["stage"], "idea", "free text becomes an idea");
        assert_eq!(r[3]["feature_title"], "全院一张床，跨科收治自动调配");
        assert_eq!(r[0]["due_date"], "2027-03-31", "the deal's acceptance date");
        assert_eq!(r[0]["feature_id"].as_i64(), Some(s.features[0]));
        let (_, trail) = app.get(c, &format!("/api/v1/commitments/{}/audit", r[0]["id"])).await;
        assert_eq!(trail[0]["action"], "create");
        // A second click does not promise twice.
        let (st, e) = app.post(c, &format!("/api/v1/demos/{}/promises", s.demo), json!({"items": [{"item_id": s.items[0]}]})).await;
        assert_eq!(st, StatusCode::CONFLICT, "{e}");
        let (_, demo) = app.get(c, &format!("/api/v1/demos/{}", s.demo)).await;
        assert!(demo["promises_recorded_at"].is_string());
        let (st, e) = app.patch(c, &format!("/api/v1/demos/{}", s.demo), json!({"script": [{"text": "x"}]})).await;
        assert_eq!(st, StatusCode::CONFLICT, "the script promises were recorded from stays: {e}");
        assert_eq!(demo["script"][0]["commitment_id"], r[0]["id"]);
        let (st, _) = app.post(c, &format!("/api/v1/demos/{}/promises", s.demo), json!({"items": [{"item_id": s.items[2], "shown_as": "ppt"}]})).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    }

    roles_and_bad_input(app) {
        let s = setup(&app).await;
        let viewer = app.token_for(app.ws, Role::Viewer).await;
        let sales = app.token_for(app.ws, Role::Sales).await;
        let rnd = app.token_for(app.ws, Role::Rnd).await;
        let presales = app.token_for(app.ws, Role::Presales).await;
        let env_body = json!({"name": "x", "base_url": "http://127.0.0.1:9"});
        assert_eq!(app.post(&app.anonymous(), "/api/v1/environments", env_body.clone()).await.0, StatusCode::UNAUTHORIZED);
        assert_eq!(app.get(&app.anonymous(), "/api/v1/demos").await.0, StatusCode::UNAUTHORIZED);
        for who in [&viewer, &sales, &rnd] {
            assert_eq!(app.post(who, "/api/v1/environments", env_body.clone()).await.0, StatusCode::FORBIDDEN);
            assert_eq!(app.post(who, &format!("/api/v1/environments/{}/run", s.env), json!({})).await.0, StatusCode::FORBIDDEN);
        }
        for who in [&viewer, &rnd] {
            assert_eq!(app.post(who, &format!("/api/v1/demos/{}/check", s.demo), json!({})).await.0, StatusCode::FORBIDDEN);
            assert_eq!(app.post(who, &format!("/api/v1/demos/{}/promises", s.demo), json!({"items": [{"item_id": s.items[0]}]})).await.0, StatusCode::FORBIDDEN);
        }
        assert_eq!(app.get(&viewer, &format!("/api/v1/demos/{}", s.demo)).await.0, StatusCode::OK);
        assert_eq!(app.post(&sales, &format!("/api/v1/demos/{}/check", s.demo), json!({})).await.0, StatusCode::OK);
        assert_eq!(app.post(&presales, "/api/v1/environments", json!({"name": "售前环境", "base_url": "https://demo.example.cn/"})).await.0, StatusCode::CREATED);

        let (_, envs_before) = app.get(&app.admin, "/api/v1/environments").await;
        let (_, probes_before) = app.get(&app.admin, "/api/v1/probes").await;
        let (_, demos_before) = app.get(&app.admin, "/api/v1/demos").await;
        let c = &app.admin;
        for (body, field) in [
            (json!({"name": "y", "base_url": "demo.example.cn"}), "base_url"),
            (json!({"name": "y", "base_url": "http://a", "interval_s": 1}), "interval_s"),
            (json!({"name": "y", "base_url": "http://a", "headers": {"Bad Header": "1"}}), "headers"),
            (json!({"name": " ", "base_url": "http://a"}), "name"),
        ] {
            let (st, e) = app.post(c, "/api/v1/environments", body).await;
            assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
            assert!(e["error"]["message"].as_str().unwrap().contains(field), "{e}");
        }
        assert_eq!(app.post(c, "/api/v1/environments", json!({"name": "演示环境-华东", "base_url": "http://a"})).await.0, StatusCode::CONFLICT);
        for (body, field) in [
            (json!({"environment_id": s.env, "path": "/x"}), "feature_id"),
            (json!({"environment_id": s.env, "feature_id": s.features[0], "dataset": "张三", "path": "/x"}), "feature_id"),
            (json!({"environment_id": s.env, "dataset": "张三", "path": "x"}), "path"),
            (json!({"environment_id": s.env, "dataset": "张三", "path": "/x", "expect_regex": "(unclosed"}), "expect_regex"),
            (json!({"environment_id": s.env, "dataset": "张三", "path": "/x", "json_pointer": "/a"}), "json_value"),
            (json!({"environment_id": s.env, "dataset": "张三", "path": "/x", "timeout_ms": 5}), "timeout_ms"),
            (json!({"environment_id": s.env, "dataset": "张三", "path": "/x", "method": "DELETE"}), "method"),
            (json!({"environment_id": s.env, "dataset": "张三", "path": "/x", "expect_status": 999}), "expect_status"),
        ] {
            let (st, e) = app.post(c, "/api/v1/probes", body).await;
            assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
            assert!(e["error"]["message"].as_str().unwrap().contains(field), "{field}: {e}");
        }
        assert_eq!(app.post(c, "/api/v1/probes", json!({"environment_id": 999_999, "dataset": "x", "path": "/x"})).await.0, StatusCode::NOT_FOUND);
        let ids_customer = app.get(c, &format!("/api/v1/demos/{}", s.demo)).await.1["customer_id"].clone();
        for body in [
            json!({"customer_id": ids_customer, "starts_at": "2027-01-15"}),
            json!({"customer_id": ids_customer, "starts_at": "2027-01-15T09:00:00Z", "script": [{}]}),
            json!({"customer_id": ids_customer, "starts_at": "2027-01-15T09:00:00Z", "script": [{"feature_id": 1, "text": "x"}]}),
            json!({"customer_id": ids_customer, "starts_at": "2027-01-15T09:00:00Z", "script": [{"feature_id": 999_999}]}),
            json!({"customer_id": ids_customer, "starts_at": "2027-01-15T09:00:00Z", "color": "red"}),
        ] {
            let (st, e) = app.post(c, "/api/v1/demos", body.clone()).await;
            assert!(st == StatusCode::UNPROCESSABLE_ENTITY || st == StatusCode::NOT_FOUND, "{body} → {st} {e}");
        }
        assert_eq!(app.get(c, "/api/v1/environments").await.1.as_array().unwrap().len(), envs_before.as_array().unwrap().len());
        assert_eq!(app.get(c, "/api/v1/probes").await.1, probes_before);
        assert_eq!(app.get(c, "/api/v1/demos").await.1, demos_before, "nothing written");

        // Another workspace sees none of it.
        let other = app.store.create_workspace("别家公司").await.unwrap();
        let stranger = app.token_for(other.id, Role::Admin).await;
        assert_eq!(app.get(&stranger, &format!("/api/v1/environments/{}", s.env)).await.0, StatusCode::NOT_FOUND);
        assert_eq!(app.get(&stranger, &format!("/api/v1/demos/{}", s.demo)).await.0, StatusCode::NOT_FOUND);
        assert_eq!(app.post(&stranger, &format!("/api/v1/demos/{}/check", s.demo), json!({})).await.0, StatusCode::NOT_FOUND);
        assert_eq!(app.get(&stranger, "/api/v1/probes").await.1, json!([]));
        assert_eq!(app.get(&stranger, "/api/v1/demos").await.1, json!([]));
    }

    two_schedulers_on_one_database_run_each_job_once(app) {
        let s = setup(&app).await;
        // A second instance: its own connection pool on the same database.
        let other = cunjin_store::Store::open(&app.db_url()).await.unwrap();
        let config = SchedulerConfig::default();
        let (p1, p2) = (Prober::new(4), Prober::new(4));
        // The environment is due at once on creation; the demo starts in 30 minutes, so both its
        // 24 h and 1 h checks are due.
        let (_, demo) = app.get(&app.admin, &format!("/api/v1/demos/{}", s.demo)).await;
        let starts = (chrono::Utc::now() + chrono::Duration::minutes(30)).to_rfc3339();
        let (st, soon) = app.post(&app.admin, "/api/v1/demos", json!({
            "customer_id": demo["customer_id"], "environment_id": s.env, "starts_at": starts,
            "script": [{"feature_id": s.features[0], "must_show": true}]
        })).await;
        assert_eq!(st, StatusCode::CREATED, "{soon}");
        // And one in ten hours: only its 24 h check is due.
        let later = (chrono::Utc::now() + chrono::Duration::hours(10)).to_rfc3339();
        let (st, later) = app.post(&app.admin, "/api/v1/demos", json!({
            "customer_id": demo["customer_id"], "environment_id": s.env, "starts_at": later,
            "script": [{"feature_id": s.features[2], "must_show": true}]
        })).await;
        assert_eq!(st, StatusCode::CREATED, "{later}");
        let third = cunjin_store::Store::open(&app.db_url()).await.unwrap();
        let p3 = Prober::new(4);
        let (a, b, c) = tokio::join!(
            tick(&app.store, &p1, &config),
            tick(&other, &p2, &config),
            tick(&third, &p3, &config)
        );
        assert_eq!(a.environment_runs + b.environment_runs + c.environment_runs, 1, "{a:?} {b:?} {c:?}");
        assert_eq!(a.demo_checks + b.demo_checks + c.demo_checks, 2, "one per demo: {a:?} {b:?} {c:?}");
        // 4 probes from the environment run, 1 from each demo check.
        let (_, runs) = app.get(&app.admin, &format!("/api/v1/environments/{}/runs", s.env)).await;
        assert_eq!(runs.as_array().unwrap().len(), 6, "{runs}");
        let (_, later) = app.get(&app.admin, &format!("/api/v1/demos/{}", later["id"])).await;
        assert_eq!(later["last_check"]["trigger"], "24h");
        assert_eq!(later["last_check"]["ready"], false, "its must-show item times out, without a recording: {later}");
        let (_, soon) = app.get(&app.admin, &format!("/api/v1/demos/{}", soon["id"])).await;
        assert_eq!(soon["last_check"]["ready"], true, "{soon}");
        assert!(["24h", "1h"].contains(&soon["last_check"]["trigger"].as_str().unwrap()));
        // Nothing is due any more: the next run is one interval away, the checks are done.
        let (a, b) = tokio::join!(tick(&app.store, &p1, &config), tick(&other, &p2, &config));
        assert_eq!((a, b), Default::default());
        third.close().await;
        // The demo in January is not due yet.
        let (_, far) = app.get(&app.admin, &format!("/api/v1/demos/{}", s.demo)).await;
        assert!(far["last_check"].is_null());
        other.close().await;
    }

    a_demo_moved_or_rescripted_is_checked_again(app) {
        let s = setup(&app).await;
        let c = &app.admin;
        let path = format!("/api/v1/demos/{}", s.demo);
        app.post(c, &format!("{path}/check"), json!({})).await;
        // Within the hour: the scheduler checks it (both windows at once).
        let soon = (chrono::Utc::now() + chrono::Duration::minutes(20)).to_rfc3339();
        let (st, d) = app.patch(c, &path, json!({"starts_at": soon, "attendees": ["赵主任"], "title": "改期演示"})).await;
        assert_eq!(st, StatusCode::OK, "{d}");
        assert_eq!(d["attendees"], json!(["赵主任"]));
        assert_eq!(d["last_check"]["trigger"], "manual", "same script and environment: the check stays");
        let config = SchedulerConfig::default();
        assert_eq!(tick(&app.store, &Prober::new(4), &config).await.demo_checks, 1);
        let (_, d) = app.get(c, &path).await;
        assert!(["24h", "1h"].contains(&d["last_check"]["trigger"].as_str().unwrap()), "{d}");
        // Moved again: the checks are due again.
        let later = (chrono::Utc::now() + chrono::Duration::minutes(40)).to_rfc3339();
        app.patch(c, &path, json!({"starts_at": later})).await;
        assert_eq!(tick(&app.store, &Prober::new(4), &config).await.demo_checks, 1);
        // A new script: the old talk track is dropped, the new one is all live.
        let (st, d) = app.patch(c, &path, json!({"script": [{"feature_id": s.features[0], "must_show": true}]})).await;
        assert_eq!(st, StatusCode::OK, "{d}");
        assert!(d["last_check"].is_null());
        assert_eq!(d["script"].as_array().unwrap().len(), 1);
        let (_, check) = app.post(c, &format!("{path}/check"), json!({})).await;
        assert_eq!((check["ready"].as_bool(), check["readiness"].as_f64()), (Some(true), Some(1.0)));
        let (st, _) = app.patch(c, &path, json!({"starts_at": "tomorrow"})).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
        let viewer = app.token_for(app.ws, Role::Viewer).await;
        assert_eq!(app.patch(&viewer, &path, json!({"title": "x"})).await.0, StatusCode::FORBIDDEN);
    }

    the_contract_is_in_the_openapi_document(app) {
        let (_, doc) = app.get(&app.anonymous(), "/api/v1/openapi.json").await;
        let paths = doc["paths"].as_object().unwrap();
        for p in ["/api/v1/environments", "/api/v1/environments/{id}", "/api/v1/environments/{id}/run",
                  "/api/v1/environments/{id}/runs", "/api/v1/probes", "/api/v1/probes/{id}", "/api/v1/demos",
                  "/api/v1/demos/{id}", "/api/v1/demos/{id}/check", "/api/v1/demos/{id}/promises"] {
            assert!(paths.contains_key(p), "{p}");
        }
        let schemas = &doc["components"]["schemas"];
        for field in ["environment_id", "feature_id", "dataset", "method", "path", "expect_status", "expect_body", "expect_regex", "json_pointer", "json_value", "timeout_ms"] {
            assert!(schemas["CreateProbe"]["properties"].get(field).is_some(), "{field}");
        }
        for field in ["customer_id", "deal_id", "environment_id", "starts_at", "attendees", "script"] {
            assert!(schemas["CreateDemo"]["properties"].get(field).is_some(), "{field}");
        }
        for field in ["ready", "readiness", "items"] {
            assert!(schemas["DemoCheck"]["properties"].get(field).is_some(), "{field}");
        }
    }

    old_probe_runs_are_deleted(app) {
        let s = setup(&app).await;
        let (_, probes) = app.get(&app.admin, "/api/v1/probes").await;
        let probe_id = probes[0]["id"].as_i64().unwrap();
        let mut old = cunjin_store::demos::environments::ProbeRun::new(probe_id, Some(200), 12, None);
        old.at = "2020-01-01T00:00:00.000Z".into();
        let fresh = cunjin_store::demos::environments::ProbeRun::new(probe_id, Some(200), 12, None);
        app.store.record_probe_runs(app.ws, s.env, &[old, fresh]).await.unwrap();
        assert_eq!(app.store.delete_probe_runs_older_than(90).await.unwrap(), 1);
        let (_, runs) = app.get(&app.admin, &format!("/api/v1/environments/{}/runs", s.env)).await;
        assert_eq!(runs.as_array().unwrap().len(), 1);
    }
}
