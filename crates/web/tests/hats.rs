//! The hats ledger, end to end, on SQLite and PostgreSQL.

mod common;

use chrono::Duration;
use cunjin_core::hats::week_start;
use cunjin_core::Role;
use reqwest::StatusCode;
use serde_json::{json, Value};

fn hat_index(h: &str) -> usize {
    ["planning", "implementation", "testing", "presales", "relay"]
        .iter()
        .position(|x| *x == h)
        .unwrap()
}

on_both_engines! {
    time_is_entered_by_its_owner_and_checked(app) {
        let presales = app.token_for(app.ws, Role::Presales).await;
        let (s, e) = app.post(&presales, "/api/v1/time-entries", json!({"hat": "presales", "minutes": 90, "note": "华西 DRG 演示"})).await;
        assert_eq!(s, StatusCode::CREATED, "{e}");
        assert!(e["person"].as_str().unwrap().starts_with("presales-"), "the caller by default: {e}");
        assert_eq!(e["date"], cunjin_store::today().to_string());
        let (s, _) = app.post(&presales, "/api/v1/time-entries", json!({"person": "someone@else.cn", "hat": "relay", "minutes": 30})).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "only pm and admin record for others");
        let (s, e) = app.post(&app.admin, "/api/v1/time-entries", json!({"person": "王芳", "hat": "relay", "minutes": 30})).await;
        assert_eq!(s, StatusCode::CREATED, "{e}");
        let viewer = app.token_for(app.ws, Role::Viewer).await;
        assert_eq!(app.post(&viewer, "/api/v1/time-entries", json!({"hat": "planning", "minutes": 30})).await.0, StatusCode::FORBIDDEN);
        for (body, field) in [
            (json!({"hat": "coffee", "minutes": 30}), "hat"),
            (json!({"hat": "planning", "minutes": 0}), "minutes"),
            (json!({"hat": "planning", "minutes": 1441}), "minutes"),
            (json!({"hat": "planning", "minutes": 30, "date": "yesterday"}), "date"),
        ] {
            let (s, e) = app.post(&app.admin, "/api/v1/time-entries", body).await;
            assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
            assert!(e["error"]["message"].as_str().unwrap().starts_with(field), "{e}");
        }
        let (_, list) = app.get(&app.admin, "/api/v1/time-entries").await;
        assert_eq!(list.as_array().unwrap().len(), 2, "refused entries wrote nothing");
        // A presales user cannot remove somebody else's entry; the admin who entered it can.
        let wang = list.as_array().unwrap().iter().find(|e| e["person"] == "王芳").unwrap()["id"].clone();
        let res = presales.delete(app.url(&format!("/api/v1/time-entries/{wang}"))).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::FORBIDDEN);
        let res = app.admin.delete(app.url(&format!("/api/v1/time-entries/{wang}"))).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::NO_CONTENT);
    }

    the_report_answers_the_question(app) {
        let today = cunjin_store::today();
        let this_week = week_start(today);
        let c = &app.admin;
        // Four weeks ago: mostly planning. This week: mostly implementation.
        for (days_back, hat, minutes) in [(28, "planning", 600), (28, "relay", 60), (0, "implementation", 480), (0, "planning", 60), (0, "relay", 120)] {
            let date = (this_week - Duration::days(days_back)).to_string();
            let (s, e) = app.post(c, "/api/v1/time-entries", json!({"date": date, "hat": hat, "minutes": minutes})).await;
            assert_eq!(s, StatusCode::CREATED, "{e}");
        }
        app.post(c, "/api/v1/time-entries", json!({"person": "pm2@x.cn", "date": this_week.to_string(), "hat": "planning", "minutes": 300})).await;
        let (s, r) = app.get(c, &format!("/api/v1/reports/hats?person=admin@localhost&to={today}")).await;
        assert_eq!(s, StatusCode::OK, "{r}");
        let me = &r["team"];
        let weeks = me["weeks"].as_array().unwrap();
        assert_eq!(weeks.len(), 8, "eight weeks by default, empty ones included");
        let last = weeks.last().unwrap();
        assert_eq!(last["total"], 660);
        assert!((last["shares"][hat_index("implementation")].as_f64().unwrap() - 480.0 / 660.0).abs() < 1e-9);
        let trend = me["planning_trend"].as_array().unwrap();
        assert!((trend[3].as_f64().unwrap() - 600.0 / 660.0).abs() < 1e-9, "{trend:?}");
        assert!(trend[4].is_null(), "a week with nothing recorded has no share");
        // Last four weeks hold only this week's 660 minutes, 60 of them planning: not a PM any more.
        assert_eq!(me["verdict"], "no");
        assert_eq!(me["top_hat"], "implementation");
        let (_, all) = app.get(c, "/api/v1/reports/hats").await;
        let people: Vec<&str> = all["people"].as_array().unwrap().iter().map(|p| p["person"].as_str().unwrap()).collect();
        assert_eq!(people, ["admin@localhost", "pm2@x.cn"]);
        assert_eq!(all["team"]["weeks"].as_array().unwrap().last().unwrap()["total"], 960);
        let (s, _) = app.get(c, "/api/v1/reports/hats?from=2026-12-01&to=2026-11-01").await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    }

    csv_export_opens_in_excel(app) {
        app.post(&app.admin, "/api/v1/time-entries", json!({"person": "王, 芳", "hat": "testing", "minutes": 45})).await;
        let res = app.admin.get(app.url("/api/v1/reports/hats?format=csv")).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        assert!(res.headers()["content-type"].to_str().unwrap().starts_with("text/csv"));
        assert!(res.headers()["content-disposition"].to_str().unwrap().contains("attachment"));
        let body = res.text().await.unwrap();
        assert!(body.starts_with("\u{feff}person,week,hat,minutes,share\n"), "{body}");
        assert!(body.contains(&format!("\"王, 芳\",{},testing,45,1.0000", week_start(cunjin_store::today()))), "{body}");
        assert!(body.lines().any(|l| l.starts_with("team,")));
        // A name that a spreadsheet would run as a formula is written as text.
        let (s, e) = app.post(&app.admin, "/api/v1/time-entries", json!({"person": "=HYPERLINK(\"http://evil\",\"x\")", "hat": "relay", "minutes": 5})).await;
        assert_eq!(s, StatusCode::CREATED, "{e}");
        let body = app.admin.get(app.url("/api/v1/reports/hats?format=csv")).send().await.unwrap().text().await.unwrap();
        assert!(body.to_lowercase().contains("\"'=hyperlink(\"\"http://evil\"\",\"\"x\"\")\","), "{body}");
        assert!(!body.lines().any(|l| l.starts_with("=") || l.starts_with("\"=")), "{body}");
        let (s, _) = app.get(&app.admin, "/api/v1/reports/hats?format=pdf").await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    }

    demos_count_as_presales_once(app) {
        let ids = app.catalogue().await;
        let wang = app.store.create_user(cunjin_store::access::auth::NewUser {
            workspace_id: app.ws, email: cunjin_core::Email::parse("wangfang@vendor.cn").unwrap(),
            name: "王芳", role: Role::Presales, password: "password-1",
        }).await.unwrap();
        let day = cunjin_store::today() - Duration::days(1);
        let (s, demo) = app.post(&app.admin, "/api/v1/demos", json!({
            "customer_id": ids.customer, "starts_at": format!("{day}T02:00:00Z"),
            "attendees": ["王芳", "guest@hospital.cn"], "script": [{"feature_id": ids.feature, "must_show": true}]
        })).await;
        assert_eq!(s, StatusCode::CREATED, "{demo}");
        let q = format!("/api/v1/reports/hats?person={}", wang.email);
        let (_, r) = app.get(&app.admin, &q).await;
        let presales = |r: &Value| -> u64 { r["team"]["weeks"].as_array().unwrap().iter().map(|w| w["minutes"][hat_index("presales")].as_u64().unwrap()).sum() };
        assert_eq!(presales(&r), 60, "an hour for the demo, matched by name: {r}");
        // Entered by hand on the same day as well: counted once.
        app.post(&app.admin, "/api/v1/time-entries", json!({"person": wang.email, "date": day.to_string(), "hat": "presales", "minutes": 45})).await;
        let (_, r) = app.get(&app.admin, &q).await;
        assert_eq!(presales(&r), 60);
        app.post(&app.admin, "/api/v1/time-entries", json!({"person": wang.email, "date": day.to_string(), "hat": "presales", "minutes": 45})).await;
        let (_, r) = app.get(&app.admin, &q).await;
        assert_eq!(presales(&r), 90, "more by hand than the demo took: the hand-entered time");
        let (_, all) = app.get(&app.admin, "/api/v1/reports/hats").await;
        assert!(all["people"].as_array().unwrap().iter().any(|p| p["person"] == "guest@hospital.cn"));
    }

    the_page_records_with_one_click(app) {
        let res = app.admin.post(app.url("/hats")).form(&[("minutes", "60"), ("other_minutes", ""), ("hat", "planning"), ("note", "需求评审")]).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert_eq!(res.headers()["location"], "/hats?saved=1");
        let res = app.admin.post(app.url("/hats")).form(&[("minutes", "60"), ("other_minutes", "25"), ("hat", "relay")]).send().await.unwrap();
        assert_eq!(res.headers()["location"], "/hats?saved=1");
        let (_, list) = app.get(&app.admin, "/api/v1/time-entries").await;
        let minutes: Vec<i64> = list.as_array().unwrap().iter().map(|e| e["minutes"].as_i64().unwrap()).collect();
        assert_eq!(minutes, [25, 60], "the typed minutes win over the chip");
        let res = app.admin.post(app.url("/hats")).form(&[("minutes", ""), ("hat", "planning")]).send().await.unwrap();
        assert_eq!(res.headers()["location"], "/hats");
        let html = app.admin.get(app.url("/hats")).send().await.unwrap().text().await.unwrap();
        assert!(html.contains("minutes: choose or type the minutes"), "the refusal is shown");
        let html = app.admin.get(app.url("/hats")).send().await.unwrap().text().await.unwrap();
        assert!(html.contains("我还是产品经理吗") && html.contains("<svg") && html.contains("需求评审"), "{html}");
        assert!(html.contains("answer-partly") || html.contains("answer-yes") || html.contains("answer-no"));
        app.admin.get(app.url("/lang/en")).send().await.unwrap();
        let html = app.admin.get(app.url("/hats")).send().await.unwrap().text().await.unwrap();
        assert!(html.contains("Am I still a product manager?"));
    }
}
