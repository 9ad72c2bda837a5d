//! The technician's visit, the service report, leads, knowledge base, follow-ups and the
//! customer's self-service pages, over HTTP on both databases.

use std::io::Cursor;

use reqwest::{Client, StatusCode};
use serde_json::{json, Value};
use shouhou_store::Db;
use shouhou_testkit::{days_ago, db_test, seed, spawn_app, test_app, Fixture, TestServer};

async fn bearer(s: &TestServer, user: &str) -> Client {
    shouhou_testkit::http::bearer(s, user).await.0
}

async fn count(db: &Db, sql: &str) -> i64 {
    let (n,): (i64,) = db.fetch_one(sql, vec![]).await.unwrap();
    n
}

/// Moves the order at `url` (its transitions address) to `to`; must succeed. Completing writes
/// the visit's service report first (no completion without one).
async fn step(c: &Client, url: &str, to: &str) {
    if to == "completed" {
        write_report(c, url).await;
    }
    let r = c.post(url).json(&json!({"to": to})).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK, "to {to}");
}

/// Writes a service report on the order whose transitions address is `url`.
async fn write_report(c: &Client, url: &str) {
    let report = url.replace("/transitions", "/report");
    let r = c
        .put(&report)
        .json(&json!({"findings": "温控器失灵", "work_done": "更换温控器，试机正常"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK, "report");
}

/// The page at `url` as text.
async fn text(c: &Client, url: impl reqwest::IntoUrl) -> String {
    c.get(url).send().await.unwrap().text().await.unwrap()
}

async fn json_of(r: reqwest::Response) -> (StatusCode, Value) {
    let st = r.status();
    (st, r.json().await.unwrap_or(Value::Null))
}

/// A device bought 500 days ago: out of the 12-month whole-unit cover, inside the 36-month
/// main-parts cover, so the order is "main parts only".
async fn older_device(s: &TestServer, f: &Fixture) -> (i64, String) {
    let clerk = bearer(s, "clerk_a").await;
    let (st, d) = json_of(
        clerk
            .post(format!("{}/api/v1/devices", s.base))
            .json(
                &json!({"customer_id": f.customer, "product_id": f.product, "serial": "HR2404OLD1",
                "purchase_date": days_ago(&s.app, 500), "policy_id": f.policy}),
            )
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert!(st.is_success(), "{d}");
    (
        d["id"].as_i64().unwrap(),
        d["qr_token"].as_str().unwrap().to_string(),
    )
}

/// An order on `device` assigned to tech_a and brought on site by tech_a.
async fn on_site_order(s: &TestServer, f: &Fixture, device: i64) -> i64 {
    let disp = bearer(s, "dispatcher1").await;
    let (_, w) = json_of(
        disp.post(format!("{}/api/v1/work-orders", s.base))
            .json(&json!({"customer_id": f.customer, "device_id": device, "kind": "repair_onsite", "fault_description": "冰箱不制冷"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    let id = w["id"].as_i64().unwrap();
    let url = format!("{}/api/v1/work-orders/{id}/transitions", s.base);
    let r = disp
        .post(&url)
        .json(&json!({"to": "assigned", "technician_id": f.tech_a_id}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let tech = bearer(s, "tech_a").await;
    for to in ["accepted", "en_route"] {
        let r = tech
            .post(&url)
            .json(&json!({"to": to}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{to}");
    }
    // Arriving is retried after a lost answer: the same key gives the same answer and one visit.
    for _ in 0..2 {
        let r = tech
            .post(&url)
            .header("idempotency-key", format!("arrive-{id}"))
            .json(&json!({"to": "on_site", "lat": 30.28, "lng": 120.17}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
    }
    id
}

fn png(w: u32, h: u32) -> Vec<u8> {
    let img = image::RgbImage::from_pixel(w, h, image::Rgb([10, 120, 200]));
    let mut out = Cursor::new(Vec::new());
    image::DynamicImage::ImageRgb8(img)
        .write_to(&mut out, image::ImageFormat::Png)
        .unwrap();
    out.into_inner()
}

db_test!(
    a_signed_report_changes_only_with_a_new_signature,
    |db: Db| async move {
        let (app, _) = test_app(db.clone());
        let f = seed(&app).await;
        let s = spawn_app(app).await;
        let (device, _) = older_device(&s, &f).await;
        let id = on_site_order(&s, &f, device).await;
        let tech = bearer(&s, "tech_a").await;
        let mgr = bearer(&s, "manager1").await;
        let base = format!("{}/api/v1/work-orders/{id}", s.base);
        write_report(&tech, &format!("{base}/transitions")).await;
        let r = tech
            .post(format!("{base}/transitions"))
            .json(&json!({"to": "completed", "outcome": "fixed"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        // Unsigned: the manager cannot approve it, and is told why.
        let approve = || {
            mgr.post(format!("{base}/review"))
                .json(&json!({"decision": "approve"}))
                .send()
        };
        let (st, e) = json_of(approve().await.unwrap()).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
        assert_eq!(e["error"]["field"], "signature");
        assert!(
            e["error"]["message"].as_str().unwrap().contains("签字"),
            "{e}"
        );
        let sign = || {
            tech.put(format!("{base}/signature"))
                .json(&json!({"path": "M10 10 L40 40 L80 20 L120 60", "signed_by": "王小明"}))
                .send()
        };
        assert_eq!(sign().await.unwrap().status(), StatusCode::OK);
        // A part added after the signature (the manufacturer's settlement rises): the signature
        // is gone, the change and the clearing are audited, and approval waits for a new one.
        let (st, l) = json_of(
            tech.post(format!("{base}/parts"))
                .json(&json!({"client_key": "late-1", "name": "压缩机", "qty": 1}))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(st, StatusCode::OK, "{l}");
        let (_, rep) = json_of(tech.get(format!("{base}/report")).send().await.unwrap()).await;
        assert!(rep["visits"][0]["signature"].is_null(), "{rep}");
        assert_eq!(count(&db, &format!("SELECT COUNT(*) FROM audit_log WHERE entity = 'work_order' AND entity_id = {id} AND action = 'signature_cleared'")).await, 1);
        let (st, e) = json_of(approve().await.unwrap()).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
        assert_eq!(e["error"]["field"], "signature");
        // The same part sent again (a retry) changes nothing and clears nothing.
        assert_eq!(sign().await.unwrap().status(), StatusCode::OK);
        let r = tech
            .post(format!("{base}/parts"))
            .json(&json!({"client_key": "late-1", "name": "压缩机", "qty": 1}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        let (_, rep) = json_of(tech.get(format!("{base}/report")).send().await.unwrap()).await;
        assert_eq!(rep["visits"][0]["signed_by"], "王小明");
        // Signed again: approved; afterwards nothing changes any more.
        let (st, w) = json_of(approve().await.unwrap()).await;
        assert_eq!(st, StatusCode::OK, "{w}");
        assert_eq!(w["status"], "reviewed");
        let r = tech
            .post(format!("{base}/parts"))
            .json(&json!({"client_key": "late-2", "name": "压缩机", "qty": 1}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    }
);

db_test!(
    visit_report_with_parts_photos_and_signature,
    |db: Db| async move {
        let (app, _) = test_app(db.clone());
        let f = seed(&app).await;
        let s = spawn_app(app).await;
        let (device, _) = older_device(&s, &f).await;
        let id = on_site_order(&s, &f, device).await;
        assert_eq!(
            count(
                &db,
                &format!("SELECT COUNT(*) FROM visits WHERE work_order_id = {id}")
            )
            .await,
            1
        );
        let tech = bearer(&s, "tech_a").await;
        let base = format!("{}/api/v1/work-orders/{id}", s.base);

        let (st, v) = json_of(
        tech.put(format!("{base}/report"))
            .json(&json!({"findings": "压缩机不启动", "work_done": "更换压缩机，加注冷媒", "labour_minutes": 90}))
            .send()
            .await
            .unwrap(),
    )
    .await;
        assert_eq!(st, StatusCode::OK, "{v}");
        assert_eq!(v["labour_minutes"], 90);
        let (st, e) = json_of(
            tech.put(format!("{base}/report"))
                .json(&json!({"labour_minutes": 5000}))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(e["error"]["field"], "labour_minutes");

        // The same part line sent twice (a retry) is one line.
        let mut first = 0;
        for _ in 0..2 {
            let (st, l) = json_of(
                tech.post(format!("{base}/parts"))
                    .json(&json!({"client_key": "p-1", "name": "压缩机", "qty": 1}))
                    .send()
                    .await
                    .unwrap(),
            )
            .await;
            assert_eq!(st, StatusCode::OK, "{l}");
            assert_eq!(
                l["payer"], "manufacturer",
                "a main part is the manufacturer's under main-parts cover"
            );
            assert_eq!(l["main_part"], true);
            if first == 0 {
                first = l["id"].as_i64().unwrap();
            }
            assert_eq!(l["id"].as_i64().unwrap(), first);
        }
        let (_, l) = json_of(
            tech.post(format!("{base}/parts"))
                .json(&json!({"client_key": "p-2", "name": "门封条", "qty": 2}))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(l["payer"], "customer");
        assert_eq!(
            count(
                &db,
                &format!("SELECT COUNT(*) FROM part_lines WHERE work_order_id = {id}")
            )
            .await,
            2
        );
        let (st, e) = json_of(
            tech.post(format!("{base}/parts"))
                .header("accept-language", "en")
                .json(&json!({"client_key": "p-3", "name": "火花塞", "qty": 1}))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(e["error"]["field"], "name");
        assert!(
            e["error"]["message"].as_str().unwrap().contains("压缩机"),
            "{e}"
        );

        // A photo: shrunk to 1600 px, stored once per key.
        let big = png(2400, 1200);
        let mut photo_id = 0;
        for _ in 0..2 {
            let (st, p) = json_of(
                tech.post(format!("{base}/photos?key=ph-1"))
                    .header("content-type", "image/png")
                    .body(big.clone())
                    .send()
                    .await
                    .unwrap(),
            )
            .await;
            assert_eq!(st, StatusCode::OK, "{p}");
            assert_eq!(
                (p["width"].as_i64(), p["height"].as_i64()),
                (Some(1600), Some(800))
            );
            photo_id = p["id"].as_i64().unwrap();
        }
        assert_eq!(
            count(
                &db,
                &format!("SELECT COUNT(*) FROM photos WHERE work_order_id = {id}")
            )
            .await,
            1
        );
        let r = tech
            .get(format!("{base}/photos/{photo_id}"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.headers()["content-type"], "image/jpeg");
        let bytes = r.bytes().await.unwrap();
        assert_eq!(&bytes[..2], &[0xFF, 0xD8]);
        let (st, e) = json_of(
            tech.post(format!("{base}/photos?key=ph-2"))
                .body("not a photo")
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(e["error"]["field"], "photo");

        // The signature.
        let (st, e) = json_of(
            tech.put(format!("{base}/signature"))
                .json(&json!({"path": "<script>", "signed_by": "王小明"}))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(e["error"]["field"], "path");
        let (st, v) = json_of(
            tech.put(format!("{base}/signature"))
                .json(&json!({"path": "M10 10 L40 40 L80 20 L120 60", "signed_by": "王小明"}))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(st, StatusCode::OK, "{v}");
        assert_eq!(v["signed_by"], "王小明");

        let r = tech
            .post(format!("{base}/transitions"))
            .json(&json!({"to": "completed", "outcome": "fixed"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);

        // The report: labour 80 + travel 30 + door seals 2 × 45 for the customer; the compressor
        // (680) for the manufacturer.
        let (st, rep) = json_of(tech.get(format!("{base}/report")).send().await.unwrap()).await;
        assert_eq!(st, StatusCode::OK);
        assert_eq!(rep["order"]["warranty_decision"], "main_parts_only");
        assert_eq!(rep["totals"]["customer_fen"], 8000 + 3000 + 9000);
        assert_eq!(rep["totals"]["manufacturer_fen"], 68000);
        assert_eq!(rep["visits"][0]["outcome"], "fixed");
        assert_eq!(rep["visits"][0]["findings"], "压缩机不启动");
        assert_eq!(rep["photos"].as_array().unwrap().len(), 1);
        assert_eq!(count(&db, &format!("SELECT COUNT(*) FROM audit_log WHERE entity = 'work_order' AND entity_id = {id} AND action = 'part_added'")).await, 2);

        // Other technicians and partners do not see the report, photo or parts.
        for who in ["tech_b", "partner1"] {
            let c = bearer(&s, who).await;
            assert_eq!(
                c.get(format!("{base}/report"))
                    .send()
                    .await
                    .unwrap()
                    .status(),
                StatusCode::NOT_FOUND,
                "{who}"
            );
            assert_eq!(
                c.get(format!("{base}/photos/{photo_id}"))
                    .send()
                    .await
                    .unwrap()
                    .status(),
                StatusCode::NOT_FOUND
            );
            let r = c
                .post(format!("{base}/parts"))
                .json(&json!({"client_key": "x", "name": "门封条", "qty": 1}))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), StatusCode::NOT_FOUND, "{who}");
        }
        // Returned by the manager: the technician's day lists it with the comment, and the report
        // can still be corrected.
        let mgr = bearer(&s, "manager1").await;
        let r = mgr
            .post(format!("{base}/review"))
            .json(&json!({"decision": "return", "comment": "请补拍铭牌照片"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        let (day, _) = page_client(&s, "tech_a").await;
        let html = text(&day, format!("{}/tech", s.base)).await;
        assert!(
            html.contains("id=\"returned\"") && html.contains("请补拍铭牌照片"),
            "{html}"
        );
        let r = tech
            .put(format!("{base}/report"))
            .json(&json!({"findings": "压缩机不启动（已补拍）"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        // The correction cleared the customer's signature: the customer signs again.
        let r = tech
            .put(format!("{base}/signature"))
            .json(&json!({"path": "M10 10 L40 40 L80 20 L120 60", "signed_by": "王小明"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        // The printed report page.
        let page = tech
            .get(format!("{}/work-orders/{id}/report", s.base))
            .send()
            .await
            .unwrap();
        assert_eq!(page.status(), StatusCode::OK);
        let html = page.text().await.unwrap();
        assert!(
            html.contains("服务报告单")
                && html.contains("¥200.00")
                && html.contains("<path d=\"M10 10"),
            "report page"
        );
    }
);

db_test!(
    returned_to_dispatch_needs_a_new_visit,
    |db: Db| async move {
        let (app, _) = test_app(db.clone());
        let f = seed(&app).await;
        let s = spawn_app(app).await;
        let id = on_site_order(&s, &f, f.device).await;
        let tech = bearer(&s, "tech_a").await;
        let url = format!("{}/api/v1/work-orders/{id}/transitions", s.base);
        let (st, w) = json_of(
            tech.post(&url)
                .json(&json!({"to": "waiting_parts", "outcome": "needs_parts"}))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(st, StatusCode::OK, "{w}");
        // In warranty: the first visit's labour and travel are the manufacturer's.
        let (_, rep) = json_of(
            tech.get(format!("{}/api/v1/work-orders/{id}/report", s.base))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(rep["totals"]["manufacturer_fen"], 11000);
        assert_eq!(rep["totals"]["customer_fen"], 0);
        // The report cannot change while the order waits for dispatch.
        let (st, e) = json_of(
            tech.put(format!("{}/api/v1/work-orders/{id}/report", s.base))
                .json(&json!({"findings": "x"}))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
        let disp = bearer(&s, "dispatcher1").await;
        assert_eq!(
            disp.post(&url)
                .json(&json!({"to": "assigned"}))
                .send()
                .await
                .unwrap()
                .status(),
            StatusCode::OK
        );
        for to in ["accepted", "en_route", "on_site"] {
            step(&tech, &url, to).await;
        }
        assert_eq!(
            count(
                &db,
                &format!("SELECT COUNT(*) FROM visits WHERE work_order_id = {id}")
            )
            .await,
            2
        );
    }
);

db_test!(leads_knowledge_base_and_fee_rules, |db: Db| async move {
    let (app, _) = test_app(db.clone());
    let f = seed(&app).await;
    let s = spawn_app(app).await;
    let id = on_site_order(&s, &f, f.device).await;
    let tech = bearer(&s, "tech_a").await;
    let lead = json!({"client_key": "lead-1", "kind": "trade_in", "value_fen": 450000, "note": "想换对开门"});
    let mut lead_id = 0;
    for _ in 0..2 {
        let (st, o) = json_of(
            tech.post(format!("{}/api/v1/work-orders/{id}/opportunities", s.base))
                .json(&lead)
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(st, StatusCode::OK, "{o}");
        lead_id = o["id"].as_i64().unwrap();
    }
    assert_eq!(count(&db, "SELECT COUNT(*) FROM opportunities").await, 1);
    // Technicians do not work the list; managers and dispatchers do.
    assert_eq!(
        tech.get(format!("{}/api/v1/opportunities", s.base))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::FORBIDDEN
    );
    let mgr = bearer(&s, "manager1").await;
    let (_, list) = json_of(
        mgr.get(format!("{}/api/v1/opportunities?status=open", s.base))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(list["total"], 1);
    assert_eq!(list["items"][0]["customer_name"], "王小明");
    let (st, o) = json_of(
        mgr.put(format!("{}/api/v1/opportunities/{lead_id}/status", s.base))
            .json(&json!({"status": "won"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(o["status"], "won");

    // Knowledge base: managers write, plain technicians read.
    let art = json!({"category": "refrigeration", "product_id": f.product, "title": "冰箱不制冷", "symptom": "压缩机不启动，冷藏室温度高", "cause": "启动继电器损坏", "fix": "更换启动继电器"});
    assert_eq!(
        tech.post(format!("{}/api/v1/kb", s.base))
            .json(&art)
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::FORBIDDEN
    );
    let (st, a) = json_of(
        mgr.post(format!("{}/api/v1/kb", s.base))
            .json(&art)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{a}");
    let (_, hits) = json_of(
        tech.get(format!(
            "{}/api/v1/kb?category=refrigeration&q=继电器",
            s.base
        ))
        .send()
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(hits["total"], 1);
    assert_eq!(hits["items"].as_array().unwrap().len(), 1);
    let (_, none) = json_of(
        tech.get(format!("{}/api/v1/kb?category=copier&q=继电器", s.base))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(none["total"], 0);
    assert_eq!(none["items"], json!([]));
    let (st, e) = json_of(mgr.post(format!("{}/api/v1/kb", s.base)).json(&json!({"category": "refrigeration", "title": "", "symptom": "a", "cause": "b", "fix": "c"})).send().await.unwrap()).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(e["error"]["field"], "title");

    // Fee rules: a wrong category is named; a refrigeration rule then prices the visit.
    let admin = bearer(&s, "admin").await;
    let (st, e) = json_of(admin.put(format!("{}/api/v1/fee-rules", s.base)).json(&json!([{"kind": "repair_onsite", "category": "rocket", "labour_fen": 1, "travel_fen": 1}])).send().await.unwrap()).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(e["error"]["field"], "rules[0].category");
    let rules = json!([
        {"kind": "repair_onsite", "category": "*", "labour_fen": 8000, "travel_fen": 3000},
        {"kind": "repair_onsite", "category": "refrigeration", "labour_fen": 12000, "travel_fen": 2000}
    ]);
    assert_eq!(
        mgr.put(format!("{}/api/v1/fee-rules", s.base))
            .json(&rules)
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        admin
            .put(format!("{}/api/v1/fee-rules", s.base))
            .json(&rules)
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
    tech.put(format!("{}/api/v1/work-orders/{id}/report", s.base))
        .json(&json!({"findings": "温控器失灵"}))
        .send()
        .await
        .unwrap();
    let (_, rep) = json_of(
        tech.get(format!("{}/api/v1/work-orders/{id}/report", s.base))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(rep["totals"]["manufacturer_fen"], 14000);
});

db_test!(self_service_report_track_and_rate, |db: Db| async move {
    let (app, _) = test_app(db.clone());
    let f = seed(&app).await;
    let s = spawn_app(app).await;
    let (device, token) = older_device(&s, &f).await;
    let public = Client::new();
    let page = format!("{}/s/{token}", s.base);
    let r = public.get(&page).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("BCD-470") && html.contains("主要部件保修"),
        "device card"
    );
    assert!(
        !html.contains("13812345678") && !html.contains("王小明") && !html.contains("凤起路"),
        "no customer data"
    );
    assert_eq!(
        public
            .get(format!("{}/s/nosuchtoken", s.base))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        public
            .get(format!("{}/s/..%2Fetc", s.base))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::NOT_FOUND
    );

    // A bad phone is refused beside the field; nothing is stored.
    let r = public
        .post(format!("{page}/report"))
        .form(&[("description", "不制冷"), ("phone", "123")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("id=\"phone-error\""));
    assert_eq!(count(&db, "SELECT COUNT(*) FROM service_requests").await, 0);

    // Another phone: a request for the clerk, no order.
    let r = public
        .post(format!("{page}/report"))
        .form(&[("description", "不制冷"), ("phone", "13900001111")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.text().await.unwrap().contains("public-notice"));
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(*) FROM service_requests WHERE status = 'pending'"
        )
        .await,
        1
    );
    assert_eq!(
        count(
            &db,
            &format!("SELECT COUNT(*) FROM work_orders WHERE device_id = {device}")
        )
        .await,
        0
    );
    let clerk = bearer(&s, "clerk_a").await;
    let (_, reqs) = json_of(
        clerk
            .get(format!("{}/api/v1/service-requests", s.base))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(reqs["total"], 1);
    let rid = reqs["items"][0]["id"].as_i64().unwrap();
    let (st, _) = json_of(
        clerk
            .post(format!("{}/api/v1/service-requests/{rid}/decision", s.base))
            .json(&json!({"accept": false}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(st, StatusCode::OK);

    // The owner's phone: the order is created at once, channel self-service.
    let r = public
        .post(format!("{page}/report"))
        .form(&[
            ("description", "冰箱不制冷，有异响"),
            ("phone", "138 1234 5678"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("id=\"tracking\"") && html.contains("新建"),
        "tracking shows the new order"
    );
    let (ch,): (String,) = db
        .fetch_one(
            &format!("SELECT channel FROM work_orders WHERE device_id = {device}"),
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(ch, "self_service");
    // Reporting again while the order is open makes no second order.
    public
        .post(format!("{page}/report"))
        .form(&[("description", "还是不制冷"), ("phone", "13812345678")])
        .send()
        .await
        .unwrap();
    assert_eq!(
        count(
            &db,
            &format!("SELECT COUNT(*) FROM work_orders WHERE device_id = {device}")
        )
        .await,
        1
    );

    // The technician comes; the customer sees the name, then rates.
    let (oid,): (i64,) = db
        .fetch_one(
            &format!("SELECT id FROM work_orders WHERE device_id = {device}"),
            vec![],
        )
        .await
        .unwrap();
    let disp = bearer(&s, "dispatcher1").await;
    let url = format!("{}/api/v1/work-orders/{oid}/transitions", s.base);
    disp.post(&url)
        .json(&json!({"to": "assigned", "technician_id": f.tech_a_id}))
        .send()
        .await
        .unwrap();
    let tech = bearer(&s, "tech_a").await;
    for to in ["accepted", "en_route"] {
        step(&tech, &url, to).await;
    }
    let html = text(&public, &page).await;
    assert!(
        html.contains("id=\"track-technician\"") && html.contains("id=\"track-eta\""),
        "name and ETA while en route"
    );
    assert!(!html.contains("id=\"rate-form\""));
    for to in ["on_site", "completed"] {
        step(&tech, &url, to).await;
    }
    let html = text(&public, &page).await;
    assert!(html.contains("id=\"rate-form\""));
    assert!(!html.contains("checked"), "no rating chosen in advance");
    let r = public
        .post(format!("{page}/rate"))
        .form(&[("comment", "还行")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(html.contains("id=\"rate-error\""), "{html}");
    assert_eq!(count(&db, "SELECT COUNT(*) FROM follow_ups").await, 0);
    // The questionnaire's items are asked before the overall rating, none chosen in advance;
    // an item it does not ask is refused and nothing is kept.
    for item in [
        "响应速度",
        "上门准时",
        "服务态度",
        "维修质量",
        "收费合理",
        "整体满意",
    ] {
        assert!(html.contains(item), "{item} on the rating form");
    }
    let r = public
        .post(format!("{page}/rate"))
        .form(&[("rating", "satisfied"), ("item:清洁整理", "satisfied")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("清洁整理"));
    assert_eq!(count(&db, "SELECT COUNT(*) FROM follow_ups").await, 0);
    let r = public
        .post(format!("{page}/rate"))
        .form(&[
            ("rating", "dissatisfied"),
            ("item:上门准时", "dissatisfied"),
            ("item:服务态度", "satisfied"),
            ("item:维修质量", ""),
            ("comment", "师傅迟到了两个小时"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let (channel, rating): (String, String) = db
        .fetch_one(
            &format!("SELECT channel, rating FROM follow_ups WHERE work_order_id = {oid}"),
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(
        (channel.as_str(), rating.as_str()),
        ("self_service", "dissatisfied")
    );
    // The overall answer and the two items rated (the one left empty was not answered).
    assert_eq!(
        count(
            &db,
            &format!("SELECT COUNT(*) FROM follow_up_answers WHERE work_order_id = {oid}")
        )
        .await,
        3
    );
    // 不满意 opens a complaint owned by the store's manager.
    let mgr = bearer(&s, "manager1").await;
    let (_, ks) = json_of(
        mgr.get(format!("{}/api/v1/complaints", s.base))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(ks["total"], 1, "{ks}");
    assert_eq!(ks["items"][0]["owner_id"], f.manager.id());
    assert_eq!(ks["items"][0]["description"], "师傅迟到了两个小时");
    // Rated once.
    let r = public
        .post(format!("{page}/rate"))
        .form(&[("rating", "satisfied")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(count(&db, "SELECT COUNT(*) FROM follow_ups").await, 1);
    // Follow-up staff cannot record a second answer by phone either.
    let (st, _) = json_of(
        mgr.post(format!("{}/api/v1/work-orders/{oid}/follow-up", s.base))
            .json(&json!({"rating": "satisfied"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
});

db_test!(public_pages_are_rate_limited, |db: Db| async move {
    let (app, _) = test_app(db);
    let f = seed(&app).await;
    let s = spawn_app(app).await;
    let token: (String,) = s
        .app
        .db
        .fetch_one(
            &format!("SELECT qr_token FROM devices WHERE id = {}", f.device),
            vec![],
        )
        .await
        .unwrap();
    let public = Client::new();
    let (mut ok, mut limited) = (0, 0);
    for _ in 0..60 {
        let r = public
            .get(format!("{}/s/{}", s.base, token.0))
            .send()
            .await
            .unwrap();
        if r.status() == StatusCode::TOO_MANY_REQUESTS {
            assert_eq!(r.headers()["retry-after"], "60");
            limited += 1;
        } else {
            assert_eq!(r.status(), StatusCode::OK);
            ok += 1;
        }
    }
    // 60 a minute per token with a burst of 15: the burst passes, then about one a second.
    assert!(ok >= 15, "{ok} answered");
    assert!(limited >= 10, "{limited} of 60 refused");
});

async fn page_client(s: &TestServer, user: &str) -> (Client, String) {
    shouhou_testkit::http::page_login(s, user, "zh-CN").await
}

/// Completes a fresh on-site order on `device` through the API; returns its id.
async fn completed_order(s: &TestServer, f: &Fixture, device: i64) -> i64 {
    let id = on_site_order(s, f, device).await;
    let tech = bearer(s, "tech_a").await;
    let url = format!("{}/api/v1/work-orders/{id}/transitions", s.base);
    write_report(&tech, &url).await;
    let r = tech
        .post(&url)
        .json(&json!({"to": "completed", "outcome": "fixed"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    id
}

db_test!(
    follow_up_outcomes_retries_no_preselected_rating_and_true_count,
    |db: Db| async move {
        let (app, clock) = test_app(db.clone());
        let f = seed(&app).await;
        let s = spawn_app(app).await;
        let old = completed_order(&s, &f, f.device).await;
        // 40 days later three more orders are completed: the old one is still listed, with its
        // age, and the count is the true one.
        clock.set(shouhou_testkit::fixture::test_now() + chrono::Duration::days(40));
        let mut ids = vec![];
        for _ in 0..3 {
            ids.push(completed_order(&s, &f, f.device).await);
        }
        let (http, csrf) = page_client(&s, "manager1").await;
        let html = text(&http, format!("{}/follow-ups", s.base)).await;
        assert!(
            html.contains(&format!("id=\"call-{old}\"")),
            "older than 30 days listed"
        );
        assert!(html.contains("40 天前"), "age shown");
        assert!(html.contains("<span id=\"to-call\">4</span>"), "true count");
        {
            let at = |id: i64| html.find(&format!("id=\"call-{id}\"")).unwrap();
            assert!(
                at(old) < at(ids[0]) && at(ids[0]) < at(ids[1]),
                "oldest completion first"
            );
        }
        // No rating is chosen in advance.
        assert!(
            !html.contains("selected>非常满意") && !html.contains(" checked"),
            "no preselection"
        );
        let post = |id: i64, form: Vec<(&'static str, &'static str)>| {
            http.post(format!("{}/follow-ups/{id}", s.base))
                .header("x-csrf-token", &csrf)
                .form(&form)
                .send()
        };
        // Saving without a rating is refused with a message; nothing is recorded.
        let html = post(ids[0], vec![("outcome", "answered"), ("rating", "")])
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            html.contains("call-error") && html.contains("满意度"),
            "{html}"
        );
        assert_eq!(count(&db, "SELECT COUNT(*) FROM follow_ups").await, 0);
        // No answer: a retry on the next working day, shown on the list; the third unanswered
        // call closes it. No rating is stored for unanswered calls.
        for n in 1..=3 {
            let html = post(ids[0], vec![("outcome", "no_answer"), ("rating", "")])
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            assert!(html.contains(&format!("已拨 {n} 次未接通")), "{html}");
            assert!(
                html.contains(&format!("href=\"/work-orders/{}\"", ids[0])),
                "keeps its number: {html}"
            );
            if n < 3 {
                assert!(html.contains("下次"), "{html}");
                let list = text(&http, format!("{}/follow-ups", s.base)).await;
                assert!(
                    list.contains(&format!("id=\"call-{}\"", ids[0]))
                        && list.contains(&format!("已拨 {n} 次未接通")),
                    "still listed with its attempts"
                );
                // It waits for its retry after the calls due now, listed in completion order.
                let at = |id: i64| list.find(&format!("id=\"call-{id}\"")).unwrap();
                assert!(
                    at(old) < at(ids[1]) && at(ids[1]) < at(ids[2]) && at(ids[2]) < at(ids[0]),
                    "the retried call follows the calls due now"
                );
                assert!(!list.contains("id=\"next-page\""), "one page of 4");
            }
        }
        // Refused: closed without a rating.
        let html = post(ids[1], vec![("outcome", "refused"), ("rating", "")])
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(html.contains("拒访"), "{html}");
        assert_eq!(
            count(&db, "SELECT COUNT(*) FROM follow_ups").await,
            0,
            "neither counts as an answer"
        );
        assert_eq!(
            count(
                &db,
                "SELECT COUNT(*) FROM audit_log WHERE action = 'follow_up_call'"
            )
            .await,
            4
        );
        // Answered 不满意: the row keeps its number and links to the complaint it opened.
        let html = post(
            ids[2],
            vec![
                ("outcome", "answered"),
                ("rating", "dissatisfied"),
                ("comment", "等了三天"),
            ],
        )
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
        let (kid,): (i64,) = db
            .fetch_one(
                &format!("SELECT id FROM complaints WHERE work_order_id = {}", ids[2]),
                vec![],
            )
            .await
            .unwrap();
        assert!(
            html.contains(&format!("href=\"/work-orders/{}\"", ids[2])),
            "{html}"
        );
        assert!(
            html.contains(&format!("href=\"/complaints/{kid}\"")),
            "{html}"
        );
        let list = text(&http, format!("{}/follow-ups", s.base)).await;
        assert!(
            list.contains("<span id=\"to-call\">1</span>"),
            "only the old one is left"
        );
    }
);

db_test!(
    follow_up_calls_and_complaints_from_the_office,
    |db: Db| async move {
        let (app, _) = test_app(db.clone());
        let f = seed(&app).await;
        let s = spawn_app(app).await;
        let id = on_site_order(&s, &f, f.device).await;
        let tech = bearer(&s, "tech_a").await;
        let url = format!("{}/api/v1/work-orders/{id}/transitions", s.base);
        write_report(&tech, &url).await;
        let r = tech
            .post(&url)
            .json(&json!({"to": "completed", "outcome": "fixed"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        // The manager's follow-up list has the order with the customer's phone.
        let (http, csrf) = page_client(&s, "manager1").await;
        let html = text(&http, format!("{}/follow-ups", s.base)).await;
        assert!(
            html.contains(&format!("id=\"call-{id}\"")) && html.contains("tel:13812345678"),
            "listed"
        );
        // Technicians have no such list.
        let (tech_page, _) = page_client(&s, "tech_a").await;
        let r = tech_page
            .get(format!("{}/follow-ups", s.base))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
        // 不满意 by phone: recorded once, a complaint opens with the manager as owner.
        let html = http
            .post(format!("{}/follow-ups/{id}", s.base))
            .header("x-csrf-token", &csrf)
            .form(&[("rating", "dissatisfied"), ("comment", "等了三天")])
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(html.contains("class=\"answered\""), "{html}");
        let html = text(&http, format!("{}/follow-ups", s.base)).await;
        assert!(
            !html.contains(&format!("id=\"call-{id}\"")),
            "no longer to call"
        );
        let (channel, user): (String, Option<i64>) = db
            .fetch_one(
                &format!("SELECT channel, user_id FROM follow_ups WHERE work_order_id = {id}"),
                vec![],
            )
            .await
            .unwrap();
        assert_eq!((channel.as_str(), user), ("phone", Some(f.manager.id())));
        let (kid, owner): (i64, Option<i64>) = db
            .fetch_one(
                &format!("SELECT id, owner_id FROM complaints WHERE work_order_id = {id}"),
                vec![],
            )
            .await
            .unwrap();
        assert_eq!(owner, Some(f.manager.id()));
        // Closing needs a resolution; then it is closed and audited.
        let mgr = bearer(&s, "manager1").await;
        let (st, e) = json_of(
            mgr.post(format!("{}/api/v1/complaints/{kid}/close", s.base))
                .json(&json!({"resolution": " "}))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(e["error"]["field"], "resolution");
        let html = http
            .post(format!("{}/complaints/{kid}/close", s.base))
            .header("x-csrf-token", &csrf)
            .form(&[("resolution", "上门道歉并免除上门费")])
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(html.contains("notice"), "{html}");
        let (status,): (String,) = db
            .fetch_one(
                &format!("SELECT status FROM complaints WHERE id = {kid}"),
                vec![],
            )
            .await
            .unwrap();
        assert_eq!(status, "closed");
        assert_eq!(count(&db, &format!("SELECT COUNT(*) FROM audit_log WHERE entity = 'complaint' AND entity_id = {kid}")).await, 2);
    }
);

db_test!(
    my_day_puts_later_appointments_below_today,
    |db: Db| async move {
        let (app, _) = test_app(db);
        let f = seed(&app).await;
        let s = spawn_app(app).await;
        let disp = bearer(&s, "dispatcher1").await;
        let mut ids = vec![];
        // Today (no appointment) and the day after tomorrow 10:00–12:00 Shanghai.
        for window in [None, Some(("2026-03-12T02:00:00Z", "2026-03-12T04:00:00Z"))] {
            let mut body = json!({"customer_id": f.customer, "device_id": f.device, "kind": "repair_onsite", "fault_description": "不制冷"});
            if let Some((a, b)) = window {
                body["appointment_start"] = json!(a);
                body["appointment_end"] = json!(b);
            }
            let (st, w) = json_of(
                disp.post(format!("{}/api/v1/work-orders", s.base))
                    .json(&body)
                    .send()
                    .await
                    .unwrap(),
            )
            .await;
            assert!(st.is_success(), "{w}");
            let id = w["id"].as_i64().unwrap();
            let r = disp
                .post(format!("{}/api/v1/work-orders/{id}/transitions", s.base))
                .json(&json!({"to": "assigned", "technician_id": f.tech_a_id}))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), StatusCode::OK);
            ids.push(id);
        }
        let (http, _) = page_client(&s, "tech_a").await;
        let html = text(&http, format!("{}/tech", s.base)).await;
        let later = html.find("id=\"later\"").expect("later heading");
        let booked = html
            .find(&format!("id=\"stop-{}\"", ids[1]))
            .expect("later order");
        // The order without a time is not on today's route: it waits, folded, for the plan.
        let untimed = html
            .find(&format!("id=\"stop-{}\"", ids[0]))
            .expect("untimed order");
        let unplanned = html.find("id=\"unplanned\"").expect("unplanned section");
        assert!(
            later < booked && unplanned < untimed,
            "later appointments, then the orders to plan"
        );
        // Another technician's day does not show them.
        let (other, _) = page_client(&s, "tech_b").await;
        let html = text(&other, format!("{}/tech", s.base)).await;
        assert!(!html.contains(&format!("id=\"stop-{}\"", ids[0])));
    }
);

/// Creates an order on the fixture's device as the dispatcher, with `window` (UTC) if any.
async fn new_order(s: &TestServer, f: &Fixture, window: Option<(&str, &str)>, fault: &str) -> i64 {
    let disp = bearer(s, "dispatcher1").await;
    let mut body = json!({"customer_id": f.customer, "device_id": f.device, "kind": "repair_onsite", "fault_description": fault});
    if let Some((a, b)) = window {
        body["appointment_start"] = json!(a);
        body["appointment_end"] = json!(b);
    }
    let (st, w) = json_of(
        disp.post(format!("{}/api/v1/work-orders", s.base))
            .json(&body)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert!(st.is_success(), "{w}");
    w["id"].as_i64().unwrap()
}

async fn assign_to(s: &TestServer, id: i64, tech: i64) {
    let disp = bearer(s, "dispatcher1").await;
    let r = disp
        .post(format!("{}/api/v1/work-orders/{id}/transitions", s.base))
        .json(&json!({"to": "assigned", "technician_id": tech}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
}

/// The committed plan's (id, planned arrival as HH:MM Shanghai) of tech_a's day, in stop order.
async fn plan_and_commit(s: &TestServer, f: &Fixture, date: &str) -> Vec<(i64, String)> {
    let disp = bearer(s, "dispatcher1").await;
    let (st, plan) = json_of(
        disp.post(format!("{}/api/v1/dispatch/plans", s.base))
            .json(&json!({"store_id": f.store_a, "date": date, "seconds": 1}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED, "{plan}");
    let id = plan["id"].as_i64().unwrap();
    let (st, c) = json_of(
        disp.post(format!("{}/api/v1/dispatch/plans/{id}/commit", s.base))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{c}");
    let mut out = vec![];
    for stop in c["routes"][0]["stops"].as_array().unwrap() {
        let (_, w) = json_of(
            disp.get(format!(
                "{}/api/v1/work-orders/{}",
                s.base, stop["work_order_id"]
            ))
            .send()
            .await
            .unwrap(),
        )
        .await;
        let at: chrono::DateTime<chrono::Utc> =
            w["planned_arrival"].as_str().unwrap().parse().unwrap();
        let local = at.with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).unwrap());
        out.push((w["id"].as_i64().unwrap(), local.format("%H:%M").to_string()));
    }
    out
}

/// The part of `html` from the element `id="{id}"` to the next stop.
fn block<'a>(html: &'a str, id: &str) -> &'a str {
    let at = html
        .find(&format!("id=\"{id}\""))
        .unwrap_or_else(|| panic!("{id} missing"));
    let rest = &html[at..];
    let end = rest[1..].find("id=\"stop-").map_or(rest.len(), |e| e + 1);
    &rest[..end]
}

db_test!(
    phone_day_route_with_planned_times_and_navigation_in_chinese_datums,
    |db: Db| async move {
        let (app, _) = test_app(db);
        let f = seed(&app).await;
        shouhou_testkit::fixture::test_day_shift(&app, &f, f.tech_a_id).await;
        let s = spawn_app(app).await;
        // Three visits booked today 11:00–17:00 Shanghai, planned and committed.
        let mut booked = vec![];
        for n in 0..3 {
            booked.push(
                new_order(
                    &s,
                    &f,
                    Some(("2026-03-10T03:00:00Z", "2026-03-10T09:00:00Z")),
                    &format!("不制冷 {n}"),
                )
                .await,
            );
        }
        let route = plan_and_commit(&s, &f, "2026-03-10").await;
        assert_eq!(route.len(), 3, "{route:?}");
        // One booked the day after tomorrow, one assigned without any time.
        let later = new_order(
            &s,
            &f,
            Some(("2026-03-12T02:00:00Z", "2026-03-12T04:00:00Z")),
            "异响",
        )
        .await;
        assign_to(&s, later, f.tech_a_id).await;
        let untimed = new_order(&s, &f, None, "漏水").await;
        assign_to(&s, untimed, f.tech_a_id).await;

        let (http, csrf) = page_client(&s, "tech_a").await;
        let html = text(&http, format!("{}/tech", s.base)).await;
        // Today's route in the plan's stop order, each with its planned arrival.
        let mut last = 0;
        for (i, (id, hhmm)) in route.iter().enumerate() {
            let at = html
                .find(&format!("id=\"stop-{id}\""))
                .expect("on the route");
            assert!(at > last, "stop {} out of order", i + 1);
            last = at;
            let b = block(&html, &format!("stop-{id}"));
            assert!(b.contains(&format!("<b>{}. ", i + 1)), "seq {}: {b}", i + 1);
            assert!(
                b.contains(&format!(
                    "计划到达 <span class=\"planned-time\">{hhmm}</span>"
                )),
                "planned time {hhmm}: {b}"
            );
        }
        // Then the later appointment with its date and window, then the untimed order folded.
        let later_at = html.find("id=\"later\"").expect("later heading");
        assert!(later_at > last);
        let b = block(&html, &format!("stop-{later}"));
        assert!(b.contains("03-12 10:00 – 12:00"), "{b}");
        let unplanned_at = html.find("id=\"unplanned\"").expect("unplanned");
        assert!(html.find(&format!("id=\"stop-{untimed}\"")).unwrap() > unplanned_at);
        assert!(html.contains("待调度排入路线（1 单）"));

        // Navigation: AMap and Apple Maps in GCJ-02, Baidu in BD-09; the stored WGS-84 point
        // (30.28, 120.17) appears in none of them, and no raw geo: link is left.
        let b = block(&html, &format!("stop-{}", route[0].0));
        assert!(b.contains("高德导航") && b.contains("百度导航") && b.contains("苹果地图"));
        assert!(
            b.contains("https://uri.amap.com/navigation?to=120.174651,30.277644,"),
            "{b}"
        );
        assert!(b.contains("&#38;coordinate=gaode"), "{b}");
        assert!(
            b.contains("baidumap://map/direction?destination=latlng:30.283302,120.181256|name:"),
            "{b}"
        );
        assert!(b.contains("coord_type=bd09ll"), "{b}");
        assert!(
            b.contains("https://maps.apple.com/?daddr=30.277644,120.174651"),
            "{b}"
        );
        assert!(!html.contains("geo:") && !html.contains("30.280000"));

        // The English switch on the phone.
        let r = http
            .post(format!("{}/lang", s.base))
            .header("x-csrf-token", &csrf)
            .form(&[("lang", "en")])
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success());
        let en = text(&http, format!("{}/tech", s.base)).await;
        assert!(en.contains("<html lang=\"en\">"));
        assert!(
            en.contains("Today&#39;s route") || en.contains("Today's route"),
            "english route title: {en}"
        );
        assert!(en.contains("Planned arrival") && en.contains("AMap") && en.contains("Apple Maps"));
        assert!(en.contains("Waiting to be planned (1)") && en.contains("Later appointments"));
    }
);

db_test!(
    phone_order_history_knowledge_base_decline_and_revisit,
    |db: Db| async move {
        let (app, _) = test_app(db.clone());
        let f = seed(&app).await;
        shouhou_testkit::fixture::test_day_shift(&app, &f, f.tech_a_id).await;
        let s = spawn_app(app).await;
        let tech = bearer(&s, "tech_a").await;
        // An earlier order on the device, fixed.
        let first = on_site_order(&s, &f, f.device).await;
        step(
            &tech,
            &format!("{}/api/v1/work-orders/{first}/transitions", s.base),
            "completed",
        )
        .await;
        // Today's order on the same device.
        let id = new_order(&s, &f, None, "门封条漏冷").await;
        assign_to(&s, id, f.tech_a_id).await;
        let (http, csrf) = page_client(&s, "tech_a").await;
        let html = text(&http, format!("{}/tech/orders/{id}", s.base)).await;
        // Device history: date, type, fault and outcome in words.
        let h = &html[html.find("id=\"device-history\"").expect("history")..];
        let h = &h[..h.find("</div>").unwrap()];
        assert!(
            h.contains("2026-03-10")
                && h.contains("上门维修")
                && h.contains("冰箱不制冷")
                && h.contains("已修复"),
            "{h}"
        );
        assert!(!h.contains("fixed") && !h.contains("repair_onsite"), "{h}");
        // The knowledge base opens in the phone layout, with the way back to the order.
        assert!(
            html.contains(&format!(
                "/tech/kb?category=refrigeration&product={}&order={id}",
                f.product
            )),
            "kb link: {html}"
        );
        let kb = text(
            &http,
            format!(
                "{}/tech/kb?category=refrigeration&product={}&order={id}",
                s.base, f.product
            ),
        )
        .await;
        assert!(kb.contains("<body class=\"mobile\""), "phone layout");
        assert!(kb.contains(&format!(
            "href=\"/tech/orders/{id}\" class=\"back\" id=\"back-to-order\""
        )));
        assert!(kb.contains("返回工单"));
        // Decline: offered before setting off, with the reasons in words.
        assert!(html.contains("id=\"decline-form\"") && html.contains("时间冲突，赶不过去"));
        let url = format!("{}/api/v1/work-orders/{id}/transitions", s.base);
        for (body, field) in [
            (json!({"to": "new"}), "reason"),
            (json!({"to": "new", "reason": "bored"}), "reason"),
        ] {
            let (st, e) = json_of(tech.post(&url).json(&body).send().await.unwrap()).await;
            assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
            assert_eq!(e["error"]["field"], field, "{e}");
        }
        // Another technician cannot give it back.
        let other = bearer(&s, "tech_b").await;
        let r = other
            .post(&url)
            .json(&json!({"to": "new", "reason": "schedule"}))
            .send()
            .await
            .unwrap();
        assert!(matches!(
            r.status(),
            StatusCode::NOT_FOUND | StatusCode::FORBIDDEN
        ));
        let (st, w) = json_of(
            tech.post(&url)
                .header("idempotency-key", format!("decline-{id}"))
                .json(&json!({"to": "new", "reason": "schedule", "note": "下午有急单"}))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(st, StatusCode::OK, "{w}");
        assert_eq!(w["status"], "new");
        assert_eq!(w["technician_id"], Value::Null);
        // Audited (technician: tech → none) and in the order's timeline in words.
        assert!(
            count(
                &db,
                &format!("SELECT COUNT(*) FROM audit_log WHERE entity = 'work_order' AND entity_id = {id} AND changes LIKE '%technician_id%'")
            )
            .await
                >= 2
        );
        let (office, _) = page_client(&s, "dispatcher1").await;
        let page = text(&office, format!("{}/work-orders/{id}", s.base)).await;
        assert!(page.contains("技术员拒单，退回调度"), "timeline");
        assert!(
            page.contains("时间冲突，赶不过去 — 下午有急单"),
            "reason in words"
        );
        assert!(!page.contains("decline:"), "no marker shown");
        // Back in the dispatcher's queue, gone from the technician's day.
        let day = text(&http, format!("{}/tech", s.base)).await;
        assert!(!day.contains(&format!("id=\"stop-{id}\"")));
        // Once on the way it can no longer be declined.
        let moving = on_site_order(&s, &f, f.device).await;
        let (st, _) = json_of(
            tech.post(format!(
                "{}/api/v1/work-orders/{moving}/transitions",
                s.base
            ))
            .json(&json!({"to": "new", "reason": "other"}))
            .send()
            .await
            .unwrap(),
        )
        .await;
        assert_eq!(st, StatusCode::CONFLICT);

        // Revisit: the visit needs parts; the technician books the next visit.
        let murl = format!("{}/api/v1/work-orders/{moving}", s.base);
        let revisit = format!("{murl}/revisit");
        let (st, _) = json_of(
            tech.put(&revisit)
                .json(&json!({"appointment_start": "2026-03-12T06:00:00Z", "appointment_end": "2026-03-12T08:00:00Z"}))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(
            st,
            StatusCode::UNPROCESSABLE_ENTITY,
            "only after such an outcome"
        );
        write_report(&tech, &format!("{murl}/transitions")).await;
        let r = tech
            .post(format!("{murl}/transitions"))
            .json(&json!({"to": "waiting_parts", "outcome": "needs_parts"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        let page = text(&http, format!("{}/tech/orders/{moving}", s.base)).await;
        assert!(page.contains("id=\"revisit-form\"") && page.contains("data-offset=\"+08:00\""));
        assert!(page.contains("预约再次上门") && page.contains("13:00 – 15:00"));
        for (a, b, field) in [
            (
                "2026-03-09T06:00:00Z",
                "2026-03-09T08:00:00Z",
                "appointment_end",
            ),
            (
                "2026-03-12T08:00:00Z",
                "2026-03-12T06:00:00Z",
                "appointment_end",
            ),
        ] {
            let (st, e) = json_of(
                tech.put(&revisit)
                    .json(&json!({"appointment_start": a, "appointment_end": b}))
                    .send()
                    .await
                    .unwrap(),
            )
            .await;
            assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
            assert_eq!(e["error"]["field"], field, "{e}");
        }
        let (st, w) = json_of(
            tech.put(&revisit)
                .json(&json!({"appointment_start": "2026-03-12T05:00:00+00:00", "appointment_end": "2026-03-12T07:00:00+00:00"}))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(st, StatusCode::OK, "{w}");
        assert_eq!(w["status"], "waiting_parts");
        assert!(
            count(
                &db,
                &format!("SELECT COUNT(*) FROM audit_log WHERE entity = 'work_order' AND entity_id = {moving} AND changes LIKE '%appointment_start%'")
            )
            .await
                == 1
        );
        // On the technician's later appointments, and on the dispatcher's day of 03-12.
        let day = text(&http, format!("{}/tech", s.base)).await;
        let b = block(&day, &format!("stop-{moving}"));
        assert!(
            b.contains("03-12 13:00 – 15:00")
                && day.find("id=\"later\"").unwrap()
                    < day.find(&format!("id=\"stop-{moving}\"")).unwrap(),
            "{b}"
        );
        // The dispatcher's board of 03-12 lists it, back from the field, in its window.
        let board = text(
            &office,
            format!("{}/dispatch?store={}&date=2026-03-12", s.base, f.store_a),
        )
        .await;
        let (number,): (String,) = db
            .fetch_one(
                &format!("SELECT number FROM work_orders WHERE id = {moving}"),
                vec![],
            )
            .await
            .unwrap();
        let row = &board[board.find(&number).expect("on the board of 03-12")..];
        let row = &row[..row.find("</tr>").unwrap_or(row.len())];
        assert!(
            row.contains("03-12 13:00–15:00") && row.contains("待备件"),
            "{row}"
        );

        // The order page in English.
        http.post(format!("{}/lang", s.base))
            .header("x-csrf-token", &csrf)
            .form(&[("lang", "en")])
            .send()
            .await
            .unwrap();
        let en = text(&http, format!("{}/tech/orders/{moving}", s.base)).await;
        assert!(en.contains("Device history") && en.contains("Book the next visit"));
        assert!(
            en.contains("Fixed") && en.contains("On-site repair"),
            "history in English"
        );
        let kb = text(&http, format!("{}/tech/kb?order={moving}", s.base)).await;
        assert!(kb.contains("Back to the order"));
    }
);

db_test!(
    qr_page_hotline_eta_charge_note_and_rating_window,
    |db: Db| async move {
        let (app, clock) = test_app(db.clone());
        let f = seed(&app).await;
        shouhou_testkit::fixture::test_day_shift(&app, &f, f.tech_a_id).await;
        let s = spawn_app(app).await;
        let admin = bearer(&s, "admin").await;
        // The store's hotline: validated, normalised, audited.
        let unit = format!("{}/api/v1/org-units/{}", s.base, f.store_a);
        let (st, e) = json_of(
            admin
                .patch(&unit)
                .json(&json!({"phone": "12345"}))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(e["error"]["field"], "phone");
        let (st, u) = json_of(
            admin
                .patch(&unit)
                .json(&json!({"phone": "0571 8506 1234"}))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(st, StatusCode::OK, "{u}");
        assert_eq!(u["phone"], "0571-85061234");
        assert_eq!(
            count(&db, &format!("SELECT COUNT(*) FROM audit_log WHERE entity = 'org_unit' AND entity_id = {} AND changes LIKE '%0571-85061234%'", f.store_a)).await,
            1
        );
        // The hotline in the office's org-unit form.
        let (office, _) = page_client(&s, "admin").await;
        let form = text(&office, format!("{}/org-units/{}", s.base, f.store_a)).await;
        assert!(
            form.contains("服务热线") && form.contains("0571-85061234"),
            "org-unit form"
        );

        // Fee rules: a visit costs ¥50 travel and ¥80 labour when the customer pays.
        let r = admin
            .put(format!("{}/api/v1/fee-rules", s.base))
            .json(&json!([{"kind": "repair_onsite", "category": "*", "labour_fen": 8000, "travel_fen": 5000}]))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        // A device bought five years ago: out of warranty, the visit is charged.
        let clerk = bearer(&s, "clerk_a").await;
        let (_, d) = json_of(
            clerk
                .post(format!("{}/api/v1/devices", s.base))
                .json(&json!({"customer_id": f.customer, "product_id": f.product, "serial": "HR2404OLD5",
                    "purchase_date": days_ago(&s.app, 1900), "policy_id": f.policy}))
                .send()
                .await
                .unwrap(),
        )
        .await;
        let old_token = d["qr_token"].as_str().unwrap().to_string();
        let old_device = d["id"].as_i64().unwrap();
        let public = Client::new();
        let html = text(&public, format!("{}/s/{old_token}", s.base)).await;
        assert!(html.contains("门店服务热线") && html.contains("href=\"tel:0571-85061234\""));
        let note = html.find("id=\"charge-note\"").expect("charge note");
        let form = html.find("id=\"report-fault\"").expect("report form");
        assert!(note < form, "said before the customer reports");
        let n = &html[note..form];
        assert!(
            n.contains("此设备已过保修期") && n.contains("上门费 ¥50") && n.contains("人工费 ¥80"),
            "{n}"
        );
        // In warranty: nothing to pay, no note.
        let (fresh,): (String,) = db
            .fetch_one(
                &format!("SELECT qr_token FROM devices WHERE id = {}", f.device),
                vec![],
            )
            .await
            .unwrap();
        let html = text(&public, format!("{}/s/{fresh}", s.base)).await;
        assert!(!html.contains("charge-note"));
        // In English.
        let en = text(&public, format!("{}/s/{old_token}?lang=en", s.base)).await;
        assert!(en.contains("<html lang=\"en\">") && en.contains("Store service hotline"));
        assert!(
            en.contains("out of warranty, so the visit is charged") && en.contains("Travel ¥50"),
            "english note"
        );
        assert!(
            en.contains("name=\"lang\" value=\"en\""),
            "the form keeps the language"
        );

        // ETA: booked today, on the committed plan → the planned arrival, not "to be arranged".
        let id = new_order(
            &s,
            &f,
            Some(("2026-03-10T03:00:00Z", "2026-03-10T09:00:00Z")),
            "不制冷",
        )
        .await;
        let html = text(&public, format!("{}/s/{fresh}", s.base)).await;
        assert!(
            html.contains("待安排") || html.contains("track-window"),
            "before the plan"
        );
        let route = plan_and_commit(&s, &f, "2026-03-10").await;
        let hhmm = &route.iter().find(|(x, _)| *x == id).expect("planned").1;
        let html = text(&public, format!("{}/s/{fresh}", s.base)).await;
        assert!(html.contains(&format!("预计 {hhmm} 到达")), "eta {hhmm}");
        assert!(!html.contains("待安排"));
        let en = text(&public, format!("{}/s/{fresh}?lang=en", s.base)).await;
        assert!(en.contains(&format!("Expected at {hhmm}")));
        let tech = bearer(&s, "tech_a").await;
        let url = format!("{}/api/v1/work-orders/{id}/transitions", s.base);
        step(&tech, &url, "accepted").await;
        step(&tech, &url, "en_route").await;
        let html = text(&public, format!("{}/s/{fresh}", s.base)).await;
        assert!(html.contains("技术员已出发"), "on the way");

        // Rating: invited within 30 days of completion, not after.
        let done = on_site_order(&s, &f, old_device).await;
        step(
            &tech,
            &format!("{}/api/v1/work-orders/{done}/transitions", s.base),
            "completed",
        )
        .await;
        let html = text(&public, format!("{}/s/{old_token}", s.base)).await;
        assert!(
            html.contains("id=\"rate-form\""),
            "fresh completion invites a rating"
        );
        clock.set(shouhou_testkit::fixture::test_now() + chrono::Duration::days(31));
        let html = text(&public, format!("{}/s/{old_token}", s.base)).await;
        assert!(
            !html.contains("id=\"rate-form\""),
            "no invitation after 30 days"
        );
        let r = public
            .post(format!("{}/s/{old_token}/rate", s.base))
            .form(&[("rating", "satisfied")])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    }
);
