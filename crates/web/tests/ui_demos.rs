//! The demo-readiness pages as a browser sees them, on SQLite and PostgreSQL: an environment
//! with probes, a demo planned through the script editor, its check, the printable talk track
//! in both languages, and recording the promises after the demo.

mod common;

use axum::http::StatusCode as AxStatus;
use axum::routing::get;
use cunjin_core::Role;
use reqwest::StatusCode;

async fn page(client: &reqwest::Client, url: String) -> (StatusCode, String) {
    let res = client.get(url).send().await.unwrap();
    (res.status(), res.text().await.unwrap())
}

async fn fake_environment() -> String {
    let app = axum::Router::new()
        .route("/ok", get(|| async { "欢迎 welcome" }))
        .route(
            "/fail",
            get(|| async { (AxStatus::INTERNAL_SERVER_ERROR, "boom") }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    base
}

fn location(res: &reqwest::Response) -> String {
    res.headers()["location"].to_str().unwrap().to_string()
}

/// A refusal sent back in the one-time flash cookie, not in the address.
fn refused(res: &reqwest::Response) -> bool {
    !location(res).contains("error=")
        && res
            .headers()
            .get_all("set-cookie")
            .iter()
            .any(|v| v.to_str().unwrap().starts_with("flash="))
}

on_both_engines! {
    from_environment_to_talk_track_to_promises(app) {
        let ids = app.catalogue().await;
        let c = &app.admin;
        let base = fake_environment().await;
        let (_, built) = app.post(c, "/api/v1/features", serde_json::json!({
            "product_id": ids.product, "menu_path": "门诊医生站/电子处方", "stage": "built",
            "recording_url": "https://rec/rx.mp4", "target_release": "V6.0"
        })).await;
        let built = built["id"].as_i64().unwrap();

        let (s, body) = page(c, app.url("/demos")).await;
        assert_eq!(s, StatusCode::OK);
        assert!(body.contains("id=\"nav-demos\"") && body.contains("还没有安排演示"), "{body}");

        // An environment through its form; the token is never shown again.
        let res = c.post(app.url("/environments")).form(&[
            ("name", "演示环境-西南"), ("base_url", base.as_str()), ("interval_s", "300"),
            ("header_name", "X-Demo-Token"), ("header_value", "very-secret-token-42"),
        ]).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let env_page = location(&res);
        let env_id: i64 = env_page.rsplit('/').next().unwrap().parse().unwrap();
        let res = c.post(app.url(&format!("/environments/{env_id}/probes"))).form(&[
            ("feature_id", built.to_string()), ("method", "GET".into()), ("path", "/fail".into()),
            ("expect_status", "200".into()), ("timeout_ms", "2000".into()),
        ]).send().await.unwrap();
        assert_eq!(location(&res), env_page, "no error");
        let res = c.post(app.url(&format!("/environments/{env_id}/probes"))).form(&[
            ("dataset", "患者张三"), ("path", "no-slash"),
        ]).send().await.unwrap();
        assert!(refused(&res), "a bad path is refused");
        let res = c.post(app.url(&format!("/environments/{env_id}/run"))).send().await.unwrap();
        assert_eq!(location(&res), format!("{env_page}?done=1"));
        let (_, body) = page(c, app.url(&format!("{env_page}?done=1"))).await;
        assert!(body.contains("GET /fail") && body.contains("期望状态 200，实际 500"), "{body}");
        assert!(body.contains("X-Demo-Token") && !body.contains("very-secret-token-42"));

        // A demo through the script editor: a built feature (must show), a slide, free words.
        let res = c.post(app.url("/demos")).form(&[
            ("customer_id", ids.customer.to_string()), ("deal_id", ids.deal.to_string()),
            ("environment_id", env_id.to_string()), ("title", "门诊一体化方案演示".into()),
            ("starts_at", "2027-02-01T14:00".into()), ("tz", "+08:00".into()),
            ("attendees", "王院长、信息科李主任".into()),
            ("item0_feature", built.to_string()), ("item0_must", "1".into()),
            ("item1_feature", ids.feature.to_string()),
            ("item2_text", "医保实时结算，全省通办".into()),
        ]).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let demo_page = location(&res);
        let res = c.post(app.url(&format!("{demo_page}/check"))).send().await.unwrap();
        assert_eq!(location(&res), demo_page);
        let (_, body) = page(c, app.url(&demo_page)).await;
        assert!(body.contains("2027-02-01 14:00") && body.contains("王院长、信息科李主任"), "{body}");
        assert!(body.contains("id=\"demo-readiness\">0%") && body.contains("可以演示"), "fallback with a recording is ready: {body}");

        let (s, track) = page(c, app.url(&format!("{demo_page}/talk-track"))).await;
        assert_eq!(s, StatusCode::OK);
        for want in ["讲解提纲", "备用录屏", "用录屏或截图讲", "https://rec/rx.mp4", "用PPT讲", "https://slides/emr",
                     "口头承诺", "不承诺日期", "V6.0", "医保实时结算，全省通办", "@media print"] {
            assert!(track.contains(want), "{want} in {track}");
        }
        c.get(app.url("/lang/en")).send().await.unwrap();
        let (_, en) = page(c, app.url(&format!("{demo_page}/talk-track"))).await;
        c.get(app.url("/lang/zh")).send().await.unwrap();
        for want in ["Talk track", "Use the recording or screenshot", "Present the slide", "do not commit to a date", "expected status 200, got 500"] {
            assert!(en.contains(want), "{want} in {en}");
        }

        // After the demo: the built feature and the free words become commitments.
        let (_, demo) = app.get(c, &format!("/api/v1{demo_page}")).await;
        let item = |i: usize| demo["script"][i]["id"].as_i64().unwrap();
        let res = c.post(app.url(&format!("{demo_page}/promises"))).form(&[
            (format!("pick_{}", item(0)), "1".to_string()), (format!("mode_{}", item(0)), "live".into()),
            (format!("mode_{}", item(1)), "slides".into()),
            (format!("pick_{}", item(2)), "1".into()), (format!("mode_{}", item(2)), "promise".into()),
        ]).send().await.unwrap();
        assert_eq!(location(&res), format!("/customers/{}?recorded=1", ids.customer));
        let (_, list) = app.get(c, &format!("/api/v1/commitments?customer_id={}", ids.customer)).await;
        let shown: Vec<&str> = list.as_array().unwrap().iter().map(|c| c["shown_as"].as_str().unwrap()).collect();
        assert_eq!(shown, ["promise", "live"], "newest first, with the mode actually shown");
        let (_, body) = page(c, app.url(&demo_page)).await;
        assert_eq!(body.matches("已记录").count(), 2, "{body}");
        let res = c.post(app.url(&format!("{demo_page}/promises"))).form(&[(format!("pick_{}", item(0)), "1")]).send().await.unwrap();
        assert!(refused(&res), "not twice");

        // Rescheduled through the edit form: the script is unchanged, so the check stays.
        let (s, edit) = page(c, app.url(&format!("{demo_page}/edit"))).await;
        assert_eq!(s, StatusCode::OK);
        assert!(edit.contains("value=\"2027-02-01T14:00\"") && edit.contains("医保实时结算，全省通办") && edit.contains("王院长"), "{edit}");
        let mut fields = vec![
            ("environment_id".to_string(), env_id.to_string()), ("title".into(), "门诊一体化方案演示（改期）".into()),
            ("starts_at".into(), "2027-02-02T10:00".into()), ("tz".into(), "+08:00".into()), ("attendees".into(), "王院长".into()),
            ("item0_feature".into(), built.to_string()), ("item0_must".into(), "1".into()),
            ("item1_feature".into(), ids.feature.to_string()), ("item2_text".into(), "医保实时结算，全省通办".into()),
        ];
        let res = c.post(app.url(&format!("{demo_page}/edit"))).form(&fields).send().await.unwrap();
        assert_eq!(location(&res), demo_page);
        let (_, d) = app.get(c, &format!("/api/v1{demo_page}")).await;
        assert_eq!(d["starts_at"], "2027-02-02T02:00:00.000Z");
        assert_eq!(d["title"], "门诊一体化方案演示（改期）");
        assert!(d["last_check"].is_object(), "same script: the check stays");
        // A changed script with items already promised is refused, and the form says so.
        fields.truncate(7);
        let res = c.post(app.url(&format!("{demo_page}/edit"))).form(&fields).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::CONFLICT);
        assert!(res.text().await.unwrap().contains("can no longer be replaced"));

        let (s, list) = page(c, app.url("/demos")).await;
        assert_eq!(s, StatusCode::OK);
        assert!(list.contains("门诊一体化方案演示") && list.contains("演示环境-西南"));
    }

    a_failed_demo_form_keeps_what_was_typed_and_roles_apply(app) {
        let ids = app.catalogue().await;
        let res = app.admin.post(app.url("/demos")).form(&[
            ("customer_id", ids.customer.to_string()), ("starts_at", "not a date".into()),
            ("attendees", "王院长".into()), ("item0_text", "移动查房".into()),
        ]).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let body = res.text().await.unwrap();
        assert!(body.contains("starts_at") && body.contains("移动查房") && body.contains("王院长"), "{body}");
        assert_eq!(app.get(&app.admin, "/api/v1/demos").await.1, serde_json::json!([]));

        let viewer = app.token_for(app.ws, Role::Viewer).await;
        assert_eq!(page(&viewer, app.url("/demos")).await.0, StatusCode::OK);
        assert_eq!(page(&viewer, app.url("/demos/new")).await.0, StatusCode::FORBIDDEN);
        let res = viewer.post(app.url("/environments")).form(&[("name", "x"), ("base_url", "http://x")]).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::FORBIDDEN);
        let (_, envs) = page(&viewer, app.url("/environments")).await;
        assert!(!envs.contains("id=\"env-form\""), "no form for a viewer");
        assert_eq!(app.get(&app.admin, "/api/v1/environments").await.1, serde_json::json!([]));
        let sales = app.token_for(app.ws, Role::Sales).await;
        assert_eq!(page(&sales, app.url("/demos/new")).await.0, StatusCode::OK);
    }
}
