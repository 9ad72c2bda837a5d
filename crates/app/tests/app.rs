//! Use cases on both databases (SQLite always, PostgreSQL with TEST_DATABASE_URL).

use chrono::Duration;
use shouhou_app::customers::{CustomerPatch, NewCustomer};
use shouhou_app::work_orders::{self as wo, NewWorkOrder, Transition, WorkOrderPatch};
use shouhou_app::AppError;
use shouhou_domain::{
    DomainError, Priority, Role, Status, VisitOutcome, WarrantyDecision, WorkOrderType,
};
use shouhou_store::repo::Page;
use shouhou_store::Db;
use shouhou_testkit::{days_ago, db_test, seed, test_app};

fn new_order(f: &shouhou_testkit::Fixture, kind: WorkOrderType) -> NewWorkOrder {
    NewWorkOrder {
        customer_id: f.customer,
        device_id: Some(f.device),
        address_id: None,
        kind,
        channel: None,
        priority: None,
        fault_description: "不制冷".into(),
        appointment_start: None,
        appointment_end: None,
        org_unit_id: None,
    }
}

fn to(s: Status) -> Transition {
    Transition {
        to: s,
        technician_id: None,
        partner_unit_id: None,
        reason: None,
        note: None,
        lat: None,
        lng: None,
        outcome: None,
    }
}

db_test!(creation_numbers_sla_and_warranty, |db: Db| async move {
    let (app, _) = test_app(db);
    let f = seed(&app).await;
    let mut n = new_order(&f, WorkOrderType::RepairOnsite);
    n.priority = Some(Priority::Urgent);
    let w = wo::create(&app, &f.clerk_a, n).await.unwrap();
    assert_eq!(w.number, "WO-20260310-0001");
    assert_eq!(w.status, Status::New);
    assert_eq!(w.respond_by - w.created_at, Duration::minutes(30));
    assert_eq!(w.arrive_by - w.created_at, Duration::hours(4));
    assert_eq!(w.resolve_by - w.created_at, Duration::hours(24));
    assert_eq!(w.warranty_decision, WarrantyDecision::InWarranty);
    let w2 = wo::create(&app, &f.clerk_a, new_order(&f, WorkOrderType::Install))
        .await
        .unwrap();
    assert_eq!(w2.number, "WO-20260310-0002");
    // A normal order counts working hours (Monday to Friday, 08:30–18:00 Shanghai): created
    // Tuesday 10 March at 10:00, 72 working hours run to Thursday 19 March 15:30.
    assert_eq!(w2.respond_by - w2.created_at, Duration::hours(2));
    assert_eq!(
        w2.resolve_by,
        "2026-03-19T07:30:00Z"
            .parse::<chrono::DateTime<chrono::Utc>>()
            .unwrap()
    );
});

db_test!(
    warranty_decision_follows_the_purchase_date,
    |db: Db| async move {
        let (app, _) = test_app(db);
        let f = seed(&app).await;
        let mut decisions = vec![];
        for (serial, days) in [("HRMAIN0001", 500), ("HROUT00001", 1200)] {
            let d = shouhou_app::devices::create(
                &app,
                &f.clerk_a,
                shouhou_app::devices::NewDevice {
                    customer_id: f.customer,
                    product_id: f.product,
                    serial: serial.into(),
                    site_address_id: None,
                    purchase_date: days_ago(&app, days),
                    purchase_store_id: None,
                    install_date: None,
                    policy_id: f.policy,
                },
            )
            .await
            .unwrap();
            let mut n = new_order(&f, WorkOrderType::RepairOnsite);
            n.device_id = Some(d.id);
            decisions.push(
                wo::create(&app, &f.clerk_a, n)
                    .await
                    .unwrap()
                    .warranty_decision,
            );
        }
        assert_eq!(
            decisions,
            vec![
                WarrantyDecision::MainPartsOnly,
                WarrantyDecision::OutOfWarranty
            ]
        );
    }
);

db_test!(
    the_whole_lifecycle_records_visits_and_events,
    |db: Db| async move {
        let (app, clock) = test_app(db);
        let f = seed(&app).await;
        let w = wo::create(&app, &f.clerk_a, new_order(&f, WorkOrderType::RepairOnsite))
            .await
            .unwrap();
        let mut t = to(Status::Assigned);
        t.technician_id = Some(f.tech_a_id);
        wo::transition(&app, &f.dispatcher, w.id, None, t)
            .await
            .unwrap();
        let tick = |m| clock.set(app.now() + Duration::minutes(m));
        tick(10);
        wo::transition(&app, &f.tech_a, w.id, None, to(Status::Accepted))
            .await
            .unwrap();
        tick(30);
        wo::transition(&app, &f.tech_a, w.id, None, to(Status::EnRoute))
            .await
            .unwrap();
        tick(40);
        let mut arrive = to(Status::OnSite);
        arrive.lat = Some(30.281);
        arrive.lng = Some(120.171);
        wo::transition(&app, &f.tech_a, w.id, None, arrive)
            .await
            .unwrap();
        tick(60);
        let mut wp = to(Status::WaitingParts);
        wp.outcome = Some(VisitOutcome::NeedsParts);
        wo::transition(&app, &f.tech_a, w.id, None, wp)
            .await
            .unwrap();
        // Back to dispatch: a new visit with the same technician.
        wo::transition(&app, &f.dispatcher, w.id, None, to(Status::Assigned))
            .await
            .unwrap();
        for s in [Status::Accepted, Status::EnRoute, Status::OnSite] {
            tick(20);
            wo::transition(&app, &f.tech_a, w.id, None, to(s))
                .await
                .unwrap();
        }
        // No completion without a service report on the visit.
        let e = wo::transition(&app, &f.tech_a, w.id, None, to(Status::Completed))
            .await
            .unwrap_err();
        assert_eq!(e.field(), Some("work_done"), "{e:?}");
        shouhou_app::service::save_report(
            &app,
            &f.tech_a,
            w.id,
            shouhou_app::service::ReportInput {
                findings: Some("压缩机启动电容失效".into()),
                work_done: Some("更换启动电容，试机正常".into()),
                labour_minutes: Some(40),
            },
        )
        .await
        .unwrap();
        tick(20);
        wo::transition(&app, &f.tech_a, w.id, None, to(Status::Completed))
            .await
            .unwrap();
        wo::transition(&app, &f.manager, w.id, None, to(Status::Reviewed))
            .await
            .unwrap();
        let done = wo::transition(&app, &f.manager, w.id, None, to(Status::Closed))
            .await
            .unwrap();
        assert_eq!(done.status, Status::Closed);
        assert!(
            done.completed_at.is_some() && done.accepted_at.is_some() && done.reviewed_at.is_some()
        );
        let visits = wo::visits(&app, &f.manager, w.id, Page::LARGEST)
            .await
            .unwrap()
            .items;
        assert_eq!(visits.len(), 2);
        assert_eq!(visits[0].outcome.0, Some(VisitOutcome::NeedsParts));
        assert_eq!(visits[0].arrived_lat, Some(30.281));
        assert_eq!(visits[1].outcome.0, Some(VisitOutcome::Fixed));
        assert!(visits
            .iter()
            .all(|v| v.left_at.is_some() && v.arrived_at.is_some()));
        let events = wo::events(&app, &f.manager, w.id, Page::LARGEST)
            .await
            .unwrap();
        assert_eq!(events.total, 13);
        let events = events.items;
        assert_eq!(events.len(), 13);
        assert_eq!(events[4].to_status, "on_site");
        assert_eq!(events[4].lat, Some(30.281));
        assert_eq!(events[4].actor_id, f.tech_a.id());
    }
);

db_test!(
    illegal_transitions_are_refused_and_change_nothing,
    |db: Db| async move {
        let (app, _) = test_app(db);
        let f = seed(&app).await;
        let w = wo::create(&app, &f.clerk_a, new_order(&f, WorkOrderType::RepairOnsite))
            .await
            .unwrap();
        let e = wo::transition(&app, &f.dispatcher, w.id, None, to(Status::Completed))
            .await
            .unwrap_err();
        assert!(matches!(
            e,
            AppError::Domain(DomainError::IllegalTransition {
                from: Status::New,
                to: Status::Completed
            })
        ));
        // Cancelling needs a reason.
        let e = wo::transition(&app, &f.clerk_a, w.id, None, to(Status::Cancelled))
            .await
            .unwrap_err();
        assert_eq!(e.field(), Some("reason"));
        let again = wo::get(&app, &f.clerk_a, w.id).await.unwrap();
        assert_eq!((again.status, again.version), (Status::New, 1));
        assert_eq!(
            wo::events(&app, &f.clerk_a, w.id, Page::LARGEST)
                .await
                .unwrap()
                .total,
            1
        );
        // A technician cannot assign.
        let mut t = to(Status::Assigned);
        t.technician_id = Some(f.tech_a_id);
        assert!(matches!(
            wo::transition(&app, &f.tech_a, w.id, None, t).await,
            Err(AppError::NotFound | AppError::Forbidden)
        ));
    }
);

db_test!(assignment_checks_skills, |db: Db| async move {
    let (app, _) = test_app(db);
    let f = seed(&app).await;
    let w = wo::create(&app, &f.clerk_a, new_order(&f, WorkOrderType::RepairOnsite))
        .await
        .unwrap();
    let mut t = to(Status::Assigned);
    t.technician_id = Some(f.tech_b_id); // copier only; the device is a fridge
    let e = wo::transition(&app, &f.dispatcher, w.id, None, t)
        .await
        .unwrap_err();
    assert_eq!(e.field(), Some("technician_id"));
    let mut t = to(Status::Assigned);
    t.partner_unit_id = Some(f.partner_unit);
    let w = wo::transition(&app, &f.dispatcher, w.id, None, t)
        .await
        .unwrap();
    assert_eq!(w.partner_unit_id, Some(f.partner_unit));
    // The partner sees and works it; the technician of store A does not see it.
    assert!(wo::get(&app, &f.partner, w.id).await.is_ok());
    assert!(matches!(
        wo::get(&app, &f.tech_a, w.id).await,
        Err(AppError::NotFound)
    ));
    wo::transition(&app, &f.partner, w.id, None, to(Status::Accepted))
        .await
        .unwrap();
});

db_test!(scoping_hides_other_units_everywhere, |db: Db| async move {
    let (app, _) = test_app(db);
    let f = seed(&app).await;
    let w = wo::create(&app, &f.clerk_a, new_order(&f, WorkOrderType::RepairOnsite))
        .await
        .unwrap();
    // Clerk B (another store) sees nothing of store A.
    assert!(matches!(
        shouhou_app::customers::get(&app, &f.clerk_b, f.customer).await,
        Err(AppError::NotFound)
    ));
    assert!(matches!(
        shouhou_app::devices::get(&app, &f.clerk_b, f.device).await,
        Err(AppError::NotFound)
    ));
    assert!(matches!(
        wo::get(&app, &f.clerk_b, w.id).await,
        Err(AppError::NotFound)
    ));
    let page = Page {
        limit: 50,
        offset: 0,
    };
    assert_eq!(
        wo::list(&app, &f.clerk_b, &Default::default(), page)
            .await
            .unwrap()
            .total,
        0
    );
    let none = shouhou_app::customers::list(&app, &f.clerk_b, None, page)
        .await
        .unwrap();
    assert!(none.items.is_empty());
    assert_eq!(none.total, 0);
    let hits = shouhou_app::search::lookup(&app, &f.clerk_b, "12345678", 20)
        .await
        .unwrap();
    assert!(hits.customers.is_empty());
    // Head office and store A see it.
    assert_eq!(
        shouhou_app::search::lookup(&app, &f.manager, "12345678", 20)
            .await
            .unwrap()
            .customers
            .len(),
        1
    );
    assert_eq!(
        wo::list(&app, &f.clerk_a, &Default::default(), page)
            .await
            .unwrap()
            .total,
        1
    );
    // A technician sees only its own orders and their customers.
    assert_eq!(
        wo::list(&app, &f.tech_a, &Default::default(), page)
            .await
            .unwrap()
            .total,
        0
    );
    assert!(matches!(
        shouhou_app::customers::get(&app, &f.tech_a, f.customer).await,
        Err(AppError::NotFound)
    ));
    let mut t = to(Status::Assigned);
    t.technician_id = Some(f.tech_a_id);
    wo::transition(&app, &f.dispatcher, w.id, None, t)
        .await
        .unwrap();
    assert_eq!(
        wo::list(&app, &f.tech_a, &Default::default(), page)
            .await
            .unwrap()
            .total,
        1
    );
    assert!(shouhou_app::customers::get(&app, &f.tech_a, f.customer)
        .await
        .is_ok());
});

db_test!(
    lookup_finds_phone_serial_name_and_address_fragments,
    |db: Db| async move {
        let (app, _) = test_app(db);
        let f = seed(&app).await;
        let m = &f.manager;
        let one = |r: shouhou_store::search::SearchResult| (r.customers.len(), r.devices.len());
        assert_eq!(
            one(shouhou_app::search::lookup(&app, m, "2345", 20)
                .await
                .unwrap()),
            (1, 0)
        );
        assert_eq!(
            one(shouhou_app::search::lookup(&app, m, "01ab", 20)
                .await
                .unwrap()),
            (0, 1)
        );
        assert_eq!(
            one(shouhou_app::search::lookup(&app, m, "小明", 20)
                .await
                .unwrap()),
            (1, 0)
        );
        assert_eq!(
            one(shouhou_app::search::lookup(&app, m, "凤起路", 20)
                .await
                .unwrap()),
            (1, 0)
        );
        assert_eq!(
            one(shouhou_app::search::lookup(&app, m, "9999", 20)
                .await
                .unwrap()),
            (0, 0)
        );
        assert!(shouhou_app::search::lookup(&app, m, "123", 20)
            .await
            .is_err());
        // A renamed customer is found under the new name only.
        shouhou_app::customers::update(
            &app,
            &f.clerk_a,
            f.customer,
            None,
            CustomerPatch {
                name: Some("李大红".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        assert_eq!(
            one(shouhou_app::search::lookup(&app, m, "小明", 20)
                .await
                .unwrap()),
            (0, 0)
        );
        assert_eq!(
            one(shouhou_app::search::lookup(&app, m, "大红", 20)
                .await
                .unwrap()),
            (1, 0)
        );
    }
);

db_test!(audit_records_who_and_what_changed, |db: Db| async move {
    let (app, _) = test_app(db);
    let f = seed(&app).await;
    shouhou_app::customers::update(
        &app,
        &f.clerk_a,
        f.customer,
        None,
        CustomerPatch {
            name: Some("王大明".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let trail = shouhou_app::audit::trail(&app, &f.manager, "customer", f.customer, Page::LARGEST)
        .await
        .unwrap();
    assert_eq!(trail.total, 2);
    let trail = trail.items;
    assert_eq!(trail[0].action, "create");
    assert_eq!(trail[1].action, "update");
    assert_eq!(trail[1].actor_id, Some(f.clerk_a.id()));
    assert_eq!(
        trail[1].changes.0["name"],
        serde_json::json!(["王小明", "王大明"])
    );
    assert!(trail[1].changes.0.get("tier").is_none());
    // Transitions are audited too.
    let w = wo::create(&app, &f.clerk_a, new_order(&f, WorkOrderType::RepairOnsite))
        .await
        .unwrap();
    let mut t = to(Status::Cancelled);
    t.reason = Some("客户已自行解决".into());
    wo::transition(&app, &f.clerk_a, w.id, None, t)
        .await
        .unwrap();
    let trail = shouhou_app::audit::trail(&app, &f.manager, "work_order", w.id, Page::LARGEST)
        .await
        .unwrap()
        .items;
    assert_eq!(
        trail.last().unwrap().changes.0["status"],
        serde_json::json!(["new", "cancelled"])
    );
    // Clerks may not read the audit log.
    assert!(matches!(
        shouhou_app::audit::trail(&app, &f.clerk_a, "customer", f.customer, Page::LARGEST).await,
        Err(AppError::Forbidden)
    ));
});

db_test!(bad_input_stores_nothing, |db: Db| async move {
    let (app, _) = test_app(db.clone());
    let f = seed(&app).await;
    let (before,): (i64,) = db
        .fetch_one("SELECT COUNT(*) FROM customers", vec![])
        .await
        .unwrap();
    let (audit_before,): (i64,) = db
        .fetch_one("SELECT COUNT(*) FROM audit_log", vec![])
        .await
        .unwrap();
    let n = NewCustomer {
        org_unit_id: None,
        name: "赵六".into(),
        kind: None,
        tier: None,
        note: None,
        phones: vec!["13900001111".into(), "12-34".into()],
        addresses: vec![],
        allow_duplicate_phone: false,
    };
    let e = shouhou_app::customers::create(&app, &f.clerk_a, n)
        .await
        .unwrap_err();
    assert_eq!(e.field(), Some("phones[1]"));
    assert!(e
        .message(shouhou_domain::Lang::ZhCn)
        .contains("电话号码格式不对"));
    // A device whose purchase date lies in the future.
    let e = shouhou_app::devices::create(
        &app,
        &f.clerk_a,
        shouhou_app::devices::NewDevice {
            customer_id: f.customer,
            product_id: f.product,
            serial: "HRFUTURE01".into(),
            site_address_id: None,
            purchase_date: app.today() + Duration::days(3),
            purchase_store_id: None,
            install_date: None,
            policy_id: f.policy,
        },
    )
    .await
    .unwrap_err();
    assert_eq!(e.field(), Some("purchase_date"));
    // A duplicate serial of the same brand.
    let e = shouhou_app::devices::create(
        &app,
        &f.clerk_a,
        shouhou_app::devices::NewDevice {
            customer_id: f.customer,
            product_id: f.product,
            serial: "hr2501abcd".into(),
            site_address_id: None,
            purchase_date: days_ago(&app, 1),
            purchase_store_id: None,
            install_date: None,
            policy_id: f.policy,
        },
    )
    .await
    .unwrap_err();
    assert_eq!(e.field(), Some("serial"));
    let (after,): (i64,) = db
        .fetch_one("SELECT COUNT(*) FROM customers", vec![])
        .await
        .unwrap();
    let (audit_after,): (i64,) = db
        .fetch_one("SELECT COUNT(*) FROM audit_log", vec![])
        .await
        .unwrap();
    let (devices,): (i64,) = db
        .fetch_one("SELECT COUNT(*) FROM devices", vec![])
        .await
        .unwrap();
    assert_eq!((after, audit_after, devices), (before, audit_before, 1));
});

db_test!(
    a_stale_version_is_refused_with_who_changed_what,
    |db: Db| async move {
        let (app, _) = test_app(db);
        let f = seed(&app).await;
        let w = wo::create(&app, &f.clerk_a, new_order(&f, WorkOrderType::RepairOnsite))
            .await
            .unwrap();
        let p = |s: &str| WorkOrderPatch {
            fault_description: Some(s.into()),
            ..Default::default()
        };
        let w2 = wo::update(
            &app,
            &f.dispatcher,
            w.id,
            Some(w.version),
            p("不制冷，有异响"),
        )
        .await
        .unwrap();
        assert_eq!(w2.version, 2);
        let e = wo::update(&app, &f.clerk_a, w.id, Some(w.version), p("压缩机不启动"))
            .await
            .unwrap_err();
        match e {
            AppError::Stale {
                current_version,
                changed_by,
                changes,
            } => {
                assert_eq!(current_version, 2);
                assert_eq!(changed_by.as_deref(), Some("dispatcher1 测试"));
                assert_eq!(changes["fault_description"][1], "不制冷，有异响");
            }
            other => panic!("expected Stale, got {other:?}"),
        }
        assert_eq!(
            wo::get(&app, &f.clerk_a, w.id)
                .await
                .unwrap()
                .fault_description,
            "不制冷，有异响"
        );
    }
);

db_test!(
    concurrent_creation_never_duplicates_a_number,
    |db: Db| async move {
        let (app, _) = test_app(db);
        let f = seed(&app).await;
        let mut tasks = Vec::new();
        for _ in 0..24 {
            let (app, actor, n) = (
                app.clone(),
                f.clerk_a.clone(),
                new_order(&f, WorkOrderType::RepairOnsite),
            );
            tasks.push(tokio::spawn(async move {
                wo::create(&app, &actor, n).await.map(|w| w.number)
            }));
        }
        let mut numbers = Vec::new();
        for t in tasks {
            numbers.push(t.await.unwrap().unwrap());
        }
        numbers.sort();
        numbers.dedup();
        assert_eq!(numbers.len(), 24);
        assert_eq!(
            numbers.first().map(String::as_str),
            Some("WO-20260310-0001")
        );
        assert_eq!(numbers.last().map(String::as_str), Some("WO-20260310-0024"));
    }
);

db_test!(
    orders_numbered_by_another_server_between_creates_keep_their_numbers,
    |db: Db| async move {
        // Two servers on one store: each expects the next number from its own last order, and
        // the other's orders prove it wrong now and then.
        let (app, _) = test_app(db.clone());
        let (other, _) = test_app(db.clone());
        let f = seed(&app).await;
        let mut numbers = vec![];
        for server in [&app, &app, &app, &other, &app, &other, &other, &app] {
            let w = wo::create(
                server,
                &f.clerk_a,
                new_order(&f, WorkOrderType::RepairOnsite),
            )
            .await
            .unwrap();
            let stored = wo::get(server, &f.clerk_a, w.id).await.unwrap();
            assert_eq!(
                (stored.number.as_str(), stored.created_at),
                (w.number.as_str(), w.created_at)
            );
            numbers.push(w.number);
        }
        let want: Vec<String> = (1..=8).map(|k| format!("WO-20260310-{k:04}")).collect();
        assert_eq!(numbers, want);
        let count = |sql: &'static str| {
            let db = db.clone();
            async move { db.fetch_one::<(i64,)>(sql, vec![]).await.unwrap().0 }
        };
        // One first event and one creation entry in the audit log for each order, none for an
        // order that is not there, and the day's counter at the last number.
        assert_eq!(count("SELECT COUNT(*) FROM work_order_events").await, 8);
        assert_eq!(
            count("SELECT COUNT(DISTINCT e.work_order_id) FROM work_order_events e JOIN work_orders w ON w.id = e.work_order_id").await,
            8
        );
        assert_eq!(
            count("SELECT COUNT(*) FROM audit_log a JOIN work_orders w ON w.id = a.entity_id WHERE a.entity = 'work_order' AND a.action = 'create'").await,
            8
        );
        assert_eq!(
            count("SELECT COUNT(*) FROM audit_log WHERE entity = 'work_order'").await,
            8
        );
        assert_eq!(count("SELECT MAX(last) FROM wo_counters").await, 8);
    }
);

db_test!(
    a_wrong_guess_of_the_next_number_writes_nothing,
    |db: Db| async move {
        use shouhou_domain::work_order_number::format;
        use shouhou_store::work_orders as store;
        let (app, _) = test_app(db.clone());
        let f = seed(&app).await;
        let first = wo::create(&app, &f.clerk_a, new_order(&f, WorkOrderType::RepairOnsite))
            .await
            .unwrap();
        let day = app.today();
        let sqlite = db.backend() == shouhou_store::Backend::Sqlite;
        // (id, sequence, condition, kept): the id taken, the number taken, a number the
        // counter does not reach, the plan no longer holding, then a right guess (SQLite only).
        for (id, seq, holds, kept) in [
            (first.id, 2, "TRUE", false),
            (first.id + 1, 1, "TRUE", false),
            (first.id + 1, 3, "TRUE", false),
            (first.id + 1, 2, "FALSE", false),
            (first.id + 1, 2, "TRUE", sqlite),
        ] {
            let mut w = first.clone();
            w.id = id;
            w.number = format(day, seq);
            let then = vec![store::event_statement(
                id,
                None,
                "new",
                f.clerk_a.id(),
                w.created_at,
                None,
                None,
                None,
            )];
            let mut tx = db.begin().await.unwrap();
            let got = store::insert_expected(&mut tx, &w, day, holds, then)
                .await
                .unwrap();
            assert_eq!(got, kept, "guess {id} / {seq} / {holds}");
            tx.commit().await.unwrap();
        }
        let orders = if sqlite { 2 } else { 1 };
        let count = |sql: &'static str| {
            let db = db.clone();
            async move { db.fetch_one::<(i64,)>(sql, vec![]).await.unwrap().0 }
        };
        assert_eq!(count("SELECT COUNT(*) FROM work_orders").await, orders);
        assert_eq!(
            count("SELECT COUNT(*) FROM work_order_events").await,
            orders
        );
        assert_eq!(count("SELECT MAX(last) FROM wo_counters").await, orders);
        // The next order is numbered after them all.
        let next = wo::create(&app, &f.clerk_a, new_order(&f, WorkOrderType::RepairOnsite))
            .await
            .unwrap();
        assert_eq!(next.number, format(day, orders + 1));
    }
);

db_test!(
    phone_repairs_complete_without_a_visit,
    |db: Db| async move {
        let (app, _) = test_app(db);
        let f = seed(&app).await;
        let w = wo::create(&app, &f.clerk_a, new_order(&f, WorkOrderType::RepairPhone))
            .await
            .unwrap();
        wo::transition(&app, &f.clerk_a, w.id, None, to(Status::Accepted))
            .await
            .unwrap();
        let w = wo::transition(&app, &f.clerk_a, w.id, None, to(Status::Completed))
            .await
            .unwrap();
        assert_eq!(w.status, Status::Completed);
        assert_eq!(
            wo::visits(&app, &f.clerk_a, w.id, Page::LARGEST)
                .await
                .unwrap()
                .total,
            0
        );
    }
);

db_test!(
    review_approves_or_returns_with_a_comment,
    |db: Db| async move {
        use shouhou_app::review::{queue, review, Decision, ReviewInput};
        let (app, _) = test_app(db);
        let f = seed(&app).await;
        let mut ids = vec![];
        for _ in 0..2 {
            let w = wo::create(&app, &f.clerk_a, new_order(&f, WorkOrderType::RepairPhone))
                .await
                .unwrap();
            wo::transition(&app, &f.clerk_a, w.id, None, to(Status::Accepted))
                .await
                .unwrap();
            wo::transition(&app, &f.clerk_a, w.id, None, to(Status::Completed))
                .await
                .unwrap();
            ids.push(w.id);
        }
        assert_eq!(
            queue(&app, &f.manager, Page::LARGEST).await.unwrap().total,
            2
        );
        assert!(matches!(
            queue(&app, &f.clerk_a, Page::LARGEST).await,
            Err(AppError::Forbidden)
        ));
        // Returning needs a comment; with one, the order stays completed and leaves the queue.
        let e = review(
            &app,
            &f.manager,
            ids[0],
            ReviewInput {
                decision: Decision::Return,
                comment: None,
            },
        )
        .await
        .unwrap_err();
        assert_eq!(e.field(), Some("comment"));
        let w = review(
            &app,
            &f.manager,
            ids[0],
            ReviewInput {
                decision: Decision::Return,
                comment: Some("缺少客户签字".into()),
            },
        )
        .await
        .unwrap();
        assert_eq!(w.status, Status::Completed);
        let w = review(
            &app,
            &f.manager,
            ids[1],
            ReviewInput {
                decision: Decision::Approve,
                comment: None,
            },
        )
        .await
        .unwrap();
        assert_eq!(w.status, Status::Reviewed);
        assert_eq!(
            queue(&app, &f.manager, Page::LARGEST).await.unwrap().total,
            0
        );
        let h = shouhou_app::review::history(&app, &f.manager, ids[0], Page::LARGEST)
            .await
            .unwrap()
            .items;
        assert_eq!(
            (h[0].decision.as_str(), h[0].comment.as_deref()),
            ("returned", Some("缺少客户签字"))
        );
        // A reviewed order cannot be reviewed again.
        let e = review(
            &app,
            &f.manager,
            ids[1],
            ReviewInput {
                decision: Decision::Approve,
                comment: None,
            },
        )
        .await
        .unwrap_err();
        assert!(matches!(
            e,
            AppError::Domain(DomainError::IllegalTransition { .. })
        ));
    }
);

db_test!(
    reassignment_changes_the_technician_before_acceptance,
    |db: Db| async move {
        let (app, _) = test_app(db);
        let f = seed(&app).await;
        let u = shouhou_app::org::create_user_unchecked(
            &app,
            None,
            shouhou_app::org::NewUser {
                username: "tech_c".into(),
                display_name: "tech_c".into(),
                password: shouhou_testkit::fixture::PASSWORD.into(),
                role: shouhou_domain::Role::Technician,
                org_unit_id: f.store_a,
                phone: None,
            },
        )
        .await
        .unwrap();
        let tech_c = shouhou_app::org::create_technician(
            &app,
            Some(&f.admin),
            shouhou_app::org::NewTechnician {
                user_id: u.id,
                org_unit_id: None,
                skills: vec![shouhou_domain::Category::Refrigeration],
                start_address: None,
                start_lat: 30.2,
                start_lng: 120.1,
            },
        )
        .await
        .unwrap();
        let w = wo::create(&app, &f.clerk_a, new_order(&f, WorkOrderType::RepairOnsite))
            .await
            .unwrap();
        let mut t = to(Status::Assigned);
        t.technician_id = Some(f.tech_a_id);
        let w = wo::transition(&app, &f.dispatcher, w.id, None, t)
            .await
            .unwrap();
        // Another store's copier technician lacks the skill.
        let e = wo::reassign(&app, &f.dispatcher, w.id, None, f.tech_b_id)
            .await
            .unwrap_err();
        assert_eq!(e.field(), Some("technician_id"));
        let w2 = wo::reassign(&app, &f.dispatcher, w.id, Some(w.version), tech_c.id)
            .await
            .unwrap();
        assert_eq!(
            (w2.status, w2.technician_id),
            (Status::Assigned, Some(tech_c.id))
        );
        let trail = shouhou_app::audit::trail(&app, &f.manager, "work_order", w.id, Page::LARGEST)
            .await
            .unwrap()
            .items;
        assert_eq!(
            trail.last().unwrap().changes.0["technician_id"],
            serde_json::json!([f.tech_a_id, tech_c.id])
        );
        // A clerk may not reassign; an accepted order cannot be reassigned.
        assert!(matches!(
            wo::reassign(&app, &f.clerk_a, w.id, None, f.tech_a_id).await,
            Err(AppError::Forbidden)
        ));
        let tech_c_actor = shouhou_testkit::fixture::actor(&app, u.id).await;
        wo::transition(&app, &tech_c_actor, w.id, None, to(Status::Accepted))
            .await
            .unwrap();
        assert_eq!(
            wo::reassign(&app, &f.dispatcher, w.id, None, f.tech_a_id)
                .await
                .unwrap_err()
                .field(),
            Some("status")
        );
    }
);

db_test!(
    demo_city_loads_with_reports_follow_ups_and_leads,
    |db: Db| async move {
        let (app, _) = test_app(db.clone());
        let mut o = shouhou_app::demo::DemoOptions::city(7, "demo123", app.now());
        o.customers = 120;
        o.orders = 900;
        let r = shouhou_app::demo::generate(&app, &o, &|_, _, _| {})
            .await
            .expect("demo loads");
        assert_eq!(r.customers, 120);
        assert!((850..=900).contains(&r.work_orders), "{}", r.work_orders);
        let n = |sql: &'static str| {
            let db = db.clone();
            async move {
                let (n,): (i64,) = db.fetch_one(sql, vec![]).await.unwrap();
                n
            }
        };
        let done = n(
            "SELECT COUNT(*) FROM work_orders WHERE status IN ('completed','reviewed','closed')",
        )
        .await;
        assert!(done > 300, "{done} completed orders");
        // Finished visits carry a report; fixed ones are signed.
        assert_eq!(
            n("SELECT COUNT(*) FROM visits WHERE left_at IS NOT NULL AND findings IS NULL").await,
            0
        );
        assert!(
            n("SELECT COUNT(*) FROM visits WHERE outcome = 'fixed' AND signature IS NOT NULL")
                .await
                > 0
        );
        // Follow-ups for most completed orders; every dissatisfied one has its complaint.
        let answered = n("SELECT COUNT(*) FROM follow_ups").await;
        assert!(answered * 2 > done, "{answered} of {done} answered");
        assert_eq!(
            n("SELECT COUNT(*) FROM follow_ups WHERE rating = 'dissatisfied'").await,
            n("SELECT COUNT(*) FROM complaints").await
        );
        assert!(n("SELECT COUNT(*) FROM kb_articles").await >= 10);
        // Products carry parts lists the technician picks from.
        assert_eq!(
            n("SELECT COUNT(*) FROM products WHERE parts = '[]'").await,
            0
        );
        // Identities continue after the bulk load: a new follow-up gets a fresh id.
        let mut tx = db.begin().await.unwrap();
        let (open,): (i64,) = tx
        .fetch_one("SELECT MIN(id) FROM work_orders WHERE status IN ('completed','reviewed','closed') AND id NOT IN (SELECT work_order_id FROM follow_ups)", vec![])
        .await
        .unwrap();
        let f = shouhou_store::followups::add_follow_up(
            &mut tx,
            &shouhou_store::followups::NewFollowUp {
                work_order_id: open,
                rating: "satisfied",
                comment: None,
                channel: "phone",
                user_id: None,
                at: app.now(),
                questionnaire_id: None,
                answers: &[],
            },
        )
        .await
        .expect("insert after the bulk load");
        assert!(f.is_some());
        tx.commit().await.unwrap();
    }
);

// A chain's store for measuring at scale: more orders than a region's year make regions, each
// a copy of the city (here two regions of 300 orders). The copy is a region of its own with its
// three stores, staff, customers, devices and orders; references stay inside the copy; numbers
// stay unique and the day counters continue after them; the KPIs count both regions alike.
db_test!(
    a_chain_is_the_city_copied_into_regions,
    |db: Db| async move {
        let (app, _) = test_app(db.clone());
        let mut o = shouhou_app::demo::DemoOptions::city(7, "demo123", app.now());
        o.customers = 60;
        o.orders = 600;
        o.region_orders = 300;
        let r = shouhou_app::demo::generate(&app, &o, &|_, _, _| {})
            .await
            .expect("the chain loads");
        assert_eq!(r.customers, 120);
        let n = |sql: String| {
            let db = db.clone();
            async move {
                let (n,): (i64,) = db.fetch_one(&sql, vec![]).await.unwrap();
                n
            }
        };
        assert_eq!(
            n("SELECT COUNT(*) FROM org_units WHERE kind = 'region'".into()).await,
            1
        );
        assert_eq!(
            n("SELECT COUNT(*) FROM org_units WHERE kind = 'store'".into()).await,
            6
        );
        let orders = n("SELECT COUNT(*) FROM work_orders".into()).await;
        assert_eq!(orders as usize, r.work_orders);
        let in_region = n(
            "SELECT COUNT(*) FROM work_orders w JOIN org_units s ON s.id = w.org_unit_id \
         JOIN org_units p ON p.id = s.parent_id WHERE p.kind = 'region'"
                .into(),
        )
        .await;
        assert_eq!(in_region * 2, orders, "half the orders are the copy's");
        // References stay inside the copy: an order's customer, device and technician are its
        // region's, an event's actor too (head-office staff are shared).
        assert_eq!(
            n(
                "SELECT COUNT(*) FROM work_orders w JOIN customers c ON c.id = w.customer_id \
             WHERE c.org_unit_id <> w.org_unit_id AND w.partner_unit_id IS NULL"
                    .into()
            )
            .await,
            2 * n(
                "SELECT COUNT(*) FROM work_orders w JOIN customers c ON c.id = w.customer_id \
                 WHERE c.org_unit_id <> w.org_unit_id AND w.partner_unit_id IS NULL \
                 AND w.org_unit_id IN (SELECT id FROM org_units WHERE parent_id = \
                 (SELECT id FROM org_units WHERE kind = 'head_office'))"
                    .into()
            )
            .await,
        );
        assert_eq!(
            n(
                "SELECT COUNT(*) FROM work_orders w JOIN technicians t ON t.id = w.technician_id \
             JOIN org_units u ON u.id = t.org_unit_id JOIN org_units wu ON wu.id = w.org_unit_id \
             WHERE u.kind = 'store' AND u.parent_id <> wu.parent_id"
                    .into()
            )
            .await,
            0
        );
        assert_eq!(
            n("SELECT COUNT(DISTINCT number) FROM work_orders".into()).await,
            orders
        );
        let last = n("SELECT MAX(last) FROM wo_counters".into()).await;
        let top = n("SELECT MAX(CAST(substr(number, 13) AS BIGINT)) FROM work_orders".into()).await;
        assert!(last >= top && top >= 1000, "counter {last}, highest {top}");
        // The KPI facts count every order of both regions, alike: each store and its copy.
        let facts = n("SELECT COUNT(DISTINCT work_order_id) FROM kpi_facts".into()).await;
        assert!(facts > 0);
        let q = shouhou_app::kpi::Query::new(
            app.today() - chrono::Duration::days(60),
            app.today(),
            shouhou_app::kpi::By::Store,
        );
        let admin_id = n("SELECT id FROM users WHERE username = 'admin'".into()).await;
        let admin = shouhou_testkit::fixture::actor(&app, admin_id).await;
        let t = shouhou_app::kpi::table(&app, &admin, &q).await.unwrap();
        let completed = |name: &str| {
            t.rows.iter().find(|r| r.group.name == name).and_then(|r| {
                match r.kpis.get("follow_up_coverage") {
                    Some(shouhou_domain::kpi::Value::Rate(x)) => Some(x.denominator),
                    _ => None,
                }
            })
        };
        let mut compared = 0;
        for r in &t.rows {
            if let Some(copy) = completed(&format!("{}（区域2）", r.group.name)) {
                assert_eq!(completed(&r.group.name), Some(copy), "{}", r.group.name);
                compared += 1;
            }
        }
        assert_eq!(compared, 3, "three stores and their copies: {t:?}");
        // The copy's people are others: no phone and no flat is two regions' customers'.
        let across = |table: &str, col: &str| {
            format!(
                "SELECT COUNT(*) FROM {table} a JOIN {table} b ON b.{col} = a.{col} \
                 AND b.customer_id <> a.customer_id \
                 JOIN customers ca ON ca.id = a.customer_id JOIN customers cb ON cb.id = b.customer_id \
                 JOIN org_units ua ON ua.id = ca.org_unit_id JOIN org_units ub ON ub.id = cb.org_unit_id \
                 WHERE COALESCE(ua.parent_id, 0) <> COALESCE(ub.parent_id, 0)"
            )
        };
        assert_eq!(n(across("customer_phones", "phone")).await, 0);
        assert_eq!(n(across("customer_addresses", "address")).await, 0);
        // … and the copies' flats are rooms a building has: entrances 1–4, rooms 101–2800.
        let flats: Vec<(String,)> = db
            .fetch_all("SELECT address FROM customer_addresses", vec![])
            .await
            .unwrap();
        assert!(flats.len() >= 120, "{}", flats.len());
        for (a,) in &flats {
            let (entrance, room) = a
                .split_once("幢")
                .and_then(|(_, r)| r.split_once("单元"))
                .unwrap_or_else(|| panic!("{a}"));
            let room: u32 = room.trim_end_matches('室').parse().unwrap();
            assert!(["1", "2", "3", "4"].contains(&entrance), "{a}");
            assert!((101..=2800).contains(&room), "{a}");
        }
        // Each lookup row is its record's: a customer's name, phones and addresses, a
        // device's serial (with the copy's suffix).
        let docs: Vec<(i64, String)> = db
            .fetch_all(
                "SELECT ref_id, doc FROM search_docs WHERE kind = 'customer' ORDER BY ref_id",
                vec![],
            )
            .await
            .unwrap();
        assert_eq!(docs.len(), 120);
        for (id, doc) in docs {
            let c = shouhou_app::customers::get(&app, &admin, id).await.unwrap();
            let addrs: Vec<String> = c.addresses.iter().map(|a| a.address.clone()).collect();
            let (want, _) = shouhou_store::search::customer_doc(&c.name, &c.phones, &addrs);
            assert_eq!(doc, want, "customer {id}");
        }
        assert_eq!(
            n(
                "SELECT COUNT(*) FROM search_docs s JOIN devices d ON d.id = s.ref_id \
                 WHERE s.kind = 'device' AND s.doc <> d.serial"
                    .into()
            )
            .await,
            0
        );
        if db.backend() == shouhou_store::Backend::Sqlite {
            let bad: Vec<(String, i64, String, i64)> = db
                .fetch_all("PRAGMA foreign_key_check", vec![])
                .await
                .unwrap();
            assert!(bad.is_empty(), "{bad:?}");
        }
    }
);

/// What the demo's history must never show (each query counts offences; `$1` is now).
const DEMO_NEVER: &[(&str, &str)] = &[
    // Nothing after now; every order's, visit's and event's dates in order.
    (
        "order after now",
        "SELECT COUNT(*) FROM work_orders WHERE created_at > $1 OR updated_at > $1 OR \
         accepted_at > $1 OR completed_at > $1 OR reviewed_at > $1 OR closed_at > $1 OR \
         cancelled_at > $1",
    ),
    (
        "visit after now",
        "SELECT COUNT(*) FROM visits WHERE departed_at > $1 OR arrived_at > $1 OR left_at > \
         $1 OR signed_at > $1",
    ),
    (
        "event after now",
        "SELECT COUNT(*) FROM work_order_events WHERE at > $1",
    ),
    (
        "money, reviews, follow-ups after now",
        "SELECT (SELECT COUNT(*) FROM part_lines WHERE created_at > $1) + (SELECT COUNT(*) \
         FROM photos WHERE created_at > $1) + (SELECT COUNT(*) FROM reviews WHERE at > $1) + \
         (SELECT COUNT(*) FROM follow_ups WHERE at > $1) + (SELECT COUNT(*) FROM complaints \
         WHERE created_at > $1 OR closed_at > $1)",
    ),
    (
        "order dates out of order",
        "SELECT COUNT(*) FROM work_orders WHERE accepted_at < created_at OR completed_at < \
         accepted_at OR reviewed_at < completed_at OR closed_at < reviewed_at OR cancelled_at \
         < created_at OR $1 < created_at",
    ),
    (
        "visit dates out of order",
        "SELECT COUNT(*) FROM visits v JOIN work_orders wo ON wo.id = v.work_order_id WHERE \
         v.departed_at < wo.accepted_at OR v.arrived_at < v.departed_at OR v.left_at < \
         v.arrived_at OR v.left_at > wo.completed_at OR (v.left_at IS NULL AND \
         wo.completed_at IS NOT NULL) OR $1 < wo.created_at",
    ),
    (
        "events out of order",
        "SELECT COUNT(*) FROM work_order_events a JOIN work_order_events b ON b.work_order_id \
         = a.work_order_id AND b.id > a.id WHERE b.at < a.at OR $1 < a.at",
    ),
    (
        "last event is not the status",
        "SELECT COUNT(*) FROM work_orders wo JOIN work_order_events e ON e.work_order_id = \
         wo.id AND e.id = (SELECT MAX(id) FROM work_order_events x WHERE x.work_order_id = \
         wo.id) WHERE e.to_status <> wo.status OR $1 < e.at",
    ),
    (
        "order before its device was bought or installed",
        "SELECT COUNT(*) FROM work_orders wo JOIN devices d ON d.id = wo.device_id WHERE \
         wo.created_at < d.purchase_date OR (wo.kind <> 'install' AND wo.created_at < \
         d.install_date) OR d.install_date < d.purchase_date OR $1 < wo.created_at",
    ),
    (
        "installed device without install date",
        "SELECT COUNT(*) FROM work_orders wo JOIN devices d ON d.id = wo.device_id WHERE \
         wo.kind = 'install' AND wo.completed_at IS NOT NULL AND d.install_date IS NULL AND \
         wo.created_at < $1",
    ),
    (
        "follow-up or complaint out of order",
        "SELECT COUNT(*) FROM follow_ups f JOIN work_orders wo ON wo.id = f.work_order_id \
         LEFT JOIN complaints c ON c.follow_up_id = f.id WHERE f.at < wo.completed_at OR \
         c.created_at < f.at OR c.closed_at < c.created_at OR $1 < f.at",
    ),
    // Technicians work their shifts, with their skills, one job at a time.
    (
        "visit outside its technician's shift",
        "SELECT COUNT(*) FROM visits v WHERE v.technician_id IS NOT NULL AND v.departed_at <= \
         $1 AND NOT EXISTS (SELECT 1 FROM shifts s WHERE s.technician_id = v.technician_id \
         AND s.starts_at <= v.departed_at AND v.departed_at <= s.ends_at AND (v.left_at IS \
         NULL OR v.left_at <= s.ends_at))",
    ),
    (
        "visit without the skill",
        "SELECT COUNT(*) FROM visits v JOIN technicians t ON t.id = v.technician_id JOIN \
         work_orders wo ON wo.id = v.work_order_id JOIN devices d ON d.id = wo.device_id JOIN \
         products p ON p.id = d.product_id WHERE t.skills NOT LIKE '%\"' || p.category || \
         '\"%' AND v.departed_at <= $1",
    ),
    (
        "overlapping visits of a technician",
        "SELECT COUNT(*) FROM visits a JOIN visits b ON b.technician_id = a.technician_id AND \
         b.id <> a.id WHERE a.departed_at <= b.departed_at AND b.departed_at < \
         COALESCE(a.left_at, $1)",
    ),
    (
        "follow-up call after its order was closed",
        "SELECT COUNT(*) FROM follow_up_calls fc JOIN work_orders wo ON wo.id = \
         fc.work_order_id WHERE fc.at > wo.closed_at OR fc.at > $1",
    ),
    // Out-of-warranty work is charged to the customer.
    (
        "out-of-warranty field order completed without a customer charge",
        "SELECT COUNT(*) FROM work_orders wo WHERE wo.warranty_decision = 'out_of_warranty' \
         AND wo.kind <> 'repair_phone' AND wo.completed_at <= $1 AND NOT EXISTS (SELECT 1 \
         FROM charges c WHERE c.work_order_id = wo.id AND c.payer = 'customer' AND \
         c.amount_fen > 0)",
    ),
];

db_test!(
    demo_week_is_consistent_and_like_a_real_store,
    |db: Db| async move {
        use chrono::{DateTime, Utc};
        use shouhou_store::args;
        // A month of history (1,400 orders at the city's pace) for 2,000 customers; now is a
        // Tuesday, 10:00 in Shanghai.
        let (app, _) = test_app(db.clone());
        let now = app.now();
        let mut o = shouhou_app::demo::DemoOptions::city(11, "demo123", now);
        o.customers = 2_000;
        o.orders = 1_400;
        let r = shouhou_app::demo::generate(&app, &o, &|_, _, _| {})
            .await
            .expect("demo loads");
        assert!(
            (1_300..=1_400).contains(&r.work_orders),
            "{}",
            r.work_orders
        );
        let count = |sql: &'static str| {
            let db = db.clone();
            async move {
                let (n,): (i64,) = db.fetch_one(sql, args![now]).await.unwrap();
                n
            }
        };
        for (what, sql) in DEMO_NEVER {
            assert_eq!(count(sql).await, 0, "{what}");
        }
        assert!(
            count("SELECT COUNT(*) FROM part_lines WHERE payer = 'customer' AND created_at <= $1")
                .await
                > 20
        );
        assert!(
            count(
                "SELECT COUNT(*) FROM part_lines WHERE payer = 'manufacturer' AND created_at <= $1"
            )
            .await
                > 5
        );
        // Today: a backlog of tens per store, a few overdue, every open state, today's plan.
        let open: Vec<(i64, i64, i64, i64)> = db
            .fetch_all(
                "SELECT org_unit_id, COUNT(*), \
                 SUM(CASE WHEN resolve_by < $1 OR (arrive_by < $1 \
                 AND status IN ('new','assigned','accepted','en_route')) THEN 1 ELSE 0 END), \
                 SUM(CASE WHEN planned_arrival IS NOT NULL \
                 AND status IN ('assigned','accepted','en_route','on_site') THEN 1 ELSE 0 END) \
                 FROM work_orders \
                 WHERE status IN ('new','assigned','accepted','en_route','on_site','waiting_parts') \
                 GROUP BY org_unit_id ORDER BY org_unit_id",
                args![now],
            )
            .await
            .unwrap();
        assert_eq!(open.len(), 3, "{open:?}");
        for (store, n, overdue, planned) in &open {
            assert!((10..=80).contains(n), "store {store}: {n} open");
            assert!(overdue * 4 <= *n, "store {store}: {overdue} of {n} overdue");
            assert!(*planned > 0, "store {store}: nothing planned today");
        }
        let states: Vec<(String,)> = db
            .fetch_all(
                "SELECT DISTINCT status FROM work_orders ORDER BY status",
                vec![],
            )
            .await
            .unwrap();
        for s in [
            "new",
            "assigned",
            "accepted",
            "en_route",
            "on_site",
            "waiting_parts",
            "completed",
            "reviewed",
            "closed",
            "cancelled",
        ] {
            assert!(
                states.iter().any(|x| x.0 == s),
                "no order is {s}: {states:?}"
            );
        }
        // First-time fix: repair_onsite orders completed whose first arrived visit fixed it
        // (a first visit to an absent customer left out).
        let (fixed, all): (i64, i64) = db
            .fetch_one(
                "SELECT COALESCE(SUM(CASE WHEN v.outcome = 'fixed' THEN 1 ELSE 0 END), 0), \
                 COUNT(*) FROM work_orders wo JOIN visits v ON v.work_order_id = wo.id \
                 AND v.seq = (SELECT MIN(x.seq) FROM visits x \
                 WHERE x.work_order_id = wo.id AND x.arrived_at IS NOT NULL) \
                 WHERE wo.kind = 'repair_onsite' AND wo.completed_at <= $1 \
                 AND v.outcome <> 'customer_absent'",
                args![now],
            )
            .await
            .unwrap();
        assert!(
            all > 200 && (60..=90).contains(&(fixed * 100 / all)),
            "first-time fix {fixed}/{all}"
        );
        // Urgent orders are answered faster.
        let answered: Vec<(String, DateTime<Utc>, DateTime<Utc>)> = db
            .fetch_all(
                "SELECT priority, created_at, accepted_at FROM work_orders \
                 WHERE accepted_at IS NOT NULL",
                vec![],
            )
            .await
            .unwrap();
        let median = |p: &str| {
            let mut m: Vec<i64> = answered
                .iter()
                .filter(|a| a.0 == p)
                .map(|a| (a.2 - a.1).num_minutes())
                .collect();
            m.sort();
            m[m.len() / 2]
        };
        assert!(
            median("urgent") * 3 < median("normal"),
            "{} vs {}",
            median("urgent"),
            median("normal")
        );
        // Most devices need no service in the month; complaints take their own time.
        assert!(
            count("SELECT COUNT(DISTINCT device_id) FROM work_orders WHERE created_at <= $1").await
                * 2
                < r.devices as i64
        );
        assert!(
            count("SELECT COUNT(DISTINCT closed_at) FROM complaints WHERE closed_at <= $1").await
                > 3
        );
        // The office closes complaints and orders in its hours (Shanghai, UTC+8).
        let closes: Vec<(String, DateTime<Utc>)> = db
            .fetch_all(
                "SELECT 'complaint', closed_at FROM complaints WHERE closed_at IS NOT NULL \
                 UNION ALL SELECT 'order', closed_at FROM work_orders WHERE closed_at IS NOT NULL",
                vec![],
            )
            .await
            .unwrap();
        for (what, t) in &closes {
            let local = (*t + chrono::Duration::hours(8)).time();
            let (open, shut) = (
                chrono::NaiveTime::from_hms_opt(8, 30, 0).unwrap(),
                chrono::NaiveTime::from_hms_opt(20, 0, 0).unwrap(),
            );
            assert!(open <= local && local < shut, "{what} closed at {t}");
        }
        // Most first arrivals on time, not all; a late arrival makes a dissatisfied customer
        // likelier.
        let (on_time, field): (i64, i64) = db
            .fetch_one(
                "SELECT COALESCE(SUM(CASE WHEN v.arrived_at <= wo.arrive_by THEN 1 ELSE 0 END), \
                 0), COUNT(*) FROM work_orders wo LEFT JOIN visits v ON v.work_order_id = wo.id \
                 AND v.seq = (SELECT MIN(x.seq) FROM visits x WHERE x.work_order_id = wo.id \
                 AND x.arrived_at IS NOT NULL) WHERE wo.kind <> 'repair_phone' \
                 AND wo.status <> 'cancelled' AND wo.arrive_by <= $1",
                args![now],
            )
            .await
            .unwrap();
        assert!(
            field > 500 && (80..=97).contains(&(on_time * 100 / field)),
            "arrival compliance {on_time}/{field}"
        );
        let unhappy: Vec<(bool, i64, i64)> = db
            .fetch_all(
                "SELECT v.arrived_at > wo.arrive_by, \
                 SUM(CASE WHEN f.rating = 'dissatisfied' THEN 1 ELSE 0 END), COUNT(*) \
                 FROM follow_ups f JOIN work_orders wo ON wo.id = f.work_order_id \
                 JOIN visits v ON v.work_order_id = wo.id AND v.seq = (SELECT MIN(x.seq) \
                 FROM visits x WHERE x.work_order_id = wo.id AND x.arrived_at IS NOT NULL) \
                 GROUP BY v.arrived_at > wo.arrive_by",
                vec![],
            )
            .await
            .unwrap();
        let share = |late: bool| {
            unhappy
                .iter()
                .find(|u| u.0 == late)
                .map_or(0.0, |u| u.1 as f64 / u.2.max(1) as f64)
        };
        assert!(share(true) > share(false), "{unhappy:?}");
    }
);

db_test!(business_rules_of_the_hardening_round, |db: Db| async move {
    use shouhou_app::selfservice;
    let (app, _) = test_app(db);
    let f = seed(&app).await;

    // A store's dispatcher hands an install to the partner that serves the store (the
    // partner hangs under head office, outside the store's own subtree).
    let u = shouhou_app::org::create_user_unchecked(
        &app,
        None,
        shouhou_app::org::NewUser {
            username: "dispatcher_a".into(),
            display_name: "东城调度".into(),
            password: "secret-pw-1".into(),
            role: Role::Dispatcher,
            org_unit_id: f.store_a,
            phone: None,
        },
    )
    .await
    .unwrap();
    let store_dispatcher = shouhou_testkit::fixture::actor(&app, u.id).await;
    let w = wo::create(&app, &f.clerk_a, new_order(&f, WorkOrderType::Install))
        .await
        .unwrap();
    let mut give = to(Status::Assigned);
    give.partner_unit_id = Some(f.partner_unit);
    let w = wo::transition(&app, &store_dispatcher, w.id, None, give)
        .await
        .unwrap();
    assert_eq!(w.partner_unit_id, Some(f.partner_unit));

    // An order without a device has no warranty decision yet; one comes with the device.
    let mut n = new_order(&f, WorkOrderType::RepairOnsite);
    n.device_id = None;
    let w = wo::create(&app, &f.clerk_a, n).await.unwrap();
    assert_eq!(w.warranty_decision, WarrantyDecision::Undecided);
    let w = wo::update(
        &app,
        &f.clerk_a,
        w.id,
        None,
        WorkOrderPatch {
            device_id: Some(f.device),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_ne!(w.warranty_decision, WarrantyDecision::Undecided);

    // An urgent call booked for the next half hour is due within it, not at the rule's
    // later arrive-by.
    let mut n = new_order(&f, WorkOrderType::RepairOnsite);
    n.priority = Some(Priority::Urgent);
    n.appointment_start = Some(app.now());
    n.appointment_end = Some(app.now() + Duration::minutes(30));
    let w = wo::create(&app, &f.clerk_a, n).await.unwrap();
    assert_eq!(w.arrive_by, app.now() + Duration::minutes(30));

    // A second QR report from a stranger's phone while the first waits is added to it.
    let token: (String,) = app
        .db
        .fetch_one(
            "SELECT qr_token FROM devices WHERE id = $1",
            shouhou_store::args![f.device],
        )
        .await
        .unwrap();
    // The device's open orders would answer the report; cancel them first.
    for o in wo::list(
        &app,
        &f.manager,
        &Default::default(),
        Page {
            limit: 100,
            offset: 0,
        },
    )
    .await
    .unwrap()
    .items
    {
        if o.status.is_open() {
            let mut c = to(Status::Cancelled);
            c.reason = Some("测试".into());
            wo::transition(&app, &f.manager, o.id, None, c)
                .await
                .unwrap();
        }
    }
    selfservice::report_fault(&app, &token.0, "13500000001", "洗衣机漏水")
        .await
        .unwrap();
    selfservice::report_fault(&app, &token.0, "13500000002", "还有异响")
        .await
        .unwrap();
    let pending = selfservice::pending(&app, &f.manager, Page::LARGEST)
        .await
        .unwrap();
    assert_eq!(pending.total, 1, "one request, not two");
    let pending = pending.items;
    assert!(pending[0].description.contains("洗衣机漏水"));
    assert!(pending[0].description.contains("还有异响"));
    assert!(pending[0].description.contains("13500000002"));

    // Times read back at the microsecond on both stores.
    assert_eq!(w.created_at.timestamp_subsec_nanos() % 1000, 0);
});

// ---------------------------------------------------------------- intake (the clerk's day)

fn person(name: &str, phone: &str, address: &str, at: Option<(f64, f64)>) -> NewCustomer {
    NewCustomer {
        org_unit_id: None,
        name: name.into(),
        kind: None,
        tier: None,
        note: None,
        phones: vec![phone.into()],
        addresses: vec![shouhou_app::customers::AddressInput {
            id: None,
            label: None,
            address: address.into(),
            lat: at.map(|p| p.0),
            lng: at.map(|p| p.1),
        }],
        allow_duplicate_phone: false,
    }
}

async fn place_unit(db: &Db, unit: i64, lat: f64, lng: f64) {
    db.execute(
        "UPDATE org_units SET lat = $1, lng = $2 WHERE id = $3",
        shouhou_store::args![lat, lng, unit],
    )
    .await
    .unwrap();
}

async fn rows(db: &Db, sql: &str, id: i64) -> i64 {
    let (n,): (i64,) = db.fetch_one(sql, shouhou_store::args![id]).await.unwrap();
    n
}

/// A copier of another brand, with its policy: only store B's technician has the skill.
async fn copier(app: &shouhou_app::App, f: &shouhou_testkit::Fixture) -> (i64, i64) {
    let product = shouhou_app::catalog::create_product(
        app,
        Some(&f.admin),
        shouhou_app::catalog::NewProduct {
            brand: "理光".into(),
            model: "MP 2555".into(),
            category: shouhou_domain::Category::Copier,
            name: None,
            parts: vec![],
        },
    )
    .await
    .unwrap()
    .id;
    let policy = shouhou_app::catalog::create_policy(
        app,
        Some(&f.admin),
        shouhou_app::catalog::NewPolicy {
            name: "理光 12/36".into(),
            manufacturer: "理光（中国）".into(),
            whole_unit_months: 12,
            main_parts_months: 36,
            main_parts: vec![],
            labour_months: None,
            starts_from: None,
        },
    )
    .await
    .unwrap()
    .id;
    (product, policy)
}

db_test!(every_order_is_owned_by_a_store, |db: Db| async move {
    let (app, _) = test_app(db.clone());
    let f = seed(&app).await;
    // Store A in the north of the city, store B in Binjiang.
    place_unit(&db, f.store_a, 30.30, 120.16).await;
    place_unit(&db, f.store_b, 30.21, 120.21).await;
    // The customer's store owns the order.
    let w = wo::create(&app, &f.clerk_a, new_order(&f, WorkOrderType::RepairOnsite))
        .await
        .unwrap();
    assert_eq!(w.org_unit_id, f.store_a);
    // A head-office user's new customer belongs to the store nearest the address, so do the
    // customer's orders.
    let c = shouhou_app::customers::create(
        &app,
        &f.dispatcher,
        person(
            "钱七",
            "13700007777",
            "杭州市滨江区江南大道 9 号",
            Some((30.205, 120.212)),
        ),
    )
    .await
    .unwrap();
    assert_eq!(c.org_unit_id, f.store_b);
    let mut n = new_order(&f, WorkOrderType::RepairPhone);
    (n.customer_id, n.device_id) = (c.id, None);
    assert_eq!(
        wo::create(&app, &f.dispatcher, n)
            .await
            .unwrap()
            .org_unit_id,
        f.store_b
    );
    // A head-office customer: the nearest store whose technicians have the skill. Store B is
    // nearer, but only store A repairs fridges; store B repairs copiers.
    let mut hq = person(
        "总部客户",
        "13700008888",
        "滨江区某大楼",
        Some((30.21, 120.21)),
    );
    hq.org_unit_id = Some(f.hq);
    let hq = shouhou_app::customers::create(&app, &f.dispatcher, hq)
        .await
        .unwrap();
    assert_eq!(hq.org_unit_id, f.hq);
    let fridge = shouhou_app::devices::create(
        &app,
        &f.dispatcher,
        shouhou_app::devices::NewDevice {
            customer_id: hq.id,
            product_id: f.product,
            serial: "HRHQ0001".into(),
            site_address_id: None,
            purchase_date: days_ago(&app, 10),
            purchase_store_id: None,
            install_date: None,
            policy_id: f.policy,
        },
    )
    .await
    .unwrap();
    let (product, policy) = copier(&app, &f).await;
    let machine = shouhou_app::devices::create(
        &app,
        &f.dispatcher,
        shouhou_app::devices::NewDevice {
            customer_id: hq.id,
            product_id: product,
            serial: "RCHQ0001".into(),
            site_address_id: None,
            purchase_date: days_ago(&app, 10),
            purchase_store_id: None,
            install_date: None,
            policy_id: policy,
        },
    )
    .await
    .unwrap();
    let order_for = |device: i64| {
        let mut n = new_order(&f, WorkOrderType::RepairOnsite);
        (n.customer_id, n.device_id) = (hq.id, Some(device));
        n
    };
    let fridge_order = wo::create(&app, &f.dispatcher, order_for(fridge.id))
        .await
        .unwrap();
    assert_eq!(fridge_order.org_unit_id, f.store_a);
    let copier_order = wo::create(&app, &f.dispatcher, order_for(machine.id))
        .await
        .unwrap();
    assert_eq!(copier_order.org_unit_id, f.store_b);
    // Placed under head office explicitly: still a store owns it.
    let mut n = order_for(fridge.id);
    n.org_unit_id = Some(f.hq);
    assert_eq!(
        wo::create(&app, &f.dispatcher, n)
            .await
            .unwrap()
            .org_unit_id,
        f.store_a
    );

    // The dispatcher moves a new order to another store (audited); a clerk may not, and an
    // order under way stays.
    let store_b = |id| WorkOrderPatch {
        org_unit_id: Some(id),
        ..Default::default()
    };
    let e = wo::update(&app, &f.clerk_a, w.id, None, store_b(f.store_b))
        .await
        .unwrap_err();
    assert!(matches!(e, AppError::Forbidden), "{e:?}");
    let e = wo::update(&app, &f.dispatcher, w.id, None, store_b(f.partner_unit))
        .await
        .unwrap_err();
    assert_eq!(e.field(), Some("org_unit_id"));
    let moved = wo::update(
        &app,
        &f.dispatcher,
        w.id,
        Some(w.version),
        store_b(f.store_b),
    )
    .await
    .unwrap();
    assert_eq!(moved.org_unit_id, f.store_b);
    let trail = shouhou_app::audit::trail(&app, &f.manager, "work_order", w.id, Page::LARGEST)
        .await
        .unwrap();
    let last = trail.items.last().unwrap();
    assert_eq!(
        last.changes.0["org_unit_id"],
        serde_json::json!([f.store_a, f.store_b])
    );
    assert_eq!(last.actor_id, Some(f.dispatcher.id()));
    let mut t = to(Status::Assigned);
    t.technician_id = Some(f.tech_b_id);
    wo::transition(&app, &f.dispatcher, copier_order.id, None, t)
        .await
        .unwrap();
    let e = wo::update(
        &app,
        &f.dispatcher,
        copier_order.id,
        None,
        store_b(f.store_a),
    )
    .await
    .unwrap_err();
    assert_eq!(e.field(), Some("org_unit_id"));
});

db_test!(
    an_address_without_coordinates_is_placed_to_confirm,
    |db: Db| async move {
        use shouhou_domain::geo::LocatedBy;
        let (app, _) = test_app(db.clone());
        let f = seed(&app).await;
        place_unit(&db, f.store_a, 30.30, 120.16).await;
        // No geocoding service: the district's centre when the address names one…
        let c = shouhou_app::customers::create(
            &app,
            &f.clerk_a,
            person("孙八", "13600006666", "杭州市滨江区江南大道 100 号", None),
        )
        .await
        .unwrap();
        let a = &c.addresses[0];
        assert_eq!(
            (a.located_by, a.location_confirmed),
            (LocatedBy::District, false)
        );
        assert_eq!((a.lat, a.lng), (30.2084, 120.2107));
        // …else the owning store's place.
        let c2 = shouhou_app::customers::create(
            &app,
            &f.clerk_a,
            person("周九", "13600009999", "朝晖九区 3 幢", None),
        )
        .await
        .unwrap();
        let a2 = &c2.addresses[0];
        assert_eq!(
            (a2.located_by, a2.location_confirmed),
            (LocatedBy::Store, false)
        );
        assert_eq!((a2.lat, a2.lng), (30.30, 120.16));
        // Coordinates given are confirmed; one without the other is refused naming it.
        let given = shouhou_app::customers::create(
            &app,
            &f.clerk_a,
            person(
                "吴十",
                "13600001010",
                "朝晖九区 4 幢",
                Some((30.29, 120.17)),
            ),
        )
        .await
        .unwrap();
        assert_eq!(given.addresses[0].located_by, LocatedBy::Given);
        assert!(given.addresses[0].location_confirmed);
        let mut half = person("郑一", "13600001111", "朝晖九区 5 幢", None);
        half.addresses[0].lat = Some(30.2);
        let e = shouhou_app::customers::create(&app, &f.clerk_a, half)
            .await
            .unwrap_err();
        assert_eq!(e.field(), Some("addresses[0].lng"));
        // The order still goes in, on the placeholder.
        let mut n = new_order(&f, WorkOrderType::RepairPhone);
        (n.customer_id, n.device_id) = (c.id, None);
        let w = wo::create(&app, &f.clerk_a, n).await.unwrap();
        assert_eq!(w.address_id, Some(a.id));
        // The dispatcher sets the place: confirmed, audited; a clerk may not.
        let e = shouhou_app::customers::confirm_location(
            &app, &f.clerk_a, c.id, a.id, None, 30.21, 120.22,
        )
        .await
        .unwrap_err();
        assert!(matches!(e, AppError::Forbidden), "{e:?}");
        let e = shouhou_app::customers::confirm_location(
            &app,
            &f.dispatcher,
            c.id,
            a.id,
            None,
            95.0,
            120.22,
        )
        .await
        .unwrap_err();
        assert_eq!(e.field(), Some("lat"));
        let done = shouhou_app::customers::confirm_location(
            &app,
            &f.dispatcher,
            c.id,
            a.id,
            Some(c.version),
            30.21,
            120.22,
        )
        .await
        .unwrap();
        let a = &done.addresses[0];
        assert_eq!(
            (a.lat, a.lng, a.located_by, a.location_confirmed),
            (30.21, 120.22, LocatedBy::Dispatcher, true)
        );
        let trail = shouhou_app::audit::trail(&app, &f.manager, "customer", c.id, Page::LARGEST)
            .await
            .unwrap();
        let last = trail.items.last().unwrap();
        assert_eq!(last.actor_id, Some(f.dispatcher.id()));
        assert!(
            last.changes.0.get("addresses").is_some(),
            "{:?}",
            last.changes
        );
        // A changed address text is placed again; an unchanged one keeps its place.
        let moved = shouhou_app::customers::update(
            &app,
            &f.clerk_a,
            c.id,
            None,
            CustomerPatch {
                addresses: Some(vec![shouhou_app::customers::AddressInput {
                    id: Some(a.id),
                    label: None,
                    address: "杭州市西湖区文三路 1 号".into(),
                    lat: None,
                    lng: None,
                }]),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        let m = &moved.addresses[0];
        assert_eq!(
            (m.located_by, m.location_confirmed),
            (LocatedBy::District, false)
        );
        assert_eq!((m.lat, m.lng), (30.2594, 120.1302));
    }
);

/// A geocoding service that knows one address, or fails.
struct Fake(bool);

impl shouhou_app::geocoding::Geocoder for Fake {
    fn geocode<'a>(&'a self, address: &'a str) -> shouhou_app::geocoding::Lookup<'a> {
        let up = self.0;
        Box::pin(async move {
            use shouhou_app::geocoding::{Found, GeocodeError};
            if !up {
                return Err(GeocodeError::Unreachable("offline".into()));
            }
            Ok(address.contains("文三路 398").then_some(Found {
                point: shouhou_domain::geo::Point::new(30.276, 120.125),
                precise: true,
            }))
        })
    }
}

db_test!(
    a_geocoding_service_places_addresses_and_its_failure_falls_back,
    |db: Db| async move {
        use shouhou_domain::geo::LocatedBy;
        let (mut app, _) = test_app(db.clone());
        let f = seed(&app).await;
        // The admin configures AMap with the store's key; the audit keeps the key masked.
        assert!(!shouhou_app::geocoding::is_configured(&app).await);
        let input = shouhou_app::geocoding::GeocodingInput {
            provider: Some(shouhou_app::geocoding::Provider::Amap),
            api_key: Some("0123456789abcdef0123456789abcdef".into()),
            city: Some("杭州".into()),
            endpoint: None,
        };
        let e = shouhou_app::geocoding::set_settings(&app, &f.clerk_a, None, input.clone())
            .await
            .unwrap_err();
        assert!(matches!(e, AppError::Forbidden));
        let mut bad = input.clone();
        bad.api_key = Some("no spaces please".into());
        let e = shouhou_app::geocoding::set_settings(&app, &f.admin, None, bad)
            .await
            .unwrap_err();
        assert_eq!(e.field(), Some("api_key"));
        let (saved, _) = shouhou_app::geocoding::set_settings(&app, &f.admin, Some(1), input)
            .await
            .unwrap();
        assert!(saved.configured() && shouhou_app::geocoding::is_configured(&app).await);
        let (changes,): (String,) = db
            .fetch_one(
                "SELECT changes FROM audit_log WHERE entity = 'geocoding'",
                vec![],
            )
            .await
            .unwrap();
        assert!(!changes.contains("0123456789abcdef0123"), "{changes}");
        assert!(changes.contains("••••cdef"), "{changes}");
        // An empty key keeps the stored one.
        let keep = shouhou_app::geocoding::GeocodingInput {
            provider: Some(shouhou_app::geocoding::Provider::Amap),
            api_key: Some(String::new()),
            city: None,
            endpoint: None,
        };
        let (kept, _) = shouhou_app::geocoding::set_settings(&app, &f.admin, None, keep)
            .await
            .unwrap();
        assert_eq!(kept.key, saved.key);

        // A service (never the network in tests) places what it knows, precisely.
        app.geocoder = Some(std::sync::Arc::new(Fake(true)));
        let c = shouhou_app::customers::create(
            &app,
            &f.clerk_a,
            person("冯二", "13500002222", "杭州市西湖区文三路 398 号", None),
        )
        .await
        .unwrap();
        let a = &c.addresses[0];
        assert_eq!(
            (a.located_by, a.location_confirmed, a.lat, a.lng),
            (LocatedBy::Geocoder, true, 30.276, 120.125)
        );
        // Down: the customer is saved all the same, on the fallback.
        app.geocoder = Some(std::sync::Arc::new(Fake(false)));
        let c = shouhou_app::customers::create(
            &app,
            &f.clerk_a,
            person("陈三", "13500003333", "杭州市西湖区文三路 398 号", None),
        )
        .await
        .unwrap();
        let a = &c.addresses[0];
        assert_eq!(
            (a.located_by, a.location_confirmed),
            (LocatedBy::District, false)
        );
    }
);

db_test!(
    a_duplicate_phone_is_warned_and_duplicates_merge,
    |db: Db| async move {
        let (app, _) = test_app(db.clone());
        let f = seed(&app).await;
        // The same phone again (written differently) is refused, naming who has it.
        let again = person("王小明", "+86 138-1234-5678", "凤起路 88 号", None);
        let e = shouhou_app::customers::create(&app, &f.clerk_a, again.clone())
            .await
            .unwrap_err();
        assert_eq!(e.field(), Some("phones[0]"));
        assert!(
            e.message(shouhou_domain::Lang::ZhCn).contains("王小明"),
            "{e:?}"
        );
        let dups =
            shouhou_app::customers::duplicates(&app, &f.clerk_a, &["138 1234 5678".into()], None)
                .await
                .unwrap();
        assert_eq!(
            dups.iter().map(|c| c.id).collect::<Vec<_>>(),
            vec![f.customer]
        );
        // Another store's clerk sees nothing of it.
        assert!(shouhou_app::customers::duplicates(
            &app,
            &f.clerk_b,
            &["13812345678".into()],
            None
        )
        .await
        .unwrap()
        .is_empty());
        // Confirmed: saved, and the lookup shows the two share a phone.
        let mut confirmed = again;
        confirmed.phones.push("0571-88889999".into());
        confirmed.note = Some("二号楼".into());
        confirmed.allow_duplicate_phone = true;
        let dup = shouhou_app::customers::create(&app, &f.clerk_a, confirmed)
            .await
            .unwrap();
        let found = shouhou_app::search::intake(&app, &f.clerk_a, "5678")
            .await
            .unwrap();
        assert_eq!(found.shared_phones.len(), 1);
        assert_eq!(
            found.shared_phones[0]
                .customers
                .iter()
                .map(|c| c.id)
                .collect::<Vec<_>>(),
            vec![f.customer, dup.id]
        );
        // The duplicate got a device, an order and a sales lead meanwhile.
        let device = shouhou_app::devices::create(
            &app,
            &f.clerk_a,
            shouhou_app::devices::NewDevice {
                customer_id: dup.id,
                product_id: f.product,
                serial: "HRDUP0001".into(),
                site_address_id: None,
                purchase_date: days_ago(&app, 30),
                purchase_store_id: None,
                install_date: None,
                policy_id: f.policy,
            },
        )
        .await
        .unwrap();
        let mut n = new_order(&f, WorkOrderType::RepairOnsite);
        (n.customer_id, n.device_id) = (dup.id, Some(device.id));
        let order = wo::create(&app, &f.clerk_a, n).await.unwrap();
        let lead = shouhou_app::leads::add_opportunity(
            &app,
            &f.dispatcher,
            order.id,
            shouhou_app::leads::NewLead {
                client_key: "lead-1".into(),
                kind: shouhou_domain::OpportunityKind::TradeIn,
                value_fen: 100_000,
                note: None,
            },
        )
        .await
        .unwrap();
        // Nobody merges a customer into itself, nor one they cannot see.
        let e = shouhou_app::customers::merge(&app, &f.clerk_a, f.customer, f.customer)
            .await
            .unwrap_err();
        assert_eq!(e.field(), Some("merged_id"));
        let e = shouhou_app::customers::merge(&app, &f.clerk_b, f.customer, dup.id)
            .await
            .unwrap_err();
        assert!(matches!(e, AppError::NotFound), "{e:?}");

        let audit_before = rows(&db, "SELECT COUNT(*) FROM audit_log WHERE id > $1", 0).await;
        let m = shouhou_app::customers::merge(&app, &f.clerk_a, f.customer, dup.id)
            .await
            .unwrap();
        assert_eq!(m.devices, vec![device.id]);
        assert_eq!(m.work_orders, vec![order.id]);
        assert_eq!(m.opportunities, vec![lead.id]);
        assert_eq!(m.addresses, vec![dup.addresses[0].id]);
        let kept = &m.customer;
        assert_eq!(kept.phones, vec!["13812345678", "0571-88889999"]);
        assert_eq!(kept.addresses.len(), 2);
        assert_eq!(kept.note.as_deref(), Some("二号楼"));
        // Nothing is left on the merged customer.
        let e = shouhou_app::customers::get(&app, &f.admin, dup.id)
            .await
            .unwrap_err();
        assert!(matches!(e, AppError::NotFound));
        for sql in [
            "SELECT COUNT(*) FROM customers WHERE id = $1",
            "SELECT COUNT(*) FROM customer_phones WHERE customer_id = $1",
            "SELECT COUNT(*) FROM customer_addresses WHERE customer_id = $1",
            "SELECT COUNT(*) FROM devices WHERE customer_id = $1",
            "SELECT COUNT(*) FROM work_orders WHERE customer_id = $1",
            "SELECT COUNT(*) FROM opportunities WHERE customer_id = $1",
            "SELECT COUNT(*) FROM search_docs WHERE kind = 'customer' AND ref_id = $1",
        ] {
            assert_eq!(rows(&db, sql, dup.id).await, 0, "{sql}");
        }
        let moved = wo::get(&app, &f.clerk_a, order.id).await.unwrap();
        assert_eq!(moved.customer_id, f.customer);
        assert_eq!(moved.version, order.version + 1);
        // Audited in the same transaction: both customers, the device, the order, the lead.
        let entries: Vec<(String, i64, String, Option<i64>, String)> = db
            .fetch_all(
                "SELECT entity, entity_id, action, actor_id, changes FROM audit_log WHERE id > $1 ORDER BY id",
                shouhou_store::args![audit_before],
            )
            .await
            .unwrap();
        let has = |entity: &str, id: i64, action: &str| {
            entries
                .iter()
                .any(|e| e.0 == entity && e.1 == id && e.2 == action && e.3 == Some(f.clerk_a.id()))
        };
        assert!(has("customer", f.customer, "merge"), "{entries:?}");
        assert!(has("customer", dup.id, "merge"), "{entries:?}");
        assert!(has("device", device.id, "update"), "{entries:?}");
        assert!(has("work_order", order.id, "update"), "{entries:?}");
        assert!(has("opportunity", lead.id, "update"), "{entries:?}");
        let gone = entries
            .iter()
            .find(|e| e.1 == dup.id && e.2 == "merge")
            .unwrap();
        assert!(
            gone.4.contains("merged_into") && gone.4.contains("王小明"),
            "{}",
            gone.4
        );
        // The lookup no longer offers a merge.
        let found = shouhou_app::search::intake(&app, &f.clerk_a, "5678")
            .await
            .unwrap();
        assert!(found.shared_phones.is_empty());
        assert_eq!(found.found.customers.len(), 1);
    }
);

db_test!(
    intake_finds_orders_by_number_products_by_word_and_policies_by_brand,
    |db: Db| async move {
        let (app, _) = test_app(db);
        let f = seed(&app).await;
        let w = wo::create(&app, &f.clerk_a, new_order(&f, WorkOrderType::RepairOnsite))
            .await
            .unwrap();
        assert_eq!(w.number, "WO-20260310-0001");
        for q in ["WO-20260310-0001", "wo-20260310-1", "20260310-0001"] {
            let r = shouhou_app::search::intake(&app, &f.clerk_a, q)
                .await
                .unwrap();
            assert_eq!(
                r.work_orders.iter().map(|w| w.id).collect::<Vec<_>>(),
                vec![w.id],
                "{q}"
            );
        }
        // Another store's clerk does not find it.
        let r = shouhou_app::search::intake(&app, &f.clerk_b, "WO-20260310-0001")
            .await
            .unwrap();
        assert!(r.work_orders.is_empty());
        // Products by brand, model (any case) or category.
        let (copier, copier_policy) = copier(&app, &f).await;
        let ids = |p: shouhou_store::repo::Paged<shouhou_store::records::Product>| {
            p.items.iter().map(|x| x.id).collect::<Vec<_>>()
        };
        let find =
            |q: &'static str| shouhou_app::catalog::search_products(&app, q, Page::first(12));
        assert_eq!(ids(find("bcd").await.unwrap()), vec![f.product]);
        assert_eq!(ids(find("海尔").await.unwrap()), vec![f.product]);
        assert_eq!(ids(find("复印").await.unwrap()), vec![copier]);
        assert_eq!(ids(find("copier").await.unwrap()), vec![copier]);
        assert!(ids(find("格力").await.unwrap()).is_empty());
        assert_eq!(find("").await.unwrap().total, 2);
        // Policies of the product's brand only; another brand's is refused on a device.
        let fits = shouhou_app::catalog::policies_for_product(&app, f.product)
            .await
            .unwrap();
        assert_eq!(
            fits.iter().map(|p| p.id).collect::<Vec<_>>(),
            vec![f.policy]
        );
        let e = shouhou_app::devices::create(
            &app,
            &f.clerk_a,
            shouhou_app::devices::NewDevice {
                customer_id: f.customer,
                product_id: f.product,
                serial: "HRWRONG01".into(),
                site_address_id: None,
                purchase_date: days_ago(&app, 3),
                purchase_store_id: None,
                install_date: None,
                policy_id: copier_policy,
            },
        )
        .await
        .unwrap_err();
        assert_eq!(e.field(), Some("policy_id"));
        assert!(
            e.message(shouhou_domain::Lang::ZhCn).contains("理光"),
            "{e:?}"
        );
    }
);

// ------------------------------------------------------------------------------------- KPIs

mod kpis {
    use super::*;
    use chrono::{DateTime, NaiveDate, Utc};
    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};
    use shouhou_app::kpi::{self, By, Query, Side};
    use shouhou_domain::kpi::{Durations, Rate, Value};
    use shouhou_domain::Rating;
    use shouhou_store::Db;

    fn march() -> Query {
        Query::new(
            NaiveDate::from_ymd_opt(2026, 3, 1).unwrap(),
            NaiveDate::from_ymd_opt(2026, 3, 31).unwrap(),
            By::All,
        )
    }

    fn rate(t: &kpi::Table, key: &str) -> (i64, i64) {
        match t.rows[0].kpis.get(key) {
            Some(Value::Rate(Rate {
                numerator,
                denominator,
                ..
            })) => (*numerator, *denominator),
            other => panic!("{key}: {other:?}"),
        }
    }

    fn durations(t: &kpi::Table, key: &str) -> Durations {
        match t.rows[0].kpis.get(key) {
            Some(Value::Durations(d)) => *d,
            other => panic!("{key}: {other:?}"),
        }
    }

    struct Walk<'a> {
        app: &'a shouhou_app::App,
        clock: &'a shouhou_app::FixedClock,
        f: &'a shouhou_testkit::Fixture,
    }

    impl Walk<'_> {
        fn at(&self, minutes: i64) {
            self.clock
                .set(shouhou_testkit::fixture::test_now() + Duration::minutes(minutes));
        }
        async fn create(&self, kind: WorkOrderType) -> i64 {
            wo::create(self.app, &self.f.clerk_a, new_order(self.f, kind))
                .await
                .unwrap()
                .id
        }
        async fn go(&self, actor: &shouhou_app::Actor, id: i64, t: Transition) {
            wo::transition(self.app, actor, id, None, t).await.unwrap();
        }
        async fn assign(&self, id: i64) {
            let mut t = to(Status::Assigned);
            t.technician_id = Some(self.f.tech_a_id);
            self.go(&self.f.dispatcher, id, t).await;
        }
        async fn tech(&self, id: i64, s: Status) {
            self.go(&self.f.tech_a, id, to(s)).await;
        }
        async fn report(&self, id: i64) {
            shouhou_app::service::save_report(
                self.app,
                &self.f.tech_a,
                id,
                shouhou_app::service::ReportInput {
                    findings: Some("检查".into()),
                    work_done: Some("处理".into()),
                    labour_minutes: Some(30),
                },
            )
            .await
            .unwrap();
        }
        async fn rate(&self, id: i64, rating: Rating) {
            shouhou_app::followups::record_follow_up(
                self.app,
                &self.f.manager,
                id,
                shouhou_app::followups::FollowUpInput {
                    rating,
                    comment: None,
                    items: vec![],
                },
            )
            .await
            .unwrap();
        }
    }

    db_test!(every_kpi_of_a_hand_built_week, |db: Db| async move {
        let (app, clock) = test_app(db.clone());
        let f = seed(&app).await;
        let w = Walk {
            app: &app,
            clock: &clock,
            f: &f,
        };
        // tech_a works 2026-03-10 08:30–17:30 local: one working day of 9 h.
        shouhou_testkit::fixture::test_day_shift(&app, &f, f.tech_a_id).await;
        // O1, repair on site, minute 0: accepted at 10, arrives at 60, fixed at 100.
        w.at(0);
        let o1 = w.create(WorkOrderType::RepairOnsite).await;
        w.assign(o1).await;
        w.at(10);
        w.tech(o1, Status::Accepted).await;
        w.at(30);
        w.tech(o1, Status::EnRoute).await;
        w.at(60);
        w.tech(o1, Status::OnSite).await;
        w.report(o1).await;
        w.at(100);
        w.tech(o1, Status::Completed).await;
        // O2 on the same device at 120 (O1 becomes a repeat repair): accepted at 135, first
        // visit 165–195 needs parts, second visit 225–260 fixes it.
        w.at(120);
        let o2 = w.create(WorkOrderType::RepairOnsite).await;
        w.assign(o2).await;
        w.at(135);
        w.tech(o2, Status::Accepted).await;
        w.at(150);
        w.tech(o2, Status::EnRoute).await;
        w.at(165);
        w.tech(o2, Status::OnSite).await;
        w.at(195);
        let mut wp = to(Status::WaitingParts);
        wp.outcome = Some(VisitOutcome::NeedsParts);
        w.go(&f.tech_a, o2, wp).await;
        w.assign(o2).await;
        w.at(205);
        w.tech(o2, Status::Accepted).await;
        w.at(215);
        w.tech(o2, Status::EnRoute).await;
        w.at(225);
        w.tech(o2, Status::OnSite).await;
        w.report(o2).await;
        w.at(260);
        w.tech(o2, Status::Completed).await;
        // O3 by phone at 270 (O2 becomes a repeat): accepted at 275, solved at 300.
        w.at(270);
        let o3 = w.create(WorkOrderType::RepairPhone).await;
        w.at(275);
        w.go(&f.clerk_a, o3, to(Status::Accepted)).await;
        w.at(300);
        w.go(&f.clerk_a, o3, to(Status::Completed)).await;
        // O4 and O5, installs at 300; O4 accepted at 320 and reached an hour after its
        // arrive-by, O5 never visited.
        let o4 = w.create(WorkOrderType::Install).await;
        let o5 = w.create(WorkOrderType::Install).await;
        w.assign(o4).await;
        w.at(320);
        w.tech(o4, Status::Accepted).await;
        let arrive_by = wo::get(&app, &f.manager, o4).await.unwrap().arrive_by;
        let late = (arrive_by - shouhou_testkit::fixture::test_now()).num_minutes() + 60;
        w.at(late - 10);
        w.tech(o4, Status::EnRoute).await;
        w.at(late);
        w.tech(o4, Status::OnSite).await;
        w.report(o4).await;
        w.at(late + 60);
        w.tech(o4, Status::Completed).await;
        // O6, a repair cancelled: it counts nowhere (and makes no repeat of O3).
        let o6 = w.create(WorkOrderType::RepairOnsite).await;
        let mut c = to(Status::Cancelled);
        c.reason = Some("客户取消".into());
        w.go(&f.clerk_a, o6, c).await;
        // Follow-ups: O1 very satisfied; O4 dissatisfied (opens a complaint, due in 48 h).
        w.rate(o1, Rating::VerySatisfied).await;
        w.rate(o4, Rating::Dissatisfied).await;

        let t = kpi::table(&app, &f.manager, &march()).await.unwrap();
        // The dashboard's shortcut: a period's total summed from its days equals the total.
        let mut by_day = march();
        by_day.by = By::Day;
        let days = kpi::table(&app, &f.manager, &by_day).await.unwrap();
        assert!(days.rows.len() > 1);
        let summed = kpi::total_of(&days, shouhou_domain::Lang::ZhCn);
        assert_eq!(summed.rows[0].kpis, t.rows[0].kpis);
        // Worked out by hand from the walk above.
        assert_eq!(
            rate(&t, "first_time_fix_rate"),
            (1, 2),
            "O1 fixed; O2 needed parts"
        );
        assert_eq!(rate(&t, "remote_resolution_rate"), (1, 3), "O3 of O1–O3");
        assert_eq!(
            rate(&t, "arrival_compliance"),
            (2, 4),
            "O1, O2 on time; O4 late; O5 never"
        );
        assert_eq!(rate(&t, "repeat_repair_rate"), (2, 3), "O1 and O2 repeated");
        assert!(t.rows[0].provisional, "30-day windows are open");
        assert_eq!(rate(&t, "satisfaction_rate"), (1, 2));
        assert_eq!(rate(&t, "very_satisfied_rate"), (1, 2));
        assert_eq!(rate(&t, "dissatisfied_rate"), (1, 2));
        assert_eq!(rate(&t, "follow_up_coverage"), (2, 4), "O1–O4 completed");
        assert_eq!(rate(&t, "complaint_rate"), (1, 4));
        assert_eq!(rate(&t, "complaint_on_time_closure"), (0, 0), "not due yet");
        // Visits: O1 one, O2 two, O4 one, over one working day.
        assert_eq!(rate(&t, "calls_per_technician_day"), (4, 1));
        // On site: 40 + 30 + 35 + 60 minutes of a 9-hour shift.
        assert_eq!(rate(&t, "effective_onsite_share"), (165 * 60, 9 * 3600));
        // Response: 10, 15, 5, 20 minutes → median (10 + 15) / 2, p90 the 4th value.
        let r = durations(&t, "response_time_minutes");
        assert_eq!((r.n, r.median, r.p90), (4, Some(12.5), Some(20.0)));
        // Repair cycle of O1–O3: 100, 140, 30 minutes, in hours.
        let c = durations(&t, "repair_cycle_hours");
        assert_eq!(c.n, 3);
        assert!((c.median.unwrap() - 100.0 / 60.0).abs() < 1e-9, "{c:?}");
        assert!((c.p90.unwrap() - 140.0 / 60.0).abs() < 1e-9, "{c:?}");
        // Revenue: the charges priced on the reports, summed independently here.
        let (charged,): (i64,) = db
            .fetch_one(
                "SELECT CAST(COALESCE(SUM(amount_fen), 0) AS BIGINT) FROM charges",
                vec![],
            )
            .await
            .unwrap();
        assert_eq!(
            t.rows[0].kpis.get("service_revenue"),
            Some(&Value::Money(shouhou_domain::kpi::Money {
                fen: charged,
                calls: None,
                per_call_fen: None
            }))
        );
        assert_eq!(
            t.rows[0].kpis.get("parts_on_time_rate"),
            Some(&Value::NoData { no_data: true })
        );

        // The orders behind the numbers.
        let page = shouhou_store::repo::Page::LARGEST;
        let ids = |p: shouhou_store::repo::Paged<shouhou_store::kpi::FactOrder>| {
            let mut v: Vec<i64> = p.items.iter().map(|o| o.id).collect();
            v.sort();
            (v, p.total)
        };
        let k = shouhou_domain::kpi::Kpi::FirstTimeFixRate;
        let num = kpi::orders(&app, &f.manager, k, Side::Numerator, &march(), page).await;
        assert_eq!(ids(num.unwrap()), (vec![o1], 1));
        let den = kpi::orders(&app, &f.manager, k, Side::Denominator, &march(), page).await;
        assert_eq!(ids(den.unwrap()), (vec![o1, o2], 2));
        let k = shouhou_domain::kpi::Kpi::ArrivalCompliance;
        let den = kpi::orders(&app, &f.manager, k, Side::Denominator, &march(), page).await;
        let all = den.unwrap();
        assert_eq!(ids(all.clone()), (vec![o1, o2, o4, o5], 4));
        // Pages of one, cut before the joins: the same rows in the same order (latest day
        // first), each page counting them all.
        let mut paged = Vec::new();
        for offset in 0..5 {
            let one = shouhou_store::repo::Page::parse(Some(1), Some(offset)).unwrap();
            let p = kpi::orders(&app, &f.manager, k, Side::Denominator, &march(), one)
                .await
                .unwrap();
            assert_eq!(p.total, 4, "offset {offset}");
            assert!(p.items.len() <= 1);
            paged.extend(p.items.iter().map(|o| (o.id, o.day)));
        }
        let whole: Vec<_> = all.items.iter().map(|o| (o.id, o.day)).collect();
        assert_eq!(paged, whole);
        assert!(
            whole
                .windows(2)
                .all(|w| (w[0].1, w[0].0) >= (w[1].1, w[1].0)),
            "{whole:?}"
        );
        // The calls behind calls per technician-day are the four visits, O2's two each a row,
        // so their number is the figure's; the complaint rate's numerator is O4's complaint;
        // response time's orders are the four it measured.
        let k = shouhou_domain::kpi::Kpi::CallsPerTechnicianDay;
        let num = kpi::orders(&app, &f.manager, k, Side::Numerator, &march(), page).await;
        assert_eq!(ids(num.unwrap()), (vec![o1, o2, o2, o4], 4));
        let k = shouhou_domain::kpi::Kpi::ComplaintRate;
        let num = kpi::orders(&app, &f.manager, k, Side::Numerator, &march(), page).await;
        assert_eq!(ids(num.unwrap()), (vec![o4], 1));
        let k = shouhou_domain::kpi::Kpi::ResponseTimeMinutes;
        let den = kpi::orders(&app, &f.manager, k, Side::Denominator, &march(), page).await;
        let den = den.unwrap();
        assert_eq!((den.items.len(), den.total), (4, 4));
        assert!(den.items.iter().all(|o| o.seconds.is_some()), "{den:?}");

        // By technician: tech_a's row holds the visited orders; O3 (phone) and O5 (never
        // reached) have no first visit.
        let mut q = march();
        q.by = By::Technician;
        let t = kpi::table(&app, &f.manager, &q).await.unwrap();
        let names: Vec<&str> = t.rows.iter().map(|r| r.group.name.as_str()).collect();
        assert_eq!(t.rows.len(), 2, "{names:?}");
        let tech = t
            .rows
            .iter()
            .find(|r| r.group.id == Some(f.tech_a_id))
            .unwrap();
        match tech.kpis.get("first_time_fix_rate") {
            Some(Value::Rate(r)) => assert_eq!((r.numerator, r.denominator), (1, 2)),
            other => panic!("{other:?}"),
        }

        // Scope: store B's staff see none of store A's numbers.
        let t = kpi::table(&app, &f.clerk_b, &march()).await.unwrap();
        assert_eq!(rate(&t, "follow_up_coverage"), (0, 0));
        assert_eq!(rate(&t, "first_time_fix_rate"), (0, 0));

        // Two days later the complaint is past due and still open: late, through the clock
        // alone (no record changed).
        w.at(late + 60 + 3 * 24 * 60);
        let t = kpi::table(&app, &f.manager, &march()).await.unwrap();
        assert_eq!(rate(&t, "complaint_on_time_closure"), (0, 1));
        // April holds none of it.
        let mut april = march();
        april.from = NaiveDate::from_ymd_opt(2026, 4, 1).unwrap();
        april.to = NaiveDate::from_ymd_opt(2026, 4, 30).unwrap();
        let t = kpi::table(&app, &f.manager, &april).await.unwrap();
        assert_eq!(rate(&t, "follow_up_coverage"), (0, 0));
    });

    db_test!(
        a_completion_at_2330_local_counts_in_its_month,
        |db: Db| async move {
            let (app, clock) = test_app(db);
            let f = seed(&app).await;
            // 2026-03-31 23:00 and 23:30 in Shanghai (UTC+8).
            let at = |s: &str| s.parse::<DateTime<Utc>>().unwrap();
            clock.set(at("2026-03-31T15:00:00Z"));
            let id = wo::create(&app, &f.clerk_a, new_order(&f, WorkOrderType::RepairPhone))
                .await
                .unwrap()
                .id;
            wo::transition(&app, &f.clerk_a, id, None, to(Status::Accepted))
                .await
                .unwrap();
            clock.set(at("2026-03-31T15:30:00Z"));
            wo::transition(&app, &f.clerk_a, id, None, to(Status::Completed))
                .await
                .unwrap();
            let t = kpi::table(&app, &f.manager, &march()).await.unwrap();
            assert_eq!(rate(&t, "remote_resolution_rate"), (1, 1));
            let mut april = march();
            april.from = NaiveDate::from_ymd_opt(2026, 4, 1).unwrap();
            april.to = NaiveDate::from_ymd_opt(2026, 4, 30).unwrap();
            let t = kpi::table(&app, &f.manager, &april).await.unwrap();
            assert_eq!(rate(&t, "remote_resolution_rate"), (0, 0));
            // A period that ends before it starts is refused, naming the period.
            let e = kpi::table(&app, &f.manager, &Query::new(april.to, april.from, By::All))
                .await
                .unwrap_err();
            assert_eq!(e.field(), Some("period"), "{e:?}");
        }
    );

    /// Every fact row as text (same store, same format), sorted.
    async fn facts(db: &Db) -> Vec<String> {
        let mut cols: Vec<String> = [
            "work_order_id",
            "basis",
            "day",
            "org_unit_id",
            "unit_id",
            "partner_unit_id",
            "technician_id",
            "category",
            "brand",
            "kind",
            "warranty",
            "tier",
            "channel",
            "response_seconds",
            "cycle_seconds",
            "late_after",
        ]
        .iter()
        .map(|c| c.to_string())
        .collect();
        cols.extend(
            shouhou_domain::kpi::Counter::ALL
                .iter()
                .map(|c| c.column().to_string()),
        );
        let expr = cols
            .iter()
            .map(|c| format!("COALESCE(CAST({c} AS TEXT), '-')"))
            .collect::<Vec<_>>()
            .join(" || '|' || ");
        let rows: Vec<(String,)> = db
            .fetch_all(&format!("SELECT {expr} FROM kpi_facts"), vec![])
            .await
            .unwrap();
        let mut v: Vec<String> = rows.into_iter().map(|r| r.0).collect();
        v.sort();
        v
    }

    /// The rows of `kept` (its `key` columns and its nonzero `cols`) equal the rows of `source`
    /// grouped by `by` with the aggregates `sums` (in the same order as `cols`).
    async fn kept_is_summed(
        db: &Db,
        key: &str,
        kept: &str,
        cols: &[&str],
        by: &str,
        source: &str,
        sums: &[String],
    ) {
        let text = |exprs: &[String]| {
            exprs
                .iter()
                .map(|e| format!("COALESCE(CAST({e} AS TEXT), '-')"))
                .collect::<Vec<_>>()
                .join(" || '|' || ")
        };
        let cols: Vec<String> = cols.iter().map(|c| c.to_string()).collect();
        let nonzero = |exprs: &[String]| {
            exprs
                .iter()
                .map(|e| format!("{e} <> 0"))
                .collect::<Vec<_>>()
                .join(" OR ")
        };
        // Split at the commas outside parentheses.
        let split = |list: &str| {
            let (mut out, mut cur, mut depth) = (Vec::new(), String::new(), 0);
            for ch in list.chars() {
                match ch {
                    '(' => depth += 1,
                    ')' => depth -= 1,
                    ',' if depth == 0 => {
                        out.push(cur.trim().to_string());
                        cur.clear();
                        continue;
                    }
                    _ => {}
                }
                cur.push(ch);
            }
            out.push(cur.trim().to_string());
            out
        };
        let keys = split(key);
        let groups = split(by);
        let rows = |sql: String| async move {
            let rows: Vec<(String,)> = db.fetch_all(&sql, vec![]).await.unwrap();
            rows
        };
        let have = rows(format!(
            "SELECT {} || '|' || {} FROM {kept} WHERE {} ORDER BY 1",
            text(&keys),
            text(&cols),
            nonzero(&cols)
        ))
        .await;
        let want = rows(format!(
            "SELECT {} || '|' || {} FROM {source} GROUP BY {by} HAVING {} ORDER BY 1",
            text(&groups),
            text(sums),
            nonzero(sums)
        ))
        .await;
        assert!(!have.is_empty(), "{kept} is empty");
        assert_eq!(have, want, "{kept} against {source}");
    }

    /// The packed durations read back exactly the facts' durations, per technician and per day,
    /// over a period that cuts its first and last month; the monthly sums are the daily sums
    /// added up by month.
    async fn months_agree_with_days(db: &Db) {
        use chrono::Datelike;
        use shouhou_store::kpi::{durations, DurationOf, FactQuery, Group, Key};
        let (lo, hi): (NaiveDate, NaiveDate) = db
            .fetch_one("SELECT MIN(day), MAX(day) FROM kpi_facts", vec![])
            .await
            .unwrap();
        let (from, to) = (lo + Duration::days(3), hi - Duration::days(3));
        // At least one whole month inside, so that whole months and cut months are both read.
        assert!(
            (to - from).num_days() >= 62,
            "{from}..{to} holds no whole month"
        );
        let units: Vec<(i64,)> = db
            .fetch_all("SELECT id FROM org_units", vec![])
            .await
            .unwrap();
        let vis = shouhou_store::Visibility::everything(units.into_iter().map(|u| u.0).collect());
        let q = FactQuery {
            from,
            to,
            units: None,
            technician_id: None,
            category: None,
            brand: None,
            kind: None,
        };
        for (which, col) in [
            (DurationOf::Response, "response_seconds"),
            (DurationOf::Cycle, "cycle_seconds"),
        ] {
            // Every (group, seconds) pair of a reading, in order.
            let vis = &vis;
            let pairs = |q: FactQuery, g: Group| async move {
                let mut out: Vec<(Key, i64)> =
                    durations(db, &shouhou_store::kpi::Memo::off(), vis, &q, g, which)
                        .await
                        .unwrap()
                        .into_iter()
                        .flat_map(|(k, v)| v.values().map(|s| (k.clone(), s)).collect::<Vec<_>>())
                        .collect();
                out.sort();
                out
            };
            let by_tech: Vec<(Option<i64>, i64)> = pairs(q.clone(), Group::Technician)
                .await
                .into_iter()
                .map(|(k, s)| match k {
                    Key::Id(t) => (t, s),
                    k => panic!("{k:?}"),
                })
                .collect();
            let mut facts: Vec<(Option<i64>, NaiveDate, i64)> = db
                .fetch_all(
                    &format!(
                        "SELECT technician_id, day, {col} FROM kpi_facts \
                         WHERE {col} IS NOT NULL AND day >= $1 AND day <= $2"
                    ),
                    shouhou_store::args![from, to],
                )
                .await
                .unwrap();
            facts.sort();
            let mut want: Vec<(Option<i64>, i64)> = facts.iter().map(|f| (f.0, f.2)).collect();
            want.sort();
            assert!(!want.is_empty(), "{col}: no durations in {from}..{to}");
            assert_eq!(by_tech, want, "{col} per technician");
            let by_day: Vec<(NaiveDate, i64)> = pairs(q.clone(), Group::Day)
                .await
                .into_iter()
                .map(|(k, s)| match k {
                    Key::Day(d) => (d, s),
                    k => panic!("{k:?}"),
                })
                .collect();
            let mut want: Vec<(NaiveDate, i64)> = facts.iter().map(|f| (f.1, f.2)).collect();
            want.sort();
            assert_eq!(by_day, want, "{col} per day");
            // By month and for all units (whole months from the rows' seconds alone), and for
            // one technician (whole months from the per-technician rows).
            let by_month: Vec<(NaiveDate, i64)> = pairs(q.clone(), Group::Month)
                .await
                .into_iter()
                .map(|(k, s)| match k {
                    Key::Day(d) => (d, s),
                    k => panic!("{k:?}"),
                })
                .collect();
            let mut want: Vec<(NaiveDate, i64)> = facts
                .iter()
                .map(|f| (f.1.with_day(1).unwrap(), f.2))
                .collect();
            want.sort();
            assert_eq!(by_month, want, "{col} per month");
            let all: Vec<i64> = pairs(q.clone(), Group::None)
                .await
                .into_iter()
                .map(|p| p.1)
                .collect();
            let mut want: Vec<i64> = facts.iter().map(|f| f.2).collect();
            want.sort();
            assert_eq!(all, want, "{col} in all");
            let busiest = facts
                .iter()
                .filter_map(|f| f.0)
                .max_by_key(|t| facts.iter().filter(|f| f.0 == Some(*t)).count())
                .expect("a technician with durations");
            let one = FactQuery {
                technician_id: Some(busiest),
                ..q.clone()
            };
            let mine: Vec<i64> = pairs(one, Group::None)
                .await
                .into_iter()
                .map(|p| p.1)
                .collect();
            let mut want: Vec<i64> = facts
                .iter()
                .filter(|f| f.0 == Some(busiest))
                .map(|f| f.2)
                .collect();
            want.sort();
            assert_eq!(mine, want, "{col} of technician {busiest}");
        }
        // The counters by month (whole months from the monthly sums) equal those by day added
        // up by month.
        let now = hi.and_hms_opt(12, 0, 0).unwrap().and_utc();
        let by_month = shouhou_store::kpi::sums(db, &vis, &q, Group::Month, now)
            .await
            .unwrap();
        let mut from_days: std::collections::BTreeMap<Key, Vec<i64>> = Default::default();
        for (k, c, late) in shouhou_store::kpi::sums(db, &vis, &q, Group::Day, now)
            .await
            .unwrap()
        {
            let Key::Day(d) = k else { panic!("{k:?}") };
            let m = Key::Day(NaiveDate::from_ymd_opt(d.year(), d.month(), 1).unwrap());
            let e = from_days.entry(m).or_insert_with(|| vec![0; c.len() + 1]);
            for (i, v) in c.iter().chain([late].iter()).enumerate() {
                e[i] += v;
            }
        }
        let by_month: std::collections::BTreeMap<Key, Vec<i64>> = by_month
            .into_iter()
            .map(|(k, c, late)| (k, c.iter().copied().chain([late]).collect()))
            .collect();
        // The period holds a whole month and cuts the ones at its ends.
        let whole = by_month.keys().any(|k| {
            let Key::Day(m) = k else { return false };
            *m >= from
                && m.checked_add_months(chrono::Months::new(1)).unwrap() <= to + Duration::days(1)
        });
        assert!(
            whole && from.day() != 1,
            "{from}..{to} holds no whole month"
        );
        assert_eq!(by_month, from_days);
        let month = match db.backend() {
            shouhou_store::Backend::Sqlite => "substr(day, 1, 8) || '01'",
            shouhou_store::Backend::Postgres => {
                "CAST(CAST(date_trunc('month', day) AS DATE) AS TEXT)"
            }
        };
        let counters: Vec<&str> = shouhou_domain::kpi::Counter::ALL
            .iter()
            .map(|c| c.column())
            .collect();
        let sums: Vec<String> = counters.iter().map(|c| format!("SUM({c})")).collect();
        let unit = "org_unit_id, unit_id, partner_unit_id";
        // Per technician, and per unit only.
        kept_is_summed(
            db,
            &format!("CAST(month AS TEXT), {unit}, technician_id"),
            "kpi_monthly_unit",
            &counters,
            &format!("{month}, {unit}, technician_id"),
            "kpi_daily_unit",
            &sums,
        )
        .await;
        kept_is_summed(
            db,
            &format!("CAST(month AS TEXT), {unit}"),
            "kpi_monthly_store",
            &counters,
            &format!("{month}, {unit}"),
            "kpi_daily_unit",
            &sums,
        )
        .await;
        kept_is_summed(
            db,
            &format!("CAST(day AS TEXT), {unit}"),
            "kpi_daily_store",
            &counters,
            &format!("CAST(day AS TEXT), {unit}"),
            "kpi_daily_unit",
            &sums,
        )
        .await;
        // Answers per unit and item, a column per rating: by month and by day.
        let ratings: Vec<&str> = shouhou_domain::Rating::ALL
            .iter()
            .map(|r| r.as_str())
            .collect();
        let counted: Vec<String> = ratings
            .iter()
            .map(|r| format!("SUM(CASE WHEN rating = '{r}' THEN n ELSE 0 END)"))
            .collect();
        kept_is_summed(
            db,
            &format!("CAST(month AS TEXT), {unit}, item"),
            "kpi_csi_monthly",
            &ratings,
            &format!("{month}, {unit}, item"),
            "kpi_csi_daily",
            &counted,
        )
        .await;
        kept_is_summed(
            db,
            &format!("CAST(day AS TEXT), {unit}, item"),
            "kpi_csi_daily_unit",
            &ratings,
            &format!("CAST(day AS TEXT), {unit}, item"),
            "kpi_csi_daily",
            &counted,
        )
        .await;
        // Read over the period that cuts its months (months and days per unit), the answers
        // are the answers counted.
        let mut read: Vec<(String, String, i64)> =
            shouhou_store::csi::counts(db, &shouhou_store::kpi::Memo::off(), &vis, &q, Group::None)
                .await
                .unwrap()
                .into_iter()
                .map(|(_, item, rating, n)| (item, rating, n))
                .collect();
        read.sort();
        let mut counted: Vec<(String, String, i64)> = db
            .fetch_all(
                "SELECT item, rating, COUNT(*) FROM kpi_csi_facts WHERE day >= $1 AND day <= $2 \
                 GROUP BY item, rating",
                shouhou_store::args![from, to],
            )
            .await
            .unwrap();
        counted.sort();
        assert!(!counted.is_empty());
        assert_eq!(read, counted);
        // Working days per month and technician, moved with each shift change, equal the shifts
        // counted again.
        let length = match db.backend() {
            shouhou_store::Backend::Sqlite => "unixepoch(ends_at) - unixepoch(starts_at)",
            shouhou_store::Backend::Postgres => {
                "CAST(EXTRACT(EPOCH FROM date_trunc('second', ends_at)) - EXTRACT(EPOCH FROM date_trunc('second', starts_at)) AS BIGINT)"
            }
        };
        kept_is_summed(
            db,
            "CAST(month AS TEXT), technician_id",
            "shift_months",
            &["days", "seconds"],
            &format!("{month}, technician_id"),
            "shifts",
            &["COUNT(*)".to_string(), format!("SUM({length})")],
        )
        .await;
        // And read by month (whole months from the monthly sums) they equal the days added up.
        use shouhou_store::kpi::{shifts, ShiftGroup};
        let (from, to) = (
            NaiveDate::from_ymd_opt(2026, 2, 11).unwrap(),
            NaiveDate::from_ymd_opt(2026, 5, 20).unwrap(),
        );
        let read = |g| {
            let vis = vis.clone();
            async move {
                let mut m: std::collections::BTreeMap<NaiveDate, (i64, i64)> = Default::default();
                for r in shifts(
                    db,
                    &shouhou_store::kpi::Memo::off(),
                    &vis,
                    from,
                    to,
                    None,
                    None,
                    g,
                )
                .await
                .unwrap()
                {
                    let d = r.day.unwrap();
                    let e = m
                        .entry(NaiveDate::from_ymd_opt(d.year(), d.month(), 1).unwrap())
                        .or_default();
                    e.0 += r.days;
                    e.1 += r.seconds;
                }
                m
            }
        };
        let by_month = read(ShiftGroup::Month).await;
        assert_eq!(by_month.len(), 4, "{by_month:?}");
        assert_eq!(by_month, read(ShiftGroup::Day).await);
    }

    /// The KPI and CSI tables of the last four months read with the finished months kept in
    /// memory (twice: the second from memory) equal the same tables read by a server with
    /// nothing in memory.
    async fn memo_reads_as_the_records(app: &shouhou_app::App, who: &shouhou_app::Actor) {
        let fresh = shouhou_app::App {
            kpi_cache: Default::default(),
            ..app.clone()
        };
        let today = app.today();
        // The current month is kept too (under its version, which the walk's writes move).
        {
            use chrono::Datelike;
            let month = shouhou_app::App {
                kpi_cache: Default::default(),
                ..app.clone()
            };
            let q = Query::new(today.with_day(1).unwrap(), today, By::Store);
            kpi::table(&month, who, &q).await.unwrap();
            assert!(
                !month.kpi_cache.is_empty(),
                "a reading of the current month alone is kept"
            );
        }
        let mut figures_checked = 0;
        for by in [By::All, By::Month, By::Store, By::Technician, By::Day] {
            let q = Query::new(today - Duration::days(120), today, by);
            let kept = kpi::table(app, who, &q).await.unwrap();
            let again = kpi::table(app, who, &q).await.unwrap();
            let read = kpi::table(&fresh, who, &q).await.unwrap();
            let json = |t: &kpi::Table| serde_json::to_string(t).unwrap();
            assert_eq!(json(&kept), json(&read), "{by:?} as first read");
            assert_eq!(json(&again), json(&read), "{by:?} from memory");
            if by == By::Day {
                // The days summed equal the period read at once (whose current month is read
                // as the month less its later days).
                let all = kpi::table(app, who, &Query::new(q.from, q.to, By::All))
                    .await
                    .unwrap();
                let summed = kpi::total_of(&read, shouhou_domain::Lang::ZhCn);
                assert_eq!(
                    serde_json::to_string(&summed.rows[0].kpis).unwrap(),
                    serde_json::to_string(&all.rows[0].kpis).unwrap(),
                );
            }
            // The orders behind a figure, paged one at a time (so every page counts or finds
            // its total kept): the same total as a server with nothing in memory counts.
            for k in [
                shouhou_domain::kpi::Kpi::FirstTimeFixRate,
                shouhou_domain::kpi::Kpi::RepairCycleHours,
                shouhou_domain::kpi::Kpi::ResponseTimeMinutes,
                shouhou_domain::kpi::Kpi::CallsPerTechnicianDay,
                shouhou_domain::kpi::Kpi::FollowUpCoverage,
                shouhou_domain::kpi::Kpi::RepeatRepairRate,
                shouhou_domain::kpi::Kpi::ArrivalCompliance,
                shouhou_domain::kpi::Kpi::SatisfactionRate,
                shouhou_domain::kpi::Kpi::ComplaintRate,
                shouhou_domain::kpi::Kpi::ComplaintOnTimeClosure,
                shouhou_domain::kpi::Kpi::ServiceRevenue,
            ] {
                let one = shouhou_store::repo::Page::first(1);
                let total = |a: &shouhou_app::App| {
                    let (a, q) = (a.clone(), q.clone());
                    async move {
                        let p = kpi::orders(&a, who, k, Side::Denominator, &q, one)
                            .await
                            .unwrap();
                        (p.total, p.total_capped)
                    }
                };
                let kept = total(app).await;
                assert_eq!(kept, total(app).await, "{k:?} behind, again");
                assert_eq!(kept, total(&fresh).await, "{k:?} behind, from memory");
                // The total (where the figure counts them, the figure's own count) is the
                // rows listed.
                for side in [Side::Numerator, Side::Denominator] {
                    let all = shouhou_store::repo::Page::LARGEST;
                    let p = kpi::orders(&fresh, who, k, side, &q, all).await.unwrap();
                    assert!(
                        (p.items.len() as i64) < all.limit,
                        "a walk's orders fit a page"
                    );
                    assert_eq!(
                        (p.total, p.total_capped),
                        (p.items.len() as i64, false),
                        "{k:?} {side:?}: the total is the orders listed"
                    );
                    // … and, where the figure is a count of them, the figure.
                    if by != By::All {
                        continue;
                    }
                    let figure = read.rows.first().and_then(|r| r.kpis.get(k.as_str()));
                    let counted = match (figure, side) {
                        (Some(Value::Durations(d)), _) => Some(d.n),
                        (Some(Value::Rate(r)), Side::Numerator) => Some(r.numerator),
                        (Some(Value::Rate(r)), Side::Denominator)
                            if k != shouhou_domain::kpi::Kpi::CallsPerTechnicianDay =>
                        {
                            Some(r.denominator)
                        }
                        _ => None,
                    };
                    if let Some(n) = counted {
                        assert_eq!(p.total, n, "{k:?} {side:?}: the rows are the figure's");
                        figures_checked += 1;
                    }
                }
            }
            let csi = shouhou_app::csi::table(app, who, &q).await.unwrap();
            let csi_read = shouhou_app::csi::table(&fresh, who, &q).await.unwrap();
            assert_eq!(
                serde_json::to_string(&csi).unwrap(),
                serde_json::to_string(&csi_read).unwrap(),
                "CSI {by:?}"
            );
        }
        // Rates and durations of the whole period: 9 KPIs with both sides but calls' and
        // durations' (one count each), when the walk has data.
        assert!(figures_checked >= 15, "{figures_checked} figures compared");
    }

    db_test!(incremental_facts_equal_rebuilt_ones, |db: Db| async move {
        let (app, clock) = test_app(db.clone());
        let f = seed(&app).await;
        let w = Walk {
            app: &app,
            clock: &clock,
            f: &f,
        };
        let kinds = [
            WorkOrderType::RepairOnsite,
            WorkOrderType::RepairPhone,
            WorkOrderType::Install,
        ];
        for seed in [1u64, 2, 3] {
            let mut rng = StdRng::seed_from_u64(seed);
            let mut minute = 0i64;
            let mut orders: Vec<(i64, WorkOrderType)> = Vec::new();
            for step in 0..60 {
                // About two and a half months a walk: whole months and cut ones.
                minute += rng.gen_range(0..3600);
                w.at(minute);
                if step % 6 == 5 {
                    memo_reads_as_the_records(&app, &f.manager).await;
                }
                if orders.is_empty() || rng.gen_bool(0.2) {
                    let k = kinds[rng.gen_range(0..kinds.len())];
                    orders.push((w.create(k).await, k));
                    continue;
                }
                let (id, kind) = orders[rng.gen_range(0..orders.len())];
                let cur = wo::get(&app, &f.manager, id).await.unwrap().status;
                // The next step of its life, chosen at random where there is a choice; a step
                // the lifecycle refuses is simply not taken.
                let (actor, t) = match (cur, kind) {
                    (Status::New, WorkOrderType::RepairPhone) => (&f.clerk_a, to(Status::Accepted)),
                    (Status::Accepted, WorkOrderType::RepairPhone) => {
                        (&f.clerk_a, to(Status::Completed))
                    }
                    (Status::New | Status::WaitingParts, _) => {
                        let mut t = to(Status::Assigned);
                        t.technician_id = Some(f.tech_a_id);
                        (&f.dispatcher, t)
                    }
                    (Status::Assigned, _) => (&f.tech_a, to(Status::Accepted)),
                    (Status::Accepted, _) => (&f.tech_a, to(Status::EnRoute)),
                    (Status::EnRoute, _) => (&f.tech_a, to(Status::OnSite)),
                    (Status::OnSite, _) => {
                        w.report(id).await;
                        let outcomes = [
                            VisitOutcome::Fixed,
                            VisitOutcome::NotFixable,
                            VisitOutcome::CustomerAbsent,
                        ];
                        if rng.gen_bool(0.3) {
                            (&f.tech_a, to(Status::WaitingParts))
                        } else {
                            let mut t = to(Status::Completed);
                            t.outcome = Some(outcomes[rng.gen_range(0..outcomes.len())]);
                            (&f.tech_a, t)
                        }
                    }
                    (Status::Completed, _) if rng.gen_bool(0.4) => {
                        // A follow-up call with no rating: not answered (up to the limit) or
                        // refused; the order stays due, or leaves the list.
                        let outcome = if rng.gen_bool(0.75) {
                            shouhou_app::followups::CallOutcome::NoAnswer
                        } else {
                            shouhou_app::followups::CallOutcome::Refused
                        };
                        let _ = shouhou_app::followups::record_call(
                            &app,
                            &f.manager,
                            id,
                            shouhou_app::followups::CallInput {
                                outcome,
                                rating: None,
                                comment: None,
                                items: vec![],
                            },
                        )
                        .await;
                        continue;
                    }
                    (Status::Completed, _) => {
                        let r = Rating::ALL[rng.gen_range(0..Rating::ALL.len())];
                        let items = if rng.gen_bool(0.5) {
                            vec![shouhou_app::csi::ItemAnswer {
                                item: "上门准时".into(),
                                rating: Rating::ALL[rng.gen_range(0..Rating::ALL.len())],
                            }]
                        } else {
                            vec![]
                        };
                        let _ = shouhou_app::followups::record_follow_up(
                            &app,
                            &f.manager,
                            id,
                            shouhou_app::followups::FollowUpInput {
                                rating: r,
                                comment: None,
                                items,
                            },
                        )
                        .await;
                        continue;
                    }
                    _ => continue,
                };
                let t = if step % 17 == 0 && cur != Status::Completed {
                    let mut c = to(Status::Cancelled);
                    c.reason = Some("客户取消".into());
                    c
                } else {
                    t
                };
                let _ = wo::transition(&app, actor, id, None, t).await;
            }
        }
        // A server's warm-up at start reads the managers' dashboards into memory: what it
        // keeps reads as the records.
        let warmed = shouhou_app::App {
            kpi_cache: Default::default(),
            ..app.clone()
        };
        let scopes = kpi::warm(&warmed).await.unwrap();
        assert!(scopes >= 1, "the manager's scope is warmed");
        assert!(
            !warmed.kpi_cache.is_empty(),
            "the year's finished months are kept"
        );
        memo_reads_as_the_records(&warmed, &f.manager).await;
        // The follow-up queue holds exactly the orders due a call, however they got there.
        // Each with its unanswered calls, the retry time the last set, and when its next call
        // is due (the retry time, or its completion before any call).
        let due_sql = "SELECT wo.id, \
               (SELECT COUNT(*) FROM follow_up_calls fc WHERE fc.work_order_id = wo.id AND fc.outcome = 'no_answer'), \
               (SELECT MAX(fc.retry_at) FROM follow_up_calls fc WHERE fc.work_order_id = wo.id), \
               COALESCE((SELECT MAX(fc.retry_at) FROM follow_up_calls fc WHERE fc.work_order_id = wo.id), wo.completed_at) \
             FROM work_orders wo WHERE wo.status IN ('completed', 'reviewed', 'closed') \
             AND NOT EXISTS (SELECT 1 FROM follow_ups f WHERE f.work_order_id = wo.id) \
             AND NOT EXISTS (SELECT 1 FROM follow_up_calls fc WHERE fc.work_order_id = wo.id AND fc.outcome = 'refused') \
             AND (SELECT COUNT(*) FROM follow_up_calls fc WHERE fc.work_order_id = wo.id AND fc.outcome = 'no_answer') < 3 \
             ORDER BY wo.id";
        type Queued = (
            i64,
            i64,
            Option<chrono::DateTime<chrono::Utc>>,
            Option<chrono::DateTime<chrono::Utc>>,
        );
        let due: Vec<Queued> = app.db.fetch_all(due_sql, vec![]).await.unwrap();
        let queued: Vec<Queued> = app
            .db
            .fetch_all(
                "SELECT work_order_id, attempts, retry_at, call_at FROM follow_up_due ORDER BY work_order_id",
                vec![],
            )
            .await
            .unwrap();
        assert!(!due.is_empty(), "the sequence leaves orders due a call");
        assert_eq!(queued, due);
        let called: Vec<(i64,)> = app
            .db
            .fetch_all("SELECT DISTINCT work_order_id FROM follow_up_calls", vec![])
            .await
            .unwrap();
        assert!(!called.is_empty(), "the sequence records calls");
        assert!(
            queued.iter().any(|q| q.1 > 0 && q.2.is_some()),
            "an order waits for its retry in the queue"
        );
        // Shifts set, changed and cleared across a month's end.
        for (d, hours) in [(-40, 8), (-2, 8), (-1, 9), (-1, 6), (0, 7), (1, 8), (44, 5)] {
            let day = NaiveDate::from_ymd_opt(2026, 4, 1).unwrap() + Duration::days(d);
            let starts_at = day.and_hms_opt(1, 0, 0).unwrap().and_utc();
            shouhou_app::org::set_shift(
                &app,
                &f.admin,
                f.tech_a_id,
                shouhou_app::org::NewShift {
                    day,
                    starts_at,
                    ends_at: starts_at + Duration::hours(hours),
                },
            )
            .await
            .unwrap();
        }
        shouhou_app::org::clear_shift(
            &app,
            &f.admin,
            f.tech_a_id,
            NaiveDate::from_ymd_opt(2026, 4, 1).unwrap(),
        )
        .await
        .unwrap();
        kpi::catch_up(&app).await.unwrap();
        memo_reads_as_the_records(&app, &f.manager).await;
        assert!(
            !app.kpi_cache.is_empty(),
            "the walk's readings kept finished months in memory"
        );
        let incremental = facts(&db).await;
        assert!(incremental.len() > 50, "{} fact rows", incremental.len());
        // The answer counts per day, unit, technician, item and rating, kept incrementally.
        let csi_daily = || {
            let db = db.clone();
            async move {
                let rows: Vec<(String,)> = db
                    .fetch_all(
                        "SELECT CAST(day AS TEXT) || '|' || CAST(unit_id AS TEXT) || '|' || \
                         CAST(technician_id AS TEXT) || '|' || kind || '|' || item || '|' || \
                         rating || '|' || CAST(n AS TEXT) FROM kpi_csi_daily WHERE n <> 0 ORDER BY 1",
                        vec![],
                    )
                    .await
                    .unwrap();
                rows
            }
        };
        let csi_incremental = csi_daily().await;
        let unit_sums = || {
            let db = db.clone();
            async move {
                let cols = shouhou_domain::kpi::Counter::ALL
                    .iter()
                    .map(|c| format!("CAST({} AS TEXT)", c.column()))
                    .collect::<Vec<_>>()
                    .join(" || '|' || ");
                let nonzero = shouhou_domain::kpi::Counter::ALL
                    .iter()
                    .map(|c| format!("{} <> 0", c.column()))
                    .collect::<Vec<_>>()
                    .join(" OR ");
                let rows: Vec<(String,)> = db
                    .fetch_all(
                        &format!(
                            "SELECT CAST(day AS TEXT) || '|' || CAST(unit_id AS TEXT) || '|' || \
                             CAST(technician_id AS TEXT) || '|' || {cols} FROM kpi_daily_unit \
                             WHERE {nonzero} ORDER BY 1"
                        ),
                        vec![],
                    )
                    .await
                    .unwrap();
                rows
            }
        };
        let unit_incremental = unit_sums().await;
        assert!(!unit_incremental.is_empty());
        months_agree_with_days(&db).await;
        assert!(
            csi_incremental.iter().any(|r| r.0.contains("上门准时")),
            "{csi_incremental:?}"
        );
        let n = kpi::rebuild(&app).await.unwrap();
        assert!(n > 20, "{n} orders rebuilt");
        let rebuilt = facts(&db).await;
        assert_eq!(incremental, rebuilt);
        assert_eq!(csi_incremental, csi_daily().await);
        assert_eq!(unit_incremental, unit_sums().await);
        // The daily sums kept incrementally (minus old facts, plus new) equal the facts summed
        // again: rows that fell to zero aside.
        let counters: Vec<&str> = shouhou_domain::kpi::Counter::ALL
            .iter()
            .map(|c| c.column())
            .collect();
        let cols = counters.join(" || '|' || ");
        let summed = counters
            .iter()
            .map(|c| format!("CAST(SUM({c}) AS TEXT)"))
            .collect::<Vec<_>>()
            .join(" || '|' || ");
        let nonzero = counters
            .iter()
            .map(|c| format!("{c} <> 0"))
            .collect::<Vec<_>>()
            .join(" OR ");
        let daily: Vec<(String,)> = db
            .fetch_all(
                &format!(
                    "SELECT CAST(day AS TEXT) || '|' || CAST(technician_id AS TEXT) || '|' || kind || '|' || {cols} \
                     FROM kpi_daily WHERE {nonzero} ORDER BY 1"
                ),
                vec![],
            )
            .await
            .unwrap();
        let again: Vec<(String,)> = db
            .fetch_all(
                &format!(
                    "SELECT CAST(day AS TEXT) || '|' || CAST(COALESCE(technician_id, 0) AS TEXT) || '|' || kind || '|' || {summed} \
                     FROM kpi_facts GROUP BY day, org_unit_id, unit_id, partner_unit_id, technician_id, category, brand, kind, warranty, tier, channel \
                     HAVING {} ORDER BY 1",
                    counters
                        .iter()
                        .map(|c| format!("SUM({c}) <> 0"))
                        .collect::<Vec<_>>()
                        .join(" OR ")
                ),
                vec![],
            )
            .await
            .unwrap();
        assert!(!daily.is_empty());
        assert_eq!(daily, again);
        // The day × unit × technician sums equal the daily sums summed over the rest.
        let unit_rows = |sql: String| {
            let db = db.clone();
            async move {
                let rows: Vec<(String,)> = db.fetch_all(&sql, vec![]).await.unwrap();
                rows
            }
        };
        let key = "CAST(day AS TEXT) || '|' || CAST(org_unit_id AS TEXT) || '|' || CAST(unit_id AS TEXT) || '|' || CAST(partner_unit_id AS TEXT) || '|' || CAST(technician_id AS TEXT)";
        let coarse = unit_rows(format!(
            "SELECT {key} || '|' || {cols} FROM kpi_daily_unit WHERE {nonzero} ORDER BY 1"
        ))
        .await;
        let fine = unit_rows(format!(
            "SELECT {key} || '|' || {summed} FROM kpi_daily \
             GROUP BY day, org_unit_id, unit_id, partner_unit_id, technician_id HAVING {} ORDER BY 1",
            counters
                .iter()
                .map(|c| format!("SUM({c}) <> 0"))
                .collect::<Vec<_>>()
                .join(" OR ")
        ))
        .await;
        assert!(!coarse.is_empty());
        assert_eq!(coarse, fine);
        months_agree_with_days(&db).await;
        // A migration leaves the packing to the catch-up: it packs the facts as they stand.
        db.execute("DELETE FROM kpi_durations", vec![])
            .await
            .unwrap();
        db.execute(
            "INSERT INTO kpi_pending (what) VALUES ('durations')",
            vec![],
        )
        .await
        .unwrap();
        kpi::catch_up(&app).await.unwrap();
        months_agree_with_days(&db).await;
        // Migration 0030 fills the acceptances' counter from the facts as they stand: run again
        // on these facts and sums with the counter at zero, it gives what they hold.
        let tables = [
            "kpi_facts",
            "kpi_daily",
            "kpi_daily_unit",
            "kpi_daily_store",
            "kpi_monthly_unit",
            "kpi_monthly_store",
        ];
        let held = |db: Db| async move {
            let mut out = Vec::new();
            for t in tables {
                let (n,): (i64,) = db
                    .fetch_one(
                        &format!("SELECT CAST(COALESCE(SUM(responded), 0) AS BIGINT) FROM {t}"),
                        vec![],
                    )
                    .await
                    .unwrap();
                let (rows,): (i64,) = db
                    .fetch_one(
                        &format!("SELECT COUNT(*) FROM {t} WHERE responded <> 0"),
                        vec![],
                    )
                    .await
                    .unwrap();
                out.push((t, n, rows));
            }
            out
        };
        let before = held(db.clone()).await;
        assert!(before[0].1 > 0, "{before:?}");
        assert!(before.iter().all(|t| t.1 == before[0].1), "{before:?}");
        for t in tables {
            db.execute(&format!("UPDATE {t} SET responded = 0"), vec![])
                .await
                .unwrap();
        }
        let migration = match db.backend() {
            shouhou_store::Backend::Sqlite => {
                include_str!("../../store/migrations/sqlite/0030_kpi_responded.sql")
            }
            shouhou_store::Backend::Postgres => {
                include_str!("../../store/migrations/postgres/0030_kpi_responded.sql")
            }
        };
        let mut filled = 0;
        for statement in migration.split(';') {
            let sql: String = statement
                .lines()
                .filter(|l| !l.starts_with("--"))
                .collect::<Vec<_>>()
                .join("\n");
            if sql.trim().is_empty() || sql.trim_start().starts_with("ALTER") {
                continue;
            }
            db.execute(&sql, vec![]).await.unwrap();
            filled += 1;
        }
        assert_eq!(filled, tables.len());
        assert_eq!(held(db.clone()).await, before);
        months_agree_with_days(&db).await;
    });

    // Satisfaction by item (DOMAIN.md "CSI by item"): three phone repairs rated item by item on
    // the general questionnaire, the CSI per item and the improvement priority worked out by
    // hand; then Haier's own questionnaire for the next order of the fixture's Haier device.
    db_test!(
        satisfaction_by_item_of_hand_rated_orders,
        |db: Db| async move {
            use shouhou_app::csi::{self, ItemAnswer, QuestionnaireInput};
            let (app, clock) = test_app(db.clone());
            let f = seed(&app).await;
            let w = Walk {
                app: &app,
                clock: &clock,
                f: &f,
            };
            let mut ids = Vec::new();
            for i in 0..3 {
                w.at(10 * i);
                let o = w.create(WorkOrderType::RepairPhone).await;
                w.go(&f.clerk_a, o, to(Status::Accepted)).await;
                w.go(&f.clerk_a, o, to(Status::Completed)).await;
                ids.push(o);
            }
            let asked = csi::of_order(&app, &f.manager, ids[0])
                .await
                .unwrap()
                .unwrap();
            assert_eq!(
                asked.items,
                vec!["响应速度", "上门准时", "服务态度", "维修质量", "收费合理"],
                "the general questionnaire"
            );
            let item = |item: &str, rating: Rating| ItemAnswer {
                item: item.into(),
                rating,
            };
            let answer = |id: i64, rating: Rating, items: Vec<ItemAnswer>| {
                let app = &app;
                let manager = &f.manager;
                async move {
                    shouhou_app::followups::record_follow_up(
                        app,
                        manager,
                        id,
                        shouhou_app::followups::FollowUpInput {
                            rating,
                            comment: None,
                            items,
                        },
                    )
                    .await
                }
            };
            // Refused, and nothing stored: an item the questionnaire does not ask, an item twice.
            let e = answer(
                ids[0],
                Rating::Satisfied,
                vec![item("清洁整理", Rating::Satisfied)],
            )
            .await
            .unwrap_err();
            assert_eq!(e.field(), Some("items"), "{e:?}");
            assert!(e.message(shouhou_domain::Lang::ZhCn).contains("清洁整理"));
            let e = answer(
                ids[0],
                Rating::Satisfied,
                vec![
                    item("响应速度", Rating::Satisfied),
                    item("响应速度", Rating::Neutral),
                ],
            )
            .await
            .unwrap_err();
            assert_eq!(e.field(), Some("items"), "{e:?}");
            assert!(shouhou_app::followups::follow_up(&app, &f.manager, ids[0])
                .await
                .unwrap()
                .is_none());
            // O1: 非常满意; 响应速度 非常满意, 服务态度 满意.
            answer(
                ids[0],
                Rating::VerySatisfied,
                vec![
                    item("响应速度", Rating::VerySatisfied),
                    item("服务态度", Rating::Satisfied),
                ],
            )
            .await
            .unwrap();
            // O2: 一般; 响应速度 不满意, 服务态度 一般, 收费合理 满意.
            answer(
                ids[1],
                Rating::Neutral,
                vec![
                    item("收费合理", Rating::Satisfied),
                    item("响应速度", Rating::Dissatisfied),
                    item("服务态度", Rating::Neutral),
                ],
            )
            .await
            .unwrap();
            // O3: 满意; 服务态度 不满意.
            let fu = answer(
                ids[2],
                Rating::Satisfied,
                vec![item("服务态度", Rating::Dissatisfied)],
            )
            .await
            .unwrap();
            assert_eq!(
                fu.answers
                    .iter()
                    .map(|a| (a.position, a.item.as_str()))
                    .collect::<Vec<_>>(),
                vec![(0, "整体满意"), (3, "服务态度")],
                "stored with their places in the questionnaire"
            );

            let t = csi::table(&app, &f.manager, &march()).await.unwrap();
            assert_eq!(t.rows.len(), 1);
            type Line<'a> = (&'a str, i64, i64, Option<f64>, i64, Option<u32>);
            let got: Vec<Line> = t.rows[0]
                .items
                .iter()
                .map(|i| (i.item.as_str(), i.n, i.points, i.csi, i.low, i.priority))
                .collect();
            // By hand, in thirds of 100 points (非常满意 3, 满意 2, 一般 1, 不满意 0):
            // 响应速度 3 + 0 = 3 of 2 answers → 50.0; 服务态度 2 + 1 + 0 = 3 of 3 → 33.3;
            // 收费合理 2 of 1 → 66.7; 整体满意 3 + 1 + 2 = 6 of 3 → 66.7. Most low answers:
            // 服务态度 (2), then 响应速度 (1); 收费合理 has none; the overall item is not ranked.
            assert_eq!(
                got,
                vec![
                    ("响应速度", 2, 3, Some(50.0), 1, Some(2)),
                    ("服务态度", 3, 3, Some(33.3), 2, Some(1)),
                    ("收费合理", 1, 2, Some(66.7), 0, None),
                    ("整体满意", 3, 6, Some(66.7), 1, None),
                ]
            );
            // The KPI table's CSI is every answer together: 14 thirds of 9 answers.
            let k = kpi::table(&app, &f.manager, &march()).await.unwrap();
            assert_eq!(rate(&k, "csi_by_item"), (14, 27));
            // Its orders are the three rated ones.
            let behind = kpi::orders(
                &app,
                &f.manager,
                shouhou_domain::kpi::Kpi::CsiByItem,
                Side::Denominator,
                &march(),
                shouhou_store::repo::Page::first(50),
            )
            .await
            .unwrap();
            assert_eq!(behind.total, 3);
            // By technician: phone repairs have no visit, so one group without a technician.
            let mut by = march();
            by.by = By::Technician;
            let t = csi::table(&app, &f.manager, &by).await.unwrap();
            assert_eq!(t.rows.len(), 1, "{t:?}");

            // Haier's questionnaire (the fixture's device is a Haier): asked from now on.
            let haier = |items: Vec<&str>| QuestionnaireInput {
                name: "海尔回访".into(),
                brand: Some("海尔".into()),
                kind: None,
                active: None,
                items: items.into_iter().map(String::from).collect(),
            };
            assert!(matches!(
                csi::create(&app, &f.manager, haier(vec!["上门准时"])).await,
                Err(AppError::Forbidden)
            ));
            let q = csi::create(&app, &f.admin, haier(vec!["上门准时", "清洁整理"]))
                .await
                .unwrap();
            let e = csi::create(&app, &f.admin, haier(vec!["上门准时"]))
                .await
                .unwrap_err();
            assert_eq!(
                e.field(),
                Some("brand"),
                "one active per brand and type: {e:?}"
            );
            w.at(40);
            let o4 = w.create(WorkOrderType::RepairPhone).await;
            w.go(&f.clerk_a, o4, to(Status::Accepted)).await;
            w.go(&f.clerk_a, o4, to(Status::Completed)).await;
            let asked = csi::of_order(&app, &f.manager, o4).await.unwrap().unwrap();
            assert_eq!(asked.id, q.id);
            assert!(answer(
                o4,
                Rating::Satisfied,
                vec![item("响应速度", Rating::Satisfied)]
            )
            .await
            .is_err());
            answer(
                o4,
                Rating::Satisfied,
                vec![item("清洁整理", Rating::Neutral)],
            )
            .await
            .unwrap();
            // Changing the questionnaire leaves the answer as it was asked.
            csi::update(&app, &f.admin, q.id, haier(vec!["安装规范"]))
                .await
                .unwrap();
            let t = csi::table(&app, &f.manager, &march()).await.unwrap();
            let tidy = t.rows[0]
                .items
                .iter()
                .find(|i| i.item == "清洁整理")
                .unwrap();
            assert_eq!((tidy.n, tidy.csi), (1, Some(33.3)));
            // Audited.
            let (n,): (i64,) = db
            .fetch_one(
                "SELECT COUNT(*) FROM audit_log WHERE entity = 'questionnaire' AND entity_id = $1",
                vec![q.id.into()],
            )
            .await
            .unwrap();
            assert_eq!(n, 2);
        }
    );

    mod targets {
        use super::*;
        use shouhou_app::org::NewUser;
        use shouhou_app::targets::{self as tg, SetTarget, SheetQuery, Subject};
        use shouhou_domain::kpi::Kpi;
        use shouhou_domain::targets::{PeriodKind, Status as TargetStatus};

        fn d(m: u32, day: u32) -> NaiveDate {
            NaiveDate::from_ymd_opt(2026, m, day).unwrap()
        }

        fn unit_target(kpi: Kpi, unit: i64, committed: f64, stretch: f64) -> SetTarget {
            SetTarget {
                kpi,
                unit_id: Some(unit),
                technician_id: None,
                period_kind: PeriodKind::Month,
                period_start: d(3, 1),
                committed,
                stretch,
                effective_from: None,
            }
        }

        fn tech_target(kpi: Kpi, tech: i64, committed: f64, stretch: f64) -> SetTarget {
            SetTarget {
                unit_id: None,
                technician_id: Some(tech),
                ..unit_target(kpi, 0, committed, stretch)
            }
        }

        fn sheet_q(kpi: Kpi) -> SheetQuery {
            SheetQuery {
                kpi,
                period_kind: PeriodKind::Month,
                day: Some(d(3, 15)),
                as_of: None,
            }
        }

        async fn store_manager(app: &shouhou_app::App, unit: i64) -> shouhou_app::Actor {
            let u = shouhou_app::org::create_user_unchecked(
                app,
                None,
                NewUser {
                    username: "manager_a".into(),
                    display_name: "东城店经理".into(),
                    password: shouhou_testkit::fixture::PASSWORD.into(),
                    role: shouhou_domain::Role::Manager,
                    org_unit_id: unit,
                    phone: None,
                },
            )
            .await
            .unwrap();
            shouhou_testkit::fixture::actor(app, u.id).await
        }

        db_test!(
            cascade_sums_audit_and_effective_dates,
            |db: Db| async move {
                let (app, _clock) = test_app(db.clone());
                let f = seed(&app).await;
                let m = &f.manager;
                let rev = Kpi::ServiceRevenue;
                tg::set(&app, m, unit_target(rev, f.hq, 100_000.0, 120_000.0))
                    .await
                    .unwrap();
                tg::set(&app, m, unit_target(rev, f.store_a, 60_000.0, 70_000.0))
                    .await
                    .unwrap();
                tg::set(&app, m, unit_target(rev, f.store_b, 30_000.0, 40_000.0))
                    .await
                    .unwrap();
                let s = tg::sheet(&app, m, &sheet_q(rev)).await.unwrap();
                assert!(s.summable);
                let hq = &s.lines[0];
                assert_eq!((hq.unit_id, hq.depth), (f.hq, 0));
                let sum = hq.children_sum.unwrap();
                assert_eq!((sum.committed, sum.stretch), (90_000.0, 110_000.0));
                assert!(hq.mismatch, "60 000 + 30 000 is not 100 000");
                let a = s
                    .lines
                    .iter()
                    .find(|l| l.unit_id == f.store_a && l.kind == "unit")
                    .unwrap();
                assert_eq!(a.parent.unwrap().committed, 100_000.0, "the parent beside");
                assert!(
                    !s.lines.iter().any(|l| l.unit_id == f.partner_unit),
                    "no partner line"
                );
                assert_eq!(a.actual, Some(0.0));
                assert_eq!(a.status, Some(TargetStatus::Below));

                // Store B raised on the same day: the row changes (version 2), the sums match.
                let b = tg::set(&app, m, unit_target(rev, f.store_b, 40_000.0, 50_000.0))
                    .await
                    .unwrap();
                assert_eq!(b.version, 2);
                // Store A broken down to its technician.
                tg::set(&app, m, tech_target(rev, f.tech_a_id, 60_000.0, 70_000.0))
                    .await
                    .unwrap();
                let s = tg::sheet(&app, m, &sheet_q(rev)).await.unwrap();
                assert!(!s.lines[0].mismatch);
                let a = s
                    .lines
                    .iter()
                    .find(|l| l.unit_id == f.store_a && l.kind == "unit")
                    .unwrap();
                assert!(!a.mismatch);
                assert_eq!(a.children_sum.unwrap().committed, 60_000.0);
                let t = s
                    .lines
                    .iter()
                    .find(|l| l.technician_id == Some(f.tech_a_id))
                    .unwrap();
                assert_eq!(t.parent.unwrap().committed, 60_000.0);
                assert_eq!(t.depth, a.depth + 1);

                // Audited: created, then the change with old → new.
                let (n,): (i64,) = db
                    .fetch_one(
                        "SELECT COUNT(*) FROM audit_log WHERE entity = 'target' AND entity_id = $1",
                        vec![b.id.into()],
                    )
                    .await
                    .unwrap();
                assert_eq!(n, 2);
                let (changes,): (String,) = db
                .fetch_one(
                    "SELECT changes FROM audit_log WHERE entity = 'target' AND entity_id = $1 AND action = 'update'",
                    vec![b.id.into()],
                )
                .await
                .unwrap();
                assert!(
                    changes.contains("30000") && changes.contains("40000"),
                    "{changes}"
                );

                // From the 20th the company's target is higher; before, the old one is in force.
                let mut later = unit_target(rev, f.hq, 110_000.0, 130_000.0);
                later.effective_from = Some(d(3, 20));
                tg::set(&app, m, later).await.unwrap();
                let s = tg::sheet(&app, m, &sheet_q(rev)).await.unwrap();
                assert_eq!(s.lines[0].target.unwrap().committed, 100_000.0);
                let mut q = sheet_q(rev);
                q.as_of = Some(d(3, 20));
                let s = tg::sheet(&app, m, &q).await.unwrap();
                assert_eq!(s.lines[0].target.unwrap().committed, 110_000.0);
                assert!(s.lines[0].mismatch);

                // Rates do not add up: no sum, no flag.
                tg::set(&app, m, unit_target(Kpi::FirstTimeFixRate, f.hq, 0.85, 0.9))
                    .await
                    .unwrap();
                tg::set(
                    &app,
                    m,
                    unit_target(Kpi::FirstTimeFixRate, f.store_a, 0.8, 0.9),
                )
                .await
                .unwrap();
                let s = tg::sheet(&app, m, &sheet_q(Kpi::FirstTimeFixRate))
                    .await
                    .unwrap();
                assert!(!s.summable);
                assert!(s
                    .lines
                    .iter()
                    .all(|l| !l.mismatch && l.children_sum.is_none()));
            }
        );

        db_test!(validation_and_who_may_set, |db: Db| async move {
            let (app, _clock) = test_app(db.clone());
            let f = seed(&app).await;
            let ftf = Kpi::FirstTimeFixRate;
            // Stretch below committed; lower-is-better the other way round; a rate over 100 %;
            // a period not starting on its first day; both or neither subject.
            for bad in [
                unit_target(ftf, f.store_a, 0.9, 0.85),
                unit_target(Kpi::RepairCycleHours, f.store_a, 24.0, 48.0),
                unit_target(ftf, f.store_a, 0.9, 1.5),
                SetTarget {
                    period_start: d(3, 2),
                    ..unit_target(ftf, f.store_a, 0.8, 0.9)
                },
                SetTarget {
                    technician_id: Some(f.tech_a_id),
                    ..unit_target(ftf, f.store_a, 0.8, 0.9)
                },
            ] {
                let e = tg::set(&app, &f.manager, bad).await.unwrap_err();
                assert!(matches!(e, AppError::Domain(_)), "{e:?}");
            }
            assert!(tg::set(
                &app,
                &f.manager,
                unit_target(Kpi::RepairCycleHours, f.store_a, 48.0, 24.0)
            )
            .await
            .is_ok());
            // Not for clerks, technicians, dispatchers.
            for who in [&f.clerk_a, &f.tech_a, &f.dispatcher] {
                let e = tg::set(&app, who, unit_target(ftf, f.store_a, 0.8, 0.9))
                    .await
                    .unwrap_err();
                assert!(matches!(e, AppError::Forbidden), "{e:?}");
                assert!(matches!(
                    tg::sheet(&app, who, &sheet_q(ftf)).await.unwrap_err(),
                    AppError::Forbidden
                ));
            }
            // A store's manager: not its own store (the unit above sets it), not another store,
            // but its technicians.
            let ma = store_manager(&app, f.store_a).await;
            assert!(matches!(
                tg::set(&app, &ma, unit_target(ftf, f.store_a, 0.8, 0.9))
                    .await
                    .unwrap_err(),
                AppError::Forbidden
            ));
            assert!(matches!(
                tg::set(&app, &ma, unit_target(ftf, f.store_b, 0.8, 0.9))
                    .await
                    .unwrap_err(),
                AppError::NotFound
            ));
            assert!(matches!(
                tg::set(&app, &ma, tech_target(ftf, f.tech_b_id, 0.8, 0.9))
                    .await
                    .unwrap_err(),
                AppError::NotFound
            ));
            tg::set(&app, &ma, tech_target(ftf, f.tech_a_id, 0.8, 0.9))
                .await
                .unwrap();
            // Its sheet starts at its store, with the head office's target for it beside.
            tg::set(&app, &f.manager, unit_target(ftf, f.store_a, 0.75, 0.9))
                .await
                .unwrap();
            tg::set(&app, &f.manager, unit_target(ftf, f.store_b, 0.7, 0.8))
                .await
                .unwrap();
            tg::set(&app, &f.manager, unit_target(ftf, f.hq, 0.7, 0.85))
                .await
                .unwrap();
            let s = tg::sheet(&app, &ma, &sheet_q(ftf)).await.unwrap();
            assert_eq!(s.lines[0].unit_id, f.store_a);
            assert!(!s.lines[0].editable);
            assert_eq!(s.lines[0].parent.unwrap().committed, 0.7);
            assert!(
                s.lines.iter().all(|l| l.unit_id == f.store_a),
                "{:?}",
                s.lines
            );
            assert!(s.lines[1].editable);
            // The head office's manager and the admin may set the company's.
            tg::set(&app, &f.admin, unit_target(ftf, f.hq, 0.7, 0.9))
                .await
                .unwrap();
            // Partners carry none.
            assert!(
                tg::set(&app, &f.manager, unit_target(ftf, f.partner_unit, 0.7, 0.9))
                    .await
                    .is_err()
            );
        });

        db_test!(status_by_direction_from_the_kpis, |db: Db| async move {
            let (app, clock) = test_app(db.clone());
            let f = seed(&app).await;
            let w = Walk {
                app: &app,
                clock: &clock,
                f: &f,
            };
            // One repair fixed at the first visit, 100 minutes after it was created.
            w.at(0);
            let o = w.create(WorkOrderType::RepairOnsite).await;
            w.assign(o).await;
            w.at(10);
            w.tech(o, Status::Accepted).await;
            w.at(30);
            w.tech(o, Status::EnRoute).await;
            w.at(60);
            w.tech(o, Status::OnSite).await;
            w.report(o).await;
            w.at(100);
            w.tech(o, Status::Completed).await;
            let m = &f.manager;
            // First-time fix 100 %: stretch 95 % reached.
            tg::set(
                &app,
                m,
                tech_target(Kpi::FirstTimeFixRate, f.tech_a_id, 0.8, 0.95),
            )
            .await
            .unwrap();
            // Repair cycle 1.67 h, lower is better: committed 2 h reached, stretch 1 h not.
            tg::set(
                &app,
                m,
                tech_target(Kpi::RepairCycleHours, f.tech_a_id, 2.0, 1.0),
            )
            .await
            .unwrap();
            // Store B has no orders: no actual, no status.
            tg::set(
                &app,
                m,
                unit_target(Kpi::FirstTimeFixRate, f.store_b, 0.8, 0.9),
            )
            .await
            .unwrap();
            // Its own phone reads it.
            let p = tg::progress(
                &app,
                &f.tech_a,
                Subject::Technician(f.tech_a_id),
                PeriodKind::Month,
                d(3, 10),
            )
            .await
            .unwrap();
            assert_eq!(p.len(), 2);
            let ftf = p.iter().find(|x| x.kpi == Kpi::FirstTimeFixRate).unwrap();
            assert_eq!(
                (ftf.actual, ftf.status),
                (Some(1.0), Some(TargetStatus::Stretch))
            );
            let cyc = p.iter().find(|x| x.kpi == Kpi::RepairCycleHours).unwrap();
            assert_eq!(cyc.status, Some(TargetStatus::Committed), "{cyc:?}");
            let p = tg::progress(
                &app,
                m,
                Subject::Unit(f.store_b),
                PeriodKind::Month,
                d(3, 10),
            )
            .await
            .unwrap();
            assert_eq!((p.len(), p[0].status), (1, None));
            // Another technician's targets are not tech_a's to read.
            assert!(matches!(
                tg::progress(
                    &app,
                    &f.tech_a,
                    Subject::Technician(f.tech_b_id),
                    PeriodKind::Month,
                    d(3, 10)
                )
                .await
                .unwrap_err(),
                AppError::NotFound
            ));
            // The sheet shows the technician's status; the store's actual is its orders'.
            let s = tg::sheet(&app, m, &sheet_q(Kpi::FirstTimeFixRate))
                .await
                .unwrap();
            let t = s
                .lines
                .iter()
                .find(|l| l.technician_id == Some(f.tech_a_id))
                .unwrap();
            assert_eq!(t.status, Some(TargetStatus::Stretch));
            let a = s
                .lines
                .iter()
                .find(|l| l.unit_id == f.store_a && l.kind == "unit")
                .unwrap();
            assert_eq!(a.actual, Some(1.0));
            // Each unit's actual is what a reading of that unit alone gives (the sheet merges
            // the units' rows of one reading), for a rate and for a duration.
            for k in [Kpi::FirstTimeFixRate, Kpi::RepairCycleHours] {
                let s = tg::sheet(&app, m, &sheet_q(k)).await.unwrap();
                let units: Vec<_> = s.lines.iter().filter(|l| l.kind == "unit").collect();
                assert!(units.len() >= 3, "head office and both stores");
                for l in units {
                    let mut q = Query::new(d(3, 1), app.today(), By::All);
                    q.unit_id = Some(l.unit_id);
                    let alone = kpi::table(&app, m, &q).await.unwrap();
                    let want = alone.rows[0].kpis.get(k.as_str()).and_then(|v| v.number());
                    assert_eq!(l.actual, want, "{k:?} of unit {}", l.name);
                }
                // A technician's actual is all their calls in the scope, as on their phone.
                for l in s.lines.iter().filter(|l| l.kind == "technician") {
                    let mut q = Query::new(d(3, 1), app.today(), By::All);
                    q.technician_id = l.technician_id;
                    let alone = kpi::table(&app, m, &q).await.unwrap();
                    let want = alone.rows[0].kpis.get(k.as_str()).and_then(|v| v.number());
                    assert_eq!(l.actual, want, "{k:?} of {}", l.name);
                }
            }
        });

        db_test!(
            demo_targets_add_up_from_technicians_to_the_company,
            |db: Db| async move {
                let (app, _) = test_app(db.clone());
                let mut o = shouhou_app::demo::DemoOptions::city(7, "demo123", app.now());
                o.customers = 120;
                o.orders = 900;
                shouhou_app::demo::generate(&app, &o, &|_, _, _| {})
                    .await
                    .expect("demo loads");
                let (manager,): (i64,) = db
                .fetch_one(
                    "SELECT u.id FROM users u JOIN org_units o ON o.id = u.org_unit_id WHERE u.role = 'manager' AND o.parent_id IS NULL ORDER BY u.id LIMIT 1",
                    vec![],
                )
                .await
                .unwrap();
                let m = shouhou_testkit::fixture::actor(&app, manager).await;
                for (kpi, kind) in [
                    (Kpi::ServiceRevenue, PeriodKind::Year),
                    (Kpi::ServiceRevenue, PeriodKind::Month),
                    (Kpi::FirstTimeFixRate, PeriodKind::Month),
                ] {
                    let q = SheetQuery {
                        kpi,
                        period_kind: kind,
                        day: None,
                        as_of: None,
                    };
                    let s = tg::sheet(&app, &m, &q).await.unwrap();
                    assert!(s.lines.len() > 10, "{kpi:?} {kind:?}: {}", s.lines.len());
                    assert!(
                        s.lines.iter().all(|l| l.target.is_some() && !l.mismatch),
                        "{kpi:?} {kind:?}: {:?}",
                        s.lines
                            .iter()
                            .filter(|l| l.target.is_none() || l.mismatch)
                            .collect::<Vec<_>>()
                    );
                    assert!(s.lines.iter().any(|l| l.status.is_some()));
                }
            }
        );
    }

    /// Technician points (积分) on the same kind of hand-built walk.
    mod points {
        use super::*;
        use shouhou_app::points::{self as pts, Month, NewAdjustment, NewRules};
        use shouhou_domain::points::{Difficulty, Points, Rules};

        fn march() -> Month {
            Month::parse("2026-03").unwrap()
        }

        /// (reason, points in hundredths) of a technician's March entries, oldest first.
        async fn ledger(
            app: &shouhou_app::App,
            f: &shouhou_testkit::Fixture,
            tech: i64,
        ) -> Vec<(String, i64, Option<i64>)> {
            let mut e = pts::technician_month(app, &f.manager, tech, march())
                .await
                .unwrap()
                .entries;
            e.reverse();
            e.sort_by_key(|x| x.id);
            e.into_iter()
                .map(|x| (x.reason, x.points, x.work_order_id))
                .collect()
        }

        async fn total(app: &shouhou_app::App, f: &shouhou_testkit::Fixture, tech: i64) -> f64 {
            pts::technician_month(app, &f.manager, tech, march())
                .await
                .unwrap()
                .points
        }

        async fn add_tech_c(
            app: &shouhou_app::App,
            f: &shouhou_testkit::Fixture,
        ) -> (shouhou_app::Actor, i64) {
            let u = shouhou_app::org::create_user_unchecked(
                app,
                None,
                shouhou_app::org::NewUser {
                    username: "tech_c".into(),
                    display_name: "tech_c 测试".into(),
                    password: shouhou_testkit::fixture::PASSWORD.into(),
                    role: Role::Technician,
                    org_unit_id: f.store_a,
                    phone: None,
                },
            )
            .await
            .unwrap();
            let t = shouhou_app::org::create_technician(
                app,
                Some(&f.admin),
                shouhou_app::org::NewTechnician {
                    user_id: u.id,
                    org_unit_id: None,
                    skills: vec![
                        shouhou_domain::Category::Refrigeration,
                        shouhou_domain::Category::Washing,
                    ],
                    start_address: None,
                    start_lat: 30.27,
                    start_lng: 120.15,
                },
            )
            .await
            .unwrap();
            (shouhou_testkit::fixture::actor(app, u.id).await, t.id)
        }

        db_test!(points_of_a_hand_built_week, |db: Db| async move {
            let (app, clock) = test_app(db.clone());
            let f = seed(&app).await;
            let (tech_c, tech_c_id) = add_tech_c(&app, &f).await;
            let w = Walk {
                app: &app,
                clock: &clock,
                f: &f,
            };
            // O1, repair on site by tech_a: fixed on the first visit, on time, very satisfied.
            w.at(0);
            let o1 = w.create(WorkOrderType::RepairOnsite).await;
            w.assign(o1).await;
            w.at(10);
            w.tech(o1, Status::Accepted).await;
            w.at(30);
            w.tech(o1, Status::EnRoute).await;
            w.at(60);
            w.tech(o1, Status::OnSite).await;
            w.report(o1).await;
            w.at(100);
            w.tech(o1, Status::Completed).await;
            w.rate(o1, Rating::VerySatisfied).await;
            // O2 on the same device two hours later (O1 becomes a repeat repair), fixed by tech_c.
            w.at(120);
            let o2 = w.create(WorkOrderType::RepairOnsite).await;
            let mut a = to(Status::Assigned);
            a.technician_id = Some(tech_c_id);
            w.go(&f.dispatcher, o2, a).await;
            for (m, s) in [
                (130, Status::Accepted),
                (140, Status::EnRoute),
                (160, Status::OnSite),
                (200, Status::Completed),
            ] {
                w.at(m);
                if s == Status::Completed {
                    shouhou_app::service::save_report(
                        &app,
                        &tech_c,
                        o2,
                        shouhou_app::service::ReportInput {
                            findings: Some("检查".into()),
                            work_done: Some("处理".into()),
                            labour_minutes: Some(30),
                        },
                    )
                    .await
                    .unwrap();
                }
                w.go(&tech_c, o2, to(s)).await;
            }
            // O3, an install by tech_a reached an hour late, rated dissatisfied (a complaint).
            w.at(300);
            let o3 = w.create(WorkOrderType::Install).await;
            w.assign(o3).await;
            w.at(320);
            w.tech(o3, Status::Accepted).await;
            let arrive_by = wo::get(&app, &f.manager, o3).await.unwrap().arrive_by;
            let late = (arrive_by - shouhou_testkit::fixture::test_now()).num_minutes() + 60;
            w.at(late - 10);
            w.tech(o3, Status::EnRoute).await;
            w.at(late);
            w.tech(o3, Status::OnSite).await;
            w.report(o3).await;
            w.at(late + 60);
            w.tech(o3, Status::Completed).await;
            w.rate(o3, Rating::Dissatisfied).await;
            // O4 cancelled: nothing.
            let o4 = w.create(WorkOrderType::RepairOnsite).await;
            let mut c = to(Status::Cancelled);
            c.reason = Some("客户取消".into());
            w.go(&f.clerk_a, o4, c).await;

            // By hand, grade normal (×1.5):
            //   tech_a: O1 3×1.5 + 1 (fix) + 1 (very satisfied) − 3 (O2 repeats it)
            //           O3 2×1.5 − 1 (late) − 5 (complaint)          = 0.5
            //   tech_c: O2 3×1.5 + 1 (fix)                            = 5.5
            let a = |r: &str, p: i64, o: i64| (r.to_string(), p, Some(o));
            let mut got = ledger(&app, &f, f.tech_a_id).await;
            got.sort();
            let mut want = vec![
                a("base", 450, o1),
                a("first_time_fix", 100, o1),
                a("very_satisfied", 100, o1),
                a("repeat_repair", -300, o1),
                a("base", 300, o3),
                a("arrived_late", -100, o3),
                a("complaint", -500, o3),
            ];
            want.sort();
            assert_eq!(got, want);
            assert_eq!(total(&app, &f, f.tech_a_id).await, 0.5);
            // The repeat is charged to the earlier order's technician, not O2's.
            let mut c_got = ledger(&app, &f, tech_c_id).await;
            c_got.sort();
            assert_eq!(
                c_got,
                vec![a("base", 450, o2), a("first_time_fix", 100, o2)]
            );
            assert_eq!(total(&app, &f, tech_c_id).await, 5.5);
            assert!(
                pts::technician_month(&app, &f.manager, f.tech_a_id, march())
                    .await
                    .unwrap()
                    .entries
                    .iter()
                    .all(|e| e.rule_version == Some(1))
            );

            // Nobody has 20 visits: all unranked, with how many visits they lack.
            let r = pts::ranking(&app, &f.manager, march()).await.unwrap();
            assert_eq!(r.min_visits, 20);
            assert!(r.rows.iter().all(|x| x.rank.is_none()));
            let row_a = r
                .rows
                .iter()
                .find(|x| x.technician_id == f.tech_a_id)
                .unwrap();
            assert_eq!((row_a.visits, row_a.visits_short), (2, Some(18)));

            // The dispatcher grades O3 hard: 2×2.0 = 4, a correction of +1 is appended; the
            // entries written before stay as they were (append-only).
            let before = ledger(&app, &f, f.tech_a_id).await;
            pts::set_difficulty(&app, &f.dispatcher, o3, Difficulty::Hard, None)
                .await
                .unwrap();
            let after = ledger(&app, &f, f.tech_a_id).await;
            assert_eq!(&after[..before.len()], &before[..]);
            assert_eq!(&after[before.len()..], &[a("base", 100, o3)]);
            assert_eq!(total(&app, &f, f.tech_a_id).await, 1.5);
            let trail =
                shouhou_app::audit::trail(&app, &f.manager, "work_order", o3, Page::first(50))
                    .await
                    .unwrap();
            assert!(trail
                .items
                .iter()
                .any(|e| e.changes.0.get("difficulty").is_some()));
            // A technician may not grade.
            assert!(matches!(
                pts::set_difficulty(&app, &f.tech_a, o3, Difficulty::Easy, None).await,
                Err(AppError::Forbidden)
            ));

            // A new version of the rules from March 1st: installs 4, ranked from 1 visit. O3's
            // base becomes 4×2.0 = 8 (+4), recorded with the new version.
            let mut rules = Rules::default();
            rules.base.install = Points::whole(4);
            rules.min_visits = 2;
            let view = pts::replace_rules(
                &app,
                &f.admin,
                NewRules {
                    effective_from: NaiveDate::from_ymd_opt(2026, 3, 1).unwrap(),
                    rules: rules.clone(),
                },
            )
            .await
            .unwrap();
            let v2 = view.current.id;
            assert_eq!(view.versions.len(), 2);
            assert!(matches!(
                pts::replace_rules(
                    &app,
                    &f.manager,
                    NewRules {
                        effective_from: NaiveDate::from_ymd_opt(2026, 3, 1).unwrap(),
                        rules,
                    }
                )
                .await,
                Err(AppError::Forbidden)
            ));
            let m = pts::technician_month(&app, &f.manager, f.tech_a_id, march())
                .await
                .unwrap();
            assert_eq!(m.points, 5.5);
            let last = m.entries.iter().max_by_key(|e| e.id).unwrap();
            assert_eq!(
                (last.reason.as_str(), last.points, last.rule_version),
                ("base", 400, Some(v2))
            );

            // Ranked from 2 visits: tech_c has 1 visit (unranked), tech_a 2 (first).
            let r = pts::ranking(&app, &f.manager, march()).await.unwrap();
            assert_eq!(r.min_visits, 2);
            let rank_of = |id: i64| r.rows.iter().find(|x| x.technician_id == id).unwrap().rank;
            assert_eq!(rank_of(f.tech_a_id), Some(1));
            assert_eq!(rank_of(tech_c_id), None);

            // A manager's adjustment, audited; a technician may not adjust.
            let e = pts::adjust(
                &app,
                &f.manager,
                NewAdjustment {
                    technician_id: tech_c_id,
                    points: 2.5,
                    note: "协助同事完成大单".into(),
                    day: None,
                },
            )
            .await
            .unwrap();
            assert_eq!((e.reason.as_str(), e.points), ("adjustment", 250));
            assert_eq!(total(&app, &f, tech_c_id).await, 8.0);
            // The audit log has the adjustment.
            let (n,): (i64,) = db
                .fetch_one(
                    "SELECT COUNT(*) FROM audit_log WHERE entity = 'points_entry' AND entity_id = $1",
                    vec![e.id.into()],
                )
                .await
                .unwrap();
            assert_eq!(n, 1);
            assert!(matches!(
                pts::adjust(
                    &app,
                    &f.tech_a,
                    NewAdjustment {
                        technician_id: f.tech_a_id,
                        points: 5.0,
                        note: "自己加分".into(),
                        day: None,
                    }
                )
                .await,
                Err(AppError::Forbidden)
            ));
            assert!(pts::adjust(
                &app,
                &f.manager,
                NewAdjustment {
                    technician_id: tech_c_id,
                    points: 0.0,
                    note: "x".into(),
                    day: None,
                }
            )
            .await
            .is_err());

            // A technician reads its own month, not another's.
            let mine = pts::mine(&app, &f.tech_a, march()).await.unwrap();
            assert_eq!((mine.points, mine.rank), (5.5, Some(1)));
            assert!(matches!(
                pts::technician_month(&app, &f.tech_a, tech_c_id, march()).await,
                Err(AppError::NotFound)
            ));

            // A rebuild of the KPI facts appends nothing: the ledger already agrees.
            let (n0,): (i64,) = db
                .fetch_one("SELECT COUNT(*) FROM points_entries", vec![])
                .await
                .unwrap();
            shouhou_app::kpi::rebuild(&app).await.unwrap();
            let (n1,): (i64,) = db
                .fetch_one("SELECT COUNT(*) FROM points_entries", vec![])
                .await
                .unwrap();
            assert_eq!(n0, n1);
        });
    }
}

db_test!(
    an_order_is_written_from_its_records_as_they_are_when_it_is_written,
    |db: Db| async move {
        // Creation reads the customer and device before it takes the writer; a device moved to
        // another customer meanwhile must not end up on an order of its former owner.
        let (app, _) = test_app(db);
        let f = seed(&app).await;
        let other = shouhou_app::customers::create(
            &app,
            &f.clerk_a,
            person("周八", "13700008888", "杭州市西湖区文三路 1 号", None),
        )
        .await
        .unwrap();
        let mut creates = Vec::new();
        let mut moved = None;
        for i in 0..200 {
            let (a, clerk, n) = (
                app.clone(),
                f.clerk_a.clone(),
                new_order(&f, WorkOrderType::RepairOnsite),
            );
            creates.push(tokio::spawn(async move { wo::create(&a, &clerk, n).await }));
            // Let the orders already asked for go on, so that some are planned before the
            // move and written after it.
            tokio::time::sleep(std::time::Duration::from_micros(200)).await;
            if i == 100 {
                let (a, clerk, device) = (app.clone(), f.clerk_a.clone(), f.device);
                moved = Some(tokio::spawn(async move {
                    let patch = shouhou_app::devices::DevicePatch {
                        customer_id: Some(other.id),
                        ..Default::default()
                    };
                    shouhou_app::devices::update(&a, &clerk, device, None, patch).await
                }));
            }
        }
        moved.unwrap().await.unwrap().unwrap();
        let (moved_at,): (i64,) = app
            .db
            .fetch_one(
                "SELECT MAX(id) FROM audit_log WHERE entity = 'device' AND entity_id = $1 AND action = 'update'",
                shouhou_store::args![f.device],
            )
            .await
            .unwrap();
        let (mut before, mut refused) = (0, 0);
        for t in creates {
            match t.await.unwrap() {
                Ok(w) => {
                    let (written_at,): (i64,) = app
                        .db
                        .fetch_one(
                            "SELECT id FROM audit_log WHERE entity = 'work_order' AND entity_id = $1 AND action = 'create'",
                            shouhou_store::args![w.id],
                        )
                        .await
                        .unwrap();
                    assert!(
                        written_at < moved_at,
                        "order {} was written after its device had moved to another customer",
                        w.number
                    );
                    before += 1;
                }
                Err(e) => {
                    assert_eq!(e.field(), Some("device_id"), "{e:?}");
                    refused += 1;
                }
            }
        }
        assert_eq!(before + refused, 200);
    }
);
