//! The outbound guard end to end, on SQLite and PostgreSQL: webhooks never reach metadata,
//! loopback or private addresses unless allowed (written in the URL or behind a name), probes
//! keep their secret headers on their own host, failure texts quote a short excerpt of an
//! answer, a webhook's answer is read only in part, and a new base URL drops stored secrets.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::{header, HeaderMap, StatusCode as AxStatus};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use chrono::Utc;
use cunjin_web::notify::Dispatcher;
use cunjin_web::outbound::{OutboundConfig, ProbeRedirects};
use cunjin_web::WebConfig;
use reqwest::StatusCode;
use serde_json::json;

const SECRET: &str = "demo-token-5f3a9c1e77";

/// What a local server saw: the path and the headers of every request.
#[derive(Clone, Default)]
struct Seen(Arc<Mutex<Vec<(String, HeaderMap)>>>);

impl Seen {
    fn paths(&self) -> Vec<String> {
        self.0
            .lock()
            .unwrap()
            .iter()
            .map(|(p, _)| p.clone())
            .collect()
    }
    fn headers_of(&self, path: &str) -> HeaderMap {
        let seen = self.0.lock().unwrap();
        let found = seen.iter().find(|(p, _)| p == path);
        found
            .map(|(_, h)| h.clone())
            .unwrap_or_else(|| panic!("{path} was not asked"))
    }
}

/// A server on 127.0.0.1 that records every request; `extra` adds routes.
async fn server(routes: axum::Router<Seen>) -> (String, Seen) {
    let seen = Seen::default();
    let app = routes
        .layer(axum::middleware::from_fn_with_state(
            seen.clone(),
            |axum::extract::State(seen): axum::extract::State<Seen>,
             req: axum::extract::Request,
             next: axum::middleware::Next| async move {
                seen.0
                    .lock()
                    .unwrap()
                    .push((req.uri().path().to_string(), req.headers().clone()));
                next.run(req).await
            },
        ))
        .with_state(seen.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://127.0.0.1:{port}"), seen)
}

async fn receiver() -> (String, Seen) {
    server(
        axum::Router::new()
            .route("/hook", post(|| async { r#"{"errcode":0}"# }))
            .route(
                "/big",
                // A "webhook" that answers an error with a body far larger than any chat robot's.
                post(|| async { (AxStatus::INTERNAL_SERVER_ERROR, "x".repeat(8 * 1024 * 1024)) }),
            ),
    )
    .await
}

async fn open_default(app: &common::TestApp) -> common::TestApp {
    // The same kind of database with the settings a fresh installation has: no allow-list.
    common::TestApp::spawn_with(app.engine, WebConfig::default()).await
}

on_both_engines! {
    webhooks_refuse_metadata_loopback_and_private_addresses_written_in_the_url(app) {
        let app = open_default(&app).await;
        for (url, kind) in [
            ("http://169.254.169.254/latest/meta-data/", "cloud metadata"),
            ("http://[::ffff:169.254.169.254]/latest/meta-data/", "cloud metadata"),
            ("http://100.100.100.200/latest/meta-data/", "cloud metadata"),
            ("http://127.0.0.1:9/hook", "loopback"),
            ("http://10.0.0.8/hook", "private"),
            ("http://192.168.1.20:8080/hook", "private"),
            ("http://[fe80::1]/hook", "link-local"),
        ] {
            let (s, e) = app.post(&app.admin, "/api/v1/webhooks", json!({"kind": "generic", "url": url})).await;
            assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{url}: {e}");
            let m = e["error"]["message"].as_str().unwrap();
            assert!(m.contains(kind) && m.contains("outbound_allow") && m.contains("地址"), "{url}: {m}");
        }
        let (_, hooks) = app.get(&app.admin, "/api/v1/webhooks").await;
        assert_eq!(hooks.as_array().unwrap().len(), 0, "nothing was stored");
        // The web form refuses it too, and says why.
        let token = "5f0c1e2d3b4a69788796a5b4c3d2e1f0";
        let (s, h) = app.post(&app.admin, "/api/v1/webhooks", json!({"kind": "generic", "url": format!("https://oapi.dingtalk.com/robot/send?access_token={token}")})).await;
        assert_eq!(s, StatusCode::CREATED, "a public address is accepted");
        // The robot's address is its credential: answered without the token, in the API and on
        // the page.
        assert_eq!(h["url"], "https://oapi.dingtalk.com/…e1f0");
        let (_, listed) = app.get(&app.admin, "/api/v1/webhooks").await;
        assert!(!listed.to_string().contains(token), "{listed}");
        let page = app.admin.get(app.url("/webhooks")).send().await.unwrap().text().await.unwrap();
        assert!(page.contains("oapi.dingtalk.com") && !page.contains(token));
        // With the gateway on the allow-list, it is accepted.
        let allowed = common::TestApp::spawn_with(app.engine, common::local_config()).await;
        let (s, e) = allowed.post(&allowed.admin, "/api/v1/webhooks", json!({"kind": "generic", "url": "http://127.0.0.1:9/hook"})).await;
        assert_eq!(s, StatusCode::CREATED, "{e}");
    }

    a_name_that_resolves_to_loopback_is_refused_when_sending_and_reached_once_allowed(app) {
        let app = open_default(&app).await;
        let (base, seen) = receiver().await;
        let by_name = base.replace("127.0.0.1", "localhost");
        let (s, h) = app.post(&app.admin, "/api/v1/webhooks", json!({"kind": "generic", "url": format!("{by_name}/hook")})).await;
        assert_eq!(s, StatusCode::CREATED, "a name is checked when it is resolved: {h}");
        let hook = h["id"].as_i64().unwrap();
        app.post(&app.admin, &format!("/api/v1/webhooks/{hook}/test"), json!({})).await;
        let guarded = Dispatcher::new(Duration::from_secs(5));
        assert_eq!(guarded.dispatch_once(&app.store, Utc::now()).await.retried, 1);
        assert!(seen.paths().is_empty(), "nothing reached the loopback receiver: {:?}", seen.paths());
        let row = &app.deliveries(hook).await[0];
        let error = row["last_error"].as_str().unwrap();
        assert!(error.contains("loopback") && error.contains("本机回环"), "{error}");
        // The administrator allows the gateway; the retry arrives.
        let allowed = Dispatcher::with_outbound(Duration::from_secs(5), &common::local_outbound());
        let later = Utc::now() + chrono::Duration::hours(1);
        assert_eq!(allowed.dispatch_once(&app.store, later).await.sent, 1);
        assert_eq!(seen.paths(), ["/hook"]);
    }

    a_webhook_answer_is_read_in_part_and_quoted_in_a_short_excerpt(app) {
        let (base, _) = receiver().await;
        let (_, h) = app.post(&app.admin, "/api/v1/webhooks", json!({"kind": "generic", "url": format!("{base}/big")})).await;
        let hook = h["id"].as_i64().unwrap();
        app.post(&app.admin, &format!("/api/v1/webhooks/{hook}/test"), json!({})).await;
        let d = Dispatcher::with_outbound(Duration::from_secs(5), &common::local_outbound());
        assert_eq!(d.dispatch_once(&app.store, Utc::now()).await.retried, 1);
        let row = &app.deliveries(hook).await[0];
        let error = row["last_error"].as_str().unwrap();
        assert!(error.starts_with("HTTP 500"), "{error}");
        assert!(error.chars().count() < 120, "a short excerpt, not the answer: {} chars", error.chars().count());
    }

    probes_refuse_metadata_addresses_but_reach_internal_demo_hosts(app) {
        let app = open_default(&app).await;
        let (s, e) = app.post(&app.admin, "/api/v1/environments", json!({"name": "元数据", "base_url": "http://169.254.169.254"})).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
        assert!(e["error"]["message"].as_str().unwrap().contains("cloud metadata"), "{e}");
        for (i, url) in ["http://10.20.30.40:8080", "http://192.168.1.5", "http://127.0.0.1:9"].iter().enumerate() {
            let (s, e) = app.post(&app.admin, "/api/v1/environments", json!({"name": format!("内网演示{i}"), "base_url": url})).await;
            assert_eq!(s, StatusCode::CREATED, "{url}: {e}");
        }
        // An environment cannot be moved onto a metadata address either.
        let (_, envs) = app.get(&app.admin, "/api/v1/environments").await;
        let id = envs[0]["id"].as_i64().unwrap();
        let (s, _) = app.patch(&app.admin, &format!("/api/v1/environments/{id}"), json!({"base_url": "http://[fd00:ec2::254]"})).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    }

    probes_keep_secret_headers_on_their_host_and_quote_answers_in_short(app) {
        let (elsewhere, elsewhere_seen) = server(axum::Router::new().route("/steal", get(|| async { "thanks" }))).await;
        let target = format!("{}/steal", elsewhere.replace("127.0.0.1", "localhost"));
        let long_secret = format!("jdbc:mysql://10.0.0.5/his?password={}", "S3cr3t".repeat(30));
        let body = json!({"config": {"db": long_secret}}).to_string();
        let (base, seen) = server(
            axum::Router::new()
                .route("/go-elsewhere", get(move || { let t = target.clone(); async move { (AxStatus::FOUND, [(header::LOCATION, t)]).into_response() } }))
                .route("/go-home", get(|| async { (AxStatus::FOUND, [(header::LOCATION, "/home")]).into_response() }))
                .route("/home", get(|| async { "欢迎 home" }))
                .route("/config", get(move || { let b = body.clone(); async move { b } })),
        )
        .await;
        let (s, env) = app.post(&app.admin, "/api/v1/environments", json!({"name": "演示环境", "base_url": base, "headers": {"X-Demo-Token": SECRET}})).await;
        assert_eq!(s, StatusCode::CREATED, "{env}");
        let env = env["id"].as_i64().unwrap();
        for p in [
            json!({"environment_id": env, "dataset": "跳转到别处", "path": "/go-elsewhere"}),
            json!({"environment_id": env, "dataset": "跳转回首页", "path": "/go-home", "expect_body": "home"}),
            json!({"environment_id": env, "dataset": "配置", "path": "/config", "json_pointer": "/config/db", "json_value": "ok"}),
        ] {
            let (s, e) = app.post(&app.admin, "/api/v1/probes", p).await;
            assert_eq!(s, StatusCode::CREATED, "{e}");
        }
        let (s, check) = app.post(&app.admin, &format!("/api/v1/environments/{env}/run"), json!({})).await;
        assert_eq!(s, StatusCode::OK, "{check}");
        let result = |name: &str| {
            check["results"].as_array().unwrap().iter().find(|r| r["dataset"] == name).unwrap()["run"].clone()
        };
        let away = result("跳转到别处");
        assert_eq!(away["passed"], false);
        let text = away["failure_text"].as_str().unwrap();
        assert!(text.contains("another host") && text.contains("localhost"), "{text}");
        assert!(elsewhere_seen.paths().is_empty(), "the other host was never asked, so never saw the token");
        let home = result("跳转回首页");
        assert_eq!(home["passed"], true, "{home}");
        let h = seen.headers_of("/home");
        assert_eq!(h.get("x-demo-token").unwrap(), SECRET, "the same host gets the headers");
        assert!(h.get(header::REFERER).is_none(), "no Referer is sent");
        let config = result("配置");
        let text = config["failure_text"].as_str().unwrap();
        assert!(text.contains("jdbc:mysql://10.0.0.5"), "an excerpt is quoted: {text}");
        assert!(!text.contains(&"S3cr3t".repeat(10)), "but not the value: {text}");
        assert!(text.chars().count() < 200, "{text}");

        // With redirects switched off, the redirect is the answer checked.
        let strict = common::TestApp::spawn_with(app.engine, WebConfig {
            outbound: OutboundConfig { probe_redirects: ProbeRedirects::None, ..common::local_outbound() },
            ..WebConfig::default()
        }).await;
        let (_, env) = strict.post(&strict.admin, "/api/v1/environments", json!({"name": "演示环境", "base_url": base})).await;
        let env = env["id"].as_i64().unwrap();
        strict.post(&strict.admin, "/api/v1/probes", json!({"environment_id": env, "dataset": "跳转回首页", "path": "/go-home"})).await;
        let (_, check) = strict.post(&strict.admin, &format!("/api/v1/environments/{env}/run"), json!({})).await;
        let run = &check["results"][0]["run"];
        assert_eq!((run["passed"].as_bool(), run["status"].as_i64()), (Some(false), Some(302)), "{run}");
    }

    a_new_base_url_drops_the_stored_secret_headers(app) {
        let (s, env) = app.post(&app.admin, "/api/v1/environments", json!({
            "name": "演示环境", "base_url": "http://10.1.1.1:8080", "headers": {"X-Demo-Token": SECRET, "X-Tenant": "demo"}
        })).await;
        assert_eq!(s, StatusCode::CREATED, "{env}");
        let id = env["id"].as_i64().unwrap();
        let path = format!("/api/v1/environments/{id}");
        let stored = |app: &common::TestApp| {
            let store = app.store.clone();
            let ws = app.ws;
            async move { store.get_environment(ws, id).await.unwrap().headers }
        };
        let (s, e) = app.patch(&app.admin, &path, json!({"name": "演示环境-华东", "base_url": "http://10.1.1.1:8080/"})).await;
        assert_eq!(s, StatusCode::OK, "{e}");
        assert_eq!(stored(&app).await.len(), 2, "the same address keeps the headers");
        let (s, e) = app.patch(&app.admin, &path, json!({"base_url": "http://listener.example:9000"})).await;
        assert_eq!(s, StatusCode::OK, "{e}");
        assert!(stored(&app).await.is_empty(), "a new address drops them");
        assert_eq!(e["headers"], json!({}), "{e}");
        let (s, e) = app.patch(&app.admin, &path, json!({"base_url": "http://10.1.1.2", "headers": {"X-Demo-Token": "entered-again"}})).await;
        assert_eq!(s, StatusCode::OK, "{e}");
        let h = stored(&app).await;
        assert_eq!(h.into_iter().collect::<Vec<_>>(), [("X-Demo-Token".to_string(), "entered-again".to_string())]);
    }
}
