//! Forged writes, overload, slow and oversized requests: what the server refuses before any
//! handler writes, on SQLite and PostgreSQL.

mod common;

use std::time::Duration;

use common::{TestApp, ADMIN_PASSWORD};
use cunjin_core::Role;
use cunjin_web::WebConfig;
use reqwest::StatusCode;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The value of the first hidden `csrf` field of a page.
fn form_token(html: &str) -> String {
    let at = html
        .find("name=\"csrf\" value=\"")
        .expect("the page has a form with its token");
    let rest = &html[at + "name=\"csrf\" value=\"".len()..];
    rest[..rest.find('"').unwrap()].to_string()
}

async fn text(res: reqwest::Response) -> (StatusCode, String) {
    (res.status(), res.text().await.unwrap())
}

/// Sends a request's head and only part of its body, and keeps the connection open: a handler
/// reading the body stays busy until the connection is dropped.
async fn stalled_login(app: &TestApp) -> tokio::net::TcpStream {
    let addr = app.base.trim_start_matches("http://");
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "POST /api/v1/auth/login HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
         Content-Length: 1000\r\n\r\n{{\"email\": "
    );
    s.write_all(head.as_bytes()).await.unwrap();
    s
}

/// Reads an HTTP/1.1 answer until the end of its (small, content-length) body.
async fn read_answer(s: &mut tokio::net::TcpStream) -> String {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let n = s.read(&mut chunk).await.unwrap();
        buf.extend_from_slice(&chunk[..n]);
        let text = String::from_utf8_lossy(&buf).to_string();
        if n == 0 {
            return text;
        }
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let len = head
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase()
                        .strip_prefix("content-length: ")
                        .map(str::to_string)
                })
                .and_then(|v| v.trim().parse::<usize>().ok());
            if len.is_some_and(|len| body.len() >= len) {
                return text;
            }
        }
    }
}

/// Asks `/api/v1/me` until the status satisfies `done` (the server notices stalled requests
/// starting and ending on its own time), giving up after a few hundred tries.
async fn until(app: &TestApp, done: impl Fn(StatusCode) -> bool) -> reqwest::Response {
    for _ in 0..500 {
        let res = app.admin.get(app.url("/api/v1/me")).send().await.unwrap();
        if done(res.status()) {
            return res;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("the server never changed its answer");
}

on_both_engines! {
    forms_posted_with_the_cookie_need_the_sessions_token(app) {
        let ids = app.catalogue().await;
        let browser = TestApp::cookie_only(&app.base, "admin@localhost", ADMIN_PASSWORD).await;
        let (s, form) = text(browser.get(app.url("/promises/new")).send().await.unwrap()).await;
        assert_eq!(s, StatusCode::OK, "reading needs no token");
        let token = form_token(&form);
        assert_eq!(token.len(), 64);
        let fields = |csrf: Option<&str>| {
            let mut f = vec![
                ("customer_id", ids.customer.to_string()), ("deal_id", ids.deal.to_string()),
                ("feature_id", ids.feature.to_string()), ("shown_as", "slides".to_string()),
                ("criteria", "三级质控提示".to_string()),
            ];
            if let Some(c) = csrf { f.push(("csrf", c.to_string())); }
            f
        };
        let other = TestApp::login_cookie(&app.base, "admin@localhost", ADMIN_PASSWORD).await.1;
        let before = app.footprint().await;
        // Without the token, with a wrong one, with another session's: refused in the reader's
        // language, nothing written.
        assert_ne!(other, token, "each session has its own token");
        let wrong = "0".repeat(64);
        for (csrf, lang, says) in [
            (None, "zh-CN", "缺少有效的安全令牌"),
            (Some(wrong.as_str()), "en", "missing its security token"),
            (Some(other.as_str()), "en", "nothing was saved"),
            (Some(""), "zh-CN", "没有保存任何内容"),
        ] {
            let res = browser.post(app.url("/promises")).header("accept-language", lang)
                .form(&fields(csrf)).send().await.unwrap();
            let (s, body) = text(res).await;
            assert_eq!(s, StatusCode::FORBIDDEN, "{csrf:?}");
            assert!(body.contains(says), "{csrf:?}: {body}");
        }
        assert_eq!(app.footprint().await, before, "a refused form writes nothing");
        // The token of the page's own form works.
        let res = browser.post(app.url("/promises")).form(&fields(Some(&token))).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let after = app.footprint().await;
        assert_eq!(after["commitments"], before["commitments"] + 1);
        // Every form of every page carries it: the customer page has several.
        let (_, customer) = text(browser.get(app.url(&format!("/customers/{}", ids.customer))).send().await.unwrap()).await;
        let forms = customer.matches("<form method=\"post\"").count();
        assert!(forms >= 3, "{customer}");
        assert_eq!(customer.matches(&format!("name=\"csrf\" value=\"{token}\"")).count(), forms);
        // Logging out from another site's page is refused too; from ours it works.
        let res = browser.post(app.url("/logout")).form(&[("csrf", wrong.as_str())]).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::FORBIDDEN);
        assert_eq!(browser.get(app.url("/")).send().await.unwrap().status(), StatusCode::OK, "still logged in");
        let res = browser.post(app.url("/logout")).form(&[("csrf", token.as_str())]).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert_eq!(res.headers()["location"], "/login");
        assert_eq!(browser.get(app.url("/")).send().await.unwrap().status(), StatusCode::SEE_OTHER, "logged out");
    }

    api_calls_with_the_cookie_need_the_token_header_and_bearer_tokens_do_not(app) {
        let (jar, csrf) = TestApp::login_cookie(&app.base, "admin@localhost", ADMIN_PASSWORD).await;
        let browser = reqwest::Client::builder().cookie_provider(jar).build().unwrap();
        let before = app.footprint().await;
        let res = browser.post(app.url("/api/v1/customers")).json(&json!({"name": "北京协和"})).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::FORBIDDEN);
        let body: serde_json::Value = res.json().await.unwrap();
        assert_eq!(body["error"]["code"], "csrf");
        assert!(body["error"]["message"].as_str().unwrap().contains("X-CSRF-Token"), "{body}");
        let res = browser.post(app.url("/api/v1/customers")).header("x-csrf-token", "0".repeat(64))
            .json(&json!({"name": "北京协和"})).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::FORBIDDEN);
        // Deleting needs it too.
        let res = browser.delete(app.url("/api/v1/time-entries/1")).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::FORBIDDEN);
        assert_eq!(app.footprint().await, before, "nothing written");
        let res = browser.get(app.url("/api/v1/customers")).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK, "reads need no token");
        let res = browser.post(app.url("/api/v1/customers")).header("x-csrf-token", &csrf)
            .json(&json!({"name": "北京协和"})).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::CREATED);
        let script = app.token_for(app.ws, Role::Pm).await;
        let (s, _) = app.post(&script, "/api/v1/customers", json!({"name": "上海瑞金"})).await;
        assert_eq!(s, StatusCode::CREATED, "a bearer token needs no anti-forgery token");
    }

    oversized_bodies_are_413_in_json_and_on_the_page(app) {
        let app = TestApp::spawn_with(app.engine, WebConfig { max_body_bytes: 2048, ..WebConfig::default() }).await;
        let big = "长".repeat(2000);
        let (s, e) = app.post(&app.admin, "/api/v1/customers", json!({"name": big})).await;
        assert_eq!(s, StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(e["error"]["code"], "payload_too_large");
        let browser = TestApp::cookie_only(&app.base, "admin@localhost", ADMIN_PASSWORD).await;
        let res = browser.post(app.url("/requests")).header("accept-language", "en")
            .form(&[("text", big.as_str()), ("source_role", "customer")]).send().await.unwrap();
        let (s, body) = text(res).await;
        assert_eq!(s, StatusCode::PAYLOAD_TOO_LARGE);
        assert!(body.contains("larger than the server accepts"), "{body}");
        let (s, list) = app.get(&app.admin, "/api/v1/requests").await;
        assert_eq!((s, list.as_array().map(Vec::len)), (StatusCode::OK, Some(0)));
    }

    slow_requests_are_answered_408_in_json(app) {
        let app = TestApp::spawn_without_login(app.engine, WebConfig { request_timeout: Duration::from_millis(300), ..WebConfig::default() }).await;
        let mut slow = stalled_login(&app).await;
        let answer = read_answer(&mut slow).await;
        assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
        assert!(answer.contains("\"code\":\"timeout\""), "{answer}");
        let res = app.anonymous().get(app.url("/healthz")).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK, "quick requests are unaffected");
        let res = app.anonymous().get(app.url("/api/v1/me")).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    }

    requests_over_the_limit_are_503_with_retry_after(app) {
        let app = TestApp::spawn_with(app.engine, WebConfig { max_concurrent_requests: 2, ..WebConfig::default() }).await;
        let first = stalled_login(&app).await;
        let second = stalled_login(&app).await;
        // Both stalled requests are being handled once the server answers about a third; wait
        // until it does refuse, then check the refusal.
        let res = until(&app, |s| s != StatusCode::OK).await;
        assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(res.headers()["retry-after"], "1");
        let body: serde_json::Value = res.json().await.unwrap();
        assert_eq!(body["error"]["code"], "overloaded");
        let page = app.admin.get(app.url("/")).header("accept-language", "zh-CN").send().await.unwrap();
        assert_eq!(page.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert!(page.text().await.unwrap().contains("服务器正忙"));
        let health = app.anonymous().get(app.url("/healthz")).send().await.unwrap();
        assert_eq!(health.status(), StatusCode::OK, "a busy server is still alive");
        drop((first, second));
        let res = until(&app, |s| s != StatusCode::SERVICE_UNAVAILABLE).await;
        assert_eq!(res.status(), StatusCode::OK, "served again once the stalled requests end");
    }

    query_parameters_are_documented_as_query_parameters(app) {
        // Found by schemathesis: every filter was documented as a required path parameter, so
        // generated clients built addresses that do not exist.
        let (_, doc) = app.get(&app.anonymous(), "/api/v1/openapi.json").await;
        let mut queries = 0;
        for (path, ops) in doc["paths"].as_object().unwrap() {
            for (method, op) in ops.as_object().unwrap() {
                for p in op["parameters"].as_array().into_iter().flatten() {
                    let name = p["name"].as_str().unwrap();
                    let in_path = path.contains(&format!("{{{name}}}"));
                    assert_eq!(p["in"], if in_path { "path" } else { "query" }, "{method} {path} {name}");
                    if !in_path {
                        queries += 1;
                        let required = matches!((path.as_str(), name), ("/api/v1/search", "q") | ("/api/v1/requests/similar", "text"));
                        assert_eq!(p["required"].as_bool().unwrap_or(false), required, "{method} {path} {name}");
                    }
                }
            }
        }
        assert!(queries >= 30, "{queries} query parameters");
    }

    audit_entries_match_their_documented_schema(app) {
        // Found by schemathesis: `before` of a creation and `after` of a removal are null, and
        // the document said they are always objects.
        let ids = app.catalogue().await;
        let (s, k) = app.post(&app.admin, "/api/v1/commitments", json!({"customer_id": ids.customer, "feature_id": ids.feature})).await;
        assert_eq!(s, StatusCode::CREATED);
        let (_, trail) = app.get(&app.admin, &format!("/api/v1/commitments/{}/audit", k["id"])).await;
        assert_eq!(trail[0]["before"], serde_json::Value::Null, "{trail}");
        let (_, doc) = app.get(&app.anonymous(), "/api/v1/openapi.json").await;
        for field in ["before", "after"] {
            let ty = &doc["components"]["schemas"]["AuditEntry"]["properties"][field]["type"];
            let types: Vec<&str> = ty.as_array().map(|a| a.iter().filter_map(|t| t.as_str()).collect()).unwrap_or_default();
            assert!(types.contains(&"null") && types.contains(&"object"), "{field}: {ty}");
        }
    }

    out_of_range_limits_are_clamped_not_server_errors(app) {
        // A negative LIMIT is an error on PostgreSQL and "no limit" on SQLite: every limit and
        // offset a client sends is brought into range first, the same on both engines.
        let (s, env) = app.post(&app.admin, "/api/v1/environments", json!({"name": "演示环境", "base_url": "http://127.0.0.1:9"})).await;
        assert_eq!(s, StatusCode::CREATED, "{env}");
        let (s, _) = app.post(&app.admin, "/api/v1/probes", json!({"environment_id": env["id"], "dataset": "患者张三", "path": "/x", "timeout_ms": 200})).await;
        assert_eq!(s, StatusCode::CREATED);
        let runs = format!("/api/v1/environments/{}/runs", env["id"]);
        for _ in 0..2 {
            let (s, _) = app.post(&app.admin, &format!("/api/v1/environments/{}/run", env["id"]), json!({})).await;
            assert!(s.is_success());
        }
        for (q, n) in [("?limit=-1", 1), ("?limit=0", 1), ("?limit=1", 1), ("?limit=99999999", 2), ("", 2)] {
            let (s, list) = app.get(&app.admin, &format!("{runs}{q}")).await;
            assert_eq!(s, StatusCode::OK, "{q}: {list}");
            assert_eq!(list.as_array().unwrap().len(), n, "{q}");
        }
        for url in ["/api/v1/commitments?limit=-5&offset=-3", "/api/v1/requests?limit=-1&offset=-1", "/api/v1/time-entries?limit=-1",
                    "/api/v1/search?q=x&limit=-1", "/api/v1/requests/similar?text=x&limit=0"] {
            let (s, body) = app.get(&app.admin, url).await;
            assert_eq!(s, StatusCode::OK, "{url}: {body}");
        }
    }

    nul_characters_are_refused_as_invalid_input(app) {
        // PostgreSQL cannot store U+0000 in text; SQLite can. Both refuse it with 422 and write
        // nothing, instead of a storage error.
        let ids = app.catalogue().await;
        let before = app.footprint().await;
        for (path, body) in [
            ("/api/v1/customers", json!({"name": "协和\u{0}医院"})),
            ("/api/v1/products", json!({"name": "\u{0}"})),
            ("/api/v1/requests", json!({"text": "打印\u{0}", "source_role": "sales"})),
            ("/api/v1/commitments", json!({"customer_id": ids.customer, "feature_id": ids.feature, "criteria": ["a\u{0}b"]})),
        ] {
            let (s, e) = app.post(&app.admin, path, body).await;
            assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{path}: {e}");
        }
        // Whatever the letter case of the media type, and on a handler that reads its body
        // whatever the type (tokens).
        for (path, ct) in [("/api/v1/customers", "Application/JSON"), ("/api/v1/tokens", "text/plain")] {
            let res = app.admin.post(app.url(path)).header("content-type", ct)
                .body(r#"{"name": "协和\u0000医院"}"#).send().await.unwrap();
            assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{path} {ct}");
        }
        let (s, e) = app.get(&app.admin, "/api/v1/search?q=%00").await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
        assert_eq!(app.footprint().await, before);
    }

    extreme_numbers_are_refused_or_carried_never_a_server_error(app) {
        let ids = app.catalogue().await;
        let c = &app.admin;
        let mut answers = Vec::new();
        for (path, body) in [
            ("/api/v1/deals", json!({"customer_id": ids.customer, "name": "大单1", "stage": "won", "contract_value": 92233720368547758i64})),
            ("/api/v1/deals", json!({"customer_id": ids.customer, "name": "大单2", "stage": "won", "contract_value": 92233720368547758i64})),
            ("/api/v1/deals", json!({"customer_id": ids.customer, "name": "大单3", "contract_value": 1e300})),
            ("/api/v1/deals", json!({"customer_id": ids.customer, "name": "大单4", "contract_value": -5})),
            ("/api/v1/deals", json!({"customer_id": i64::MAX, "name": "大单5"})),
            ("/api/v1/customers", json!({"name": "权重", "weight": 1e308})),
            ("/api/v1/customers", json!({"name": "负权重", "weight": -1})),
            ("/api/v1/features", json!({"product_id": ids.product, "menu_path": "极大/工作量", "effort_days": 1e308})),
            ("/api/v1/time-entries", json!({"hat": "planning", "minutes": i64::MAX})),
            ("/api/v1/time-entries", json!({"hat": "planning", "minutes": i64::MAX, "date": "9999-12-31"})),
            ("/api/v1/commitments", json!({"customer_id": ids.customer, "feature_id": ids.feature, "due_date": "0001-01-01"})),
            ("/api/v1/demos", json!({"customer_id": ids.customer, "starts_at": "9999-12-31T23:59:59+14:00"})),
        ] {
            let (s, e) = app.post(c, path, body.clone()).await;
            assert!(!s.is_server_error(), "{path} {body}: {s} {e}");
            answers.push(s);
        }
        for path in ["/api/v1/gap", "/api/v1/roadmap", "/api/v1/customers", "/api/v1/reports/hats", "/api/v1/gap/week",
                     "/api/v1/time-entries", "/api/v1/demos", "/api/v1/commitments", "/api/v1/features/9223372036854775807",
                     "/api/v1/roadmap?as_of=9999-12-31", "/api/v1/gap/history?from=0001-01-01&to=9999-12-31",
                     "/api/v1/reports/hats?from=0001-01-01&to=9999-12-31"] {
            let (s, e) = app.get(c, path).await;
            assert!(!s.is_server_error(), "{path}: {s} {e}");
        }
        // A negative value, a negative weight, an effort beyond any plan and a day of more than
        // 24 hours are refused; the others may be carried as they are.
        for i in [3, 6, 7, 8, 9] {
            assert!(answers[i].is_client_error(), "row {i} is refused: {answers:?}");
        }
    }
}

/// A login through the API from `client`; the status.
async fn api_login(
    app: &TestApp,
    client: &reqwest::Client,
    password: &str,
    xff: Option<&str>,
) -> StatusCode {
    let mut req = client
        .post(app.url("/api/v1/auth/login"))
        .json(&json!({"email": "admin@localhost", "password": password}));
    if let Some(x) = xff {
        req = req.header("x-forwarded-for", x);
    }
    req.send().await.unwrap().status()
}

/// Every template file of the web crate, with its name.
fn templates() -> Vec<(String, String)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("templates");
    let mut out: Vec<(String, String)> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "html"))
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().to_string(),
                std::fs::read_to_string(&p).unwrap(),
            )
        })
        .collect();
    out.sort();
    assert!(out.len() >= 20, "{} templates", out.len());
    out
}

/// Each `<form …>…</form>` of a text whose opening tag posts, lower-cased.
fn post_forms(html: &str) -> Vec<String> {
    let lower = html.to_lowercase();
    let mut out = Vec::new();
    let mut rest = lower.as_str();
    while let Some(at) = rest.find("<form") {
        let form = &rest[at..];
        let end = form
            .find("</form>")
            .map_or(form.len(), |e| e + "</form>".len());
        let open = &form[..form.find('>').unwrap_or(form.len())];
        if open.contains("method=\"post\"")
            || open.contains("method=post")
            || open.contains("method='post'")
        {
            out.push(form[..end].to_string());
        }
        rest = &form[end..];
    }
    out
}

/// Logins, passwords, public pages, scripts and forms (issue 24).
mod issue24 {
    use super::*;

    on_both_engines! {
        nobody_can_lock_the_owner_out_by_guessing(app) {
            // The owner's browser logged in before: it holds the device cookie.
            let owner = common::browser();
            assert_eq!(api_login(&app, &owner, ADMIN_PASSWORD, None).await, StatusCode::OK);
            // An attacker from the same address (an office behind one NAT) tries 20 passwords.
            let attacker = reqwest::Client::new();
            let mut answers = Vec::new();
            for i in 0..20 {
                answers.push(api_login(&app, &attacker, &format!("guess-{i}-password"), None).await);
            }
            assert_eq!(answers.iter().filter(|s| **s == StatusCode::UNAUTHORIZED).count(), 5, "{answers:?}");
            assert!(answers[5..].iter().all(|s| *s == StatusCode::TOO_MANY_REQUESTS), "{answers:?}");
            // The owner logs in at once, through the API and the form …
            assert_eq!(api_login(&app, &owner, ADMIN_PASSWORD, None).await, StatusCode::OK);
            let res = common::form_login(&owner, &app.base, "admin@localhost", ADMIN_PASSWORD, "/").await;
            assert_eq!(res.status(), StatusCode::SEE_OTHER);
            let cookies: Vec<_> = res.headers().get_all("set-cookie").iter().map(|v| v.to_str().unwrap().to_string()).collect();
            assert!(cookies.iter().any(|c| c.starts_with("cunjin_device=") && c.contains("HttpOnly")), "{cookies:?}");
            // … and even a wrong password from the owner's browser is its own count, not the attacker's.
            assert_eq!(api_login(&app, &owner, "typo-password", None).await, StatusCode::UNAUTHORIZED);
            assert_eq!(api_login(&app, &owner, ADMIN_PASSWORD, None).await, StatusCode::OK);
            // The attacker is still refused, even with the right password.
            assert_eq!(api_login(&app, &attacker, ADMIN_PASSWORD, None).await, StatusCode::TOO_MANY_REQUESTS);
            // A forged device cookie counts for nothing.
            let forged = reqwest::Client::new().post(app.url("/api/v1/auth/login"))
                .header("cookie", format!("cunjin_device={}.{}", "a".repeat(64), "b".repeat(64)))
                .json(&json!({"email": "admin@localhost", "password": ADMIN_PASSWORD})).send().await.unwrap();
            assert_eq!(forged.status(), StatusCode::TOO_MANY_REQUESTS);
        }

        the_client_address_comes_from_a_trusted_header_only(app) {
            // Not configured: X-Forwarded-For is ignored; a guesser cannot buy fresh attempts with it.
            let attacker = reqwest::Client::new();
            for i in 0..5 {
                assert_eq!(api_login(&app, &attacker, "wrong-password", Some(&format!("10.0.0.{i}"))).await, StatusCode::UNAUTHORIZED);
            }
            assert_eq!(api_login(&app, &attacker, "wrong-password", Some("10.9.9.9")).await, StatusCode::TOO_MANY_REQUESTS);
            assert_eq!(api_login(&app, &attacker, ADMIN_PASSWORD, Some("10.8.8.8")).await, StatusCode::TOO_MANY_REQUESTS);
            // Configured: the proxy's header names the client; its last entry is the one the proxy wrote.
            let proxied = TestApp::spawn_without_login(app.engine, WebConfig {
                trusted_proxy_header: Some("x-forwarded-for".into()), ..WebConfig::default()
            }).await;
            for _ in 0..5 {
                assert_eq!(api_login(&proxied, &attacker, "wrong-password", Some("10.0.0.9")).await, StatusCode::UNAUTHORIZED);
            }
            assert_eq!(api_login(&proxied, &attacker, ADMIN_PASSWORD, Some("10.0.0.9")).await, StatusCode::TOO_MANY_REQUESTS);
            assert_eq!(api_login(&proxied, &attacker, ADMIN_PASSWORD, Some("10.0.0.1, 10.0.0.9")).await,
                       StatusCode::TOO_MANY_REQUESTS, "what the client wrote before the proxy's entry is not believed");
            assert_eq!(api_login(&proxied, &attacker, ADMIN_PASSWORD, Some("10.0.0.1")).await, StatusCode::OK, "another client");
        }

        blank_repeated_and_common_passwords_are_refused(app) {
            for (password, says) in [("        ", "不能为空"), ("12345678", "most common"), ("Password", "常见"), ("woaini1314", "common"),
                                     ("qwertyui", "common"), ("a1234567", "common"), ("88888888", "repeated"), ("1qaz2wsx", "common"), ("xxxxxxxxxxxx", "repeated")] {
                let (s, e) = app.post(&app.admin, "/api/v1/users", json!({"email": "weak@x.cn", "role": "pm", "password": password})).await;
                assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{password:?}: {e}");
                let msg = e["error"]["message"].as_str().unwrap();
                assert!(msg.contains(says) && msg.contains("密码"), "{password:?}: {msg}");
            }
            let (_, users) = app.get(&app.admin, "/api/v1/users").await;
            assert_eq!(users.as_array().unwrap().len(), 1, "nobody was added: {users}");
            let (s, _) = app.post(&app.admin, "/api/v1/users", json!({"email": "li@x.cn", "role": "pm", "password": "门诊排班2025"})).await;
            assert_eq!(s, StatusCode::CREATED);
            // The first administrator's password is checked the same way.
            let db = cunjin_store::testing::TestDb::new(app.engine).await.unwrap();
            let store = db.store().await.unwrap();
            assert!(store.ensure_first_admin(Some("iloveyou")).await.is_err());
            assert!(store.ensure_first_admin(Some("   \t    ")).await.is_err());
            assert_eq!(store.count_users().await.unwrap(), 0);
        }

        scripts_come_only_from_files_of_the_site(app) {
            let res = app.anonymous().get(app.url("/login")).send().await.unwrap();
            let csp = res.headers()["content-security-policy"].to_str().unwrap().to_string();
            let script_src = csp.split(';').map(str::trim).find(|d| d.starts_with("script-src")).unwrap_or_else(|| panic!("{csp}"));
            assert_eq!(script_src, "script-src 'self'", "{csp}");
            // The pages that need the script load it from the file; the others have none.
            let html = app.admin.get(app.url("/requests")).send().await.unwrap().text().await.unwrap();
            assert!(html.contains("<script src=\"/static/app.js\" defer></script>"), "{html}");
            assert!(!res.text().await.unwrap().contains("<script"), "the login page runs nothing");
            let js = app.anonymous().get(app.url("/static/app.js")).send().await.unwrap();
            assert_eq!(js.status(), StatusCode::OK);
            assert!(js.headers()["content-type"].to_str().unwrap().starts_with("text/javascript"));
            let js = js.text().await.unwrap();
            assert!(js.contains("keydown") && js.contains("window.print()"));
            // No template runs code inline: no <script> with a body, no on…= handler, no javascript: link.
            for (name, t) in templates() {
                let lower = t.to_lowercase();
                assert!(!lower.contains("javascript:"), "{name}");
                let inline = lower.match_indices("<script").any(|(i, _)| !lower[i..].starts_with("<script src="));
                assert!(!inline, "{name}: scripts belong in static/app.js");
                let handler = lower.match_indices(" on").find(|(i, _)| {
                    let rest = &lower[i + 3..];
                    let name_len = rest.bytes().take_while(u8::is_ascii_lowercase).count();
                    name_len > 0 && rest[name_len..].trim_start().starts_with('=')
                });
                assert!(handler.is_none(), "{name}: inline event handler at {handler:?}");
            }
        }

        every_post_form_carries_the_csrf_field(app) {
            // In every template, through the one macro …
            for (name, t) in templates() {
                for form in post_forms(&t) {
                    assert!(form.contains("{% call forms::csrf(me) %}"), "{name}: a post form without the csrf field: {form}");
                }
            }
            // … and in every page as rendered, for the signed-in admin and for the public pages.
            let ids = app.catalogue().await;
            let (_, k) = app.post(&app.admin, "/api/v1/commitments", json!({"customer_id": ids.customer, "feature_id": ids.feature, "criteria": ["三级质控"]})).await;
            let (_, env) = app.post(&app.admin, "/api/v1/environments", json!({"name": "演示环境", "base_url": "http://127.0.0.1:9"})).await;
            let (_, demo) = app.post(&app.admin, "/api/v1/demos", json!({"customer_id": ids.customer, "environment_id": env["id"], "starts_at": "2030-01-01T09:00:00+08:00"})).await;
            let (_, r) = app.post(&app.admin, "/api/v1/requests", json!({"text": "门诊医保结算清单上传", "source_role": "sales"})).await;
            let (_, intake) = app.get(&app.admin, "/api/v1/intake-link").await;
            assert!(k["id"].is_i64() && demo["id"].is_i64() && r["id"].is_i64(), "{k} {demo} {r}");
            let browser = TestApp::cookie_only(&app.base, "admin@localhost", ADMIN_PASSWORD).await;
            let mut seen = 0;
            for path in ["/", "/features", "/customers", &format!("/customers/{}", ids.customer), "/promises/new", "/roadmap",
                         "/releases", "/requests", &format!("/requests?id={}", r["id"]), "/requests/new", "/environments",
                         &format!("/environments/{}", env["id"]), "/demos", "/demos/new", &format!("/demos/{}", demo["id"]),
                         &format!("/demos/{}/edit", demo["id"]), &format!("/demos/{}/talk-track", demo["id"]), "/hats", "/webhooks"] {
                let (s, html) = text(browser.get(app.url(path)).send().await.unwrap()).await;
                assert_eq!(s, StatusCode::OK, "{path}");
                let token = form_token(&html);
                for form in post_forms(&html) {
                    assert!(form.contains(&format!("name=\"csrf\" value=\"{token}\"")), "{path}: {form}");
                    seen += 1;
                }
            }
            assert!(seen >= 15, "{seen} forms seen");
            let anon = common::browser();
            let intake_path = intake["form_url"].as_str().map(|u| u[u.find("/intake/").unwrap()..].to_string()).unwrap_or_else(|| panic!("{intake}"));
            for path in ["/login", intake_path.as_str()] {
                let (s, html) = text(anon.get(app.url(path)).send().await.unwrap()).await;
                assert_eq!(s, StatusCode::OK, "{path}");
                let forms = post_forms(&html);
                assert_eq!(forms.len(), 1, "{path}");
                assert!(form_token(&html).len() == 64 && forms[0].contains("name=\"csrf\""), "{path}: {html}");
            }
        }

        the_login_form_needs_its_pre_session_token(app) {
            let browser = common::browser();
            let res = browser.get(app.url("/login")).send().await.unwrap();
            let set = res.headers()["set-cookie"].to_str().unwrap().to_string();
            assert!(set.starts_with("cunjin_form=") && set.contains("HttpOnly") && set.contains("SameSite=Strict"), "{set}");
            let token = form_token(&res.text().await.unwrap());
            assert!(set.contains(&token), "the field repeats the cookie");
            let again = form_token(&browser.get(app.url("/login")).send().await.unwrap().text().await.unwrap());
            assert_eq!(again, token, "one token per browser, so two open tabs both work");
            let login = |csrf: Option<&str>, client: &reqwest::Client| {
                let mut f = vec![("email", "admin@localhost"), ("password", ADMIN_PASSWORD)];
                if let Some(c) = csrf { f.push(("csrf", c)); }
                client.post(app.url("/login")).header("accept-language", "en").form(&f).send()
            };
            // A page of another site that strips Origin (or a browser that sends none) and cannot
            // read the cookie: refused, no session.
            let wrong = "0".repeat(64);
            for csrf in [None, Some(""), Some(wrong.as_str())] {
                let res = login(csrf, &browser).await.unwrap();
                assert_eq!(res.status(), StatusCode::FORBIDDEN, "{csrf:?}");
                assert!(res.headers().get_all("set-cookie").iter().all(|c| !c.to_str().unwrap().starts_with("cunjin_session")));
                assert!(res.text().await.unwrap().contains("security token"));
            }
            // The token without its cookie does not do either.
            let res = login(Some(&token), &reqwest::Client::new()).await.unwrap();
            assert_eq!(res.status(), StatusCode::FORBIDDEN);
            let res = login(Some(&token), &browser).await.unwrap();
            assert_eq!(res.status(), StatusCode::SEE_OTHER);
            // The Origin check stays.
            let res = browser.post(app.url("/login")).header("origin", "https://evil.example")
                .form(&[("email", "admin@localhost"), ("password", ADMIN_PASSWORD), ("csrf", &token)]).send().await.unwrap();
            assert_eq!(res.status(), StatusCode::FORBIDDEN);
        }

        status_pages_are_kept_until_the_ledger_changes(app) {
            let ids = app.catalogue().await;
            let (s, _) = app.post(&app.admin, "/api/v1/commitments", json!({"customer_id": ids.customer, "feature_id": ids.feature, "criteria": ["三级质控提示"]})).await;
            assert_eq!(s, StatusCode::CREATED);
            let (_, link) = app.post(&app.admin, &format!("/api/v1/customers/{}/status-link", ids.customer), json!({})).await;
            let path = link["status_url"].as_str().unwrap_or_else(|| panic!("{link}")).to_string();
            let hit = |lang: &'static str| app.anonymous().get(app.url(&path)).header("accept-language", lang).send();
            let first = hit("zh-CN").await.unwrap();
            assert_eq!(first.status(), StatusCode::OK);
            assert_eq!(first.headers()["x-cache"], "miss");
            let etag = first.headers()["etag"].to_str().unwrap().to_string();
            let body = first.text().await.unwrap();
            let second = hit("zh-CN").await.unwrap();
            assert_eq!(second.headers()["x-cache"], "hit", "the second hit is served from the cache");
            assert_eq!(second.headers()["etag"], etag.as_str());
            assert_eq!(second.headers()["cache-control"], "no-store");
            assert_eq!(second.text().await.unwrap(), body);
            let en = hit("en").await.unwrap();
            assert_eq!(en.headers()["x-cache"], "miss", "each language has its own page");
            let res = app.anonymous().get(app.url(&path)).header("accept-language", "zh-CN").header("if-none-match", &etag).send().await.unwrap();
            assert_eq!(res.status(), StatusCode::NOT_MODIFIED);
            // A write to the ledger shows at once.
            let (s, f) = app.post(&app.admin, "/api/v1/features", json!({"product_id": ids.product, "menu_path": "门诊/医保/结算清单上传", "stage": "idea"})).await;
            assert_eq!(s, StatusCode::CREATED, "{f}");
            let feature_id = f["id"].clone();
            let (s, _) = app.post(&app.admin, "/api/v1/commitments", json!({"customer_id": ids.customer, "feature_id": feature_id})).await;
            assert_eq!(s, StatusCode::CREATED);
            let after = hit("zh-CN").await.unwrap();
            assert_eq!(after.headers()["x-cache"], "miss");
            assert_ne!(after.headers()["etag"], etag.as_str());
            assert!(after.text().await.unwrap().contains("结算清单上传"), "the new promise is on the page");
            // A rotated link is gone at once, cached page or not.
            let (_, _) = app.post(&app.admin, &format!("/api/v1/customers/{}/status-link", ids.customer), json!({})).await;
            assert_eq!(hit("zh-CN").await.unwrap().status(), StatusCode::NOT_FOUND);
        }

        public_pages_are_limited_per_client_address(app) {
            let app = TestApp::spawn_with(app.engine, WebConfig {
                trusted_proxy_header: Some("x-forwarded-for".into()),
                public_pages_per_client: cunjin_web::intake::Rate { capacity: 5, refill: Duration::from_secs(60) },
                ..WebConfig::default()
            }).await;
            let ids = app.catalogue().await;
            let (_, link) = app.post(&app.admin, &format!("/api/v1/customers/{}/status-link", ids.customer), json!({})).await;
            let path = link["status_url"].as_str().unwrap().to_string();
            let from = |ip: &'static str, path: String, lang: &'static str| {
                app.anonymous().get(app.url(&path)).header("x-forwarded-for", ip).header("accept-language", lang).send()
            };
            for _ in 0..5 {
                assert_eq!(from("10.0.0.9", path.clone(), "zh-CN").await.unwrap().status(), StatusCode::OK);
            }
            let res = from("10.0.0.9", path.clone(), "zh-CN").await.unwrap();
            assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
            let wait: u64 = res.headers()["retry-after"].to_str().unwrap().parse().unwrap();
            assert!((1..=60).contains(&wait), "{wait}");
            assert!(res.text().await.unwrap().contains("请求太频繁"));
            let res = from("10.0.0.9", path.clone(), "en").await.unwrap();
            assert!(res.text().await.unwrap().contains("Too many requests"));
            // The other public pages share the allowance; the JSON answers in the error shape.
            for p in ["/status/r/x", "/intake/x", "/calendar/x.ics"] {
                assert_eq!(from("10.0.0.9", p.to_string(), "en").await.unwrap().status(), StatusCode::TOO_MANY_REQUESTS, "{p}");
            }
            let res = from("10.0.0.9", link["status_json_url"].as_str().unwrap().to_string(), "en").await.unwrap();
            assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
            assert_eq!(res.json::<serde_json::Value>().await.unwrap()["error"]["code"], "too_many_requests");
            // Another address is served; signed-in pages are not counted.
            assert_eq!(from("10.0.0.1", path.clone(), "zh-CN").await.unwrap().status(), StatusCode::OK);
            assert_eq!(app.admin.get(app.url("/customers")).header("x-forwarded-for", "10.0.0.9").send().await.unwrap().status(), StatusCode::OK);
        }
    }
}
