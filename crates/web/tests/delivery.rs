//! Delivery to acceptance, end to end on SQLite and PostgreSQL: releases, deliveries, release
//! notes, customer status pages and progress over time.

mod common;

use chrono::Days;
use cunjin_core::{Gap, Role};
use reqwest::StatusCode;
use serde_json::{json, Value};

use common::{Ids, TestApp};

fn error_code(v: &Value) -> &str {
    v["error"]["code"]
        .as_str()
        .unwrap_or_else(|| panic!("no error shape in {v}"))
}

/// Two customers sharing a feature, plus a second feature and a free-text promise only the
/// second customer got.
struct World {
    ids: Ids,
    /// A built feature only customer A was promised.
    f2: i64,
    /// Customer B, 浙江省人民医院.
    b: i64,
    /// A's commitment on the designed feature (2 criteria).
    a_f1: i64,
    /// A's commitment on the built feature.
    a_f2: i64,
    /// B's commitment on the designed feature.
    b_f1: i64,
    /// B's free-text promise.
    b_secret: i64,
}

async fn world(app: &TestApp) -> World {
    let ids = app.catalogue().await;
    let c = &app.admin;
    let (s, f2) = app
        .post(
            c,
            "/api/v1/features",
            json!({
                "product_id": ids.product, "menu_path": "住院医生站/医嘱/医嘱闭环", "stage": "built"
            }),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{f2}");
    let (_, b) = app
        .post(c, "/api/v1/customers", json!({"name": "浙江省人民医院"}))
        .await;
    let b = b["id"].as_i64().unwrap();
    let promise = |body: Value| async move {
        let (s, v) = app.post(&app.admin, "/api/v1/commitments", body).await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        v["id"].as_i64().unwrap()
    };
    let a_f1 = promise(json!({
        "customer_id": ids.customer, "deal_id": ids.deal, "feature_id": ids.feature, "shown_as": "slides",
        "promised_by": "张伟(售前)", "criteria": ["模板可由科室自行维护", "三级质控提示"]
    }))
    .await;
    let a_f2 = promise(json!({"customer_id": ids.customer, "feature_id": f2["id"], "criteria": ["口服药医嘱全程可追踪"]})).await;
    let b_f1 = promise(json!({"customer_id": b, "feature_id": ids.feature, "promised_by": "李娜(销售)", "criteria": ["浙江专属质控规则"]})).await;
    let b_secret = promise(
        json!({"customer_id": b, "feature_title": "这个肯定没问题：老系统十年历史数据全部迁移"}),
    )
    .await;
    World {
        ids,
        f2: f2["id"].as_i64().unwrap(),
        b,
        a_f1,
        a_f2,
        b_f1,
        b_secret,
    }
}

async fn status_of(app: &TestApp, id: i64) -> String {
    let (_, c) = app
        .get(&app.admin, &format!("/api/v1/commitments/{id}"))
        .await;
    c["status"].as_str().unwrap().to_string()
}

async fn release(app: &TestApp, version: &str, features: &[i64]) -> Value {
    let (s, r) = app
        .post(
            &app.admin,
            "/api/v1/releases",
            json!({"version": version, "date": "2026-11-20", "feature_ids": features}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{r}");
    r
}

async fn page(client: &reqwest::Client, url: String) -> (StatusCode, String) {
    let res = client.get(url).send().await.unwrap();
    (res.status(), res.text().await.unwrap())
}

on_both_engines! {
    a_release_ships_and_delivery_marks_only_that_customers_commitments(app) {
        let w = world(&app).await;
        let c = &app.admin;
        let r = release(&app, "v5.2", &[w.ids.feature, w.ids.feature]).await;
        assert_eq!(r["version"], "v5.2");
        assert_eq!(r["date"], "2026-11-20");
        assert_eq!(r["feature_ids"], json!([w.ids.feature]), "duplicates collapse");
        let (_, f1) = app.get(c, &format!("/api/v1/features/{}", w.ids.feature)).await;
        assert_eq!(f1["stage"], "released");
        let (_, f2) = app.get(c, &format!("/api/v1/features/{}", w.f2)).await;
        assert_eq!(f2["stage"], "built", "a feature outside the release stays as it is");
        let trail = app.store.audit_trail(app.ws, "feature", w.ids.feature).await.unwrap();
        let last = trail.last().unwrap();
        assert_eq!((last.action.as_str(), last.reason.as_deref()), ("release", Some("release v5.2")));
        assert_eq!(last.before.as_ref().unwrap()["stage"], "designed");
        assert_eq!(last.after.as_ref().unwrap()["stage"], "released");
        // The release closed 尺 on both customers' commitments, and nothing was delivered yet.
        let (_, g) = app.get(c, &format!("/api/v1/customers/{}/gap", w.ids.customer)).await;
        assert_eq!((g["chi"].as_u64(), g["cun"].as_u64()), (Some(1), Some(5)), "{g}");
        assert_eq!(status_of(&app, w.a_f1).await, "open");

        let id = r["id"].as_i64().unwrap();
        let (s, report) = app.post(c, &format!("/api/v1/releases/{id}/deliver"), json!({"customer_ids": [w.ids.customer]})).await;
        assert_eq!(s, StatusCode::OK, "{report}");
        assert_eq!(report["delivered"].as_array().unwrap().len(), 1, "{report}");
        assert_eq!(report["delivered"][0]["commitment_id"], w.a_f1);
        assert_eq!(report["delivered"][0]["status"], "delivered");
        assert_eq!(report["unchanged"], json!([]));
        assert_eq!(status_of(&app, w.a_f1).await, "delivered");
        assert_eq!(status_of(&app, w.a_f2).await, "open", "not in the release");
        assert_eq!(status_of(&app, w.b_f1).await, "open", "another customer's commitment");
        assert_eq!(status_of(&app, w.b_secret).await, "open");
        let (_, trail) = app.get(c, &format!("/api/v1/commitments/{}/audit", w.a_f1)).await;
        let last = trail.as_array().unwrap().last().unwrap().clone();
        assert_eq!(last["action"], "transition");
        assert_eq!(last["before"]["status"], "open");
        assert_eq!(last["after"]["status"], "delivered");
        assert_eq!(last["reason"], "release v5.2 delivered");
        let (_, r) = app.get(c, &format!("/api/v1/releases/{id}")).await;
        assert_eq!(r["deliveries"][0]["customer_name"], "华西第一人民医院");
        assert_eq!(r["deliveries"].as_array().unwrap().len(), 1);

        // Delivering again changes nothing and says so.
        let (s, again) = app.post(c, &format!("/api/v1/releases/{id}/deliver"), json!({"customer_ids": [w.ids.customer]})).await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(again["delivered"], json!([]));
        assert_eq!(again["unchanged"][0]["commitment_id"], w.a_f1);
        assert_eq!(again["unchanged"][0]["status"], "delivered");
        let (_, trail2) = app.get(c, &format!("/api/v1/commitments/{}/audit", w.a_f1)).await;
        assert_eq!(trail2.as_array().unwrap().len(), trail.as_array().unwrap().len(), "no new entry");

        // Criteria one by one, then sign-off; a later delivery leaves it accepted.
        let (_, a) = app.get(c, &format!("/api/v1/commitments/{}", w.a_f1)).await;
        for k in a["criteria"].as_array().unwrap() {
            let (s, _) = app.post(c, &format!("/api/v1/commitments/{}/criteria/{}", w.a_f1, k["id"]), json!({"met": true})).await;
            assert_eq!(s, StatusCode::OK);
        }
        let (s, _) = app.post(c, &format!("/api/v1/commitments/{}/transition", w.a_f1), json!({"to": "accepted"})).await;
        assert_eq!(s, StatusCode::OK);
        let (_, again) = app.post(c, &format!("/api/v1/releases/{id}/deliver"), json!({"customer_ids": [w.ids.customer]})).await;
        assert_eq!(again["unchanged"][0]["status"], "accepted");

        // All or nothing: an unknown customer among known ones delivers to nobody.
        let (s, e) = app.post(c, &format!("/api/v1/releases/{id}/deliver"), json!({"customer_ids": [w.b, 999_999]})).await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{e}");
        assert_eq!(status_of(&app, w.b_f1).await, "open");
        let (_, r) = app.get(c, &format!("/api/v1/releases/{id}")).await;
        assert_eq!(r["deliveries"].as_array().unwrap().len(), 1, "no delivery row for B");
        // Waived commitments are left as they are.
        let (s, _) = app.post(c, &format!("/api/v1/commitments/{}/transition", w.b_f1), json!({"to": "waived", "reason": "客户同意改为二期"})).await;
        assert_eq!(s, StatusCode::OK);
        let (_, rep) = app.post(c, &format!("/api/v1/releases/{id}/deliver"), json!({"customer_ids": [w.b]})).await;
        assert_eq!(rep["delivered"], json!([]));
        assert_eq!(rep["unchanged"][0]["status"], "waived");
    }

    bad_release_input_is_refused_and_writes_nothing(app) {
        let w = world(&app).await;
        let c = &app.admin;
        release(&app, "v5.2", &[w.f2]).await;
        let before = app.footprint().await;
        for (body, status, code) in [
            (json!({"version": "v6", "feature_ids": []}), StatusCode::UNPROCESSABLE_ENTITY, "invalid"),
            (json!({"version": "  ", "feature_ids": [w.ids.feature]}), StatusCode::UNPROCESSABLE_ENTITY, "invalid"),
            (json!({"version": "v6", "date": "2026-13-01", "feature_ids": [w.ids.feature]}), StatusCode::UNPROCESSABLE_ENTITY, "invalid"),
            (json!({"version": "v6", "feature_ids": [w.ids.feature], "notes": "x"}), StatusCode::UNPROCESSABLE_ENTITY, "invalid"),
            (json!({"version": "v6", "feature_ids": [w.ids.feature, 987_654]}), StatusCode::NOT_FOUND, "not_found"),
            (json!({"version": "v5.2", "feature_ids": [w.ids.feature]}), StatusCode::CONFLICT, "conflict"),
        ] {
            let (s, e) = app.post(c, "/api/v1/releases", body.clone()).await;
            assert_eq!(s, status, "{body} → {e}");
            assert_eq!(error_code(&e), code, "{body}");
        }
        let (_, f1) = app.get(c, &format!("/api/v1/features/{}", w.ids.feature)).await;
        assert_eq!(f1["stage"], "designed", "a refused release moved no feature");
        let (_, list) = app.get(c, "/api/v1/releases").await;
        assert_eq!(list.as_array().unwrap().len(), 1);
        let id = list[0]["id"].as_i64().unwrap();
        let (s, e) = app.post(c, &format!("/api/v1/releases/{id}/deliver"), json!({"customer_ids": []})).await;
        assert_eq!((s, error_code(&e)), (StatusCode::UNPROCESSABLE_ENTITY, "invalid"));
        let (s, _) = app.post(c, "/api/v1/releases/424242/deliver", json!({"customer_ids": [w.b]})).await;
        assert_eq!(s, StatusCode::NOT_FOUND);
        let (s, _) = app.get(c, "/api/v1/releases/x").await;
        assert_eq!(s, StatusCode::BAD_REQUEST);
        assert_eq!(app.footprint().await, before);
    }

    who_may_ship_deliver_and_share(app) {
        let w = world(&app).await;
        let anon = app.anonymous();
        let (s, _) = app.get(&anon, "/api/v1/releases").await;
        assert_eq!(s, StatusCode::UNAUTHORIZED);
        let (s, _) = app.post(&anon, "/api/v1/releases", json!({"version": "x", "feature_ids": [w.f2]})).await;
        assert_eq!(s, StatusCode::UNAUTHORIZED);
        let body = json!({"version": "v9", "feature_ids": [w.ids.feature]});
        for role in [Role::Viewer, Role::Implementation, Role::Sales, Role::Presales, Role::Leader] {
            let client = app.token_for(app.ws, role).await;
            let (s, e) = app.post(&client, "/api/v1/releases", body.clone()).await;
            assert_eq!(s, StatusCode::FORBIDDEN, "{role} created a release: {e}");
        }
        let (_, f1) = app.get(&app.admin, &format!("/api/v1/features/{}", w.ids.feature)).await;
        assert_eq!(f1["stage"], "designed", "refused roles moved nothing");
        let rnd = app.token_for(app.ws, Role::Rnd).await;
        let (s, r) = app.post(&rnd, "/api/v1/releases", body.clone()).await;
        assert_eq!(s, StatusCode::CREATED, "{r}");
        let pm = app.token_for(app.ws, Role::Pm).await;
        let (s, _) = app.post(&pm, "/api/v1/releases", json!({"version": "v9.1", "feature_ids": [w.f2]})).await;
        assert_eq!(s, StatusCode::CREATED);
        let deliver = format!("/api/v1/releases/{}/deliver", r["id"]);
        for role in [Role::Viewer, Role::Rnd, Role::Sales, Role::Presales, Role::Leader] {
            let client = app.token_for(app.ws, role).await;
            let (s, _) = app.post(&client, &deliver, json!({"customer_ids": [w.ids.customer]})).await;
            assert_eq!(s, StatusCode::FORBIDDEN, "{role} delivered");
        }
        assert_eq!(status_of(&app, w.a_f1).await, "open");
        let implementation = app.token_for(app.ws, Role::Implementation).await;
        let (s, rep) = app.post(&implementation, &deliver, json!({"customer_ids": [w.ids.customer]})).await;
        assert_eq!(s, StatusCode::OK, "{rep}");
        assert_eq!(status_of(&app, w.a_f1).await, "delivered");
        let (s, _) = app.post(&pm, &deliver, json!({"customer_ids": [w.b]})).await;
        assert_eq!(s, StatusCode::OK);
        // Status links: PMs and admins only; a viewer can neither make nor read one.
        let link = format!("/api/v1/customers/{}/status-link", w.ids.customer);
        for role in [Role::Viewer, Role::Implementation, Role::Rnd, Role::Sales] {
            let client = app.token_for(app.ws, role).await;
            assert_eq!(app.post(&client, &link, json!({})).await.0, StatusCode::FORBIDDEN, "{role}");
            assert_eq!(app.get(&client, &link).await.0, StatusCode::FORBIDDEN, "{role}");
        }
        let (_, none) = app.get(&pm, &link).await;
        assert_eq!(none["status_url"], Value::Null, "refused roles made no link");
        assert_eq!(app.post(&pm, &link, json!({})).await.0, StatusCode::CREATED);
        // Another workspace sees none of it.
        let other_ws = app.store.create_workspace("另一家厂商").await.unwrap().id;
        let other = app.token_for(other_ws, Role::Admin).await;
        let (_, list) = app.get(&other, "/api/v1/releases").await;
        assert_eq!(list, json!([]));
        assert_eq!(app.get(&other, &format!("/api/v1/releases/{}", r["id"])).await.0, StatusCode::NOT_FOUND);
        assert_eq!(app.post(&other, &deliver, json!({"customer_ids": [w.ids.customer]})).await.0, StatusCode::NOT_FOUND);
        assert_eq!(app.post(&other, &link, json!({})).await.0, StatusCode::NOT_FOUND);
    }

    release_notes_in_both_languages(app) {
        let w = world(&app).await;
        let c = &app.admin;
        let r = release(&app, "v5.2", &[w.ids.feature]).await;
        release(&app, "v5.3", &[w.f2]).await;
        let (_, rep) = app.post(c, &format!("/api/v1/releases/{}/deliver", r["id"]), json!({"customer_ids": [w.ids.customer, w.b]})).await;
        assert_eq!(rep["delivered"].as_array().unwrap().len(), 2);
        let base = format!("/api/v1/customers/{}/release-notes", w.ids.customer);
        let (s, notes) = app.get(c, &base).await;
        assert_eq!(s, StatusCode::OK, "{notes}");
        assert_eq!(notes.as_array().unwrap().len(), 1, "only the delivered release: {notes}");
        assert_eq!(notes[0]["version"], "v5.2");
        assert_eq!(notes[0]["items"][0]["commitment_id"], w.a_f1);
        assert_eq!(notes[0]["items"][0]["criteria_total"], 2);

        let res = c.get(app.url(&format!("{base}?format=md&lang=zh"))).send().await.unwrap();
        assert!(res.headers()["content-type"].to_str().unwrap().starts_with("text/markdown"));
        let zh = res.text().await.unwrap();
        assert!(zh.contains("# 发布说明：为您交付的内容 — 华西第一人民医院"), "{zh}");
        assert!(zh.contains("## v5.2 (发布于 2026-11-20"), "{zh}");
        assert!(zh.contains("**结构化模板**") && zh.contains("已交付") && zh.contains("已满足验收标准 0/2"), "{zh}");
        assert!(zh.contains("待满足: 三级质控提示"), "{zh}");
        let en = page(c, app.url(&format!("{base}?format=md&lang=en"))).await.1;
        assert!(en.contains("# Release notes: what shipped for you — 华西第一人民医院"), "{en}");
        assert!(en.contains("Delivered") && en.contains("Criteria met 0/2") && en.contains("Still open: 模板可由科室自行维护"), "{en}");
        for text in [&zh, &en] {
            assert!(!text.contains("浙江省人民医院") && !text.contains("v5.3") && !text.contains("浙江专属质控规则"), "{text}");
        }

        let res = c.get(app.url(&format!("{base}?format=csv&lang=en"))).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        assert!(res.headers()["content-type"].to_str().unwrap().starts_with("text/csv"));
        assert!(res.headers()["content-disposition"].to_str().unwrap().starts_with("attachment; filename=\"release-notes-c"));
        let csv = res.text().await.unwrap();
        let mut lines = csv.trim_start_matches('\u{feff}').lines();
        assert_eq!(lines.next().unwrap(), "Customer,Version,Release date,Delivered,Feature,Menu,Status,Criteria met,Criteria in all,Still open");
        let row = lines.next().unwrap();
        assert!(row.starts_with("华西第一人民医院,v5.2,2026-11-20,") && row.contains(",结构化模板,住院医生站/病历书写/结构化模板,Delivered,0,2,模板可由科室自行维护; 三级质控提示"), "{row}");
        assert!(lines.next().is_none());
        let zh_csv = page(c, app.url(&format!("{base}?format=csv&lang=zh"))).await.1;
        assert!(zh_csv.starts_with('\u{feff}') && zh_csv.contains("客户,版本,发布日期") && zh_csv.contains(",已交付,"), "{zh_csv}");

        let (s, e) = app.get(c, &format!("{base}?format=pdf")).await;
        assert_eq!((s, error_code(&e)), (StatusCode::UNPROCESSABLE_ENTITY, "invalid"));
        let (s, _) = app.get(c, &format!("{base}?lang=fr")).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        let (s, _) = app.get(c, &format!("{base}?release_id=424242")).await;
        assert_eq!(s, StatusCode::NOT_FOUND);
        let (s, one) = app.get(c, &format!("{base}?release_id={}", r["id"])).await;
        assert_eq!((s, one.as_array().unwrap().len()), (StatusCode::OK, 1));
        let (s, _) = app.get(&app.anonymous(), &base).await;
        assert_eq!(s, StatusCode::UNAUTHORIZED);
    }

    the_status_page_shows_one_customer_and_nothing_else(app) {
        let w = world(&app).await;
        let c = &app.admin;
        let r = release(&app, "v5.2", &[w.ids.feature]).await;
        app.post(c, &format!("/api/v1/releases/{}/deliver", r["id"]), json!({"customer_ids": [w.ids.customer, w.b]})).await;
        let link_path = format!("/api/v1/customers/{}/status-link", w.ids.customer);
        let (_, none) = app.get(c, &link_path).await;
        assert_eq!(none["status_url"], Value::Null);
        let (s, link) = app.post(c, &link_path, json!({})).await;
        assert_eq!(s, StatusCode::CREATED, "{link}");
        let url = link["status_url"].as_str().unwrap().to_string();
        let token = url.rsplit('/').next().unwrap().to_string();
        assert_eq!(token.len(), 64, "256 random bits in hex");
        // B has a link too, so that a mix-up would show.
        app.post(c, &format!("/api/v1/customers/{}/status-link", w.b), json!({})).await;

        let anon = app.anonymous();
        let res = anon.get(app.url(&url)).header("accept-language", "zh-CN").send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(res.headers()["cache-control"], "no-store");
        assert_eq!(res.headers()["referrer-policy"], "same-origin", "the token never leaves the site");
        let html = res.text().await.unwrap();
        assert!(html.contains("华西第一人民医院") && html.contains("结构化模板") && html.contains("医嘱闭环"), "{html}");
        assert!(html.contains("模板可由科室自行维护") && html.contains("v5.2"), "{html}");
        assert!(html.contains("<span class=\"chi\">1</span> 尺 <span class=\"cun\">4</span> 寸"), "{html}");
        for secret in ["浙江省人民医院", "浙江专属质控规则", "老系统十年历史数据", "李娜", "张伟", "电子病历升级", "3,800,000", "admin@localhost"] {
            assert!(!html.contains(secret), "the status page shows {secret}");
        }
        let lower = html.to_lowercase();
        assert!(!lower.contains("<form") && !lower.contains("method=\"post\"") && !lower.contains("<button"), "read-only: {html}");
        assert!(!html.contains("href=\"/customers") && !html.contains("href=\"/releases"), "no way into the app");
        let zh = page(&anon, app.url(&url)).await.1;
        assert!(zh.contains("项目进展"), "Chinese by default");
        let en = anon.get(app.url(&url)).header("accept-language", "en").send().await.unwrap().text().await.unwrap();
        assert!(en.contains("Project status") && en.contains("Release notes: what shipped for you"), "{en}");

        let (s, j) = app.get(&anon, link["status_json_url"].as_str().unwrap()).await;
        assert_eq!(s, StatusCode::OK, "{j}");
        assert_eq!(j["customer"], "华西第一人民医院");
        assert_eq!((j["chi"].as_u64(), j["cun"].as_u64()), (Some(1), Some(4)));
        assert_eq!(j["commitments"].as_array().unwrap().len(), 2);
        assert_eq!(j["shipped"][0]["version"], "v5.2");
        let text = j.to_string();
        for secret in ["浙江", "老系统", "promised_by", "shown_as", "slides", "张伟", "deal"] {
            assert!(!text.contains(secret), "the status JSON shows {secret}: {text}");
        }

        // Rotating kills the old link at once.
        let (_, rotated) = app.post(c, &link_path, json!({})).await;
        let new_url = rotated["status_url"].as_str().unwrap().to_string();
        assert_ne!(new_url, url);
        let (s, gone) = page(&anon, app.url(&url)).await;
        assert_eq!(s, StatusCode::NOT_FOUND);
        assert!(!gone.contains("华西") && !gone.contains("浙江"), "{gone}");
        assert_eq!(app.get(&anon, &format!("/api/v1/status/c/{token}")).await.0, StatusCode::NOT_FOUND);
        assert_eq!(page(&anon, app.url(&new_url)).await.0, StatusCode::OK);
        let (_, current) = app.get(c, &link_path).await;
        assert_eq!(current["status_url"], json!(new_url));
        for bad in ["0".repeat(64), "abc".to_string(), token.to_uppercase(), format!("{token}x")] {
            let (s, body) = page(&anon, app.url(&format!("/status/c/{bad}"))).await;
            assert_eq!(s, StatusCode::NOT_FOUND, "{bad}");
            assert!(!body.contains("华西") && !body.contains("浙江"));
            let (s, e) = app.get(&anon, &format!("/api/v1/status/c/{bad}")).await;
            assert_eq!(s, StatusCode::NOT_FOUND);
            assert_eq!(e["error"]["message"], "not found", "reveals nothing");
        }
        let trail = app.store.audit_trail(app.ws, "customer", w.ids.customer).await.unwrap();
        let actions: Vec<&str> = trail.iter().map(|e| e.action.as_str()).collect();
        assert_eq!(actions, ["status_link_created", "status_link_rotated"]);
        assert!(!serde_json::to_string(&trail).unwrap().contains(&token), "the trail never holds a token");
    }

    history_on_a_past_day_and_the_week_gained(app) {
        let w = world(&app).await;
        let c = &app.admin;
        let today = cunjin_store::today();
        let ago = |n: u64| today.checked_sub_days(Days::new(n)).unwrap();
        // Writes keep today's snapshot equal to the live gap.
        let (_, live) = app.get(c, &format!("/api/v1/customers/{}/gap", w.ids.customer)).await;
        let kept = app.store.kept_gap_on(app.ws, w.ids.customer, today).await.unwrap();
        assert_eq!((kept.chi, kept.cun), (live["chi"].as_u64().unwrap(), live["cun"].as_u64().unwrap()));
        assert_eq!((kept.chi, kept.cun), (4, 5), "3尺3寸 + 1尺2寸");
        let r = release(&app, "v5.2", &[w.ids.feature]).await;
        app.post(c, &format!("/api/v1/releases/{}/deliver", r["id"]), json!({"customer_ids": [w.ids.customer]})).await;
        let kept = app.store.kept_gap_on(app.ws, w.ids.customer, today).await.unwrap();
        assert_eq!((kept.chi, kept.cun), (1, 4), "release and delivery are kept too");
        let kept_b = app.store.kept_gap_on(app.ws, w.b, today).await.unwrap();
        assert_eq!((kept_b.chi, kept_b.cun), (4, 3), "the release closed B's 尺 as well");

        // History of past days, as if kept over the last weeks.
        app.store.put_gap_snapshot(app.ws, w.ids.customer, ago(20), Gap { chi: 10, cun: 8 }).await.unwrap();
        app.store.put_gap_snapshot(app.ws, w.ids.customer, ago(12), Gap { chi: 6, cun: 5 }).await.unwrap();
        app.store.put_gap_snapshot(app.ws, w.b, ago(12), Gap { chi: 2, cun: 2 }).await.unwrap();
        let (s, h) = app.get(c, &format!("/api/v1/gap/history?from={}&to={}&customer_id={}", ago(21), today, w.ids.customer)).await;
        assert_eq!(s, StatusCode::OK, "{h}");
        let h = h.as_array().unwrap();
        assert_eq!(h.len(), 22);
        let at = |i: usize| (h[i]["day"].as_str().unwrap().to_string(), h[i]["chi"].as_u64().unwrap(), h[i]["cun"].as_u64().unwrap());
        assert_eq!(at(0), (ago(21).to_string(), 0, 0), "before the history starts");
        assert_eq!(at(1), (ago(20).to_string(), 10, 8));
        assert_eq!(at(5), (ago(16).to_string(), 10, 8), "the last snapshot on or before the day");
        assert_eq!(at(9), (ago(12).to_string(), 6, 5));
        assert_eq!(at(20), (ago(1).to_string(), 6, 5));
        assert_eq!(at(21), (today.to_string(), 1, 4), "today is live");
        let (_, mid) = app.get(c, &format!("/api/v1/gap/history?from={}&to={}&customer_id={}", ago(15), ago(14), w.ids.customer)).await;
        assert_eq!(mid, json!([{"day": ago(15).to_string(), "chi": 10, "cun": 8}, {"day": ago(14).to_string(), "chi": 10, "cun": 8}]), "a range that starts between snapshots");
        let (_, p) = app.get(c, &format!("/api/v1/gap/history?from={}&to={}", ago(12), ago(12))).await;
        assert_eq!(p, json!([{"day": ago(12).to_string(), "chi": 8, "cun": 7}]), "the portfolio adds up its customers");
        let (_, d) = app.get(c, "/api/v1/gap/history").await;
        assert_eq!(d.as_array().unwrap().len(), 56, "eight weeks by default");
        for bad in [format!("from={}&to={}", today, ago(3)), "from=2026-02-30".into(), format!("from={}", ago(2000))] {
            let (s, e) = app.get(c, &format!("/api/v1/gap/history?{bad}")).await;
            assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{bad}: {e}");
        }
        assert_eq!(app.get(c, "/api/v1/gap/history?customer_id=424242").await.0, StatusCode::NOT_FOUND);

        // This week: the gap when it started (end of last Sunday) minus now.
        let eve = cunjin_core::progress::week_start(today).pred_opt().unwrap();
        app.store.put_gap_snapshot(app.ws, w.ids.customer, eve, Gap { chi: 9, cun: 9 }).await.unwrap();
        app.store.put_gap_snapshot(app.ws, w.b, eve, Gap { chi: 4, cun: 1 }).await.unwrap();
        let (_, now) = app.get(c, "/api/v1/gap").await;
        let (now_chi, now_cun) = (now["chi"].as_i64().unwrap(), now["cun"].as_i64().unwrap());
        let (s, wk) = app.get(c, "/api/v1/gap/week").await;
        assert_eq!(s, StatusCode::OK, "{wk}");
        assert_eq!(wk["start"], json!({"chi": 13, "cun": 10}));
        assert_eq!(wk["gained"], json!({"chi": 13 - now_chi, "cun": 10 - now_cun}));
        let (_, wk_a) = app.get(c, &format!("/api/v1/gap/week?customer_id={}", w.ids.customer)).await;
        assert_eq!(wk_a["gained"], json!({"chi": 8, "cun": 5}));

        let dash = page(c, app.url("/")).await.1;
        assert!(dash.contains(&format!("<span class=\"chi\">{}</span> 尺 <span class=\"cun\">{}</span> 寸</p>", 13 - now_chi, 10 - now_cun)), "{dash}");
        assert!(dash.contains("本周进了") && dash.contains("<svg class=\"chart\" id=\"gap-chart\""), "{dash}");
        assert!(dash.contains("class=\"line-chi\"") && dash.contains("class=\"line-cun\""));
        assert!(!dash.contains("<script") && !dash.contains("src=\"http"), "no JavaScript, no CDN");
        let pilot_row = dash.split("<tr class=\"pilot-row\">").nth(1).expect("pilot customers are highlighted");
        assert!(pilot_row.split("</tr>").next().unwrap().contains("华西第一人民医院"), "{pilot_row}");
        assert_eq!(dash.matches("class=\"pilot-row\"").count(), 1, "only the pilot");
    }

    releases_through_the_web_ui(app) {
        let w = world(&app).await;
        let c = &app.admin;
        let (s, body) = page(c, app.url("/releases")).await;
        assert_eq!(s, StatusCode::OK);
        assert!(body.contains("id=\"new-release\"") && body.contains("结构化模板") && body.contains("还没有发布任何版本"), "{body}");
        let res = c.post(app.url("/releases")).form(&[
            ("version", "v5.2".to_string()), ("date", "2026-11-20".into()),
            ("feature_ids", w.ids.feature.to_string()), ("feature_ids", w.f2.to_string()),
        ]).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let (_, list) = app.get(c, "/api/v1/releases").await;
        assert_eq!(list[0]["feature_ids"].as_array().unwrap().len(), 2);
        let id = list[0]["id"].as_i64().unwrap();
        // A failed form keeps what was typed.
        let res = c.post(app.url("/releases")).form(&[("version", "v5.2"), ("feature_ids", "x")]).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(res.text().await.unwrap().contains("value=\"v5.2\""));
        let res = c.post(app.url(&format!("/releases/{id}/deliver"))).form(&[("customer_ids", w.ids.customer.to_string())]).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let to = res.headers()["location"].to_str().unwrap().to_string();
        assert!(to.starts_with("/releases?delivered=2&unchanged=0"), "{to}");
        let (_, body) = page(c, app.url(&to)).await;
        assert!(body.contains("id=\"delivery-report\"") && body.contains("华西第一人民医院"), "{body}");
        assert_eq!(status_of(&app, w.a_f2).await, "delivered");
        // The customer page: what shipped, exports, the status link control.
        let (_, cp) = page(c, app.url(&format!("/customers/{}", w.ids.customer))).await;
        assert!(cp.contains("id=\"shipped\"") && cp.contains("v5.2") && cp.contains("release-notes?format=csv&amp;lang=zh"), "{cp}");
        assert!(cp.contains(&format!("action=\"/customers/{}/status-link\"", w.ids.customer)) && cp.contains("生成链接"));
        let res = c.post(app.url(&format!("/customers/{}/status-link", w.ids.customer))).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let (_, cp) = page(c, app.url(&format!("/customers/{}", w.ids.customer))).await;
        assert!(cp.contains("id=\"status-url\" href=\"/status/c/") && cp.contains("重新生成"), "{cp}");
        // A viewer reads the page but gets no form, and a post is refused.
        let email = "viewer@test.cn";
        app.store.create_user(cunjin_store::access::auth::NewUser {
            workspace_id: app.ws, email: cunjin_core::Email::parse(email).unwrap(), name: "看客", role: Role::Viewer, password: "password-1",
        }).await.unwrap();
        let viewer = TestApp::login(&app.base, email, "password-1").await;
        let (s, body) = page(&viewer, app.url("/releases")).await;
        assert_eq!(s, StatusCode::OK);
        assert!(body.contains("v5.2") && !body.contains("<form method=\"post\" action=\"/releases"), "{body}");
        let res = viewer.post(app.url("/releases")).form(&[("version", "v7"), ("feature_ids", &w.ids.feature.to_string())]).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::FORBIDDEN);
        let res = viewer.post(app.url(&format!("/customers/{}/status-link", w.ids.customer))).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::FORBIDDEN);
        let (_, cp) = page(&viewer, app.url(&format!("/customers/{}", w.ids.customer))).await;
        assert!(!cp.contains("/status/c/"), "a viewer never sees the link");
        let (_, list) = app.get(c, "/api/v1/releases").await;
        assert_eq!(list.as_array().unwrap().len(), 1);
    }

    the_openapi_document_describes_delivery(app) {
        let (_, doc) = app.get(&app.anonymous(), "/api/v1/openapi.json").await;
        for path in [
            "/api/v1/releases", "/api/v1/releases/{id}", "/api/v1/releases/{id}/deliver",
            "/api/v1/customers/{id}/release-notes", "/api/v1/customers/{id}/status-link",
            "/api/v1/status/c/{token}", "/api/v1/gap/history", "/api/v1/gap/week",
        ] {
            assert!(doc["paths"][path].is_object(), "{path} is not documented");
        }
        let create = &doc["components"]["schemas"]["CreateRelease"]["properties"];
        assert!(create["version"].is_object() && create["date"].is_object() && create["feature_ids"].is_object());
        assert!(doc["components"]["schemas"]["Deliver"]["properties"]["customer_ids"].is_object());
        assert!(doc["paths"]["/api/v1/status/c/{token}"]["get"]["security"].is_null(), "the status JSON is public");
    }
}
