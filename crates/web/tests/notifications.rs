//! Notifications end to end, on SQLite and PostgreSQL, against a local server that plays the
//! chat robots and records every POST: each kind's format, decisions, failed readiness checks
//! before a demo, reminders (催办), the weekly digest, retries, restarts, two instances; and the
//! ICS calendar feed.

mod common;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode as AxStatus};
use axum::routing::post;
use chrono::{Datelike, NaiveDate, Utc};
use cunjin_core::notify::{MAX_ATTEMPTS, RETRY_DELAYS_S};
use cunjin_core::Role;
use cunjin_web::notify::{dingtalk_sign, feishu_sign, DispatchReport, Dispatcher};
use cunjin_web::probing::Prober;
use cunjin_web::scheduler::{tick, SchedulerConfig};
use reqwest::StatusCode;
use serde_json::{json, Value};

/// One POST as the receiver saw it.
#[derive(Debug, Clone)]
struct Received {
    path: String,
    query: BTreeMap<String, String>,
    dedupe_key: String,
    body: Value,
}

#[derive(Clone, Default)]
struct Receiver {
    got: Arc<Mutex<Vec<Received>>>,
    /// Answer this many POSTs with 500 before answering 200.
    fail_next: Arc<AtomicUsize>,
    /// POSTs answered 500.
    refused: Arc<AtomicUsize>,
    base: String,
}

impl Receiver {
    async fn start() -> Receiver {
        let mut r = Receiver::default();
        let app = axum::Router::new()
            .route("/{name}", post(record))
            .with_state(r.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        r.base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        r
    }

    fn url(&self, name: &str) -> String {
        format!("{}/{name}", self.base)
    }

    fn received(&self) -> Vec<Received> {
        self.got.lock().unwrap().clone()
    }

    fn at(&self, path: &str) -> Vec<Received> {
        self.received()
            .into_iter()
            .filter(|r| r.path == path)
            .collect()
    }
}

async fn record(
    State(r): State<Receiver>,
    Path(name): Path<String>,
    Query(query): Query<BTreeMap<String, String>>,
    headers: HeaderMap,
    body: String,
) -> (AxStatus, &'static str) {
    if name == "slow" {
        tokio::time::sleep(Duration::from_secs(3)).await;
    }
    if name == "refusing" {
        // A chat robot that takes the POST but not the message (a blocked keyword).
        r.refused.fetch_add(1, Ordering::SeqCst);
        return (
            AxStatus::OK,
            r#"{"errcode":310000,"errmsg":"keywords not in content"}"#,
        );
    }
    if r.fail_next
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok()
    {
        r.refused.fetch_add(1, Ordering::SeqCst);
        return (AxStatus::INTERNAL_SERVER_ERROR, "busy");
    }
    r.got.lock().unwrap().push(Received {
        path: name,
        query,
        dedupe_key: headers
            .get("x-cunjin-dedupe-key")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string(),
        body: serde_json::from_str(&body).unwrap_or(Value::Null),
    });
    (AxStatus::OK, r#"{"errcode":0,"code":0}"#)
}

async fn hook(app: &common::TestApp, body: Value) -> i64 {
    let (s, h) = app.post(&app.admin, "/api/v1/webhooks", body).await;
    assert_eq!(s, StatusCode::CREATED, "{h}");
    h["id"].as_i64().unwrap()
}

async fn file_request(app: &common::TestApp, customer: i64, text: &str) -> i64 {
    let (s, r) = app
        .post(&app.admin, "/api/v1/requests", json!({
            "text": text, "source_role": "customer", "customer_id": customer, "requester": "信息科李主任"
        }))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{r}");
    r["id"].as_i64().unwrap()
}

async fn promise(app: &common::TestApp, ids: common::Ids, title: &str, due: NaiveDate) -> i64 {
    let (s, c) = app
        .post(
            &app.admin,
            "/api/v1/commitments",
            json!({
                "customer_id": ids.customer, "deal_id": ids.deal, "product_id": ids.product,
                "feature_title": title, "due_date": due.to_string(), "critical": true,
                "criteria": ["结算成功率≥99%"]
            }),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{c}");
    c["id"].as_i64().unwrap()
}

fn dispatcher() -> Dispatcher {
    Dispatcher::with_outbound(Duration::from_secs(5), &common::local_outbound())
}

on_both_engines! {
    a_decision_reaches_each_hook_once_in_its_own_format(app) {
        let ids = app.catalogue().await;
        let rx = Receiver::start().await;
        hook(&app, json!({"kind": "wecom", "url": rx.url("wecom"), "events": ["request_decided"]})).await;
        let ding = hook(&app, json!({"kind": "dingtalk", "url": rx.url("dingtalk"), "secret": "SECding-0042"})).await;
        hook(&app, json!({"kind": "feishu", "url": rx.url("feishu"), "secret": "feishu-secret-7"})).await;
        hook(&app, json!({"kind": "slack", "url": rx.url("slack"), "events": ["request_decided", "weekly_digest"]})).await;
        let generic = hook(&app, json!({"kind": "generic", "url": rx.url("generic")})).await;
        // Subscribed to something else: hears nothing of the decision.
        let digest_only = hook(&app, json!({"kind": "generic", "url": rx.url("digest"), "events": ["weekly_digest"]})).await;

        let (_, h) = app.get(&app.admin, &format!("/api/v1/webhooks/{ding}")).await;
        assert_eq!(h["signed"], true);
        assert_eq!(h["events"], json!(["readiness_failed", "commitment_due", "request_decided", "weekly_digest"]));
        let (_, all) = app.get(&app.admin, "/api/v1/webhooks").await;
        assert!(!all.to_string().contains("SECding-0042"), "secrets are never answered: {all}");
        let raw = cunjin_store::testing::raw_secret_values(&app.store).await.unwrap();
        assert_eq!(raw.len(), 2, "{raw:?}");
        assert!(raw.iter().all(|v| v.starts_with("enc:v1:") && !v.contains("SECding") && !v.contains("feishu-secret")), "stored encrypted: {raw:?}");
        assert_eq!(all.as_array().unwrap().len(), 6);

        let id = file_request(&app, ids.customer, "门诊医生站支持医保电子凭证扫码").await;
        // Filing is not a decision: nothing is enqueued.
        assert!(app.deliveries(generic).await.is_empty());
        let (s, r) = app.post(&app.admin, &format!("/api/v1/requests/{id}/decision"),
            json!({"decision": "declined", "reason": "与省平台规划冲突"})).await;
        assert_eq!(s, StatusCode::OK, "{r}");

        let d = dispatcher();
        let now = Utc::now();
        assert_eq!(d.dispatch_once(&app.store, now).await, DispatchReport { sent: 5, retried: 0, failed: 0 });
        assert_eq!(d.dispatch_once(&app.store, now).await, DispatchReport::default(), "nothing is sent twice");
        assert_eq!(rx.received().len(), 5);
        assert!(rx.at("digest").is_empty());
        for name in ["wecom", "dingtalk", "feishu", "slack", "generic"] {
            assert_eq!(rx.at(name).len(), 1, "{name}");
            assert!(rx.at(name)[0].dedupe_key.starts_with(&format!("decision:{id}:")), "{name}");
        }
        let wecom = &rx.at("wecom")[0].body;
        assert_eq!(wecom["msgtype"], "markdown");
        let content = wecom["markdown"]["content"].as_str().unwrap();
        assert!(content.starts_with(&format!("**需求 #{id} 已决定：不做**")), "{content}");
        assert!(content.contains("理由：与省平台规划冲突") && content.contains("Decision: declined"), "{content}");

        let ding_msg = &rx.at("dingtalk")[0];
        assert_eq!(ding_msg.body["msgtype"], "markdown");
        assert_eq!(ding_msg.body["markdown"]["title"], format!("需求 #{id} 已决定：不做"));
        let ts = &ding_msg.query["timestamp"];
        assert_eq!(ding_msg.query["sign"], dingtalk_sign("SECding-0042", ts), "signed with the secret");

        let feishu = &rx.at("feishu")[0].body;
        assert_eq!(feishu["msg_type"], "text");
        assert!(feishu["content"]["text"].as_str().unwrap().contains("客户：华西第一人民医院"));
        assert_eq!(feishu["sign"], feishu_sign("feishu-secret-7", feishu["timestamp"].as_str().unwrap()));

        let slack = &rx.at("slack")[0].body;
        assert_eq!(slack["text"], format!("需求 #{id} 已决定：不做 / Request #{id} decided: declined"));
        assert_eq!(slack["blocks"][0]["type"], "header");

        let g = &rx.at("generic")[0].body;
        assert_eq!(g["event"], "request_decided");
        assert_eq!(g["workspace"].as_str().map(str::is_empty), Some(false));
        assert_eq!(g["data"]["request_id"], id);
        assert_eq!(g["data"]["decision"], "declined");
        assert_eq!(g["data"]["reason"], "与省平台规划冲突");
        assert_eq!(g["dedupe_key"].as_str().unwrap(), rx.at("generic")[0].dedupe_key);

        let sent = app.deliveries(generic).await;
        assert_eq!(sent.len(), 1);
        assert_eq!((sent[0]["status"].as_str(), sent[0]["attempts"].as_i64()), (Some("sent"), Some(1)));
        assert_eq!(sent[0]["payload"], *g);
        assert!(app.deliveries(digest_only).await.is_empty());

        // Paused after a decision: its message waits in the outbox until the hook is resumed.
        let (s, _) = app.post(&app.admin, &format!("/api/v1/requests/{id}/decision"),
            json!({"decision": "accepted", "feature_id": ids.feature})).await;
        assert_eq!(s, StatusCode::OK);
        let (s, h) = app.patch(&app.admin, &format!("/api/v1/webhooks/{generic}"), json!({"active": false})).await;
        assert_eq!((s, h["active"].as_bool()), (StatusCode::OK, Some(false)));
        let later = Utc::now();
        assert_eq!(d.dispatch_once(&app.store, later).await.sent, 4, "every hook but the paused one");
        // While paused, nothing new is enqueued for it.
        let (s, _) = app.post(&app.admin, &format!("/api/v1/requests/{id}/decision"), json!({"decision": "deferred"})).await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(d.dispatch_once(&app.store, Utc::now()).await.sent, 4);
        app.patch(&app.admin, &format!("/api/v1/webhooks/{generic}"), json!({"active": true})).await;
        assert_eq!(d.dispatch_once(&app.store, Utc::now()).await.sent, 1);
        assert_eq!(rx.at("generic").len(), 2);
        assert_eq!(rx.at("generic")[1].body["data"]["decision"], "accepted");
        assert_eq!(rx.at("wecom").len(), 3);
    }

    webhooks_are_for_admins_and_pms_and_bad_input_writes_nothing(app) {
        let rx = Receiver::start().await;
        let mut clients = Vec::new();
        for role in [Role::Viewer, Role::Sales, Role::Presales, Role::Rnd] {
            clients.push((role, app.token_for(app.ws, role).await));
        }
        let before = app.footprint().await;
        for (role, c) in &clients {
            let (role, c) = (*role, c);
            let (s, e) = app.post(c, "/api/v1/webhooks", json!({"kind": "slack", "url": rx.url("x")})).await;
            assert_eq!(s, StatusCode::FORBIDDEN, "{role}: {e}");
            assert_eq!(app.get(c, "/api/v1/webhooks").await.0, StatusCode::FORBIDDEN, "{role}");
            assert_eq!(app.get(c, "/api/v1/calendar-link").await.0, StatusCode::FORBIDDEN, "{role}");
            assert_eq!(app.post(c, "/api/v1/calendar-link/rotate", json!({})).await.0, StatusCode::FORBIDDEN, "{role}");
        }
        for (body, field) in [
            (json!({"kind": "teams", "url": rx.url("x")}), "kind"),
            (json!({"kind": "slack", "url": "ftp://chat.example/hook"}), "url"),
            (json!({"kind": "slack", "url": "javascript:alert(1)"}), "url"),
            (json!({"kind": "slack", "url": rx.url("x"), "secret": "s"}), "secret"),
            (json!({"kind": "generic", "url": rx.url("x"), "events": []}), "events"),
            (json!({"kind": "generic", "url": rx.url("x"), "events": ["everything"]}), "events"),
        ] {
            let (s, e) = app.post(&app.admin, "/api/v1/webhooks", body.clone()).await;
            assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {e}");
            assert!(e["error"]["message"].as_str().unwrap().contains(field), "{body}: {e}");
        }
        let (s, _) = app.post(&app.admin, "/api/v1/webhooks", json!({"kind": "slack", "url": rx.url("x"), "colour": "red"})).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(app.footprint().await, before, "nothing was written");

        let pm = app.token_for(app.ws, Role::Pm).await;
        let (s, h) = app.post(&pm, "/api/v1/webhooks", json!({"kind": "wecom", "url": rx.url("pm")})).await;
        assert_eq!(s, StatusCode::CREATED, "{h}");
        let id = h["id"].as_i64().unwrap();
        let (s, _) = app.patch(&pm, &format!("/api/v1/webhooks/{id}"), json!({"url": "not a link"})).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        let (s, _) = app.patch(&pm, &format!("/api/v1/webhooks/{id}"), json!({"secret": "wecom-does-not-sign"})).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        let (s, h) = app.patch(&pm, &format!("/api/v1/webhooks/{id}"), json!({"events": ["commitment_due"]})).await;
        assert_eq!(s, StatusCode::OK, "{h}");
        assert_eq!((h["events"].clone(), h["url"].clone(), h["active"].clone()), (json!(["commitment_due"]), json!(rx.url("pm")), json!(true)));
        for i in 1..cunjin_store::notify::MAX_WEBHOOKS - 1 {
            let (s, h) = app.post(&pm, "/api/v1/webhooks", json!({"kind": "generic", "url": rx.url(&format!("h{i}"))})).await;
            assert_eq!(s, StatusCode::CREATED, "{h}");
        }
        let (s, d) = app.post(&pm, "/api/v1/webhooks", json!({"kind": "feishu", "url": rx.url("f"), "secret": "feishu-1"})).await;
        assert_eq!((s, d["signed"].as_bool()), (StatusCode::CREATED, Some(true)));
        let (s, d) = app.patch(&pm, &format!("/api/v1/webhooks/{}", d["id"]), json!({"secret": ""})).await;
        assert_eq!((s, d["signed"].as_bool()), (StatusCode::OK, Some(false)), "an empty secret removes it");
        let (s, e) = app.post(&pm, "/api/v1/webhooks", json!({"kind": "slack", "url": rx.url("one-too-many")})).await;
        assert_eq!(s, StatusCode::CONFLICT, "{e}");
        assert_eq!(app.get(&pm, "/api/v1/webhooks").await.1.as_array().unwrap().len() as i64, cunjin_store::notify::MAX_WEBHOOKS);

        let (_, doc) = app.get(&app.anonymous(), "/api/v1/openapi.json").await;
        for p in ["/api/v1/webhooks", "/api/v1/webhooks/{id}", "/api/v1/webhooks/{id}/test", "/api/v1/webhooks/{id}/deliveries", "/api/v1/calendar-link", "/api/v1/calendar-link/rotate"] {
            assert!(doc["paths"].get(p).is_some(), "{p} is documented");
        }
        for field in ["kind", "url", "events", "secret"] {
            assert!(doc["components"]["schemas"]["CreateWebhook"]["properties"].get(field).is_some(), "{field}");
        }
        // Another workspace sees none of it.
        let other = app.store.create_workspace("别家公司").await.unwrap();
        let stranger = app.token_for(other.id, Role::Admin).await;
        assert_eq!(app.get(&stranger, &format!("/api/v1/webhooks/{id}")).await.0, StatusCode::NOT_FOUND);
        assert_eq!(app.post(&stranger, &format!("/api/v1/webhooks/{id}/test"), json!({})).await.0, StatusCode::NOT_FOUND);
        assert_eq!(app.get(&stranger, "/api/v1/webhooks").await.1, json!([]));
        let (s, _) = app.delete(&pm, &format!("/api/v1/webhooks/{id}")).await;
        assert_eq!(s, StatusCode::NO_CONTENT);
        assert_eq!(app.get(&pm, &format!("/api/v1/webhooks/{id}")).await.0, StatusCode::NOT_FOUND);
    }

    a_demo_found_not_ready_before_it_starts_is_told(app) {
        let ids = app.catalogue().await;
        let rx = Receiver::start().await;
        let generic = hook(&app, json!({"kind": "generic", "url": rx.url("generic"), "events": ["readiness_failed"]})).await;
        // The environment is the receiver itself, which has no page to GET: the probe fails.
        let (s, env) = app.post(&app.admin, "/api/v1/environments", json!({"name": "演示环境", "base_url": rx.base})).await;
        assert_eq!(s, StatusCode::CREATED, "{env}");
        let (s, f) = app.post(&app.admin, "/api/v1/features", json!({
            "product_id": ids.product, "menu_path": "住院医生站/医嘱/闭环管理", "stage": "built"
        })).await;
        assert_eq!(s, StatusCode::CREATED, "{f}");
        let (s, p) = app.post(&app.admin, "/api/v1/probes", json!({
            "environment_id": env["id"], "feature_id": f["id"], "path": "/orders"
        })).await;
        assert_eq!(s, StatusCode::CREATED, "{p}");
        let starts = (Utc::now() + chrono::Duration::minutes(30)).to_rfc3339();
        let (s, demo) = app.post(&app.admin, "/api/v1/demos", json!({
            "customer_id": ids.customer, "environment_id": env["id"], "starts_at": starts,
            "title": "华西医嘱闭环演示", "script": [{"feature_id": f["id"], "must_show": true}]
        })).await;
        assert_eq!(s, StatusCode::CREATED, "{demo}");
        // A check by hand is the presenter's own business: no message.
        let (s, check) = app.post(&app.admin, &format!("/api/v1/demos/{}/check", demo["id"]), json!({})).await;
        assert_eq!((s, check["ready"].as_bool()), (StatusCode::OK, Some(false)), "{check}");
        assert!(app.deliveries(generic).await.is_empty());
        // The automatic check before the demo tells the team.
        let report = tick(&app.store, &Prober::new(4), &SchedulerConfig::default()).await;
        assert_eq!(report.demo_checks, 1);
        let d = dispatcher();
        assert_eq!(d.dispatch_once(&app.store, Utc::now()).await.sent, 1);
        let got = rx.at("generic");
        assert_eq!(got.len(), 1);
        let b = &got[0].body;
        assert_eq!(b["event"], "readiness_failed");
        assert_eq!(b["data"]["demo_id"], demo["id"]);
        assert_eq!(b["data"]["title"], "华西医嘱闭环演示");
        assert_eq!(b["data"]["not_ready"], json!(["闭环管理"]));
        assert!(["24h", "1h"].contains(&b["data"]["window"].as_str().unwrap()));
        assert!(b["text"].as_str().unwrap().starts_with("演示未就绪：华西医嘱闭环演示"), "{b}");
        let window = b["data"]["window"].as_str().unwrap().to_string();
        assert_eq!(got[0].dedupe_key, format!("readiness:{}:{window}:{}", demo["id"], b["data"]["starts_at"].as_str().unwrap()));
        // Checked once: the next pass neither checks nor tells again.
        tick(&app.store, &Prober::new(4), &SchedulerConfig::default()).await;
        assert_eq!(d.dispatch_once(&app.store, Utc::now()).await.sent, 0);
        // The same window checked again (another instance, a retry) tells nobody again.
        let again = cunjin_web::readiness::check_demo(&app.store, &Prober::new(4), app.ws, demo["id"].as_i64().unwrap(), &window).await.unwrap();
        assert!(!again.check.ready);
        assert_eq!(app.deliveries(generic).await.len(), 1);
    }

    reminders_are_enqueued_once_however_often_and_wherever_the_scan_runs(app) {
        let ids = app.catalogue().await;
        let rx = Receiver::start().await;
        hook(&app, json!({"kind": "generic", "url": rx.url("generic"), "events": ["commitment_due"]})).await;
        let today = cunjin_store::today();
        let soon = promise(&app, ids, "医保结算清单上传", today + chrono::Days::new(5)).await;
        let late = promise(&app, ids, "病案首页质控", today - chrono::Days::new(2)).await;
        promise(&app, ids, "互联网医院复诊续方", today + chrono::Days::new(30)).await;
        let done = promise(&app, ids, "DRG 分组器", today + chrono::Days::new(3)).await;
        let (s, _) = app.post(&app.admin, &format!("/api/v1/commitments/{done}/transition"),
            json!({"to": "waived", "reason": "客户改用省平台"})).await;
        assert_eq!(s, StatusCode::OK);

        let other = cunjin_store::Store::open(&app.db_url()).await.unwrap();
        let (a, b) = tokio::join!(app.store.enqueue_due_reminders(today), other.enqueue_due_reminders(today));
        assert_eq!(a.unwrap() + b.unwrap(), 2, "one reminder each for the one due in 5 days and the overdue one");
        // The scheduler's whole scan (reminders and digest) adds nothing either.
        cunjin_web::notify::scan(&app.store, today).await;
        other.close().await;

        let d = dispatcher();
        assert_eq!(d.dispatch_once(&app.store, Utc::now()).await.sent, 2);
        let mut keys: Vec<String> = rx.received().iter().map(|r| r.dedupe_key.clone()).collect();
        keys.sort();
        let mut want = vec![
            format!("due:{soon}:{}:7", today + chrono::Days::new(5)),
            format!("due:{late}:{}:overdue", today - chrono::Days::new(2)),
        ];
        want.sort();
        assert_eq!(keys, want);
        let overdue = rx.received().into_iter().find(|r| r.dedupe_key.ends_with("overdue")).unwrap();
        assert_eq!(overdue.body["data"]["days_left"], -2);
        assert_eq!(overdue.body["data"]["feature"], "病案首页质控");
        assert!(overdue.body["text"].as_str().unwrap().starts_with("催办：华西第一人民医院 · 病案首页质控（已逾期 2 天）"));

        // Four days on, the first one is due tomorrow: its one-day reminder, once.
        let later = today + chrono::Days::new(4);
        assert_eq!(app.store.enqueue_due_reminders(later).await.unwrap(), 1);
        assert_eq!(app.store.enqueue_due_reminders(later).await.unwrap(), 0);
        assert_eq!(d.dispatch_once(&app.store, Utc::now()).await.sent, 1);
        assert_eq!(rx.received().len(), 3);
        assert!(rx.received()[2].dedupe_key.ends_with(":1"));
    }

    the_weekly_digest_goes_out_once_a_week(app) {
        let ids = app.catalogue().await;
        let rx = Receiver::start().await;
        let digest = hook(&app, json!({"kind": "generic", "url": rx.url("generic"), "events": ["weekly_digest"]})).await;
        let today = cunjin_store::today();
        let monday = today - chrono::Days::new(u64::from(today.weekday().num_days_from_monday()));
        let (thursday, friday, sunday) = (monday + chrono::Days::new(3), monday + chrono::Days::new(4), monday + chrono::Days::new(6));
        promise(&app, ids, "结构化电子病历模板", monday + chrono::Days::new(8)).await;
        promise(&app, ids, "移动护理", monday + chrono::Days::new(20)).await;
        let id = file_request(&app, ids.customer, "医生站增加临床路径提醒").await;
        app.post(&app.admin, &format!("/api/v1/requests/{id}/decision"), json!({"decision": "deferred"})).await;

        assert_eq!(app.store.enqueue_weekly_digests(thursday).await.unwrap(), 0, "not before Friday");
        assert_eq!(app.store.enqueue_weekly_digests(friday).await.unwrap(), 1);
        assert_eq!(app.store.enqueue_weekly_digests(sunday).await.unwrap(), 0, "once per week");
        assert_eq!(dispatcher().dispatch_once(&app.store, Utc::now()).await.sent, 1);
        let got = rx.at("generic");
        assert_eq!(got.len(), 1);
        let b = &got[0].body;
        let (_, gap) = app.get(&app.admin, "/api/v1/gap").await;
        assert_eq!(b["event"], "weekly_digest");
        assert_eq!(got[0].dedupe_key, format!("digest:{}", cunjin_core::notify::iso_week(friday)));
        assert_eq!((&b["data"]["chi"], &b["data"]["cun"]), (&gap["chi"], &gap["cun"]), "{b} {gap}");
        assert_eq!(b["data"]["decisions"], 1);
        let due = b["data"]["due_next_week"].as_array().unwrap();
        assert_eq!(due.len(), 1, "{b}");
        assert_eq!(due[0]["feature"], "结构化电子病历模板");
        assert!(b["text"].as_str().unwrap().starts_with("寸进周报"));
        // The next week has its own digest.
        assert_eq!(app.store.enqueue_weekly_digests(friday + chrono::Days::new(7)).await.unwrap(), 1);
        assert_eq!(app.deliveries(digest).await.len(), 2);
    }

    a_robot_answering_200_with_an_error_code_is_retried_not_marked_sent(app) {
        let rx = Receiver::start().await;
        let id = hook(&app, json!({"kind": "wecom", "url": rx.url("refusing")})).await;
        let (s, queued) = app.post(&app.admin, &format!("/api/v1/webhooks/{id}/test"), json!({})).await;
        assert_eq!(s, StatusCode::ACCEPTED, "{queued}");
        let d = dispatcher();
        let t0 = Utc::now();
        assert_eq!(d.dispatch_once(&app.store, t0).await, DispatchReport { sent: 0, retried: 1, failed: 0 });
        assert_eq!(rx.refused.load(Ordering::SeqCst), 1, "the robot was asked");
        let row = &app.deliveries(id).await[0];
        assert_eq!((row["status"].as_str(), row["attempts"].as_i64()), (Some("pending"), Some(1)));
        assert!(row["sent_at"].is_null(), "{row}");
        assert!(row["last_error"].as_str().unwrap().contains("310000"), "{row}");
        // After the back-off it is tried again, and still not sent.
        assert_eq!(d.dispatch_once(&app.store, t0 + chrono::Duration::seconds(61)).await, DispatchReport { sent: 0, retried: 1, failed: 0 });
        assert_eq!(rx.refused.load(Ordering::SeqCst), 2);
        let row = &app.deliveries(id).await[0];
        assert_eq!((row["status"].as_str(), row["attempts"].as_i64()), (Some("pending"), Some(2)));
    }

    a_failing_receiver_is_retried_on_schedule_and_gets_the_message_once(app) {
        let rx = Receiver::start().await;
        let id = hook(&app, json!({"kind": "generic", "url": rx.url("generic")})).await;
        let (s, queued) = app.post(&app.admin, &format!("/api/v1/webhooks/{id}/test"), json!({})).await;
        assert_eq!(s, StatusCode::ACCEPTED, "{queued}");
        assert_eq!(queued["status"], "pending");
        rx.fail_next.store(1, Ordering::SeqCst);
        let d = dispatcher();
        let t0 = Utc::now();
        assert_eq!(d.dispatch_once(&app.store, t0).await, DispatchReport { sent: 0, retried: 1, failed: 0 });
        let row = &app.deliveries(id).await[0];
        assert_eq!((row["status"].as_str(), row["attempts"].as_i64()), (Some("pending"), Some(1)));
        assert!(row["last_error"].as_str().unwrap().contains("500"), "{row}");
        // Not before the first back-off (1 minute) has passed.
        assert_eq!(d.dispatch_once(&app.store, t0 + chrono::Duration::seconds(30)).await, DispatchReport::default());
        assert_eq!(d.dispatch_once(&app.store, t0 + chrono::Duration::seconds(61)).await.sent, 1);
        assert_eq!(d.dispatch_once(&app.store, t0 + chrono::Duration::hours(1)).await, DispatchReport::default());
        assert_eq!((rx.refused.load(Ordering::SeqCst), rx.received().len()), (1, 1));
        assert_eq!(rx.received()[0].body["event"], "test");
        let row = &app.deliveries(id).await[0];
        assert_eq!((row["status"].as_str(), row["attempts"].as_i64()), (Some("sent"), Some(2)));
        assert!(row["last_error"].is_null());

        // A receiver that answers too late is a failed attempt too.
        let slow = hook(&app, json!({"kind": "generic", "url": rx.url("slow")})).await;
        app.post(&app.admin, &format!("/api/v1/webhooks/{slow}/test"), json!({})).await;
        let impatient = Dispatcher::with_outbound(Duration::from_millis(300), &common::local_outbound());
        assert_eq!(impatient.dispatch_once(&app.store, Utc::now()).await.retried, 1);
        let row = &app.deliveries(slow).await[0];
        assert_eq!(row["status"], "pending");
        assert!(row["last_error"].as_str().unwrap().starts_with("no answer"), "{row}");
        app.delete(&app.admin, &format!("/api/v1/webhooks/{slow}")).await;

        // A receiver that never answers 200 is given up after the last attempt, visibly.
        rx.fail_next.store(1000, Ordering::SeqCst);
        app.post(&app.admin, &format!("/api/v1/webhooks/{id}/test"), json!({})).await;
        let mut t = Utc::now();
        for (i, wait) in RETRY_DELAYS_S.iter().enumerate() {
            let r = d.dispatch_once(&app.store, t).await;
            assert_eq!(r.retried, 1, "attempt {}", i + 1);
            assert_eq!(d.dispatch_once(&app.store, t + chrono::Duration::seconds(wait - 1)).await, DispatchReport::default());
            t += chrono::Duration::seconds(*wait);
        }
        assert_eq!(d.dispatch_once(&app.store, t).await.failed, 1);
        let row = &app.deliveries(id).await[0];
        assert_eq!(row["status"], "failed");
        assert_eq!(row["attempts"].as_i64(), Some(i64::from(MAX_ATTEMPTS)));
        assert_eq!(d.dispatch_once(&app.store, t + chrono::Duration::days(30)).await, DispatchReport::default());
        assert_eq!(rx.received().len(), 1, "the failed message never arrived");
    }

    a_pending_message_survives_a_restart_and_a_crashed_claim(app) {
        let mut app = app;
        let ids = app.catalogue().await;
        let rx = Receiver::start().await;
        let id = hook(&app, json!({"kind": "generic", "url": rx.url("generic")})).await;
        let req = file_request(&app, ids.customer, "护士站支持腕带扫码").await;
        app.post(&app.admin, &format!("/api/v1/requests/{req}/decision"), json!({"decision": "needs_info"})).await;
        app.restart().await;
        assert_eq!(dispatcher().dispatch_once(&app.store, Utc::now()).await.sent, 1, "the outbox is in the database");
        assert_eq!(rx.received()[0].body["data"]["decision"], "needs_info");

        // An instance claims a message and dies before sending it: after its lease another
        // instance sends it, once.
        app.post(&app.admin, &format!("/api/v1/webhooks/{id}/test"), json!({})).await;
        let now = Utc::now();
        let due = app.store.due_deliveries(now, 10).await.unwrap();
        assert_eq!(due.len(), 1);
        let lease = chrono::Duration::seconds(60);
        assert!(app.store.claim_delivery(due[0], "crashed-instance", now, lease).await.unwrap().is_some());
        let d = dispatcher();
        assert_eq!(d.dispatch_once(&app.store, now + chrono::Duration::seconds(59)).await, DispatchReport::default(), "still held");
        assert_eq!(d.dispatch_once(&app.store, now + chrono::Duration::seconds(61)).await.sent, 1);
        assert_eq!(rx.received().len(), 2);
        // The dead instance cannot mark what it no longer holds.
        assert!(!app.store.mark_delivered(due[0], "crashed-instance", now).await.unwrap());
    }

    two_instances_send_each_message_exactly_once(app) {
        let rx = Receiver::start().await;
        let a = hook(&app, json!({"kind": "generic", "url": rx.url("a")})).await;
        let b = hook(&app, json!({"kind": "slack", "url": rx.url("b")})).await;
        for _ in 0..12 {
            for h in [a, b] {
                let (s, _) = app.post(&app.admin, &format!("/api/v1/webhooks/{h}/test"), json!({})).await;
                assert_eq!(s, StatusCode::ACCEPTED);
            }
        }
        let other = cunjin_store::Store::open(&app.db_url()).await.unwrap();
        let third = cunjin_store::Store::open(&app.db_url()).await.unwrap();
        let (d1, d2, d3) = (dispatcher(), dispatcher(), dispatcher());
        let now = Utc::now();
        let (r1, r2, r3) = tokio::join!(
            d1.dispatch_once(&app.store, now),
            d2.dispatch_once(&other, now),
            d3.dispatch_once(&third, now)
        );
        assert_eq!(r1.sent + r2.sent + r3.sent, 24, "{r1:?} {r2:?} {r3:?}");
        let got = rx.received();
        assert_eq!(got.len(), 24, "each message arrived once");
        let keys: std::collections::HashSet<&str> = got.iter().map(|r| r.dedupe_key.as_str()).collect();
        assert_eq!(keys.len(), 24);
        let (r1, r2) = tokio::join!(d1.dispatch_once(&app.store, now), d2.dispatch_once(&other, now));
        assert_eq!((r1, r2), Default::default());
        // Old delivered messages are deleted; a pending one is kept however old.
        app.post(&app.admin, &format!("/api/v1/webhooks/{a}/test"), json!({})).await;
        let cutoff = Utc::now() + chrono::Duration::seconds(1);
        assert_eq!(app.store.delete_old_deliveries(cutoff).await.unwrap(), 24);
        assert_eq!(app.deliveries(a).await.len(), 1);
        assert_eq!(app.deliveries(a).await[0]["status"], "pending");
        other.close().await;
        third.close().await;
    }

    the_calendar_feed_lists_demos_acceptance_and_due_dates(app) {
        let ids = app.catalogue().await;
        let due = cunjin_store::today() + chrono::Days::new(10);
        let long = "与省医保平台实时对接并支持医保电子凭证扫码结算，含异地就医备案与门诊慢特病";
        let c = promise(&app, ids, long, due).await;
        let (s, demo) = app.post(&app.admin, "/api/v1/demos", json!({
            "customer_id": ids.customer, "starts_at": "2027-01-15T09:30:00+08:00",
            "title": "华西演示; 病历, 医嘱", "script": [{"text": "全院一张床"}]
        })).await;
        assert_eq!(s, StatusCode::CREATED, "{demo}");
        // Another workspace's acceptance date, which must not show.
        let other = app.store.create_workspace("别家公司").await.unwrap();
        let stranger = app.token_for(other.id, Role::Admin).await;
        let (_, oc) = app.post(&stranger, "/api/v1/customers", json!({"name": "别家医院"})).await;
        let (s, od) = app.post(&stranger, "/api/v1/deals", json!({
            "customer_id": oc["id"], "name": "别家合同", "stage": "won", "acceptance_date": "2027-02-01"
        })).await;
        assert_eq!(s, StatusCode::CREATED, "{od}");
        // Reading the link makes none: a GET changes nothing, creating it is a POST.
        let (s, none) = app.get(&app.admin, "/api/v1/calendar-link").await;
        assert_eq!((s, none["error"]["code"].as_str()), (StatusCode::NOT_FOUND, Some("not_found")), "{none}");
        assert_eq!(app.get(&app.admin, "/api/v1/calendar-link").await.0, StatusCode::NOT_FOUND, "still none");
        let page = app.admin.get(app.url("/webhooks")).send().await.unwrap().text().await.unwrap();
        assert!(page.contains("id=\"calendar-none\"") && !page.contains("id=\"calendar-url\""), "{page}");
        let (s, theirs) = app.post(&stranger, "/api/v1/calendar-link/rotate", json!({})).await;
        assert_eq!(s, StatusCode::OK);
        let (s, made) = app.post(&app.admin, "/api/v1/calendar-link/rotate", json!({})).await;
        assert_eq!(s, StatusCode::OK, "{made}");
        let (s, link) = app.get(&app.admin, "/api/v1/calendar-link").await;
        assert_eq!(s, StatusCode::OK, "{link}");
        assert_eq!(link, made);
        assert_ne!(theirs["token"], link["token"]);
        let url = link["url"].as_str().unwrap().to_string();
        assert_eq!(url, format!("/calendar/{}.ics", link["token"].as_str().unwrap()));
        assert_eq!(app.get(&app.admin, "/api/v1/calendar-link").await.1, link, "the same link until rotated");

        let anon = app.anonymous();
        let res = anon.get(app.url(&url)).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(res.headers()["content-type"], "text/calendar; charset=utf-8");
        let ics = res.text().await.unwrap();
        assert!(ics.starts_with("BEGIN:VCALENDAR\r\n") && ics.ends_with("END:VCALENDAR\r\n"));
        let raw_lines: Vec<&str> = ics.trim_end_matches("\r\n").split("\r\n").collect();
        assert!(raw_lines.iter().all(|l| !l.contains('\n') && l.len() <= 75), "CRLF and 75 octets: {ics}");
        let unfolded = ics.replace("\r\n ", "");
        let lines: Vec<&str> = unfolded.split("\r\n").collect();
        assert_eq!(lines.iter().filter(|l| **l == "BEGIN:VEVENT").count(), 3);
        assert_eq!(lines.iter().filter(|l| **l == "END:VEVENT").count(), 3);
        let summary = format!("SUMMARY:承诺到期 Due: 华西第一人民医院 · {long}");
        assert!(lines.contains(&summary.as_str()), "{unfolded}");
        assert!(!ics.contains(&summary), "the long Chinese line was folded");
        assert!(lines.contains(&format!("UID:commitment-{c}@cunjin").as_str()));
        assert!(lines.contains(&format!("DTSTART;VALUE=DATE:{}", due.format("%Y%m%d")).as_str()));
        assert!(lines.contains(&format!("UID:acceptance-{}@cunjin", ids.deal).as_str()));
        assert!(lines.contains(&"DTSTART;VALUE=DATE:20270331"));
        assert!(!ics.contains("别家") && !ics.contains("20270201"), "nothing of another workspace");
        assert!(lines.contains(&"DTSTART:20270115T013000Z"));
        assert!(lines.contains(&"SUMMARY:演示 Demo: 华西演示\\; 病历\\, 医嘱"), "{unfolded}");
        // Stable ids: a second fetch names the same events.
        let again = anon.get(app.url(&url)).send().await.unwrap().text().await.unwrap();
        let uids = |s: &str| s.replace("\r\n ", "").split("\r\n").filter(|l| l.starts_with("UID:")).map(String::from).collect::<Vec<_>>();
        assert_eq!(uids(&ics), uids(&again));

        // Wrong token, no suffix, rotated token: 404.
        let wrong = format!("/calendar/{}.ics", "0".repeat(64));
        assert_eq!(anon.get(app.url(&wrong)).send().await.unwrap().status(), StatusCode::NOT_FOUND);
        let bare = url.trim_end_matches(".ics").to_string();
        assert_eq!(anon.get(app.url(&bare)).send().await.unwrap().status(), StatusCode::NOT_FOUND);
        let (s, rotated) = app.post(&app.admin, "/api/v1/calendar-link/rotate", json!({})).await;
        assert_eq!(s, StatusCode::OK);
        assert_ne!(rotated["token"], link["token"]);
        assert_eq!(anon.get(app.url(&url)).send().await.unwrap().status(), StatusCode::NOT_FOUND);
        let new_url = rotated["url"].as_str().unwrap();
        assert_eq!(anon.get(app.url(new_url)).send().await.unwrap().status(), StatusCode::OK);
    }

    the_notifications_page_adds_tests_and_lists_webhooks(app) {
        let rx = Receiver::start().await;
        let c = &app.admin;
        let res = c.get(app.url("/webhooks")).header("accept-language", "zh-CN").send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        let html = res.text().await.unwrap();
        assert!(html.contains("通知与日历") && html.contains("id=\"no-webhooks\""), "{html}");
        // No calendar link until somebody makes one.
        assert!(html.contains("id=\"calendar-create\"") && html.contains("生成日历订阅链接"), "{html}");
        let res = c.post(app.url("/webhooks")).form(&[
            ("kind", "dingtalk"), ("url", rx.url("ding").as_str()), ("secret", "SEC-page-1"),
            ("request_decided", "on"), ("weekly_digest", "on"),
        ]).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let (_, hooks) = app.get(c, "/api/v1/webhooks").await;
        assert_eq!(hooks[0]["kind"], "dingtalk");
        assert_eq!(hooks[0]["events"], json!(["request_decided", "weekly_digest"]));
        assert_eq!(hooks[0]["signed"], true);
        let id = hooks[0]["id"].as_i64().unwrap();
        let res = c.post(app.url(&format!("/webhooks/{id}/test"))).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let html = c.get(app.url("/webhooks")).header("accept-language", "en").send().await.unwrap().text().await.unwrap();
        assert!(html.contains("DingTalk") && html.contains("Request decided") && html.contains("Pending"), "{html}");
        assert!(!html.contains("SEC-page-1"), "the secret is never shown");
        // Refused input comes back as a message on the page, and writes nothing.
        let res = c.post(app.url("/webhooks")).form(&[("kind", "slack"), ("url", "ftp://x"), ("request_decided", "on")]).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert_eq!(app.get(c, "/api/v1/webhooks").await.1.as_array().unwrap().len(), 1);
        let html = c.get(app.url("/webhooks")).header("accept-language", "en").send().await.unwrap().text().await.unwrap();
        assert!(html.contains("is not an http(s) link"), "{html}");
        let res = c.post(app.url("/webhooks")).form(&[("kind", "generic"), ("url", rx.url("generic").as_str())]).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert_eq!(app.get(c, "/api/v1/webhooks").await.1.as_array().unwrap().len(), 1);
        let html = c.get(app.url("/webhooks")).header("accept-language", "en").send().await.unwrap().text().await.unwrap();
        assert!(html.contains("choose at least one event"), "{html}");
        // Only admins and pms see the page.
        let (email, password) = ("viewer@test.cn", "viewer-pass-1");
        app.store.create_user(cunjin_store::access::auth::NewUser {
            workspace_id: app.ws, email: cunjin_core::Email::parse(email).unwrap(), name: "", role: Role::Viewer, password,
        }).await.unwrap();
        let viewer = common::TestApp::login(&app.base, email, password).await;
        assert_eq!(viewer.get(app.url("/webhooks")).send().await.unwrap().status(), StatusCode::FORBIDDEN);
        let res = viewer.post(app.url(&format!("/webhooks/{id}/delete"))).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert_eq!(app.get(c, "/api/v1/webhooks").await.1.as_array().unwrap().len(), 1, "still there");
        let res = c.post(app.url(&format!("/webhooks/{id}/delete"))).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert_eq!(app.get(c, "/api/v1/webhooks").await.1, json!([]));
    }
}
