//! The JSON API, end to end, on SQLite and PostgreSQL.

mod common;

use cunjin_core::Role;
use reqwest::StatusCode;
use serde_json::{json, Value};

fn error_code(v: &Value) -> &str {
    v["error"]["code"]
        .as_str()
        .unwrap_or_else(|| panic!("no error shape in {v}"))
}

on_both_engines! {
    a_promise_closes_inch_by_inch(app) {
        let ids = app.catalogue().await;
        let c = &app.admin;
        let (s, commitment) = app
            .post(c, "/api/v1/commitments", json!({
                "customer_id": ids.customer, "deal_id": ids.deal, "feature_id": ids.feature,
                "shown_as": "slides", "promised_by": "张伟(售前)", "critical": true,
                "criteria": ["模板可由科室自行维护", "三级质控提示"]
            }))
            .await;
        assert_eq!(s, StatusCode::CREATED, "{commitment}");
        assert_eq!(commitment["status"], "open");
        assert_eq!(commitment["due_date"], "2027-03-31", "defaults to the deal's acceptance date");
        assert_eq!(commitment["gap"], json!({"chi": 3, "cun": 3}));
        let id = commitment["id"].as_i64().unwrap();

        let (_, gap) = app.get(c, "/api/v1/gap").await;
        assert_eq!((gap["chi"].as_u64(), gap["cun"].as_u64()), (Some(3), Some(3)));
        assert_eq!(gap["customers"][0]["name"], "华西第一人民医院");
        assert_eq!(gap["customers"][0]["pilot"], true);

        let (s, f) = app.patch(c, &format!("/api/v1/features/{}", ids.feature), json!({"stage": "released"})).await;
        assert_eq!(s, StatusCode::OK, "{f}");
        let (s, after) = app.post(c, &format!("/api/v1/commitments/{id}/transition"), json!({"to": "delivered"})).await;
        assert_eq!(s, StatusCode::OK, "{after}");
        let first = after["criteria"][0]["id"].as_i64().unwrap();
        let (s, after) = app.post(c, &format!("/api/v1/commitments/{id}/criteria/{first}"), json!({"met": true})).await;
        assert_eq!(s, StatusCode::OK, "{after}");
        assert_eq!(after["criteria"][0]["met"], true);
        assert_eq!(after["criteria"][0]["met_by"], "admin@localhost");
        let (_, g) = app.get(c, &format!("/api/v1/customers/{}/gap", ids.customer)).await;
        assert_eq!((g["chi"].as_u64(), g["cun"].as_u64()), (Some(0), Some(1)), "the example of DESIGN.md");

        let (s, e) = app.post(c, &format!("/api/v1/commitments/{id}/transition"), json!({"to": "accepted"})).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(error_code(&e), "invalid_transition");
        assert!(e["error"]["message"].as_str().unwrap().contains("criteria"), "{e}");

        let (_, trail) = app.get(c, &format!("/api/v1/commitments/{id}/audit")).await;
        let trail = trail.as_array().unwrap();
        assert_eq!(trail.len(), 3, "create, delivered, criterion met: {trail:?}");
        assert_eq!(trail[1]["action"], "transition");
        assert_eq!(trail[1]["actor"], "admin@localhost");
        assert_eq!(trail[1]["before"]["status"], "open");
        assert_eq!(trail[1]["after"]["status"], "delivered");
        assert!(trail[1]["at"].as_str().unwrap().starts_with("20"));
    }

    criteria_are_capped_and_the_trail_keeps_only_the_change(app) {
        let ids = app.catalogue().await;
        let c = &app.admin;
        let long = |i: usize| format!("{i}: {}", "验收时逐条核对：门诊处方流转、住院医嘱闭环、检验结果回传均可追溯。".repeat(40));
        let too_many: Vec<String> = (0..=100).map(long).collect();
        let before = app.footprint().await;
        let (s, e) = app.post(c, "/api/v1/commitments", json!({
            "customer_id": ids.customer, "feature_title": "一条带太多验收标准的承诺", "criteria": too_many
        })).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
        let m = e["error"]["message"].as_str().unwrap();
        assert!(m.contains("at most 100") && m.contains("最多 100"), "{m}");
        assert_eq!(app.footprint().await, before, "nothing written, not even the idea");

        let (s, made) = app.post(c, "/api/v1/commitments", json!({
            "customer_id": ids.customer, "feature_id": ids.feature, "criteria": (0..99).map(long).collect::<Vec<_>>()
        })).await;
        assert_eq!(s, StatusCode::CREATED, "99 criteria are accepted");
        let id = made["id"].as_i64().unwrap();
        let criteria_path = format!("/api/v1/commitments/{id}/criteria");
        let add = |text: String| app.post(c, &criteria_path, json!({"text": text}));
        let (s, full) = add(long(99)).await;
        assert_eq!(s, StatusCode::CREATED, "the 100th criterion is added");
        assert_eq!(full["criteria"].as_array().unwrap().len(), 100);
        let (s, e) = add("再加一条".into()).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
        assert!(e["error"]["message"].as_str().unwrap().contains("101"), "{e}");

        // The addition's entry holds the one new criterion, not two copies of the commitment.
        let (_, trail) = app.get(c, &format!("/api/v1/commitments/{id}/audit")).await;
        let trail = trail.as_array().unwrap();
        assert_eq!(trail.len(), 2, "create, one criterion; the refused one left no trace");
        let entry = &trail[1];
        assert_eq!(entry["action"], "criterion");
        assert_eq!(entry["before"]["criteria"], json!([]));
        let added = entry["after"]["criteria"].as_array().unwrap();
        assert_eq!(added.len(), 1);
        assert!(added[0]["text"].as_str().unwrap().starts_with("99: "));
        let whole = serde_json::to_string(&full).unwrap().len();
        let kept = serde_json::to_string(entry).unwrap().len();
        assert!(kept * 50 < whole, "the commitment is {whole} bytes, its entry {kept} (one criterion)");
        // Marking one met records that criterion alone, before and after.
        let k = full["criteria"][5]["id"].as_i64().unwrap();
        let (s, _) = app.post(c, &format!("/api/v1/commitments/{id}/criteria/{k}"), json!({"met": true})).await;
        assert_eq!(s, StatusCode::OK);
        let (_, trail) = app.get(c, &format!("/api/v1/commitments/{id}/audit")).await;
        let last = trail.as_array().unwrap().last().unwrap();
        assert_eq!(last["before"]["criteria"].as_array().unwrap().len(), 1);
        assert_eq!(last["before"]["criteria"][0]["met"], false);
        assert_eq!(last["after"]["criteria"][0]["met"], true);
        assert_eq!(last["after"]["criteria"][0]["id"], k);
    }

    a_free_text_promise_becomes_an_idea(app) {
        let ids = app.catalogue().await;
        let (s, c) = app
            .post(&app.admin, "/api/v1/commitments", json!({
                "customer_id": ids.customer, "feature_title": "这个肯定没问题：与省医保平台实时对接"
            }))
            .await;
        assert_eq!(s, StatusCode::CREATED, "{c}");
        assert_eq!(c["shown_as"], "promise");
        assert_eq!(c["stage"], "idea");
        assert_eq!(c["gap"], json!({"chi": 4, "cun": 1}));
        let (_, ideas) = app.get(&app.admin, "/api/v1/features?stage=idea").await;
        let ideas = ideas.as_array().unwrap();
        assert_eq!(ideas.len(), 1);
        assert_eq!(ideas[0]["id"], c["feature_id"]);
        assert_eq!(ideas[0]["title"], "这个肯定没问题：与省医保平台实时对接");
    }

    waiving_needs_a_reason(app) {
        let ids = app.catalogue().await;
        let (_, c) = app.post(&app.admin, "/api/v1/commitments", json!({"customer_id": ids.customer, "feature_id": ids.feature})).await;
        let path = format!("/api/v1/commitments/{}/transition", c["id"]);
        let (s, e) = app.post(&app.admin, &path, json!({"to": "waived"})).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(e["error"]["message"].as_str().unwrap().contains("reason"), "{e}");
        let (s, w) = app.post(&app.admin, &path, json!({"to": "waived", "reason": "客户同意改为二期建设"})).await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(w["status"], "waived");
        assert_eq!(w["gap"], json!({"chi": 0, "cun": 0}));
        let (_, trail) = app.get(&app.admin, &format!("/api/v1/commitments/{}/audit", c["id"])).await;
        assert_eq!(trail[1]["reason"], "客户同意改为二期建设");
    }

    bad_input_gets_a_clear_4xx_and_writes_nothing(app) {
        let ids = app.catalogue().await;
        // Delivering what is not built yet.
        let (_, c) = app.post(&app.admin, "/api/v1/commitments", json!({"customer_id": ids.customer, "feature_id": ids.feature})).await;
        let (s, e) = app.post(&app.admin, &format!("/api/v1/commitments/{}/transition", c["id"]), json!({"to": "delivered"})).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(error_code(&e), "invalid_transition");
        assert!(e["error"]["message"].as_str().unwrap().contains("built or released"), "{e}");
        let (_, trail) = app.get(&app.admin, &format!("/api/v1/commitments/{}/audit", c["id"])).await;
        assert_eq!(trail.as_array().unwrap().len(), 1, "the refused step left no trace");
        let before = app.footprint().await;
        let c = &app.admin;
        // Bad JSON.
        let res = c.post(app.url("/api/v1/commitments")).header("content-type", "application/json")
            .body("{\"customer_id\": 1,").send().await.unwrap();
        assert_eq!(res.status(), StatusCode::BAD_REQUEST);
        assert_eq!(error_code(&res.json().await.unwrap()), "bad_json");
        // Not JSON at all.
        let res = c.post(app.url("/api/v1/products")).body("name=x").send().await.unwrap();
        assert_eq!(res.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
        assert_eq!(error_code(&res.json().await.unwrap()), "unsupported_media_type");
        // Missing field, wrong type, unknown field, bad enum, bad date.
        for (path, body) in [
            ("/api/v1/commitments", json!({"feature_id": ids.feature})),
            ("/api/v1/commitments", json!({"customer_id": "one", "feature_id": ids.feature})),
            ("/api/v1/commitments", json!({"customer_id": ids.customer, "feature_id": ids.feature, "critcal": true})),
            ("/api/v1/commitments", json!({"customer_id": ids.customer, "feature_id": ids.feature, "shown_as": "ppt"})),
            ("/api/v1/commitments", json!({"customer_id": ids.customer, "feature_id": ids.feature, "due_date": "31/03/2027"})),
            ("/api/v1/commitments", json!({"customer_id": ids.customer})),
            ("/api/v1/commitments", json!({"customer_id": ids.customer, "feature_id": ids.feature, "feature_title": "x"})),
            ("/api/v1/commitments", json!({"customer_id": ids.customer, "feature_id": ids.feature, "status": "accepted"})),
            ("/api/v1/features", json!({"product_id": ids.product, "menu_path": "a//b"})),
            ("/api/v1/features", json!({"product_id": ids.product, "menu_path": "a/b", "stage": "shipped"})),
            ("/api/v1/features", json!({"product_id": ids.product, "menu_path": "a/b", "effort_days": -3})),
            ("/api/v1/features", json!({"product_id": ids.product, "menu_path": "a/b", "slide_url": "javascript:alert(1)"})),
            ("/api/v1/deals", json!({"customer_id": ids.customer, "name": "x", "contract_value": -1})),
            ("/api/v1/customers", json!({"name": "  "})),
        ] {
            let (s, e) = app.post(c, path, body.clone()).await;
            assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{path} {body} → {e}");
            assert_eq!(error_code(&e), "invalid", "{body}");
            assert!(!e["error"]["message"].as_str().unwrap().is_empty());
        }
        // Unknown ids.
        for (path, body) in [
            ("/api/v1/commitments", json!({"customer_id": 999_999, "feature_id": ids.feature})),
            ("/api/v1/commitments", json!({"customer_id": ids.customer, "feature_id": 999_999})),
            ("/api/v1/commitments", json!({"customer_id": ids.customer, "deal_id": 999_999, "feature_id": ids.feature})),
            ("/api/v1/features", json!({"product_id": 999_999, "menu_path": "a/b"})),
            ("/api/v1/commitments/999999/transition", json!({"to": "delivered"})),
            ("/api/v1/commitments/999999/criteria/1", json!({"met": true})),
        ] {
            let (s, e) = app.post(c, path, body.clone()).await;
            assert_eq!(s, StatusCode::NOT_FOUND, "{path} {body} → {e}");
            assert_eq!(error_code(&e), "not_found");
        }
        let (s, e) = app.get(c, "/api/v1/customers/abc").await;
        assert_eq!(s, StatusCode::BAD_REQUEST);
        assert_eq!(error_code(&e), "bad_path");
        let (s, e) = app.get(c, "/api/v1/no-such-thing").await;
        assert_eq!(s, StatusCode::NOT_FOUND);
        assert_eq!(error_code(&e), "not_found");
        // Oversized body.
        let big = "很".repeat(600_000);
        let (s, e) = app.post(c, "/api/v1/customers", json!({"name": big})).await;
        assert_eq!(s, StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(error_code(&e), "payload_too_large");
        // A method the address does not take.
        let res = c.delete(app.url("/api/v1/products")).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(error_code(&res.json().await.unwrap()), "method_not_allowed");
        // A token body of the wrong shape.
        let (s, e) = app.post(c, "/api/v1/tokens", json!({"name": 5})).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
        // Duplicate name.
        let (s, e) = app.post(c, "/api/v1/customers", json!({"name": "华西第一人民医院"})).await;
        assert_eq!(s, StatusCode::CONFLICT);
        assert_eq!(error_code(&e), "conflict");
        assert_eq!(app.footprint().await, before, "nothing was written");
    }

    every_documented_operation_wants_credentials(app) {
        let (_, doc) = app.get(&app.anonymous(), "/api/v1/openapi.json").await;
        let anon = app.anonymous();
        let mut checked = 0;
        for (path, ops) in doc["paths"].as_object().unwrap() {
            let concrete = path.split('/').map(|seg| if seg.starts_with('{') { "1" } else { seg }).collect::<Vec<_>>().join("/");
            for (method, op) in ops.as_object().unwrap() {
                if op.get("security").is_none() {
                    // Documented as public: only login, logout, status links and the intake link.
                    assert!(
                        ["/api/v1/auth/", "/api/v1/status/", "/api/v1/intake/"].iter().any(|p| path.starts_with(p)),
                        "{method} {path} is documented without credentials"
                    );
                    continue;
                }
                let m = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
                let res = anon.request(m, app.url(&concrete)).json(&json!({})).send().await.unwrap();
                assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{method} {path}");
                checked += 1;
            }
        }
        assert!(checked >= 25, "only {checked} operations documented");
    }

    every_endpoint_wants_credentials(app) {
        let ids = app.catalogue().await;
        let anon = app.anonymous();
        let gets = [
            "/api/v1/me".to_string(), "/api/v1/products".into(), "/api/v1/features".into(),
            format!("/api/v1/features/{}", ids.feature), "/api/v1/customers".into(),
            format!("/api/v1/customers/{}", ids.customer), format!("/api/v1/customers/{}/gap", ids.customer),
            "/api/v1/deals".into(), format!("/api/v1/deals/{}", ids.deal), "/api/v1/commitments".into(),
            "/api/v1/gap".into(), "/api/v1/roadmap".into(), "/api/v1/users".into(),
        ];
        for path in &gets {
            let (s, e) = app.get(&anon, path).await;
            assert_eq!(s, StatusCode::UNAUTHORIZED, "{path}");
            assert_eq!(error_code(&e), "unauthorized");
        }
        for path in ["/api/v1/products", "/api/v1/features", "/api/v1/customers", "/api/v1/deals",
                     "/api/v1/commitments", "/api/v1/tokens", "/api/v1/users", "/api/v1/commitments/1/transition"] {
            let (s, _) = app.post(&anon, path, json!({})).await;
            assert_eq!(s, StatusCode::UNAUTHORIZED, "{path}");
        }
        let bogus = reqwest::Client::new();
        let res = bogus.get(app.url("/api/v1/gap")).bearer_auth("cj_0000").send().await.unwrap();
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
        let res = bogus.get(app.url("/api/v1/gap")).header("cookie", "cunjin_session=forged").send().await.unwrap();
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
        // The OpenAPI document and the health check are public.
        assert_eq!(anon.get(app.url("/api/v1/openapi.json")).send().await.unwrap().status(), StatusCode::OK);
        assert_eq!(anon.get(app.url("/healthz")).send().await.unwrap().status(), StatusCode::OK);
    }

    roles_are_enforced(app) {
        let ids = app.catalogue().await;
        let viewer = app.token_for(app.ws, Role::Viewer).await;
        let before = app.footprint().await;
        for path in ["/api/v1/products", "/api/v1/gap", "/api/v1/roadmap", "/api/v1/commitments", "/api/v1/me"] {
            assert_eq!(app.get(&viewer, path).await.0, StatusCode::OK, "a viewer reads {path}");
        }
        for (path, body) in [
            ("/api/v1/products", json!({"name": "x"})),
            ("/api/v1/features", json!({"product_id": ids.product, "menu_path": "a/b"})),
            ("/api/v1/customers", json!({"name": "x"})),
            ("/api/v1/deals", json!({"customer_id": ids.customer, "name": "x"})),
            ("/api/v1/commitments", json!({"customer_id": ids.customer, "feature_id": ids.feature})),
            ("/api/v1/users", json!({"email": "a@b.c", "role": "admin", "password": "sales-pass-1"})),
        ] {
            let (s, e) = app.post(&viewer, path, body).await;
            assert_eq!(s, StatusCode::FORBIDDEN, "a viewer writes {path}");
            assert_eq!(error_code(&e), "forbidden");
        }
        let (s, _) = app.patch(&viewer, &format!("/api/v1/features/{}", ids.feature), json!({"stage": "built"})).await;
        assert_eq!(s, StatusCode::FORBIDDEN);
        assert_eq!(app.footprint().await, before, "a viewer wrote nothing");
        // Moving commitments: only admin, pm, presales and implementation.
        let (_, c) = app.post(&app.admin, "/api/v1/commitments", json!({"customer_id": ids.customer, "feature_id": ids.feature, "criteria": ["x"]})).await;
        let k = c["criteria"][0]["id"].clone();
        for role in [Role::Viewer, Role::Rnd, Role::Sales, Role::Leader] {
            let client = app.token_for(app.ws, role).await;
            let (s, _) = app.post(&client, &format!("/api/v1/commitments/{}/transition", c["id"]), json!({"to": "waived", "reason": "x"})).await;
            assert_eq!(s, StatusCode::FORBIDDEN, "{role} transitions");
            let (s, _) = app.post(&client, &format!("/api/v1/commitments/{}/criteria/{k}", c["id"]), json!({"met": true})).await;
            assert_eq!(s, StatusCode::FORBIDDEN, "{role} marks criteria");
        }
        let (_, still) = app.get(&app.admin, &format!("/api/v1/commitments/{}", c["id"])).await;
        assert_eq!((still["status"].as_str(), still["criteria"][0]["met"].as_bool()), (Some("open"), Some(false)));
        let implementation = app.token_for(app.ws, Role::Implementation).await;
        let (s, _) = app.post(&implementation, &format!("/api/v1/commitments/{}/criteria/{k}", c["id"]), json!({"met": true})).await;
        assert_eq!(s, StatusCode::OK);

        let rnd = app.token_for(app.ws, Role::Rnd).await;
        assert_eq!(app.post(&rnd, "/api/v1/features", json!({"product_id": ids.product, "menu_path": "检验/危急值"})).await.0, StatusCode::CREATED);
        assert_eq!(app.post(&rnd, "/api/v1/commitments", json!({"customer_id": ids.customer, "feature_id": ids.feature})).await.0, StatusCode::FORBIDDEN);

        let presales = app.token_for(app.ws, Role::Presales).await;
        let (s, c) = app.post(&presales, "/api/v1/commitments", json!({"customer_id": ids.customer, "feature_id": ids.feature})).await;
        assert_eq!(s, StatusCode::CREATED);
        assert!(c["promised_by"].as_str().unwrap().starts_with("presales-"), "the caller by default: {c}");
        assert_eq!(app.post(&presales, "/api/v1/products", json!({"name": "y"})).await.0, StatusCode::FORBIDDEN);

        let pm = app.token_for(app.ws, Role::Pm).await;
        assert_eq!(app.post(&pm, "/api/v1/users", json!({"email": "x@y.z", "role": "pm", "password": "sales-pass-1"})).await.0, StatusCode::FORBIDDEN);
        let (s, u) = app.post(&app.admin, "/api/v1/users", json!({"email": "Li.Na@Hospital.cn", "role": "sales", "password": "sales-pass-1"})).await;
        assert_eq!(s, StatusCode::CREATED, "{u}");
        assert_eq!(u["email"], "li.na@hospital.cn");
        assert!(u.get("password").is_none() && u.get("password_hash").is_none(), "secrets are never echoed");
    }

    workspaces_are_isolated(app) {
        let ids = app.catalogue().await;
        let other_ws = app.store.create_workspace("另一家厂商").await.unwrap().id;
        let other = app.token_for(other_ws, Role::Admin).await;
        for path in [
            format!("/api/v1/customers/{}", ids.customer),
            format!("/api/v1/customers/{}/gap", ids.customer),
            format!("/api/v1/features/{}", ids.feature),
            format!("/api/v1/deals/{}", ids.deal),
        ] {
            let (s, _) = app.get(&other, &path).await;
            assert_eq!(s, StatusCode::NOT_FOUND, "{path} from another workspace");
        }
        let (_, list) = app.get(&other, "/api/v1/customers").await;
        assert_eq!(list, json!([]));
        let (_, gap) = app.get(&other, "/api/v1/gap").await;
        assert_eq!(gap["customers"], json!([]));
        let (s, _) = app.post(&other, "/api/v1/commitments", json!({"customer_id": ids.customer, "feature_id": ids.feature})).await;
        assert_eq!(s, StatusCode::NOT_FOUND);
        let (s, _) = app.patch(&other, &format!("/api/v1/features/{}", ids.feature), json!({"stage": "released"})).await;
        assert_eq!(s, StatusCode::NOT_FOUND);
        let (_, f) = app.get(&app.admin, &format!("/api/v1/features/{}", ids.feature)).await;
        assert_eq!(f["stage"], "designed", "untouched");
        let (_, c) = app.post(&app.admin, "/api/v1/commitments", json!({"customer_id": ids.customer, "feature_id": ids.feature, "criteria": ["x"]})).await;
        let id = &c["id"];
        let k = &c["criteria"][0]["id"];
        assert_eq!(app.get(&other, &format!("/api/v1/commitments/{id}")).await.0, StatusCode::NOT_FOUND);
        assert_eq!(app.get(&other, &format!("/api/v1/commitments/{id}/audit")).await.0, StatusCode::NOT_FOUND);
        assert_eq!(app.post(&other, &format!("/api/v1/commitments/{id}/transition"), json!({"to": "waived", "reason": "x"})).await.0, StatusCode::NOT_FOUND);
        assert_eq!(app.post(&other, &format!("/api/v1/commitments/{id}/criteria/{k}"), json!({"met": true})).await.0, StatusCode::NOT_FOUND);
        assert_eq!(app.post(&other, &format!("/api/v1/commitments/{id}/criteria"), json!({"text": "x"})).await.0, StatusCode::NOT_FOUND);
        let (_, list) = app.get(&other, "/api/v1/commitments").await;
        assert_eq!(list, json!([]));
        let (_, c) = app.get(&app.admin, &format!("/api/v1/commitments/{id}")).await;
        assert_eq!((c["status"].as_str(), c["criteria"].as_array().unwrap().len()), (Some("open"), 1));
    }

    guessing_passwords_is_slowed_down(app) {
        let client = reqwest::Client::new();
        let attempt = |password: &'static str| {
            client.post(app.url("/api/v1/auth/login")).json(&json!({"email": "Admin@localhost", "password": password})).send()
        };
        // A few wrong passwords from one client are free, then the client waits, longer each
        // time; an attempt during the wait is refused without checking the password.
        for _ in 0..5 {
            assert_eq!(attempt("wrong-password").await.unwrap().status(), StatusCode::UNAUTHORIZED);
        }
        let res = attempt("wrong-password").await.unwrap();
        assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
        let wait: u64 = res.headers()["retry-after"].to_str().unwrap().parse().unwrap();
        assert!((25..=30).contains(&wait), "{wait}");
        assert_eq!(error_code(&res.json().await.unwrap()), "too_many_attempts");
        // This client waits even with the right password (it could be a guesser who got lucky).
        assert_eq!(attempt(common::ADMIN_PASSWORD).await.unwrap().status(), StatusCode::TOO_MANY_REQUESTS);
        // The web form says so in the person's language.
        let page = reqwest::Client::builder().cookie_store(true).build().unwrap();
        let form = page.get(app.url("/login")).send().await.unwrap().text().await.unwrap();
        let res = page.post(app.url("/login")).header("accept-language", "zh-CN")
            .form(&[("email", "admin@localhost"), ("password", "x"), ("csrf", &common::field(&form, "csrf"))]).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
        assert!(res.headers().contains_key("retry-after"));
        assert!(res.text().await.unwrap().contains("登录尝试次数过多"));
        // Somebody else is not locked out by it.
        app.store.create_user(cunjin_store::access::auth::NewUser {
            workspace_id: app.ws, email: cunjin_core::Email::parse("li@x.cn").unwrap(), name: "", role: Role::Pm, password: "password-1",
        }).await.unwrap();
        let res = client.post(app.url("/api/v1/auth/login")).json(&json!({"email": "li@x.cn", "password": "password-1"})).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
    }

    pages_carry_security_headers(app) {
        let res = app.anonymous().get(app.url("/login")).send().await.unwrap();
        let h = res.headers();
        let csp = h["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("default-src 'self'") && csp.contains("frame-ancestors 'none'"), "{csp}");
        assert_eq!(h["x-content-type-options"], "nosniff");
        assert_eq!(h["x-frame-options"], "DENY");
        let res = app.anonymous().get(app.url("/api/v1/gap")).send().await.unwrap();
        assert_eq!(res.headers()["x-content-type-options"], "nosniff");
    }

    tokens_act_as_their_user(app) {
        let (s, t) = app.post(&app.admin, "/api/v1/tokens", json!({"name": "nightly gap"})).await;
        assert_eq!(s, StatusCode::CREATED);
        let token = t["token"].as_str().unwrap();
        let client = reqwest::Client::new();
        let me: Value = client.get(app.url("/api/v1/me")).bearer_auth(token).send().await.unwrap().json().await.unwrap();
        assert_eq!(me["email"], "admin@localhost");
        assert_eq!(me["role"], "admin");
        // An empty body works too.
        let res = app.admin.post(app.url("/api/v1/tokens")).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::CREATED);
    }

    login_sets_a_safe_cookie_and_logout_ends_it(app) {
        let client = reqwest::Client::new();
        let res = client.post(app.url("/api/v1/auth/login"))
            .json(&json!({"email": "admin@localhost", "password": "wrong-password"})).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(error_code(&res.json().await.unwrap()), "bad_credentials");
        let res = client.post(app.url("/api/v1/auth/login"))
            .json(&json!({"email": "admin@localhost", "password": common::ADMIN_PASSWORD})).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        let cookie = res.headers().get("set-cookie").unwrap().to_str().unwrap().to_string();
        assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"), "{cookie}");
        let pair = cookie.split(';').next().unwrap().to_string();
        let csrf = res.headers()["x-csrf-token"].to_str().unwrap().to_string();
        assert_eq!(csrf.len(), 64, "the anti-forgery token comes with the login");
        assert!(!cookie.contains(&csrf), "the token is not the cookie");
        let me = client.get(app.url("/api/v1/me")).header("cookie", &pair).send().await.unwrap();
        assert_eq!(me.status(), StatusCode::OK);
        // A write with this cookie from another site's page is refused.
        let res = client.post(app.url("/api/v1/customers")).header("cookie", &pair)
            .header("origin", "https://evil.example").json(&json!({"name": "x"})).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::FORBIDDEN);
        // A logout with the cookie but without the session's token is refused and ends nothing.
        let res = client.post(app.url("/api/v1/auth/logout")).header("cookie", &pair).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::FORBIDDEN);
        assert_eq!(error_code(&res.json().await.unwrap()), "csrf");
        let me = client.get(app.url("/api/v1/me")).header("cookie", &pair).send().await.unwrap();
        assert_eq!(me.status(), StatusCode::OK);
        let res = client.post(app.url("/api/v1/auth/logout")).header("cookie", &pair).header("x-csrf-token", &csrf).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::NO_CONTENT);
        let me = client.get(app.url("/api/v1/me")).header("cookie", &pair).send().await.unwrap();
        assert_eq!(me.status(), StatusCode::UNAUTHORIZED);
    }

    roadmap_is_ranked_and_explained(app) {
        let ids = app.catalogue().await;
        let (_, quick) = app.post(&app.admin, "/api/v1/features", json!({"product_id": ids.product, "menu_path": "门诊/排班", "stage": "stubbed", "effort_days": 1})).await;
        app.post(&app.admin, "/api/v1/commitments", json!({"customer_id": ids.customer, "deal_id": ids.deal, "feature_id": ids.feature, "critical": true})).await;
        app.post(&app.admin, "/api/v1/commitments", json!({"customer_id": ids.customer, "deal_id": ids.deal, "feature_id": quick["id"]})).await;
        let (s, r) = app.get(&app.admin, "/api/v1/roadmap?as_of=2026-11-24").await;
        assert_eq!(s, StatusCode::OK);
        let r = r.as_array().unwrap();
        assert_eq!(r.len(), 2);
        // 3,800,000 over two live commitments, due 2027-03-31 (127 days): urgency 1 + 30/157.
        let u = 1.0 + 30.0 / 157.0;
        assert_eq!(r[0]["feature_id"], quick["id"]);
        assert_eq!(r[0]["rank"], 1);
        assert!((r[0]["score"].as_f64().unwrap() - 1_900_000.0 * 0.3 * u).abs() < 1e-6, "{}", r[0]);
        assert!((r[1]["score"].as_f64().unwrap() - 1_900_000.0 * u / 10.0).abs() < 1e-6, "{}", r[1]);
        let terms = &r[1]["terms"];
        assert_eq!(terms["commitments"][0]["live_on_deal"], 2);
        assert_eq!(terms["commitments"][0]["days_until_due"], 127);
        assert_eq!(terms["lambda"], 10000.0);
        assert_eq!(terms["divisor"], 10.0);
        let (s, e) = app.get(&app.admin, "/api/v1/roadmap?as_of=tomorrow").await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");

        // A page of one: the second feature, with the number ranked in all in a header.
        let res = app.admin.get(app.url("/api/v1/roadmap?as_of=2026-11-24&limit=1&offset=1")).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(res.headers()["x-total-count"], "2");
        let page: serde_json::Value = res.json().await.unwrap();
        assert_eq!(page.as_array().unwrap().len(), 1);
        assert_eq!(page[0], r[1]);
        // Out-of-range pages answer with what there is; a limit that is not a number is refused.
        let res = app.admin.get(app.url("/api/v1/roadmap?limit=0&offset=-3")).send().await.unwrap();
        assert_eq!(res.headers()["x-total-count"], "2");
        assert_eq!(res.json::<serde_json::Value>().await.unwrap().as_array().unwrap().len(), 1);
        let (s, e) = app.get(&app.admin, "/api/v1/roadmap?limit=many").await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{e}");

        // A change of the ranking shows in the next answer: the slower feature made quick.
        let (s, _) = app.patch(&app.admin, &format!("/api/v1/features/{}", ids.feature), json!({"effort_days": 0.1})).await;
        assert_eq!(s, StatusCode::OK);
        let (_, r2) = app.get(&app.admin, "/api/v1/roadmap?as_of=2026-11-24").await;
        assert_eq!(r2[0]["feature_id"].as_i64(), Some(ids.feature));
    }

    a_released_feature_stays_on_the_roadmap_until_its_promise_is_accepted(app) {
        let ids = app.catalogue().await;
        let (_, released) = app.post(&app.admin, "/api/v1/features", json!({"product_id": ids.product, "menu_path": "门诊/预约挂号", "stage": "released", "effort_days": 2})).await;
        let (s, c) = app.post(&app.admin, "/api/v1/commitments", json!({"customer_id": ids.customer, "deal_id": ids.deal, "feature_id": released["id"], "critical": true, "criteria": ["当天可约"]})).await;
        assert_eq!(s, StatusCode::CREATED, "{c}");
        // Promised without a deal: nothing is worth anything on it yet, so it is not listed.
        let (s, words) = app.post(&app.admin, "/api/v1/commitments", json!({"customer_id": ids.customer, "feature_title": "AI 病历质控"})).await;
        assert_eq!(s, StatusCode::CREATED, "{words}");
        let roadmap = || async {
            let res = app.admin.get(app.url("/api/v1/roadmap?as_of=2026-11-24")).send().await.unwrap();
            let total = res.headers()["x-total-count"].to_str().unwrap().to_string();
            let list: serde_json::Value = res.json().await.unwrap();
            let ids: Vec<i64> = list.as_array().unwrap().iter().map(|e| e["feature_id"].as_i64().unwrap()).collect();
            (total, ids, list)
        };
        let (total, listed, list) = roadmap().await;
        assert_eq!((total.as_str(), listed.as_slice()), ("1", &[released["id"].as_i64().unwrap()][..]), "{list}");
        assert!(!listed.contains(&words["feature_id"].as_i64().unwrap()));
        let (s, d) = app.post(&app.admin, &format!("/api/v1/commitments/{}/transition", c["id"]), json!({"to": "delivered"})).await;
        assert_eq!(s, StatusCode::OK, "{d}");
        // Delivered, not accepted: the deal's money (3,800,000 × 1.0 / 1, due in 127 days) still
        // waits on the feature.
        let (total, listed, list) = roadmap().await;
        assert_eq!((total.as_str(), listed.len()), ("1", 1), "{list}");
        let u = 1.0 + 30.0 / 157.0;
        assert!((list[0]["score"].as_f64().unwrap() - 3_800_000.0 * u / 2.0).abs() < 1e-6, "{list}");
        assert_eq!(list[0]["terms"]["released_without_live"], false);
        let criterion = c["criteria"][0]["id"].as_i64().unwrap();
        let (s, m) = app.post(&app.admin, &format!("/api/v1/commitments/{}/criteria/{criterion}", c["id"]), json!({"met": true})).await;
        assert_eq!(s, StatusCode::OK, "{m}");
        let (s, a) = app.post(&app.admin, &format!("/api/v1/commitments/{}/transition", c["id"]), json!({"to": "accepted"})).await;
        assert_eq!(s, StatusCode::OK, "{a}");
        let (total, listed, list) = roadmap().await;
        assert_eq!((total.as_str(), listed.len()), ("0", 0), "accepted: nothing waits on it: {list}");
    }

    the_openapi_document_describes_the_contract(app) {
        let (s, doc) = app.get(&app.anonymous(), "/api/v1/openapi.json").await;
        assert_eq!(s, StatusCode::OK);
        assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
        let paths = doc["paths"].as_object().unwrap();
        for p in [
            "/api/v1/auth/login", "/api/v1/tokens", "/api/v1/products", "/api/v1/features", "/api/v1/features/{id}",
            "/api/v1/customers", "/api/v1/customers/{id}/gap", "/api/v1/deals", "/api/v1/commitments",
            "/api/v1/commitments/{id}/transition", "/api/v1/commitments/{id}/criteria/{criterion_id}",
            "/api/v1/commitments/{id}/audit", "/api/v1/gap", "/api/v1/roadmap",
        ] {
            assert!(paths.contains_key(p), "{p} is documented");
        }
        let schemas = doc["components"]["schemas"].as_object().unwrap();
        let commitment = &schemas["CreateCommitment"]["properties"];
        for field in ["customer_id", "deal_id", "feature_id", "feature_title", "shown_as", "promised_by", "due_date", "critical", "criteria", "status"] {
            assert!(commitment.get(field).is_some(), "CreateCommitment.{field}");
        }
        assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
    }
}
