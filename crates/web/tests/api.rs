//! The HTTP API on a real loopback port, on both databases.

use reqwest::{Client, StatusCode};
use serde_json::{json, Value};
use shouhou_store::Db;
use shouhou_testkit::fixture::PASSWORD;
use shouhou_testkit::http::{bearer, page_login};
use shouhou_testkit::{db_test, seed, spawn_app, test_app, TestServer};

fn order_body(customer: i64, device: i64) -> Value {
    json!({"customer_id": customer, "device_id": device, "kind": "repair_onsite", "fault_description": "洗衣机不脱水"})
}

async fn count(db: &Db, table: &str) -> i64 {
    let (n,): (i64,) = db
        .fetch_one(&format!("SELECT COUNT(*) FROM {table}"), vec![])
        .await
        .unwrap();
    n
}

db_test!(login_cookie_csrf_and_logout, |db: Db| async move {
    let (app, _) = test_app(db);
    let f = seed(&app).await;
    let s = spawn_app(app).await;
    let http = Client::builder().cookie_store(true).build().unwrap();
    let r = http
        .post(format!("{}/api/v1/auth/login", s.base))
        .json(&json!({"username": "clerk_a", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let cookies: Vec<String> = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .collect();
    assert!(cookies.iter().any(|c| c.starts_with("shouhou_session=")
        && c.contains("HttpOnly")
        && c.contains("SameSite=Lax")));
    let body: Value = r.json().await.unwrap();
    let csrf = body["csrf_token"].as_str().unwrap().to_string();
    let me: Value = http
        .get(format!("{}/api/v1/me", s.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["user"]["username"], "clerk_a");
    // A change with the cookie but without the CSRF token is refused and stores nothing.
    let url = format!("{}/api/v1/work-orders", s.base);
    let r = http
        .post(&url)
        .json(&order_body(f.customer, f.device))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(r.json::<Value>().await.unwrap()["error"]["code"], "csrf");
    assert_eq!(count(&s.app.db, "work_orders").await, 0);
    let r = http
        .post(&url)
        .header("x-csrf-token", &csrf)
        .json(&order_body(f.customer, f.device))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let r = http
        .post(format!("{}/api/v1/auth/logout", s.base))
        .header("x-csrf-token", &csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let r = http
        .get(format!("{}/api/v1/me", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
});

db_test!(failed_logins_lock_the_account, |db: Db| async move {
    let (app, clock) = test_app(db);
    seed(&app).await;
    let s = spawn_app(app.clone()).await;
    let http = Client::new();
    let login = |pw: &'static str| {
        let (http, url) = (http.clone(), format!("{}/api/v1/auth/login", s.base));
        async move {
            http.post(url)
                .json(&json!({"username": "clerk_b", "password": pw}))
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    for _ in 0..4 {
        assert_eq!(login("wrong-password").await, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(login("wrong-password").await, StatusCode::TOO_MANY_REQUESTS);
    // Locked: even the right password is refused until the lock runs out.
    assert_eq!(login(PASSWORD).await, StatusCode::TOO_MANY_REQUESTS);
    clock.set(app.now() + chrono::Duration::minutes(16));
    assert_eq!(login(PASSWORD).await, StatusCode::OK);
});

db_test!(
    idempotency_key_replays_and_refuses_reuse,
    |db: Db| async move {
        let (app, _) = test_app(db);
        let f = seed(&app).await;
        let s = spawn_app(app).await;
        let (http, _) = bearer(&s, "clerk_a").await;
        let url = format!("{}/api/v1/work-orders", s.base);
        let send = |body: Value| {
            http.post(&url)
                .header("idempotency-key", "k-1")
                .json(&body)
                .send()
        };
        let a = send(order_body(f.customer, f.device)).await.unwrap();
        assert_eq!(a.status(), StatusCode::CREATED);
        let a: Value = a.json().await.unwrap();
        let b = send(order_body(f.customer, f.device)).await.unwrap();
        assert_eq!(b.status(), StatusCode::CREATED);
        assert_eq!(b.headers().get("idempotent-replayed").unwrap(), "true");
        let b: Value = b.json().await.unwrap();
        assert_eq!(a["number"], b["number"]);
        assert_eq!(count(&s.app.db, "work_orders").await, 1);
        let mut other = order_body(f.customer, f.device);
        other["fault_description"] = json!("另一个故障");
        let c = send(other).await.unwrap();
        assert_eq!(c.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(
            c.json::<Value>().await.unwrap()["error"]["code"],
            "idempotency_key_reused"
        );
        assert_eq!(count(&s.app.db, "work_orders").await, 1);
    }
);

db_test!(
    etag_and_if_match_guard_concurrent_edits,
    |db: Db| async move {
        let (app, _) = test_app(db);
        let f = seed(&app).await;
        let s = spawn_app(app).await;
        let (http, _) = bearer(&s, "dispatcher1").await;
        let r = http
            .post(format!("{}/api/v1/work-orders", s.base))
            .json(&order_body(f.customer, f.device))
            .send()
            .await
            .unwrap();
        let id = r.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
        let url = format!("{}/api/v1/work-orders/{id}", s.base);
        let r = http.get(&url).send().await.unwrap();
        let etag = r
            .headers()
            .get("etag")
            .unwrap()
            .to_str()
            .unwrap()
            .to_string();
        assert_eq!(etag, "\"1\"");
        let r = http
            .patch(&url)
            .header("if-match", &etag)
            .json(&json!({"priority": "urgent"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(r.headers().get("etag").unwrap(), "\"2\"");
        let r = http
            .patch(&url)
            .header("if-match", &etag)
            .json(&json!({"fault_description": "改"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::PRECONDITION_FAILED);
        let e: Value = r.json().await.unwrap();
        assert_eq!(e["error"]["code"], "stale_version");
        assert_eq!(e["error"]["current_version"], 2);
        assert_eq!(
            e["error"]["changes"]["priority"],
            json!(["normal", "urgent"])
        );
        let w: Value = http.get(&url).send().await.unwrap().json().await.unwrap();
        assert_eq!(w["fault_description"], "洗衣机不脱水");
    }
);

db_test!(transitions_over_http, |db: Db| async move {
    let (app, _) = test_app(db);
    let f = seed(&app).await;
    let s = spawn_app(app).await;
    let (http, _) = bearer(&s, "dispatcher1").await;
    let r = http
        .post(format!("{}/api/v1/work-orders", s.base))
        .json(&order_body(f.customer, f.device))
        .send()
        .await
        .unwrap();
    let id = r.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let url = format!("{}/api/v1/work-orders/{id}/transitions", s.base);
    let r = http
        .post(&url)
        .header("accept-language", "en")
        .json(&json!({"to": "completed"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let e: Value = r.json().await.unwrap();
    assert_eq!(e["error"]["code"], "illegal_transition");
    assert_eq!(
        e["error"]["message"],
        "A work order cannot go from 'new' to 'completed'"
    );
    let r = http
        .post(&url)
        .json(&json!({"to": "completed"}))
        .send()
        .await
        .unwrap();
    let msg = r.json::<Value>().await.unwrap()["error"]["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(msg.contains("新建") && msg.contains("已完工"), "{msg}");
    let r = http
        .post(&url)
        .json(&json!({"to": "assigned", "technician_id": f.tech_a_id}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let (tech, _) = bearer(&s, "tech_a").await;
    for (to, extra) in [
        ("accepted", json!({})),
        ("en_route", json!({})),
        ("on_site", json!({"lat": 30.28, "lng": 120.17})),
        ("completed", json!({"outcome": "fixed"})),
    ] {
        let mut body = extra;
        body["to"] = json!(to);
        let r = tech.post(&url).json(&body).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{to}");
    }
    let events: Value = http
        .get(format!("{}/api/v1/work-orders/{id}/events", s.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let states: Vec<&str> = events
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["to_status"].as_str().unwrap())
        .collect();
    assert_eq!(
        states,
        [
            "new",
            "assigned",
            "accepted",
            "en_route",
            "on_site",
            "completed"
        ]
    );
    let list: Value = tech
        .get(format!("{}/api/v1/work-orders?status=completed", s.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list["total"], 1);
});

db_test!(
    bad_input_names_the_field_in_the_users_language,
    |db: Db| async move {
        let (app, _) = test_app(db);
        seed(&app).await;
        let s = spawn_app(app).await;
        let (http, _) = bearer(&s, "clerk_a").await;
        let url = format!("{}/api/v1/customers", s.base);
        let before = count(&s.app.db, "customers").await;
        let r = http.post(&url).json(&json!({"name": "张三", "phones": ["13800001111"], "addresses": [{"address": "某路", "lat": 95.0, "lng": 120.0}]})).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let e: Value = r.json().await.unwrap();
        assert_eq!(e["error"]["field"], "addresses[0].lat");
        assert!(e["error"]["message"].as_str().unwrap().contains("纬度"));
        let r = http
            .post(&url)
            .header("accept-language", "en-US,en;q=0.9")
            .json(&json!({"name": "张三"}))
            .send()
            .await
            .unwrap();
        let e: Value = r.json().await.unwrap();
        assert_eq!(e["error"]["field"], "phones");
        assert_eq!(e["error"]["message"], "Phones: is required");
        let r = http
            .post(&url)
            .json(&json!({"name": "张三", "phones": "13800001111"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(r.json::<Value>().await.unwrap()["error"]["field"], "phones");
        assert_eq!(count(&s.app.db, "customers").await, before);
    }
);

db_test!(records_outside_the_scope_are_404, |db: Db| async move {
    let (app, _) = test_app(db);
    let f = seed(&app).await;
    let s = spawn_app(app).await;
    let (b, _) = bearer(&s, "clerk_b").await;
    for path in [
        format!("customers/{}", f.customer),
        format!("devices/{}", f.device),
        format!("devices/{}/history", f.device),
    ] {
        let r = b
            .get(format!("{}/api/v1/{path}", s.base))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "{path}");
    }
    let (a, _) = bearer(&s, "clerk_a").await;
    let h: Value = a
        .get(format!("{}/api/v1/devices/{}/history", s.base, f.device))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(h["card"]["warranty_today"], "in_warranty");
    assert_eq!(h["card"]["policy"]["main_parts"], json!(["压缩机"]));
    let r = b
        .get(format!("{}/api/v1/search?q=13812345678", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.json::<Value>().await.unwrap()["customers"], json!([]));
    // The audit log is for managers and admins.
    let r = a
        .get(format!(
            "{}/api/v1/audit?entity=customer&id={}",
            s.base, f.customer
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let (m, _) = bearer(&s, "manager1").await;
    let r: Value = m
        .get(format!(
            "{}/api/v1/audit?entity=customer&id={}",
            s.base, f.customer
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(r[0]["action"], "create");
    assert_eq!(r[0]["actor_name"], "clerk_a 测试");
});

db_test!(openapi_health_and_metrics, |db: Db| async move {
    let (app, _) = test_app(db);
    let s = spawn_app(app).await;
    let http = Client::new();
    let doc: Value = http
        .get(format!("{}/api/v1/openapi.json", s.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    for p in [
        "/api/v1/auth/login",
        "/api/v1/work-orders/{id}/transitions",
        "/api/v1/devices/{id}/history",
        "/api/v1/search",
        "/api/v1/audit",
    ] {
        assert!(
            doc["paths"].get(p).is_some(),
            "{p} missing from the OpenAPI document"
        );
    }
    assert!(doc["components"]["schemas"].get("WorkOrder").is_some());
    // The crate's own Path and Query extractors still document their parameters.
    let params = |path: &str, method: &str| -> Vec<(String, String)> {
        doc["paths"][path][method]["parameters"]
            .as_array()
            .unwrap_or(&vec![])
            .iter()
            .map(|p| {
                (
                    p["name"].as_str().unwrap_or("").to_string(),
                    p["in"].as_str().unwrap_or("").to_string(),
                )
            })
            .collect()
    };
    assert!(params("/api/v1/work-orders/{id}", "get").contains(&("id".into(), "path".into())));
    assert!(params("/api/v1/search", "get").contains(&("q".into(), "query".into())));
    let r = http
        .get(format!("{}/healthz", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let m = http
        .get(format!("{}/metrics", s.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(m.contains("shouhou_http_requests_total{class=\"2xx\"}"));
});

db_test!(dispatch_plan_commit_and_insert, |db: Db| async move {
    let (app, _) = test_app(db);
    let f = seed(&app).await;
    // Technician A works 08:30–17:30 Shanghai time on the test day.
    shouhou_testkit::fixture::test_day_shift(&app, &f, f.tech_a_id).await;
    let s = spawn_app(app).await;
    let (http, _) = bearer(&s, "dispatcher1").await;
    let mut ids = vec![];
    for _ in 0..3 {
        let r: Value = http
            .post(format!("{}/api/v1/work-orders", s.base))
            .json(&order_body(f.customer, f.device))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        ids.push(r["id"].as_i64().unwrap());
    }
    let r = http
        .post(format!("{}/api/v1/dispatch/plans", s.base))
        .json(&json!({"store_id": f.store_a, "date": "2026-03-10", "seconds": 1, "pins": [{"work_order_id": ids[2], "technician_id": f.tech_a_id}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let plan: Value = r.json().await.unwrap();
    assert_eq!(plan["status"], "proposed");
    let route = &plan["routes"][0];
    assert_eq!(route["technician_id"], f.tech_a_id);
    assert_eq!(route["stops"].as_array().unwrap().len(), 3);
    assert_eq!(plan["unassigned"], json!([]));
    // Nothing is assigned before the commit.
    let w: Value = http
        .get(format!("{}/api/v1/work-orders/{}", s.base, ids[0]))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(w["status"], "new");
    let id = plan["id"].as_i64().unwrap();
    let c: Value = http
        .post(format!("{}/api/v1/dispatch/plans/{id}/commit", s.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(c["status"], "committed");
    let mut seqs = vec![];
    for stop in c["routes"][0]["stops"].as_array().unwrap() {
        let w: Value = http
            .get(format!(
                "{}/api/v1/work-orders/{}",
                s.base, stop["work_order_id"]
            ))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(w["status"], "assigned");
        assert_eq!(w["technician_id"], f.tech_a_id);
        seqs.push(w["planned_seq"].as_i64().unwrap());
    }
    assert_eq!(seqs, [1, 2, 3]);
    // A second commit of the same plan is refused.
    let r = http
        .post(format!("{}/api/v1/dispatch/plans/{id}/commit", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    // A new urgent order goes into the committed day.
    let mut urgent = order_body(f.customer, f.device);
    urgent["priority"] = json!("urgent");
    let u: Value = http
        .post(format!("{}/api/v1/work-orders", s.base))
        .json(&urgent)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let uid = u["id"].as_i64().unwrap();
    let r = http
        .post(format!("{}/api/v1/dispatch/plans/{id}/insert", s.base))
        .json(&json!({"work_order_id": uid}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let p: Value = r.json().await.unwrap();
    assert_eq!(p["routes"][0]["stops"].as_array().unwrap().len(), 4);
    let w: Value = http
        .get(format!("{}/api/v1/work-orders/{uid}", s.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(w["status"], "assigned");
    assert!(w["planned_seq"].as_i64().is_some());
    // A clerk may not plan.
    let (clerk, _) = bearer(&s, "clerk_a").await;
    let r = clerk
        .post(format!("{}/api/v1/dispatch/plans", s.base))
        .json(&json!({"store_id": f.store_a, "date": "2026-03-10"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
});

async fn http_get_json(s: &TestServer, user: &str, path: &str) -> Value {
    let (http, _) = bearer(s, user).await;
    http.get(format!("{}{path}", s.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

db_test!(pages_login_desk_detail_and_intake, |db: Db| async move {
    let (app, _) = test_app(db);
    let f = seed(&app).await;
    let s = spawn_app(app).await;
    // The login page speaks the browser's language; a wrong password says so and signs nobody in.
    let anon = Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let zh = anon
        .get(format!("{}/login", s.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(zh.contains("用户名") && zh.contains("lang=\"zh-CN\""));
    let en = anon
        .get(format!("{}/login", s.base))
        .header("accept-language", "en")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(en.contains("Username") && en.contains("lang=\"en\""));
    let r = anon
        .post(format!("{}/login", s.base))
        .form(&[("username", "clerk_a"), ("password", "nope-nope")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert!(r.text().await.unwrap().contains("用户名或密码不对"));
    let r = anon.get(format!("{}/home", s.base)).send().await.unwrap();
    assert_eq!(r.headers().get("location").unwrap(), "/login");

    // A clerk's home is intake: search, pick the device, create the order.
    let (clerk, csrf) = page_login(&s, "clerk_a", "zh-CN").await;
    let r = clerk.get(format!("{}/home", s.base)).send().await.unwrap();
    assert_eq!(r.headers().get("location").unwrap(), "/intake");
    let hits = clerk
        .get(format!("{}/intake/search?q=5678", s.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(hits.contains("王小明"), "{hits}");
    let card = clerk
        .get(format!("{}/intake/devices/{}", s.base, f.device))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        card.contains("HR2501ABCD") && card.contains("保内"),
        "{card}"
    );
    let form = [
        ("customer_id", f.customer.to_string()),
        ("device_id", f.device.to_string()),
        ("kind", "repair_onsite".into()),
        ("priority", "urgent".into()),
        ("fault_description", "不制冷".into()),
    ];
    let r = clerk
        .post(format!("{}/intake/orders", s.base))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::FORBIDDEN,
        "a change without the CSRF token is refused"
    );
    let created = clerk
        .post(format!("{}/intake/orders", s.base))
        .header("x-csrf-token", &csrf)
        .form(&form)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(created.contains("WO-20260310-0001"), "{created}");
    let empty = [
        ("customer_id", f.customer.to_string()),
        ("kind", "repair_onsite".into()),
        ("priority", "normal".into()),
        ("fault_description", " ".into()),
    ];
    let refused = clerk
        .post(format!("{}/intake/orders", s.base))
        .header("x-csrf-token", &csrf)
        .form(&empty)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        refused.contains("data-field=\"fault_description\""),
        "{refused}"
    );

    // The dispatcher's desk lists it; the detail offers assign, and assigning works.
    let (disp, dcsrf) = page_login(&s, "dispatcher1", "en").await;
    let desk = disp
        .get(format!("{}/work-orders", s.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        desk.contains("WO-20260310-0001") && desk.contains("Work orders"),
        "{desk}"
    );
    let list: Value = disp
        .get(format!("{}/api/v1/work-orders", s.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = list["items"][0]["id"].as_i64().unwrap();
    let detail = disp
        .get(format!("{}/work-orders/{id}", s.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        detail.contains("id=\"action-assigned\"") && detail.contains("id=\"action-cancelled\"")
    );
    assert!(!detail.contains("id=\"action-completed\""));
    let r = disp
        .post(format!("{}/work-orders/{id}/transitions", s.base))
        .header("x-csrf-token", &dcsrf)
        .form(&[
            ("to", "assigned".to_string()),
            ("version", "1".into()),
            ("technician_id", f.tech_a_id.to_string()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers().get("hx-refresh").unwrap(), "true");
    // The desk filters by technician and store.
    let by_tech = disp
        .get(format!("{}/work-orders?technician={}", s.base, f.tech_a_id))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(by_tech.contains("WO-20260310-0001"));
    let other_store = disp
        .get(format!(
            "{}/work-orders?store={}&sort=arrive_by",
            s.base, f.store_b
        ))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!other_store.contains("WO-20260310-0001") && other_store.contains("id=\"no-rows\""));
    // A stale version shows who changed it instead of failing.
    let stale = disp
        .post(format!("{}/work-orders/{id}/transitions", s.base))
        .header("x-csrf-token", &dcsrf)
        .form(&[
            ("to", "cancelled".to_string()),
            ("version", "1".into()),
            ("reason", "test".into()),
        ])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        stale.contains("action-error") && stale.contains("dispatcher1"),
        "{stale}"
    );
    // The archive: the device page is the hub of its history; another store's clerk gets 404.
    let device_page = clerk
        .get(format!("{}/devices/{}", s.base, f.device))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        device_page.contains("WO-20260310-0001") && device_page.contains("压缩机"),
        "{device_page}"
    );
    let customers_page = clerk
        .get(format!("{}/customers", s.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(customers_page.contains("王小明"));
    // Editing a customer: a bad phone is refused beside the field and nothing changes.
    let form = clerk
        .get(format!("{}/customers/{}/edit", s.base, f.customer))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(form.contains("id=\"edit-phones\"") && form.contains("13812345678"));
    let bad = [
        ("name", "王小明"),
        ("phones", "13812345678, 999"),
        ("tier", "vip"),
        ("note", ""),
    ];
    let r = clerk
        .post(format!("{}/customers/{}", s.base, f.customer))
        .header("x-csrf-token", &csrf)
        .form(&bad)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        r.contains("id=\"edit-phones-error\"") && r.contains("电话号码格式不对"),
        "{r}"
    );
    let good = [
        ("name", "王小明"),
        ("phones", "13812345678, 0571-87654321"),
        ("tier", "vip"),
        ("note", "老客户"),
    ];
    let r = clerk
        .post(format!("{}/customers/{}", s.base, f.customer))
        .header("x-csrf-token", &csrf)
        .form(&good)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(r.contains("id=\"customer-saved\""), "{r}");
    let c: Value = http_get_json(&s, "clerk_a", &format!("/api/v1/customers/{}", f.customer)).await;
    assert_eq!(c["tier"], "vip");
    assert_eq!(c["phones"], json!(["13812345678", "0571-87654321"]));
    let (clerk_b, _) = page_login(&s, "clerk_b", "zh-CN").await;
    let r = clerk_b
        .get(format!("{}/devices/{}", s.base, f.device))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let other = clerk_b
        .get(format!("{}/customers", s.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!other.contains("王小明"));
    // The manager's home counts it among the open orders.
    let (mgr, _) = page_login(&s, "manager1", "zh-CN").await;
    let home = mgr
        .get(format!("{}/home", s.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(home.contains("id=\"count-open\">1<"), "{home}");
});

db_test!(board_plans_again_with_pins, |db: Db| async move {
    let (app, _) = test_app(db);
    let f = seed(&app).await;
    // Technician A works 08:30–17:30 Shanghai time on the test day.
    shouhou_testkit::fixture::test_day_shift(&app, &f, f.tech_a_id).await;
    let s = spawn_app(app).await;
    let (api, _) = bearer(&s, "dispatcher1").await;
    let mut ids = vec![];
    for _ in 0..2 {
        let r: Value = api
            .post(format!("{}/api/v1/work-orders", s.base))
            .json(&order_body(f.customer, f.device))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        ids.push(r["id"].as_i64().unwrap());
    }
    let (http, csrf) = page_login(&s, "dispatcher1", "zh-CN").await;
    let store = f.store_a.to_string();
    // First proposal: nothing pinned, each stop offers a pin per technician.
    let html = http
        .post(format!("{}/dispatch/plan", s.base))
        .header("x-csrf-token", &csrf)
        .form(&[("store", store.as_str()), ("date", "2026-03-10")])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains(&format!("id=\"pin-{}\"", ids[0])), "{html}");
    assert!(html.contains("id=\"replan\""));
    assert!(!html.contains("selected>固定给"));
    // Each technician's time bar has one block per planned stop.
    let stops = html.matches("class=\"stop-pin\"").count();
    assert!(stops > 0, "{html}");
    assert_eq!(
        html.matches("class=\"timebar-block\"").count(),
        stops,
        "{html}"
    );
    // Again with the second order pinned to technician A: the pin is kept and shown.
    let pin = format!("{}:{}", ids[1], f.tech_a_id);
    let free = format!("{}:", ids[0]);
    let html = http
        .post(format!("{}/dispatch/plan", s.base))
        .header("x-csrf-token", &csrf)
        .form(&[
            ("store", store.as_str()),
            ("date", "2026-03-10"),
            ("pin", free.as_str()),
            ("pin", pin.as_str()),
        ])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains(&format!("value=\"{pin}\" selected")),
        "pinned option selected"
    );
    assert!(!html.contains("plan-error"));
    // A pin to a technician who lacks the skill is refused with a message, nothing planned.
    let bad = format!("{}:{}", ids[0], f.tech_b_id);
    let html = http
        .post(format!("{}/dispatch/plan", s.base))
        .header("x-csrf-token", &csrf)
        .form(&[
            ("store", store.as_str()),
            ("date", "2026-03-10"),
            ("pin", bad.as_str()),
        ])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("plan-error"), "{html}");
});

/// An order of the fixture's device, assigned to tech_a and brought on site by tech_a.
async fn on_site_order(s: &TestServer, f: &shouhou_testkit::Fixture) -> i64 {
    let (disp, _) = bearer(s, "dispatcher1").await;
    let w: Value = disp
        .post(format!("{}/api/v1/work-orders", s.base))
        .json(&order_body(f.customer, f.device))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = w["id"].as_i64().unwrap();
    let url = format!("{}/api/v1/work-orders/{id}/transitions", s.base);
    let r = disp
        .post(&url)
        .json(&json!({"to": "assigned", "technician_id": f.tech_a_id}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let (tech, _) = bearer(s, "tech_a").await;
    for body in [
        json!({"to": "accepted"}),
        json!({"to": "en_route"}),
        json!({"to": "on_site", "lat": 30.28, "lng": 120.17}),
    ] {
        let r = tech.post(&url).json(&body).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{body}");
    }
    id
}

/// A PNG of `w`×`h` pixels of noise (it does not compress: about 3 bytes a pixel).
fn noise_png(w: u32, h: u32) -> Vec<u8> {
    let mut x: u32 = 2463534242;
    let img = image::RgbImage::from_fn(w, h, |_, _| {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        let [a, b, c, _] = x.to_le_bytes();
        image::Rgb([a, b, c])
    });
    let mut out = std::io::Cursor::new(Vec::new());
    image::DynamicImage::ImageRgb8(img)
        .write_to(&mut out, image::ImageFormat::Png)
        .unwrap();
    out.into_inner()
}

/// Sends a POST of `len` bytes by hand, with `Content-Length` or in chunks, while reading the
/// answer (the server may answer before it has read everything). Returns the status line, the
/// headers and the body.
fn raw_post(
    base: &str,
    path: &str,
    headers: &[(&str, &str)],
    len: usize,
    chunked: bool,
) -> (u16, String, String) {
    use std::io::{Read, Write};
    let addr = base.trim_start_matches("http://").to_string();
    let stream = std::net::TcpStream::connect(&addr).unwrap();
    let mut writer = stream.try_clone().unwrap();
    let mut head =
        format!("POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n");
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    if chunked {
        head.push_str("Transfer-Encoding: chunked\r\n\r\n");
    } else {
        head.push_str(&format!("Content-Length: {len}\r\n\r\n"));
    }
    let send = std::thread::spawn(move || {
        let _ = writer.write_all(head.as_bytes());
        let block = vec![b' '; 64 * 1024];
        let mut left = len;
        while left > 0 {
            let n = left.min(block.len());
            let ok = if chunked {
                writer.write_all(format!("{n:x}\r\n").as_bytes()).is_ok()
                    && writer.write_all(&block[..n]).is_ok()
                    && writer.write_all(b"\r\n").is_ok()
            } else {
                writer.write_all(&block[..n]).is_ok()
            };
            if !ok {
                return;
            }
            left -= n;
        }
        if chunked {
            let _ = writer.write_all(b"0\r\n\r\n");
        }
    });
    let mut reader = stream;
    reader
        .set_read_timeout(Some(std::time::Duration::from_secs(60)))
        .unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 8192];
    let (status, head, body) = loop {
        match reader.read(&mut buf) {
            Ok(0) | Err(_) => panic!(
                "the server closed without a whole answer: {:?}",
                String::from_utf8_lossy(&got)
            ),
            Ok(n) => got.extend_from_slice(&buf[..n]),
        }
        let text = String::from_utf8_lossy(&got).to_string();
        let Some((head, body)) = text.split_once("\r\n\r\n") else {
            continue;
        };
        let length = head
            .lines()
            .find_map(|l| {
                let (k, v) = l.split_once(':')?;
                k.eq_ignore_ascii_case("content-length")
                    .then(|| v.trim().parse::<usize>().ok())?
            })
            .unwrap_or(0);
        if body.len() >= length {
            let status = head.split(' ').nth(1).unwrap().parse().unwrap();
            break (status, head.to_string(), body[..length].to_string());
        }
    };
    let _ = reader.shutdown(std::net::Shutdown::Both);
    let _ = send.join();
    (status, head, body)
}

db_test!(one_body_limit_answers_413_in_json, |db: Db| async move {
    let (app, _) = test_app(db);
    let f = seed(&app).await;
    let s = spawn_app(app).await;
    // A 3 MB photo is taken: the limit is the documented 8 MB, not axum's 2 MB.
    let id = on_site_order(&s, &f).await;
    let photo = noise_png(1024, 1024);
    assert!(
        photo.len() > 3_000_000 && photo.len() < 8 * 1024 * 1024,
        "{}",
        photo.len()
    );
    let (tech, token) = bearer(&s, "tech_a").await;
    let r = tech
        .post(format!(
            "{}/api/v1/work-orders/{id}/photos?key=big-1",
            s.base
        ))
        .header("content-type", "image/png")
        .body(photo)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    let customers = count(&s.app.db, "customers").await;
    let auth = format!("Bearer {token}");
    // 9 MB announced with Content-Length, 20 MB in chunks (with and without an
    // Idempotency-Key): 413 and the JSON error body in the user's language.
    for (len, chunked, lang, key) in [
        (9 * 1024 * 1024, false, "zh-CN", None),
        (20 * 1024 * 1024, true, "en", None),
        (20 * 1024 * 1024, true, "zh-CN", Some("big-body-1")),
    ] {
        let base = s.base.clone();
        let mut headers = vec![
            ("Authorization", auth.clone()),
            ("Accept-Language", lang.to_string()),
        ];
        if let Some(k) = key {
            headers.push(("Idempotency-Key", k.to_string()));
        }
        let (status, head, body) = tokio::task::spawn_blocking(move || {
            let h: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
            raw_post(&base, "/api/v1/customers", &h, len, chunked)
        })
        .await
        .unwrap();
        assert_eq!(status, 413, "{len} chunked={chunked}: {head}\n{body}");
        assert!(
            head.to_ascii_lowercase()
                .contains("content-type: application/json"),
            "{head}"
        );
        let e: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(e["error"]["code"], "payload_too_large", "{e}");
        let msg = e["error"]["message"].as_str().unwrap();
        if lang == "en" {
            assert!(msg.contains("too large") && msg.contains("8 MB"), "{msg}");
        } else {
            assert!(msg.contains("太大") && msg.contains("8 MB"), "{msg}");
        }
    }
    assert_eq!(count(&s.app.db, "customers").await, customers);
    // A page's form post over the limit, announced or chunked, gets the same answer.
    let r = Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .post(format!("{}/login", s.base))
        .form(&[("username", "clerk_a"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    let pairs: Vec<String> = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().split(';').next().unwrap().to_string())
        .collect();
    let csrf = pairs
        .iter()
        .find_map(|c| c.strip_prefix("shouhou_csrf="))
        .unwrap()
        .to_string();
    let cookie = pairs.join("; ");
    for chunked in [false, true] {
        let (base, cookie, csrf) = (s.base.clone(), cookie.clone(), csrf.clone());
        let (status, head, body) = tokio::task::spawn_blocking(move || {
            let h = [("Cookie", cookie.as_str()), ("X-CSRF-Token", csrf.as_str())];
            raw_post(&base, "/intake/customers", &h, 9 * 1024 * 1024, chunked)
        })
        .await
        .unwrap();
        assert_eq!(status, 413, "chunked={chunked}: {head}\n{body}");
        let e: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(e["error"]["code"], "payload_too_large");
    }
});

db_test!(
    control_characters_are_refused_naming_the_field,
    |db: Db| async move {
        let (app, _) = test_app(db);
        seed(&app).await;
        let s = spawn_app(app).await;
        let (http, _) = bearer(&s, "clerk_a").await;
        let error = |r: reqwest::Response| async move {
            let st = r.status();
            let e: Value = r.json().await.unwrap();
            assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
            assert_eq!(e["error"]["code"], "validation", "{e}");
            e
        };
        // The search query.
        let e = error(
            http.get(format!("{}/api/v1/search?q=%00x", s.base))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(e["error"]["field"], "q");
        assert!(
            e["error"]["message"]
                .as_str()
                .unwrap()
                .starts_with("搜索词："),
            "{e}"
        );
        // A customer's name and an address: nothing is stored.
        let before = count(&s.app.db, "customers").await;
        let url = format!("{}/api/v1/customers", s.base);
        let e = error(
            http.post(&url)
                .json(&json!({"name": "张\u{0}三", "phones": ["13800001111"]}))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(e["error"]["field"], "name");
        let e = error(
        http.post(&url)
            .header("accept-language", "en")
            .json(&json!({"name": "张三", "phones": ["13800001111"],
                "addresses": [{"address": "某路 1 号", "lat": 30.2, "lng": 120.1}, {"address": "某路\u{0}2 号", "lat": 30.2, "lng": 120.1}]}))
            .send()
            .await
            .unwrap(),
    )
    .await;
        assert_eq!(e["error"]["field"], "addresses[1].address");
        assert!(
            e["error"]["message"]
                .as_str()
                .unwrap()
                .starts_with("Address 2 address: contains an invisible control character"),
            "{e}"
        );
        assert_eq!(count(&s.app.db, "customers").await, before);
        // Line breaks in a note are kept; a trailing line break in a name is cleaned away.
        let r = http
            .post(&url)
            .json(
                &json!({"name": "王五\n", "phones": ["13800002222"], "note": "第一行\r\n\t第二行"}),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::CREATED);
        let c: Value = r.json().await.unwrap();
        assert_eq!(c["name"], "王五");
        // A path segment and a page's form post.
        let e = error(
            Client::new()
                .get(format!("{}/s/%00abc", s.base))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(e["error"]["field"], "token");
        let (page, csrf) = page_login(&s, "clerk_a", "zh-CN").await;
        let e = error(
            page.post(format!("{}/intake/customers", s.base))
                .header("x-csrf-token", &csrf)
                .form(&[
                    ("name", "李\u{0}四"),
                    ("phone", "13800003333"),
                    ("address", "某路"),
                    ("lat", "30.2"),
                    ("lng", "120.1"),
                ])
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(e["error"]["field"], "name");
        assert_eq!(count(&s.app.db, "customers").await, before + 1);
    }
);

db_test!(
    pages_send_security_headers_and_host_cookies,
    |db: Db| async move {
        use tower::ServiceExt;
        let (app, _) = test_app(db);
        seed(&app).await;
        let s = spawn_app(app.clone()).await;
        let (page, _) = page_login(&s, "dispatcher1", "zh-CN").await;
        for path in ["/login", "/work-orders", "/api/v1/openapi.json"] {
            let r = page.get(format!("{}{path}", s.base)).send().await.unwrap();
            assert_eq!(r.status(), StatusCode::OK, "{path}");
            let h = r.headers();
            assert_eq!(h["x-frame-options"], "DENY", "{path}");
            assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
            assert_eq!(h["referrer-policy"], "same-origin", "{path}");
            let csp = h["content-security-policy"].to_str().unwrap();
            for part in [
                "default-src 'self'",
                "script-src 'self';",
                "frame-ancestors 'none'",
                "object-src 'none'",
            ] {
                assert!(csp.contains(part), "{path}: {csp}");
            }
            assert!(
                !csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"),
                "{csp}"
            );
        }
        // The pages carry no inline script or style for the policy to refuse.
        let html = page
            .get(format!("{}/work-orders", s.base))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            !html.contains("<script>") && !html.contains("style=") && !html.contains("onclick"),
            "{html}"
        );
        // Over HTTPS the cookies are `__Host-` cookies, and the session is read under that name.
        let mut state = shouhou_web::AppState::new(app);
        state.secure_cookies = true;
        let router = shouhou_web::router(state);
        let login = axum::http::Request::post("/login")
            .header("content-type", "application/x-www-form-urlencoded")
            .body(axum::body::Body::from(format!(
                "username=clerk_a&password={PASSWORD}"
            )))
            .unwrap();
        let r = router.clone().oneshot(login).await.unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        let cookies: Vec<String> = r
            .headers()
            .get_all("set-cookie")
            .iter()
            .map(|v| v.to_str().unwrap().to_string())
            .collect();
        let session = cookies
            .iter()
            .find(|c| c.starts_with("__Host-shouhou_session="))
            .unwrap_or_else(|| panic!("{cookies:?}"));
        assert!(
            session.contains("; Secure")
                && session.contains("Path=/")
                && !session.contains("Domain")
        );
        assert!(cookies
            .iter()
            .any(|c| c.starts_with("__Host-shouhou_csrf=") && c.contains("; Secure")));
        let pair = session.split(';').next().unwrap().to_string();
        let home = axum::http::Request::get("/work-orders")
            .header("cookie", pair)
            .body(axum::body::Body::empty())
            .unwrap();
        let r = router.oneshot(home).await.unwrap();
        assert_eq!(
            r.status(),
            StatusCode::OK,
            "signed in under the __Host- name"
        );
    }
);

db_test!(query_path_and_route_errors_are_json, |db: Db| async move {
    let (app, _) = test_app(db);
    let f = seed(&app).await;
    let s = spawn_app(app).await;
    let (http, _) = bearer(&s, "dispatcher1").await;
    let get = |path: String, lang: &'static str| {
        let http = http.clone();
        let url = format!("{}{path}", s.base);
        async move {
            let r = http
                .get(url)
                .header("accept-language", lang)
                .send()
                .await
                .unwrap();
            let st = r.status();
            assert_eq!(r.headers()["content-type"], "application/json", "{st}");
            (st, r.json::<Value>().await.unwrap())
        }
    };
    // A missing query parameter, a malformed one, a path segment that is not a number.
    let shifts = format!("/api/v1/technicians/{}/shifts", f.tech_a_id);
    let (st, e) = get(format!("{shifts}?to=2026-03-10"), "zh-CN").await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(e["error"]["field"], "from");
    assert_eq!(e["error"]["message"], "开始日期：必填，请填写");
    let (_, e) = get(format!("{shifts}?to=2026-03-10"), "en").await;
    assert_eq!(e["error"]["message"], "From: is required");
    let (st, e) = get(format!("{shifts}?from=2026-03&to=2026-03-10"), "zh-CN").await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(e["error"]["field"], "from");
    let msg = e["error"]["message"].as_str().unwrap();
    assert!(msg.starts_with("开始日期：日期或时间格式不对"), "{msg}");
    let (st, e) = get("/api/v1/work-orders?limit=many".into(), "en").await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(e["error"]["field"], "limit");
    assert_eq!(e["error"]["message"], "Limit: expected a whole number");
    let (st, e) = get("/api/v1/work-orders/abc".into(), "zh-CN").await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(e["error"]["field"], "id");
    assert_eq!(e["error"]["message"], "编号：应为整数");
    // No such route: 404 with the JSON error body; a wrong method: 405.
    let (st, e) = get("/api/v1/nope".into(), "zh-CN").await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    assert_eq!(e["error"]["code"], "unknown_route");
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .contains("没有这个地址"),
        "{e}"
    );
    let (_, e) = get("/api/v1/nope".into(), "en").await;
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("There is nothing at this address"),
        "{e}"
    );
    let r = http
        .delete(format!("{}/api/v1/search", s.base))
        .header("accept-language", "en")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert!(r.headers().contains_key("allow"));
    assert_eq!(
        r.json::<Value>().await.unwrap()["error"]["code"],
        "method_not_allowed"
    );
    // An unknown page is a page.
    let r = Client::new()
        .get(format!("{}/nope", s.base))
        .header("accept-language", "en")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("id=\"not-found\"") && html.contains("Page not found"),
        "{html}"
    );
});

db_test!(
    validation_messages_read_as_the_user_sees_the_field,
    |db: Db| async move {
        let (app, _) = test_app(db);
        seed(&app).await;
        let s = spawn_app(app).await;
        let (http, _) = bearer(&s, "clerk_a").await;
        let url = format!("{}/api/v1/customers", s.base);
        let message = |body: String| {
            let (http, url) = (http.clone(), url.clone());
            async move {
                let r = http
                    .post(url)
                    .header("content-type", "application/json")
                    .body(body)
                    .send()
                    .await
                    .unwrap();
                assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
                let e: Value = r.json().await.unwrap();
                (
                    e["error"]["field"].as_str().unwrap().to_string(),
                    e["error"]["message"].as_str().unwrap().to_string(),
                )
            }
        };
        let latin = |m: &str| m.chars().any(|c| c.is_ascii_alphabetic());
        // A value out of range and a value of the wrong type: the field by its label, no serde text.
        let (field, msg) = message(json!({"name": "张三", "phones": ["13800001111"], "addresses": [{"address": "某路", "lat": 95.0, "lng": 120.0}]}).to_string()).await;
        assert_eq!(field, "addresses[0].lat");
        assert_eq!(msg, "地址 1 的纬度：纬度必须在 -90 到 90 之间");
        let (field, msg) = message(json!({"name": "张三", "phones": ["13800001111"], "addresses": [{"address": "某路", "lat": "北纬三十", "lng": 120.0}]}).to_string()).await;
        assert_eq!(field, "addresses[0].lat");
        assert_eq!(msg, "地址 1 的纬度：应为数字");
        assert!(!latin(&msg), "{msg}");
        // A body cut short: what is wrong, in Chinese.
        let (field, msg) = message(r#"{"name": "张三", "phones": ["#.into()).await;
        assert_eq!(field, "body");
        assert_eq!(msg, "请求正文：不是完整的 JSON（内容在中途结束）");
        // A reference names its record.
        let (field, msg) = message(
            json!({"name": "张三", "phones": ["13800001111"], "org_unit_id": 999999}).to_string(),
        )
        .await;
        assert_eq!(field, "org_unit_id");
        assert!(msg.starts_with("所属机构：找不到这个所属机构"), "{msg}");
    }
);
