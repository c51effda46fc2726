//! Requests through the API and the web UI, on SQLite and PostgreSQL: filing from every role,
//! triage decisions and their rules, search, similar requests, the public intake link with its
//! rate limit, the requester's status link, and the demand they feed into the roadmap.

mod common;

use cunjin_core::Role;
use reqwest::StatusCode;
use serde_json::{json, Value};

fn error_code(v: &Value) -> &str {
    v["error"]["code"]
        .as_str()
        .unwrap_or_else(|| panic!("no error shape in {v}"))
}

async fn page(client: &reqwest::Client, url: String) -> (StatusCode, String) {
    let res = client.get(url).send().await.unwrap();
    (res.status(), res.text().await.unwrap())
}

async fn count_requests(app: &common::TestApp) -> usize {
    let (_, all) = app.get(&app.admin, "/api/v1/requests").await;
    all.as_array().map(Vec::len).unwrap_or(usize::MAX)
}

on_both_engines! {
    imported_requests_are_searchable_at_once_and_indexed_in_the_background(app) {
        let rows: Vec<(u64, cunjin_exchange::RequestRow)> = (0..1500u64)
            .map(|i| (i + 2, cunjin_exchange::RequestRow {
                text: format!("互联网医院复诊续方 第{i}号"),
                source_role: cunjin_core::SourceRole::Customer,
                customer: None,
                requester: "王主任".into(),
                product: None,
                ..Default::default()
            }))
            .collect();
        app.store
            .import_requests(app.ws, "import", &rows, cunjin_store::imports::Apply::Commit, |_| {})
            .await
            .unwrap();
        assert_eq!(app.store.search_backlog_len().await.unwrap(), 1500);
        let texts = |v: &Value| -> Vec<String> {
            v.as_array().unwrap().iter().map(|r| r["text"].as_str().unwrap().to_string()).collect()
        };
        let (s, newest) = app.get(&app.admin, "/api/v1/requests?q=复诊续方&limit=3").await;
        assert_eq!(s, StatusCode::OK, "{newest}");
        assert_eq!(texts(&newest), ["互联网医院复诊续方 第1499号", "互联网医院复诊续方 第1498号", "互联网医院复诊续方 第1497号"]);
        let (_, one) = app.get(&app.admin, "/api/v1/requests?q=1234").await;
        assert_eq!(texts(&one), ["互联网医院复诊续方 第1234号"]);

        // What `cunjin serve` runs in the background: afterwards the same answers, from the index.
        cunjin_web::scheduler::index_backlog(&app.store).await;
        assert_eq!(app.store.search_backlog_len().await.unwrap(), 0);
        let (_, after) = app.get(&app.admin, "/api/v1/requests?q=复诊续方&limit=3").await;
        assert_eq!(after, newest);
        let (_, after) = app.get(&app.admin, "/api/v1/requests?q=1234").await;
        assert_eq!(after, one);
        let (_, similar) = app.get(&app.admin, &format!("/api/v1/requests/{}/similar", one[0]["id"])).await;
        assert!(!similar.as_array().unwrap().is_empty(), "similar requests read the index: {similar}");
    }

    every_role_files_and_product_decides(app) {
        let ids = app.catalogue().await;
        let presales = app.token_for(app.ws, Role::Presales).await;
        let (s, r) = app.post(&presales, "/api/v1/requests", json!({
            "text": "门诊医生站增加医保结算清单上传功能", "source_role": "presales",
            "customer_id": ids.customer, "requester": "张伟(售前)"
        })).await;
        assert_eq!(s, StatusCode::CREATED, "{r}");
        assert_eq!(r["decision"], "new");
        assert_eq!(r["customer_name"], "华西第一人民医院");
        let status_url = r["status_url"].as_str().unwrap().to_string();
        assert!(status_url.starts_with("/status/r/") && status_url.len() == "/status/r/".len() + 64);
        let id = r["id"].as_i64().unwrap();

        for role in [Role::Implementation, Role::Rnd, Role::Sales, Role::Leader, Role::Pm] {
            let c = app.token_for(app.ws, role).await;
            let (s, r) = app.post(&c, "/api/v1/requests", json!({"text": format!("{role} 的需求：排班导出"), "source_role": "product"})).await;
            assert_eq!(s, StatusCode::CREATED, "{role}: {r}");
        }
        let viewer = app.token_for(app.ws, Role::Viewer).await;
        let (s, e) = app.post(&viewer, "/api/v1/requests", json!({"text": "看看", "source_role": "customer"})).await;
        assert_eq!((s, error_code(&e)), (StatusCode::FORBIDDEN, "forbidden"));
        let (s, _) = app.post(&app.anonymous(), "/api/v1/requests", json!({"text": "看看", "source_role": "customer"})).await;
        assert_eq!(s, StatusCode::UNAUTHORIZED);
        for bad in [
            json!({"text": "  ", "source_role": "customer"}),
            json!({"text": "x", "source_role": "doctor"}),
            json!({"text": "x", "source_role": "customer", "extra": 1}),
            json!({"text": "长".repeat(2001), "source_role": "customer"}),
        ] {
            let (s, e) = app.post(&app.admin, "/api/v1/requests", bad.clone()).await;
            assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{bad}: {e}");
        }
        let (s, e) = app.post(&app.admin, "/api/v1/requests", json!({"text": "x", "source_role": "customer", "customer_id": 424242})).await;
        assert_eq!((s, error_code(&e)), (StatusCode::NOT_FOUND, "not_found"));
        assert_eq!(count_requests(&app).await, 6, "refused requests wrote nothing");

        // Triage belongs to admin and pm.
        let (s, _) = app.post(&presales, &format!("/api/v1/requests/{id}/decision"), json!({"decision": "deferred"})).await;
        assert_eq!(s, StatusCode::FORBIDDEN);
        let (s, e) = app.post(&app.admin, &format!("/api/v1/requests/{id}/decision"), json!({"decision": "declined"})).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(e["error"]["message"].as_str().unwrap().contains("reason"), "{e}");
        let (s, e) = app.post(&app.admin, &format!("/api/v1/requests/{id}/decision"), json!({"decision": "accepted"})).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "accepting needs a feature: {e}");
        let (s, e) = app.post(&app.admin, &format!("/api/v1/requests/{id}/decision"), json!({"decision": "duplicate", "duplicate_of": id})).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
        let (_, unchanged) = app.get(&app.admin, &format!("/api/v1/requests/{id}")).await;
        assert_eq!(unchanged["decision"], "new");

        let pm = app.token_for(app.ws, Role::Pm).await;
        let (s, accepted) = app.post(&pm, &format!("/api/v1/requests/{id}/decision"), json!({
            "decision": "accepted", "feature_title": "医保结算清单上传", "product_id": ids.product,
            "planned_release": "v5.3", "reason": "纳入医保专项"
        })).await;
        assert_eq!(s, StatusCode::OK, "{accepted}");
        assert_eq!(accepted["feature_title"], "医保结算清单上传");
        assert_eq!(accepted["planned_release"], "v5.3");
        assert!(accepted["decided_by"].as_str().unwrap().starts_with("pm-"));

        // A second hospital asks the same; it is merged into the first.
        let (_, other) = app.post(&app.admin, "/api/v1/customers", json!({"name": "浙江省人民医院", "weight": 2.0})).await;
        let (_, dup) = app.post(&app.admin, "/api/v1/requests", json!({
            "text": "希望门诊医生站能上传医保结算清单", "source_role": "customer", "customer_id": other["id"]
        })).await;
        let dup_id = dup["id"].as_i64().unwrap();
        let (s, similar) = app.get(&app.admin, &format!("/api/v1/requests/{dup_id}/similar")).await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(similar[0]["request"]["id"], id, "{similar}");
        assert!(similar[0]["similarity"].as_f64().unwrap() >= 0.4);
        let (s, preview) = app.get(&app.admin, "/api/v1/requests/similar?text=门诊医生站上传医保结算清单").await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(preview.as_array().unwrap().len(), 2, "{preview}");
        let (s, merged) = app.post(&app.admin, &format!("/api/v1/requests/{dup_id}/decision"), json!({"decision": "duplicate", "duplicate_of": id})).await;
        assert_eq!(s, StatusCode::OK, "{merged}");
        assert_eq!(merged["duplicate_of"], id);
        let (s, e) = app.post(&app.admin, &format!("/api/v1/requests/{id}/decision"), json!({"decision": "duplicate", "duplicate_of": dup_id})).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "no cycles: {e}");

        // Demand: both hospitals (weights 1 and 2) on the accepted feature, which has no promise.
        let (_, roadmap) = app.get(&app.admin, "/api/v1/roadmap").await;
        let entry = roadmap.as_array().unwrap().iter()
            .find(|e| e["feature_id"] == accepted["feature_id"]).expect("demand puts it on the roadmap");
        assert_eq!(entry["terms"]["demand"], 3.0);
        assert_eq!(entry["terms"]["weighted_demand"], 30000.0);
        assert_eq!(entry["score"], 30000.0, "(0 + 10,000 × 3) ÷ max(effort, 1)");
        let names: Vec<&str> = entry["terms"]["requesters"].as_array().unwrap().iter().map(|r| r["name"].as_str().unwrap()).collect();
        assert_eq!(names, ["华西第一人民医院", "浙江省人民医院"]);
        let (_, html) = page(&app.admin, app.url("/roadmap")).await;
        assert!(html.contains("医保结算清单上传") && html.contains("浙江省人民医院"), "the explanation names the requesters");

        // Every decision is in the request's trail, with who, when and why.
        let (s, trail) = app.get(&app.admin, &format!("/api/v1/requests/{id}/audit")).await;
        assert_eq!(s, StatusCode::OK);
        let actions: Vec<&str> = trail.as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
        assert_eq!(actions, ["create", "decision"], "refused decisions left no trace");
        assert_eq!(trail[1]["before"]["decision"], "new");
        assert_eq!(trail[1]["after"]["decision"], "accepted");
        assert_eq!(trail[1]["reason"], "纳入医保专项");
        // The filters find it.
        let (_, accepted_list) = app.get(&app.admin, "/api/v1/requests?decision=accepted").await;
        assert_eq!(accepted_list.as_array().unwrap().len(), 1);
        let (_, by_role) = app.get(&app.admin, "/api/v1/requests?source_role=presales").await;
        assert_eq!(by_role.as_array().unwrap().len(), 1);
        let (_, by_customer) = app.get(&app.admin, &format!("/api/v1/requests?customer_id={}", other["id"])).await;
        assert_eq!(by_customer.as_array().unwrap().len(), 1);
        let (_, by_product) = app.get(&app.admin, &format!("/api/v1/requests?product_id={}", ids.product)).await;
        assert_eq!(by_product.as_array().unwrap().len(), 1);
        let (s, _) = app.get(&app.admin, "/api/v1/requests?decision=maybe").await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    }

    the_contract_is_in_the_openapi_document(app) {
        let (_, doc) = app.get(&app.anonymous(), "/api/v1/openapi.json").await;
        for path in ["/api/v1/requests", "/api/v1/requests/{id}", "/api/v1/requests/{id}/similar", "/api/v1/requests/similar",
                     "/api/v1/requests/{id}/decision", "/api/v1/search", "/api/v1/intake/{token}", "/api/v1/status/r/{token}", "/api/v1/intake-link"] {
            assert!(doc["paths"][path].is_object(), "{path} is not in the OpenAPI document");
        }
        let fields = &doc["components"]["schemas"]["Request"]["properties"];
        for f in ["text", "source_role", "customer_id", "requester", "feature_id", "decision", "reason", "duplicate_of", "status_url"] {
            assert!(fields[f].is_object(), "Request.{f}");
        }
    }

    search_requests_and_features_in_chinese_and_english(app) {
        let ids = app.catalogue().await;
        for text in ["电子病历书写时自动引用检验结果", "门诊医保结算对接", "护士排班按周复制", "DRG分组实时预警", "drg 分组器支持 2024 版", "Export DRG report to Excel"] {
            let (s, _) = app.post(&app.admin, "/api/v1/requests", json!({"text": text, "source_role": "customer"})).await;
            assert_eq!(s, StatusCode::CREATED);
        }
        let texts = |v: &Value| v.as_array().unwrap().iter().map(|r| r["text"].as_str().unwrap().to_string()).collect::<Vec<_>>();
        let (_, found) = app.get(&app.admin, "/api/v1/requests?q=病历").await;
        assert_eq!(texts(&found), ["电子病历书写时自动引用检验结果"]);
        let (_, found) = app.get(&app.admin, "/api/v1/requests?q=医保").await;
        assert_eq!(texts(&found), ["门诊医保结算对接"]);
        let (_, found) = app.get(&app.admin, "/api/v1/requests?q=排班").await;
        assert_eq!(texts(&found), ["护士排班按周复制"]);
        let (_, found) = app.get(&app.admin, "/api/v1/requests?q=DRG%20%E5%88%86%E7%BB%84").await;
        assert_eq!(texts(&found), ["drg 分组器支持 2024 版", "DRG分组实时预警"]);
        let (_, found) = app.get(&app.admin, "/api/v1/requests?q=EXCEL").await;
        assert_eq!(texts(&found), ["Export DRG report to Excel"]);
        // Linking to a feature is triage: product only.
        let first = found[0]["id"].as_i64().unwrap();
        let sales = app.token_for(app.ws, Role::Sales).await;
        let (s, _) = app.patch(&sales, &format!("/api/v1/requests/{first}"), json!({"feature_id": ids.feature})).await;
        assert_eq!(s, StatusCode::FORBIDDEN);
        let (s, linked) = app.patch(&app.admin, &format!("/api/v1/requests/{first}"), json!({"feature_id": ids.feature})).await;
        assert_eq!(s, StatusCode::OK, "{linked}");
        assert_eq!((linked["feature_id"].as_i64(), linked["decision"].as_str()), (Some(ids.feature), Some("new")));
        let (s, _) = app.patch(&app.admin, &format!("/api/v1/requests/{first}"), json!({"feature_id": 424242})).await;
        assert_eq!(s, StatusCode::NOT_FOUND);
        let (_, both) = app.get(&app.admin, "/api/v1/search?q=病历").await;
        assert_eq!(both["requests"].as_array().unwrap().len(), 1);
        assert_eq!(both["features"][0]["id"], ids.feature, "the feature's menu path 住院医生站/病历书写 matches");
        // Another workspace finds nothing of this one.
        let ws2 = app.store.create_workspace("other").await.unwrap().id;
        let outsider = app.token_for(ws2, Role::Admin).await;
        let (_, none) = app.get(&outsider, "/api/v1/search?q=病历").await;
        assert_eq!(none, json!({"requests": [], "features": []}));
        let (s, _) = app.get(&outsider, "/api/v1/requests/1").await;
        assert_eq!(s, StatusCode::NOT_FOUND);
    }

    the_status_link_shows_one_request_and_nothing_else(app) {
        let ids = app.catalogue().await;
        let (_, mine) = app.post(&app.admin, "/api/v1/requests", json!({
            "text": "体温单支持自定义显示项", "source_role": "customer", "customer_id": ids.customer,
            "requester": "李护士长", "contact": "li@hospital.cn"
        })).await;
        let (_, theirs) = app.post(&app.admin, "/api/v1/requests", json!({"text": "另一家医院的秘密需求", "source_role": "sales"})).await;
        app.post(&app.admin, &format!("/api/v1/requests/{}/decision", mine["id"]), json!({"decision": "declined", "reason": "与护理评估模块重复，请使用已有功能"})).await;
        let url = mine["status_url"].as_str().unwrap();
        let anon = app.anonymous();
        let (s, json_status) = app.get(&anon, &format!("/api/v1{url}")).await;
        assert_eq!(s, StatusCode::OK);
        let keys: Vec<&str> = json_status.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(keys.len(), 6, "{json_status}");
        for k in ["text", "decision", "reason", "planned_release", "created_at", "decided_at"] {
            assert!(keys.contains(&k), "{k}");
        }
        assert_eq!(json_status["decision"], "declined");
        assert_eq!(json_status["reason"], "与护理评估模块重复，请使用已有功能");
        let res = anon.get(app.url(url)).header("accept", "application/json").send().await.unwrap();
        assert_eq!(res.json::<Value>().await.unwrap(), json_status, "the same link answers JSON");
        let (s, html) = page(&anon, app.url(url)).await;
        assert_eq!(s, StatusCode::OK);
        assert!(html.contains("体温单支持自定义显示项") && html.contains("与护理评估模块重复"));
        for secret in ["另一家医院的秘密需求", "华西第一人民医院", "li@hospital.cn", "李护士长", "admin@localhost", "/requests"] {
            assert!(!html.contains(secret), "the status page shows {secret}");
        }
        assert!(!html.contains(theirs["status_url"].as_str().unwrap()));
        let (s, _) = page(&anon, app.url("/status/r/0000000000000000000000000000000000000000000000000000000000000000")).await;
        assert_eq!(s, StatusCode::NOT_FOUND);
        let (s, _) = app.get(&anon, "/api/v1/status/r/nope").await;
        assert_eq!(s, StatusCode::NOT_FOUND);
    }

    the_intake_link_takes_requests_without_an_account(app) {
        let ids = app.catalogue().await;
        let sales = app.token_for(app.ws, Role::Sales).await;
        let (s, _) = app.get(&sales, "/api/v1/intake-link").await;
        assert_eq!(s, StatusCode::FORBIDDEN, "only product hands out the link");
        let (s, link) = app.get(&app.admin, "/api/v1/intake-link").await;
        assert_eq!(s, StatusCode::OK, "{link}");
        let api_url = link["api_url"].as_str().unwrap().to_string();
        let anon = app.anonymous();
        let (s, receipt) = app.post(&anon, &api_url, json!({
            "text": "希望移动护理 PDA 能离线录入体征", "requester": "王护士", "organization": "华西第一人民医院"
        })).await;
        assert_eq!(s, StatusCode::CREATED, "{receipt}");
        assert_eq!(receipt["decision"], "new");
        let status_url = receipt["status_url"].as_str().unwrap();
        assert_eq!(app.get(&anon, &format!("/api/v1{status_url}")).await.0, StatusCode::OK);
        let (_, filed) = app.get(&app.admin, "/api/v1/requests?source_role=customer").await;
        assert_eq!(filed[0]["customer_id"], ids.customer, "a known hospital is linked");
        assert_eq!(filed[0]["via"], "intake");

        let (s, e) = app.post(&anon, &api_url, json!({"text": "正常的需求文字", "website": "http://spam"})).await;
        assert_eq!((s, error_code(&e)), (StatusCode::UNPROCESSABLE_ENTITY, "rejected"), "honeypot");
        let (s, _) = app.post(&anon, &api_url, json!({"text": "buy http://a.cn http://b.cn http://c.cn"})).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "link stuffing");
        let (s, _) = app.post(&anon, &api_url, json!({"text": "好"})).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "too short");
        assert_eq!(count_requests(&app).await, 1);
        // Five posts per address in a burst: the first and three refusals used four.
        let (s, _) = app.post(&anon, &api_url, json!({"text": "第二条需求：排班导出"})).await;
        assert_eq!(s, StatusCode::CREATED);
        let res = anon.post(app.url(&api_url)).json(&json!({"text": "第三条需求：排班导出"})).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
        assert!(res.headers().contains_key("retry-after"));
        let e: Value = res.json().await.unwrap();
        assert_eq!(error_code(&e), "rate_limited");
        assert!(e["error"]["message"].as_str().unwrap().contains("try again"));
        assert_eq!(count_requests(&app).await, 2);

        let (_, rotated) = app.post(&app.admin, "/api/v1/intake-link/rotate", json!({})).await;
        assert_ne!(rotated["token"], link["token"]);
        let (s, _) = app.post(&anon, &api_url, json!({"text": "旧链接已失效"})).await;
        assert_eq!(s, StatusCode::NOT_FOUND, "the old link stops working");
        let (s, form) = page(&anon, app.url(rotated["form_url"].as_str().unwrap())).await;
        assert_eq!(s, StatusCode::OK);
        assert!(form.contains("name=\"website\""), "the form has the honeypot");
        assert!(!form.contains("华西第一人民医院"), "the public form lists no customer");
        // The HTML form files too and hands back the status link. Limits are per address: another
        // address may post, the one that used its burst gets a clear refusal.
        let form_url = rotated["form_url"].as_str().unwrap();
        let elsewhere = reqwest::Client::builder()
            .local_address("127.0.0.2".parse::<std::net::IpAddr>().unwrap())
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none()).build().unwrap();
        // The form carries its pre-session token, as the login form does.
        let csrf = common::field(&page(&elsewhere, app.url(form_url)).await.1, "csrf");
        let res = elsewhere.post(app.url(form_url)).header("accept-language", "en").form(&[("text", "Print lab and exam request forms together"), ("requester", "Dr. Li"), ("website", ""), ("csrf", &csrf)]).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::CREATED);
        let receipt = res.text().await.unwrap();
        let link = receipt.split("href=\"/status/r/").nth(1).and_then(|r| r.split('"').next()).expect("a status link in the receipt");
        let (s, status) = page(&anon, app.url(&format!("/status/r/{link}"))).await;
        assert_eq!(s, StatusCode::OK);
        assert!(status.contains("Print lab and exam request forms together"));
        let res = elsewhere.post(app.url(form_url)).header("accept-language", "en").form(&[("text", "Without its token"), ("website", "")]).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "a post without the form's token (another site's page)");
        let here = common::browser();
        let csrf = common::field(&page(&here, app.url(form_url)).await.1, "csrf");
        let res = here.post(app.url(form_url)).header("accept-language", "en").form(&[("text", "One more request from here"), ("csrf", &csrf)]).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
        let body = res.text().await.unwrap();
        assert!(body.contains("Too many submissions") && body.contains("One more request from here"), "the text typed is kept");
    }

    the_inbox_and_the_request_form(app) {
        let ids = app.catalogue().await;
        let c = &app.admin;
        let (s, form) = page(c, app.url("/requests/new")).await;
        assert_eq!(s, StatusCode::OK);
        assert!(form.contains("华西第一人民医院"));
        let res = c.post(app.url("/requests")).form(&[
            ("text", "病案首页质控规则可由病案科自行配置"), ("source_role", "implementation"),
            ("customer_id", &ids.customer.to_string()), ("requester", "赵工(实施)"),
        ]).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let to = res.headers()["location"].to_str().unwrap().to_string();
        assert!(to.starts_with("/requests?id="), "{to}");
        let (s, inbox) = page(c, app.url(&to)).await;
        assert_eq!(s, StatusCode::OK);
        assert!(inbox.contains("病案首页质控规则可由病案科自行配置") && inbox.contains("id=\"decision-form\""));
        assert!(inbox.contains("/intake/"), "the intake link is on the inbox for product");
        let res = c.post(app.url("/requests")).form(&[("text", ""), ("source_role", "customer")]).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        // Similar before filing.
        let (_, preview) = page(c, app.url("/requests/new?text=%E7%97%85%E6%A1%88%E9%A6%96%E9%A1%B5%E8%B4%A8%E6%8E%A7%E8%A7%84%E5%88%99%E7%94%B1%E7%97%85%E6%A1%88%E7%A7%91%E9%85%8D%E7%BD%AE")).await;
        assert!(preview.contains("id=\"similar\"") && preview.contains("病案首页质控规则可由病案科自行配置"), "{preview}");

        let id = to.trim_start_matches("/requests?id=").to_string();
        let res = c.post(app.url(&format!("/requests/{id}/decision"))).form(&[("decision", "declined"), ("reason", "")]).send().await.unwrap();
        let back = res.headers()["location"].to_str().unwrap().to_string();
        assert!(!back.contains("error="), "no message in the address: {back}");
        let flash = res.headers().get_all("set-cookie").iter().any(|v| v.to_str().unwrap().starts_with("flash="));
        assert!(flash, "the refusal travels in a one-time cookie");
        let (_, shown) = page(c, app.url(&back)).await;
        assert!(shown.contains("reason"), "the refusal is shown on the inbox");
        let res = c.post(app.url(&format!("/requests/{id}/decision"))).form(&[("decision", "accepted"), ("feature_id", &ids.feature.to_string()), ("reason", ""), ("planned_release", "v5.3")]).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let (_, r) = app.get(c, &format!("/api/v1/requests/{id}")).await;
        assert_eq!(r["decision"], "accepted");
        assert_eq!(r["feature_id"], ids.feature);

        let (_, filtered) = page(c, app.url("/requests?decision=declined")).await;
        assert!(!filtered.contains("病案首页质控规则可由病案科自行配置"));
        let (_, searched) = page(c, app.url("/requests?q=%E8%B4%A8%E6%8E%A7")).await;
        assert!(searched.contains("病案首页质控规则可由病案科自行配置"));

        // A viewer reads the inbox but cannot file or decide.
        app.token_for(app.ws, Role::Viewer).await;
        let viewer_email = app.store.list_users(app.ws).await.unwrap().into_iter().find(|u| u.role == Role::Viewer).unwrap().email;
        let viewer = common::TestApp::login(&app.base, &viewer_email, "password-1").await;
        assert_eq!(page(&viewer, app.url("/requests")).await.0, StatusCode::OK);
        assert_eq!(page(&viewer, app.url("/requests/new")).await.0, StatusCode::FORBIDDEN);
        let res = viewer.post(app.url(&format!("/requests/{id}/decision"))).form(&[("decision", "deferred")]).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::FORBIDDEN);
        let (_, still) = app.get(c, &format!("/api/v1/requests/{id}")).await;
        assert_eq!(still["decision"], "accepted");
        let (_, en) = page(c, app.url("/requests")).await;
        assert!(en.contains("需求"));
    }
}
