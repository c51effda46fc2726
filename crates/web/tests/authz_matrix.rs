//! The authorization matrix: every operation of the OpenAPI document × every role, with ids of
//! the caller's workspace and of another one, without credentials, status links, and the audit
//! trail — on SQLite and PostgreSQL. Expectations come from the role table of the core
//! (`Role::can`), never from a copy of it; an operation the table below does not classify fails
//! the test, so a new endpoint cannot go unchecked.

mod common;

use std::collections::BTreeMap;

use common::TestApp;
use cunjin_core::{Permission, Role};
use reqwest::{Client, Method, StatusCode};
use serde_json::{json, Value};

/// Who may call an operation.
#[derive(Debug, Clone, Copy)]
enum Access {
    /// Anyone, without credentials (login, status links, the intake link).
    Public,
    /// Any signed-in caller, whatever the role.
    SignedIn,
    /// Callers whose role has this permission.
    Needs(Permission),
}

/// Every operation of the API and who may call it. A time entry deleted here was recorded by
/// somebody else, hence `LogTimeForOthers`.
fn classify(method: &str, path: &str) -> Option<Access> {
    use Access::*;
    use Permission::*;
    Some(match (method, path) {
        ("post", "/api/v1/auth/login" | "/api/v1/auth/logout") => Public,
        ("get", "/api/v1/status/c/{token}" | "/api/v1/status/r/{token}") => Public,
        ("post", "/api/v1/intake/{token}") => Public,
        ("get", "/api/v1/me") => SignedIn,
        ("post", "/api/v1/tokens") => Needs(UseTokens),
        ("get", "/api/v1/users") => Needs(Read),
        ("post", "/api/v1/users") => Needs(ManageUsers),
        ("post", "/api/v1/products" | "/api/v1/features") => Needs(EditCatalogue),
        ("patch", "/api/v1/features/{id}") => Needs(EditCatalogue),
        ("post", "/api/v1/customers" | "/api/v1/deals") => Needs(EditCustomers),
        ("post", "/api/v1/commitments" | "/api/v1/commitments/{id}/criteria") => {
            Needs(RecordPromise)
        }
        ("post", "/api/v1/commitments/{id}/transition")
        | ("post", "/api/v1/commitments/{id}/criteria/{criterion_id}") => Needs(ChangeCommitment),
        ("post", "/api/v1/releases") => Needs(ManageReleases),
        ("post", "/api/v1/releases/{id}/deliver") => Needs(DeliverRelease),
        ("get" | "post", "/api/v1/customers/{id}/status-link") => Needs(ShareStatusLink),
        ("post", "/api/v1/requests") => Needs(CreateRequest),
        ("patch", "/api/v1/requests/{id}") => Needs(TriageRequests),
        ("post", "/api/v1/requests/{id}/decision") => Needs(TriageRequests),
        ("get", "/api/v1/intake-link") | ("post", "/api/v1/intake-link/rotate") => {
            Needs(TriageRequests)
        }
        ("post", "/api/v1/environments" | "/api/v1/probes")
        | ("patch", "/api/v1/environments/{id}")
        | ("post", "/api/v1/environments/{id}/run")
        | ("delete", "/api/v1/probes/{id}") => Needs(EditEnvironments),
        ("post", "/api/v1/demos" | "/api/v1/demos/{id}/check")
        | ("patch", "/api/v1/demos/{id}") => Needs(RunDemos),
        ("post", "/api/v1/demos/{id}/promises") => Needs(RecordPromise),
        ("post", "/api/v1/time-entries") => Needs(LogTime),
        ("delete", "/api/v1/time-entries/{id}") => Needs(LogTimeForOthers),
        (_, "/api/v1/webhooks" | "/api/v1/webhooks/{id}")
        | ("get", "/api/v1/webhooks/{id}/deliveries")
        | ("post", "/api/v1/webhooks/{id}/test")
        | ("get", "/api/v1/calendar-link")
        | ("post", "/api/v1/calendar-link/rotate") => Needs(ManageWebhooks),
        // Every other read of the workspace's data.
        ("get", _) => Needs(Read),
        _ => return None,
    })
}

/// The records of one workspace, all named with its marker so that any of it showing up in
/// another workspace's answers is seen.
#[derive(Debug, Clone, Default)]
struct World {
    marker: String,
    ids: BTreeMap<&'static str, i64>,
    /// Status-link token of customer A, of request A, and the intake token.
    customer_token: String,
    request_token: String,
    intake_token: String,
}

impl World {
    fn id(&self, name: &str) -> i64 {
        self.ids[name]
    }
}

async fn created(app: &TestApp, c: &Client, path: &str, body: Value) -> Value {
    let (s, v) = app.post(c, path, body).await;
    assert!(s.is_success(), "{path}: {s} {v}");
    v
}

/// Fills a workspace through the API as its administrator `c`.
async fn seed(app: &TestApp, c: &Client, marker: &str) -> World {
    let mut w = World {
        marker: marker.to_string(),
        ..World::default()
    };
    let p = created(
        app,
        c,
        "/api/v1/products",
        json!({"name": format!("{marker} 电子病历")}),
    )
    .await;
    w.ids.insert("product", p["id"].as_i64().unwrap());
    let f = created(app, c, "/api/v1/features", json!({
        "product_id": p["id"], "menu_path": format!("{marker}/病历书写/结构化模板"), "stage": "designed", "effort_days": 5
    })).await;
    w.ids.insert("feature", f["id"].as_i64().unwrap());
    for (key, name) in [("customer", "甲医院"), ("customer_b", "乙医院")] {
        let v = created(
            app,
            c,
            "/api/v1/customers",
            json!({"name": format!("{marker} {name}")}),
        )
        .await;
        w.ids.insert(key, v["id"].as_i64().unwrap());
    }
    let d = created(app, c, "/api/v1/deals", json!({
        "customer_id": w.id("customer"), "name": format!("{marker} 升级"), "stage": "won", "contract_value": 100000
    })).await;
    w.ids.insert("deal", d["id"].as_i64().unwrap());
    for (key, customer, criterion) in [
        ("commitment", "customer", "甲标准"),
        ("commitment_b", "customer_b", "乙标准"),
    ] {
        let k = created(app, c, "/api/v1/commitments", json!({
            "customer_id": w.id(customer), "feature_id": w.id("feature"), "criteria": [format!("{marker} {criterion}")]
        })).await;
        w.ids.insert(key, k["id"].as_i64().unwrap());
        if key == "commitment" {
            w.ids
                .insert("criterion", k["criteria"][0]["id"].as_i64().unwrap());
        }
    }
    let r = created(
        app,
        c,
        "/api/v1/releases",
        json!({"version": format!("{marker}-v1"), "feature_ids": [w.id("feature")]}),
    )
    .await;
    w.ids.insert("release", r["id"].as_i64().unwrap());
    for (key, text) in [("request", "打印检验单"), ("request_b", "床位看板")] {
        let q = created(app, c, "/api/v1/requests", json!({"text": format!("{marker} {text}"), "source_role": "customer", "customer_id": w.id("customer")})).await;
        w.ids.insert(key, q["id"].as_i64().unwrap());
        if key == "request" {
            w.request_token = q["status_url"]
                .as_str()
                .unwrap()
                .rsplit('/')
                .next()
                .unwrap()
                .to_string();
        }
    }
    let e = created(
        app,
        c,
        "/api/v1/environments",
        json!({"name": format!("{marker} 演示环境"), "base_url": "http://127.0.0.1:9"}),
    )
    .await;
    w.ids.insert("environment", e["id"].as_i64().unwrap());
    let probe = created(app, c, "/api/v1/probes", json!({"environment_id": w.id("environment"), "feature_id": w.id("feature"), "path": "/health", "timeout_ms": 500})).await;
    w.ids.insert("probe", probe["id"].as_i64().unwrap());
    let m = created(app, c, "/api/v1/demos", json!({
        "customer_id": w.id("customer"), "environment_id": w.id("environment"), "starts_at": "2027-01-15T09:30:00+08:00",
        "title": format!("{marker} 演示"), "script": [{"feature_id": w.id("feature"), "must_show": true}]
    })).await;
    w.ids.insert("demo", m["id"].as_i64().unwrap());
    w.ids
        .insert("demo_item", m["script"][0]["id"].as_i64().unwrap());
    let t = created(
        app,
        c,
        "/api/v1/time-entries",
        json!({"hat": "planning", "minutes": 30, "note": format!("{marker} 评审")}),
    )
    .await;
    w.ids.insert("time_entry", t["id"].as_i64().unwrap());
    let hook = created(
        app,
        c,
        "/api/v1/webhooks",
        json!({"kind": "generic", "url": "http://127.0.0.1:9/hook", "events": ["request_decided"]}),
    )
    .await;
    w.ids.insert("webhook", hook["id"].as_i64().unwrap());
    let link = created(
        app,
        c,
        &format!("/api/v1/customers/{}/status-link", w.id("customer")),
        json!({}),
    )
    .await;
    w.customer_token = link["status_url"]
        .as_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_string();
    created(
        app,
        c,
        &format!("/api/v1/customers/{}/status-link", w.id("customer_b")),
        json!({}),
    )
    .await;
    let (_, intake) = app.get(c, "/api/v1/intake-link").await;
    w.intake_token = intake["token"].as_str().unwrap().to_string();
    w
}

/// The address of an operation with the ids of `w`, and the query a read needs.
fn concrete(path: &str, w: &World) -> String {
    let first = path
        .trim_start_matches("/api/v1/")
        .split('/')
        .next()
        .unwrap();
    let id = match first {
        "features" => w.id("feature"),
        "customers" => w.id("customer"),
        "deals" => w.id("deal"),
        "commitments" => w.id("commitment"),
        "releases" => w.id("release"),
        "requests" => w.id("request"),
        "environments" => w.id("environment"),
        "probes" => w.id("probe"),
        "demos" => w.id("demo"),
        "time-entries" => w.id("time_entry"),
        "webhooks" => w.id("webhook"),
        _ if path.contains("{id}") => panic!("no record of {path} is seeded in authz_matrix.rs"),
        _ => 0,
    };
    let token = match first {
        "status" if path.contains("/c/") => w.customer_token.clone(),
        "status" => w.request_token.clone(),
        _ => w.intake_token.clone(),
    };
    let mut url = path
        .replace("{id}", &id.to_string())
        .replace("{criterion_id}", &w.id("criterion").to_string())
        .replace("{token}", &token);
    match path {
        "/api/v1/search" => url.push_str("?q=打印"),
        "/api/v1/requests/similar" => url.push_str("?text=打印检验单"),
        _ => {}
    }
    url
}

/// A body the operation accepts, with the ids of `w`: a refusal can then only come from the role.
fn body(method: &str, path: &str, w: &World, n: usize) -> Value {
    let unique = format!("{} {n}", w.marker);
    match (method, path) {
        ("post", "/api/v1/auth/login") => {
            json!({"email": "nobody@x.cn", "password": "wrong-password"})
        }
        ("post", "/api/v1/users") => {
            json!({"email": format!("new{n}@x.cn"), "role": "viewer", "password": "password-1"})
        }
        ("post", "/api/v1/products") => json!({"name": unique}),
        ("post", "/api/v1/features") => {
            json!({"product_id": w.id("product"), "menu_path": format!("{}/新菜单{n}", w.marker)})
        }
        ("patch", "/api/v1/features/{id}") => json!({"effort_days": 8}),
        ("post", "/api/v1/customers") => json!({"name": unique}),
        ("post", "/api/v1/deals") => json!({"customer_id": w.id("customer"), "name": unique}),
        ("post", "/api/v1/commitments") => {
            json!({"customer_id": w.id("customer"), "feature_id": w.id("feature")})
        }
        ("post", "/api/v1/commitments/{id}/criteria") => json!({"text": unique}),
        ("post", "/api/v1/commitments/{id}/criteria/{criterion_id}") => json!({"met": true}),
        ("post", "/api/v1/commitments/{id}/transition") => {
            json!({"to": "waived", "reason": "matrix"})
        }
        ("post", "/api/v1/releases") => {
            json!({"version": unique, "feature_ids": [w.id("feature")]})
        }
        ("post", "/api/v1/releases/{id}/deliver") => json!({"customer_ids": [w.id("customer")]}),
        ("post", "/api/v1/requests") => json!({"text": unique, "source_role": "sales"}),
        ("patch", "/api/v1/requests/{id}") => json!({"feature_id": w.id("feature")}),
        ("post", "/api/v1/requests/{id}/decision") => {
            json!({"decision": "deferred", "reason": "matrix"})
        }
        ("post", "/api/v1/intake/{token}") => json!({"text": unique}),
        ("post", "/api/v1/environments") => {
            json!({"name": unique, "base_url": "http://127.0.0.1:9"})
        }
        ("patch", "/api/v1/environments/{id}") => json!({"interval_s": 600}),
        ("post", "/api/v1/probes") => {
            json!({"environment_id": w.id("environment"), "path": "/x", "timeout_ms": 500})
        }
        ("post", "/api/v1/demos") => {
            json!({"customer_id": w.id("customer"), "starts_at": "2027-02-01T09:00:00+08:00"})
        }
        ("patch", "/api/v1/demos/{id}") => json!({"attendees": ["王院长"]}),
        ("post", "/api/v1/demos/{id}/promises") => {
            json!({"items": [{"item_id": w.id("demo_item")}]})
        }
        ("post", "/api/v1/time-entries") => json!({"hat": "testing", "minutes": 15}),
        ("post", "/api/v1/webhooks") => {
            json!({"kind": "slack", "url": format!("http://127.0.0.1:9/{n}"), "events": ["weekly_digest"]})
        }
        ("patch", "/api/v1/webhooks/{id}") => json!({"active": false}),
        _ => json!({}),
    }
}

async fn call(
    app: &TestApp,
    c: &Client,
    method: &str,
    url: &str,
    body: &Value,
) -> (StatusCode, String) {
    let m = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
    let mut req = c.request(m.clone(), app.url(url));
    if m != Method::GET && m != Method::DELETE {
        req = req.json(body);
    }
    let res = req.send().await.unwrap();
    (res.status(), res.text().await.unwrap())
}

async fn matrix(app: TestApp) {
    let (_, doc) = app.get(&app.anonymous(), "/api/v1/openapi.json").await;
    let mut operations = Vec::new();
    for (path, ops) in doc["paths"].as_object().unwrap() {
        for method in ops.as_object().unwrap().keys() {
            let access = classify(method, path)
                .unwrap_or_else(|| panic!("{method} {path} is not classified in authz_matrix.rs"));
            operations.push((method.clone(), path.clone(), access));
        }
    }
    assert!(operations.len() >= 60, "{} operations", operations.len());

    let ws2 = app.store.create_workspace("另一家厂商").await.unwrap().id;
    let admin1 = app.token_for(app.ws, Role::Admin).await;
    let admin2 = app.token_for(ws2, Role::Admin).await;
    let home = seed(&app, &admin1, "本方").await;
    let foreign = seed(&app, &admin2, "外方WS2").await;
    let mut callers = Vec::new();
    for role in Role::ALL {
        callers.push((role, app.token_for(app.ws, role).await));
    }
    let audit_path = format!("/api/v1/commitments/{}/audit", home.id("commitment"));
    let (_, audit_before) = app.get(&admin1, &audit_path).await;
    let audit_rows_before = app.footprint().await["audit_log"];

    let mut checked = 0usize;
    let mut leaks = Vec::new();
    let mut n = 0;
    // 1. Every operation × every role of workspace 1, with workspace 1's ids.
    for (method, path, access) in &operations {
        let url = concrete(path, &home);
        // Refused roles first, so that a delete allowed to others finds its record still there.
        for (role, client) in callers.iter().rev() {
            n += 1;
            let (s, text) = call(&app, client, method, &url, &body(method, path, &home, n)).await;
            checked += 1;
            assert!(!s.is_server_error(), "{role} {method} {url}: {s} {text}");
            let allowed = match access {
                // Anyone may call it; what it answers (a wrong password is 401) is its own business.
                Access::Public => continue,
                Access::SignedIn => true,
                Access::Needs(p) => role.can(*p),
            };
            if allowed {
                assert!(
                    s != StatusCode::FORBIDDEN && s != StatusCode::UNAUTHORIZED,
                    "{role} may {method} {url}: {s} {text}"
                );
            } else {
                assert_eq!(
                    s,
                    StatusCode::FORBIDDEN,
                    "{role} may not {method} {url}: {text}"
                );
            }
            if text.contains(&foreign.marker) {
                leaks.push(format!("{role} {method} {url}"));
            }
        }
    }
    // 2. Every operation with ids of workspace 2: not found for whoever may call it, never its data.
    for (method, path, access) in &operations {
        if !path.contains("{id}") || matches!(access, Access::Public) {
            continue;
        }
        let url = concrete(path, &foreign);
        for (role, client) in &callers {
            n += 1;
            let (s, text) = call(&app, client, method, &url, &body(method, path, &home, n)).await;
            checked += 1;
            match access {
                // A refused role may learn either that it may not or that there is nothing.
                Access::Needs(p) if !role.can(*p) => assert!(
                    s == StatusCode::FORBIDDEN || s == StatusCode::NOT_FOUND,
                    "{role} {method} {url} (workspace 2): {s} {text}"
                ),
                _ => assert_eq!(
                    s,
                    StatusCode::NOT_FOUND,
                    "{role} {method} {url} (workspace 2): {text}"
                ),
            }
            if text.contains(&foreign.marker) {
                leaks.push(format!("{role} {method} {url} (workspace 2)"));
            }
        }
    }
    // A criterion of workspace 2 under a commitment of workspace 1.
    let mixed = format!(
        "/api/v1/commitments/{}/criteria/{}",
        home.id("commitment"),
        foreign.id("criterion")
    );
    let (s, _) = app.post(&admin1, &mixed, json!({"met": true})).await;
    assert_eq!(s, StatusCode::NOT_FOUND, "{mixed}");
    checked += 1;
    // 3. Ids of workspace 2 in bodies and filters: refused or empty, never written, never shown.
    let before = app.footprint().await;
    let f = &foreign;
    for (method, url, b) in [
        (
            "post",
            "/api/v1/features".to_string(),
            json!({"product_id": f.id("product"), "menu_path": "越界/菜单"}),
        ),
        (
            "post",
            "/api/v1/deals".to_string(),
            json!({"customer_id": f.id("customer"), "name": "越界"}),
        ),
        (
            "post",
            "/api/v1/commitments".to_string(),
            json!({"customer_id": f.id("customer"), "feature_id": home.id("feature")}),
        ),
        (
            "post",
            "/api/v1/commitments".to_string(),
            json!({"customer_id": home.id("customer"), "feature_id": f.id("feature")}),
        ),
        (
            "post",
            "/api/v1/commitments".to_string(),
            json!({"customer_id": home.id("customer"), "deal_id": f.id("deal"), "feature_id": home.id("feature")}),
        ),
        (
            "post",
            "/api/v1/releases".to_string(),
            json!({"version": "越界", "feature_ids": [f.id("feature")]}),
        ),
        (
            "post",
            format!("/api/v1/releases/{}/deliver", home.id("release")),
            json!({"customer_ids": [f.id("customer")]}),
        ),
        (
            "post",
            "/api/v1/requests".to_string(),
            json!({"text": "越界", "source_role": "sales", "customer_id": f.id("customer")}),
        ),
        (
            "patch",
            format!("/api/v1/requests/{}", home.id("request_b")),
            json!({"feature_id": f.id("feature")}),
        ),
        (
            "post",
            format!("/api/v1/requests/{}/decision", home.id("request_b")),
            json!({"decision": "duplicate", "duplicate_of": f.id("request")}),
        ),
        (
            "post",
            "/api/v1/probes".to_string(),
            json!({"environment_id": f.id("environment"), "path": "/x"}),
        ),
        (
            "post",
            "/api/v1/probes".to_string(),
            json!({"environment_id": home.id("environment"), "feature_id": f.id("feature"), "path": "/x"}),
        ),
        (
            "post",
            "/api/v1/demos".to_string(),
            json!({"customer_id": f.id("customer"), "starts_at": "2027-02-01T09:00:00+08:00"}),
        ),
        (
            "post",
            "/api/v1/demos".to_string(),
            json!({"customer_id": home.id("customer"), "environment_id": f.id("environment"), "starts_at": "2027-02-01T09:00:00+08:00"}),
        ),
        (
            "patch",
            format!("/api/v1/demos/{}", home.id("demo")),
            json!({"environment_id": f.id("environment")}),
        ),
        (
            "post",
            format!("/api/v1/demos/{}/promises", home.id("demo")),
            json!({"items": [{"item_id": f.id("demo_item")}]}),
        ),
    ] {
        let (s, text) = call(&app, &admin1, method, &url, &b).await;
        checked += 1;
        assert!(s.is_client_error(), "{method} {url} {b}: {s} {text}");
        if text.contains(&foreign.marker) {
            leaks.push(format!("{method} {url} {b}"));
        }
    }
    assert_eq!(
        app.footprint().await,
        before,
        "ids of another workspace write nothing"
    );
    for url in [
        format!("/api/v1/commitments?customer_id={}", f.id("customer")),
        format!("/api/v1/commitments?feature_id={}", f.id("feature")),
        format!("/api/v1/deals?customer_id={}", f.id("customer")),
        format!("/api/v1/features?product_id={}", f.id("product")),
        format!("/api/v1/probes?environment_id={}", f.id("environment")),
        format!("/api/v1/requests?customer_id={}", f.id("customer")),
        format!("/api/v1/requests?feature_id={}", f.id("feature")),
        format!("/api/v1/requests?product_id={}", f.id("product")),
        format!("/api/v1/gap/history?customer_id={}", f.id("customer")),
        format!("/api/v1/gap/week?customer_id={}", f.id("customer")),
        format!(
            "/api/v1/customers/{}/release-notes?release_id={}",
            home.id("customer"),
            f.id("release")
        ),
        "/api/v1/search?q=外方WS2".to_string(),
        "/api/v1/requests?q=外方WS2".to_string(),
        "/api/v1/requests/similar?text=外方WS2 打印检验单".to_string(),
    ] {
        let (s, text) = call(&app, &admin1, "get", &url, &Value::Null).await;
        checked += 1;
        assert!(!s.is_server_error(), "{url}: {s}");
        if text.contains(&foreign.marker) {
            leaks.push(url);
        }
    }
    // 4. Without credentials: 401 everywhere but the public operations.
    let anon = app.anonymous();
    for (method, path, access) in &operations {
        if matches!(access, Access::Public) {
            continue;
        }
        let (s, text) = call(
            &app,
            &anon,
            method,
            &concrete(path, &home),
            &body(method, path, &home, 0),
        )
        .await;
        checked += 1;
        assert_eq!(s, StatusCode::UNAUTHORIZED, "{method} {path}: {text}");
    }
    // 5. Status links show their one record and nothing of another (the matrix rotated the
    // customer's link: read the current one).
    let (_, link) = app
        .get(
            &admin1,
            &format!("/api/v1/customers/{}/status-link", home.id("customer")),
        )
        .await;
    let mut home = home;
    home.customer_token = link["status_url"]
        .as_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_string();
    for (url, shows, hides) in [
        (
            format!("/api/v1/status/c/{}", home.customer_token),
            "本方 甲医院",
            vec!["本方 乙医院", "本方 乙标准", "外方WS2"],
        ),
        (
            format!("/status/c/{}", home.customer_token),
            "本方 甲医院",
            vec!["本方 乙医院", "本方 乙标准", "外方WS2"],
        ),
        (
            format!("/api/v1/status/r/{}", home.request_token),
            "本方 打印检验单",
            vec!["本方 床位看板", "本方 甲医院", "外方WS2"],
        ),
        (
            format!("/status/r/{}", home.request_token),
            "本方 打印检验单",
            vec!["本方 床位看板", "本方 甲医院", "外方WS2"],
        ),
        (
            format!("/api/v1/status/c/{}", foreign.customer_token),
            "外方WS2 甲医院",
            vec!["本方", "外方WS2 乙医院"],
        ),
    ] {
        let (s, text) = call(&app, &anon, "get", &url, &Value::Null).await;
        checked += 1;
        assert_eq!(s, StatusCode::OK, "{url}");
        assert!(text.contains(shows), "{url}: {text}");
        for h in hides {
            assert!(!text.contains(h), "{url} shows {h}: {text}");
        }
        assert!(!text.contains("<form"), "{url} has no forms");
    }
    for url in [
        "/api/v1/status/c/0000",
        "/status/c/0000",
        "/api/v1/status/r/0000",
        "/status/r/0000",
    ] {
        let (s, _) = call(&app, &anon, "get", url, &Value::Null).await;
        checked += 1;
        assert_eq!(s, StatusCode::NOT_FOUND, "{url}");
    }
    // 6. The audit trail cannot be changed through the API: only GET is documented, no other
    // method answers 2xx, and no entry disappeared or changed during everything above.
    for (method, path, _) in operations.iter().filter(|(_, p, _)| p.contains("audit")) {
        assert_eq!(method, "get", "{method} {path}");
    }
    for url in [
        audit_path.clone(),
        format!("/api/v1/requests/{}/audit", home.id("request")),
    ] {
        for method in ["post", "put", "patch", "delete"] {
            let (s, text) = call(&app, &admin1, method, &url, &json!({"action": "forged"})).await;
            checked += 1;
            assert!(!s.is_success(), "{method} {url}: {s} {text}");
        }
    }
    let (_, audit_after) = app.get(&admin1, &audit_path).await;
    let (before, after) = (
        audit_before.as_array().unwrap(),
        audit_after.as_array().unwrap(),
    );
    assert!(!before.is_empty() && after.len() >= before.len());
    assert!(
        after.iter().filter(|e| before.contains(e)).count() == before.len(),
        "earlier audit entries are kept as they were"
    );
    assert!(app.footprint().await["audit_log"] >= audit_rows_before);

    println!(
        "authorization matrix: {} operations × {} roles; {checked} requests checked; {} leaks",
        operations.len(),
        Role::ALL.len(),
        leaks.len()
    );
    assert!(
        leaks.is_empty(),
        "answers showing another workspace's data: {leaks:#?}"
    );
}

on_both_engines! {
    every_operation_for_every_role_and_every_foreign_id(app) {
        matrix(app).await;
    }
}
