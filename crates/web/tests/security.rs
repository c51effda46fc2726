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
