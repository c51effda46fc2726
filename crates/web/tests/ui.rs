//! The web UI as a browser sees it (HTML over HTTP), on SQLite and PostgreSQL.

mod common;

use cunjin_core::Role;
use reqwest::StatusCode;
use serde_json::json;

async fn page(client: &reqwest::Client, url: String) -> (StatusCode, String) {
    let res = client.get(url).send().await.unwrap();
    (res.status(), res.text().await.unwrap())
}

on_both_engines! {
    pages_need_a_login_and_speak_the_browsers_language(app) {
        let anon = app.anonymous();
        let res = anon.get(app.url("/customers/1?x=1")).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert_eq!(res.headers()["location"], "/login?next=%2Fcustomers%2F1%3Fx%3D1");
        let zh = anon.get(app.url("/login")).header("accept-language", "zh-CN,zh;q=0.9").send().await.unwrap().text().await.unwrap();
        assert!(zh.contains("lang=\"zh-CN\"") && zh.contains("密码"), "{zh}");
        let en = anon.get(app.url("/login")).header("accept-language", "en-US,en;q=0.9").send().await.unwrap().text().await.unwrap();
        assert!(en.contains("lang=\"en\"") && en.contains("Password"));
        let res = anon.get(app.url("/lang/en")).send().await.unwrap();
        assert!(res.headers()["set-cookie"].to_str().unwrap().starts_with("lang=en"));
        let en = anon.get(app.url("/login")).header("cookie", "lang=en").header("accept-language", "zh-CN").send().await.unwrap().text().await.unwrap();
        assert!(en.contains("Password"), "the chosen language wins over the browser's");
    }

    logging_in_through_the_form(app) {
        let client = reqwest::Client::builder()
            .cookie_provider(std::sync::Arc::new(reqwest::cookie::Jar::default()))
            .redirect(reqwest::redirect::Policy::none()).build().unwrap();
        let res = common::form_login(&client, &app.base, "admin@localhost", "nope-nope", "/roadmap").await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
        let body = res.text().await.unwrap();
        assert!(body.contains("admin@localhost"), "the typed address is kept");
        for next in ["https://evil.example/", "//evil.example", "/\t/evil.example", "/\\evil.example", "/a\nb"] {
            let res = common::form_login(&client, &app.base, "admin@localhost", common::ADMIN_PASSWORD, next).await;
            assert_eq!(res.status(), StatusCode::SEE_OTHER, "{next:?}");
            assert_eq!(res.headers()["location"], "/", "no redirect to another site from {next:?}");
        }
        let res = common::form_login(&client, &app.base, "admin@localhost", common::ADMIN_PASSWORD, "/roadmap?x=1").await;
        assert_eq!(res.headers()["location"], "/roadmap?x=1");
        // Another site's page cannot log a browser in (login CSRF).
        let res = app.anonymous().post(app.url("/login")).header("origin", "https://evil.example")
            .form(&[("email", "admin@localhost"), ("password", common::ADMIN_PASSWORD)]).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::FORBIDDEN);
        assert!(res.headers().get("set-cookie").is_none());
        let (s, body) = page(&client, app.url("/")).await;
        assert_eq!(s, StatusCode::OK);
        assert!(body.contains("id=\"portfolio-gap\""));
    }

    recording_a_promise_in_one_step_moves_the_gap(app) {
        let ids = app.catalogue().await;
        let c = &app.admin;
        let (_, dash) = page(c, app.url("/")).await;
        assert!(dash.contains("<span class=\"chi\">0</span> 尺 <span class=\"cun\">0</span> 寸"), "{dash}");
        let (s, form) = page(c, app.url("/promises/new")).await;
        assert_eq!(s, StatusCode::OK);
        assert!(form.contains("华西第一人民医院") && form.contains("住院医生站/病历书写/结构化模板"));
        let res = c.post(app.url("/promises")).form(&[
            ("customer_id", ids.customer.to_string()), ("deal_id", ids.deal.to_string()),
            ("feature_id", ids.feature.to_string()), ("shown_as", "slides".into()),
            ("promised_by", "张伟(售前)".into()), ("critical", "1".into()),
            ("criteria", "模板可由科室自行维护\r\n\r\n三级质控提示\r\n".into()),
        ]).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let to = res.headers()["location"].to_str().unwrap().to_string();
        assert!(to.starts_with(&format!("/customers/{}?recorded=", ids.customer)), "{to}");
        let (_, customer) = page(c, app.url(&to)).await;
        assert!(customer.contains("模板可由科室自行维护") && customer.contains("三级质控提示"));
        assert!(customer.contains("<span class=\"chi\">3</span> 尺 <span class=\"cun\">3</span> 寸"), "{customer}");
        let (_, dash) = page(c, app.url("/")).await;
        assert!(dash.contains("<span class=\"chi\">3</span> 尺 <span class=\"cun\">3</span> 寸"));
        let (_, list) = app.get(c, "/api/v1/commitments").await;
        assert_eq!(list[0]["criteria"].as_array().unwrap().len(), 2, "blank lines are not criteria");
        assert_eq!(list[0]["critical"], true);
    }

    a_failed_promise_keeps_what_was_typed(app) {
        let ids = app.catalogue().await;
        let res = app.admin.post(app.url("/promises")).form(&[
            ("customer_id", ids.customer.to_string()), ("feature_title", "".into()),
            ("due_date", "2027-02-30".into()), ("criteria", "要能导出 Excel".into()),
        ]).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let body = res.text().await.unwrap();
        assert!(body.contains("id=\"promise-error\""));
        assert!(body.contains("要能导出 Excel"), "criteria kept");
        assert!(body.contains("2027-02-30"), "date kept");
        assert_eq!(app.footprint().await["commitments"], 0);
    }

    criteria_and_transitions_from_the_customer_page(app) {
        let ids = app.catalogue().await;
        let (_, c) = app.post(&app.admin, "/api/v1/commitments", json!({"customer_id": ids.customer, "feature_id": ids.feature, "criteria": ["一致率≥98%"]})).await;
        let base = format!("/customers/{}/commitments/{}", ids.customer, c["id"]);
        let res = app.admin.post(app.url(&format!("{base}/criteria/{}", c["criteria"][0]["id"]))).form(&[("met", "1")]).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let res = app.admin.post(app.url(&format!("{base}/transition"))).form(&[("to", "waived"), ("reason", "")]).send().await.unwrap();
        let to = res.headers()["location"].to_str().unwrap().to_string();
        assert_eq!(to, format!("/customers/{}", ids.customer));
        let (_, page_text) = page(&app.admin, app.url(&to)).await;
        assert!(page_text.contains("needs a reason"), "a refused step comes back with its reason");
        let (_, again) = page(&app.admin, app.url(&to)).await;
        assert!(!again.contains("needs a reason"), "and only once");
        // A link cannot put its own text into the alert box.
        for path in [to.as_str(), "/releases", "/requests", "/environments", "/hats"] {
            let (_, spoofed) = page(&app.admin, app.url(&format!("{path}?error=Call+0000+now"))).await;
            assert!(!spoofed.contains("Call 0000 now"), "{path}");
        }
        // Not built yet: it cannot be delivered.
        app.admin.post(app.url(&format!("{base}/transition"))).form(&[("to", "delivered")]).send().await.unwrap();
        let (_, page_text) = page(&app.admin, app.url(&to)).await;
        assert!(page_text.contains("built or released"), "{page_text}");
        app.patch(&app.admin, &format!("/api/v1/features/{}", ids.feature), json!({"stage": "built"})).await;
        app.admin.post(app.url(&format!("{base}/transition"))).form(&[("to", "delivered")]).send().await.unwrap();
        let (_, now) = app.get(&app.admin, &format!("/api/v1/commitments/{}", c["id"])).await;
        assert_eq!(now["status"], "delivered");
        assert_eq!(now["criteria"][0]["met"], true);
    }

    a_viewer_sees_but_cannot_record(app) {
        let ids = app.catalogue().await;
        app.token_for(app.ws, Role::Viewer).await;
        let viewer = common::TestApp::login(&app.base, &viewer_email(&app).await, "password-1").await;
        assert_eq!(page(&viewer, app.url("/")).await.0, StatusCode::OK);
        assert_eq!(page(&viewer, app.url("/roadmap")).await.0, StatusCode::OK);
        assert_eq!(page(&viewer, app.url("/promises/new")).await.0, StatusCode::FORBIDDEN);
        let res = viewer.post(app.url("/promises")).form(&[("customer_id", ids.customer.to_string()), ("feature_id", ids.feature.to_string())]).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::FORBIDDEN);
        assert_eq!(app.footprint().await["commitments"], 0);
    }

    catalogue_tree_and_roadmap_pages(app) {
        let ids = app.catalogue().await;
        app.post(&app.admin, "/api/v1/commitments", json!({"customer_id": ids.customer, "deal_id": ids.deal, "feature_id": ids.feature, "critical": true})).await;
        let (s, tree) = page(&app.admin, app.url("/features")).await;
        assert_eq!(s, StatusCode::OK);
        for level in ["电子病历 EMR", "住院医生站", "病历书写", "结构化模板", "stage-designed"] {
            assert!(tree.contains(level), "{level}");
        }
        app.admin.get(app.url("/lang/en")).send().await.unwrap();
        let (_, en) = page(&app.admin, app.url("/roadmap")).await;
        assert!(en.contains("结构化模板") && en.contains("urgency") && en.contains("3,800,000"), "{en}");
        let (s, missing) = page(&app.admin, app.url("/customers/424242")).await;
        assert_eq!(s, StatusCode::NOT_FOUND);
        assert!(missing.contains("role=\"alert\""));
        let (s, bad) = page(&app.admin, app.url("/customers/abc")).await;
        assert_eq!(s, StatusCode::NOT_FOUND);
        assert!(bad.contains("<html"), "a page, not JSON");
        // Every page reads its path through the same extractor: a bad id is the page too.
        for path in ["/demos/abc", "/demos/abc/edit", "/demos/abc/talk-track", "/environments/abc"] {
            let (s, bad) = page(&app.admin, app.url(path)).await;
            assert_eq!(s, StatusCode::NOT_FOUND, "{path}");
            assert!(bad.contains("<html"), "{path}: a page, not JSON");
        }
    }

    a_feature_promised_to_many_lists_its_ten_heaviest_promises_and_sums_the_rest(app) {
        let ids = app.catalogue().await;
        for i in 1..=12i64 {
            let (s, customer) = app.post(&app.admin, "/api/v1/customers", json!({"name": format!("第{i}人民医院")})).await;
            assert_eq!(s, StatusCode::CREATED, "{customer}");
            let (s, deal) = app.post(&app.admin, "/api/v1/deals", json!({
                "customer_id": customer["id"], "name": format!("合同{i}"), "stage": "won",
                "contract_value": i * 100_000})).await;
            assert_eq!(s, StatusCode::CREATED, "{deal}");
            let (s, c) = app.post(&app.admin, "/api/v1/commitments", json!({
                "customer_id": customer["id"], "deal_id": deal["id"], "feature_id": ids.feature})).await;
            assert_eq!(s, StatusCode::CREATED, "{c}");
        }
        // The API explains every promise; the page the ten heaviest and the other two summed.
        let roadmap: serde_json::Value = app.admin.get(app.url("/api/v1/roadmap")).send().await.unwrap().json().await.unwrap();
        let mut weights: Vec<f64> = roadmap[0]["terms"]["commitments"].as_array().unwrap().iter().map(|c| c["weighted"].as_f64().unwrap()).collect();
        assert_eq!(weights.len(), 12, "{roadmap}");
        weights.sort_by(f64::total_cmp);
        let rest = weights[0] + weights[1];
        assert!(rest > 0.0 && rest.fract() == 0.0, "{rest}");
        let digits = (rest as i64).to_string();
        let mut rest_text = String::new();
        for (i, ch) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i).is_multiple_of(3) {
                rest_text.push(',');
            }
            rest_text.push(ch);
        }
        app.admin.get(app.url("/lang/en")).send().await.unwrap();
        let (s, html) = page(&app.admin, app.url("/roadmap")).await;
        assert_eq!(s, StatusCode::OK);
        let details = &html[html.find("<details>").unwrap()..html.find("</details>").unwrap()];
        assert_eq!(details.matches("人民医院: ").count(), 10, "{details}");
        assert!(details.contains("第12人民医院: ") && !details.contains("第1人民医院: ") && !details.contains("第2人民医院: "), "the heaviest are listed: {details}");
        assert!(details.contains(&format!("+ 2 more promises, together {rest_text}")), "{rest_text} {details}");

        // The page is made once per ranking and language: a new promise shows at once, and
        // the other language has its own page.
        let (_, customer) = app.post(&app.admin, "/api/v1/customers", json!({"name": "第13人民医院"})).await;
        let (_, deal) = app.post(&app.admin, "/api/v1/deals", json!({
            "customer_id": customer["id"], "name": "合同13", "stage": "won", "contract_value": 1_300_000})).await;
        let (s, c) = app.post(&app.admin, "/api/v1/commitments", json!({
            "customer_id": customer["id"], "deal_id": deal["id"], "feature_id": ids.feature})).await;
        assert_eq!(s, StatusCode::CREATED, "{c}");
        let (_, html) = page(&app.admin, app.url("/roadmap")).await;
        let details = &html[html.find("<details>").unwrap()..html.find("</details>").unwrap()];
        assert!(details.contains("第13人民医院: ") && details.contains("+ 3 more promises, together"), "{details}");
        app.admin.get(app.url("/lang/zh")).send().await.unwrap();
        let (_, zh) = page(&app.admin, app.url("/roadmap")).await;
        assert!(zh.contains("第13人民医院: ") && zh.contains("+ 3 项其余承诺，合计") && !zh.contains("more promises"), "{zh}");
    }

    the_customer_page_shows_the_same_gap_as_the_api(app) {
        let options = cunjin_store::generate::GenerateOptions {
            scale: cunjin_core::scale::Scale { customers: 40, deals: 60, commitments: 600, requests: 50, ..cunjin_core::scale::Scale::SMALL },
            seed: 11,
            today: cunjin_store::today(),
            probe_interval_s: 300,
        };
        app.store.generate(app.ws, &options, &mut |_, _, _| {}).await.unwrap();
        let gap: serde_json::Value = app.admin.get(app.url("/api/v1/gap")).send().await.unwrap().json().await.unwrap();
        let customers = gap["customers"].as_array().unwrap();
        assert_eq!(customers.len(), 40);
        let mut open = 0;
        for c in customers {
            let (s, html) = page(&app.admin, app.url(&format!("/customers/{}", c["customer_id"]))).await;
            assert_eq!(s, StatusCode::OK);
            let shown = format!("id=\"customer-gap\"><span class=\"chi\">{}</span> 尺 <span class=\"cun\">{}</span> 寸", c["chi"], c["cun"]);
            assert!(html.contains(&shown), "{shown} for {c}");
            open += c["open_commitments"].as_u64().unwrap();
        }
        assert!(open > 0 && gap["chi"].as_u64().unwrap() > 0, "the sample has open promises: {gap}");
    }

    large_roadmap_and_portfolio_are_shown_a_page_at_a_time(app) {
        let options = cunjin_store::generate::GenerateOptions {
            scale: cunjin_core::scale::Scale {
                customers: 230,
                deals: 300,
                commitments: 1_500,
                requests: 200,
                ..cunjin_core::scale::Scale::SMALL
            },
            seed: 5,
            today: cunjin_store::today(),
            probe_interval_s: 300,
        };
        app.store.generate(app.ws, &options, &mut |_, _, _| {}).await.unwrap();
        let total = app.store.roadmap_page(app.ws, cunjin_store::today(), 0, 1).await.unwrap().total;
        assert!(total > 200, "{total} ranked");
        app.admin.get(app.url("/lang/en")).send().await.unwrap();
        let (s, first) = page(&app.admin, app.url("/roadmap")).await;
        assert_eq!(s, StatusCode::OK);
        assert!(first.contains(&format!("Ranks 1–100 / {total}")), "{first}");
        assert!(first.contains("href=\"/roadmap?offset=100\" rel=\"next\""));
        assert!(!first.contains("rel=\"prev\""));
        assert_eq!(first.matches("<details>").count(), 100, "every score on the page explained");
        let (s, second) = page(&app.admin, app.url("/roadmap?offset=100")).await;
        assert_eq!(s, StatusCode::OK);
        assert!(second.contains(&format!("Ranks 101–200 / {total}")));
        assert!(second.contains("<td class=\"num\">101</td>") && !second.contains("<td class=\"num\">100</td>"));
        assert!(second.contains("href=\"/roadmap?offset=0\" rel=\"prev\""));
        // The dashboard lists the 200 largest gaps and sends to the customers page for the rest.
        let (s, dash) = page(&app.admin, app.url("/")).await;
        assert_eq!(s, StatusCode::OK);
        let table = &dash[dash.find("id=\"customer-gaps\"").unwrap()..];
        assert_eq!(table.matches("<a href=\"/customers/").count(), 200);
        assert!(dash.contains("The other 30 customers, with smaller gaps, are on"), "{dash}");
    }
}

async fn viewer_email(app: &common::TestApp) -> String {
    app.store
        .list_users(app.ws)
        .await
        .unwrap()
        .into_iter()
        .find(|u| u.role == Role::Viewer)
        .unwrap()
        .email
}
