//! Storage tests, run on SQLite and — with `DISPATCH_TEST_DATABASE_URL` — on PostgreSQL.

use chrono::{TimeZone, Utc};
use dispatch_core::{EventSource, Transport};
use dispatch_store::model::{incident, individual};
use dispatch_store::repo::event::{self, ChainHead, EventFilter, NewEvent};
use dispatch_store::repo::{self, taxonomy};
use dispatch_store::testing::TestDb;
use sea_orm::ConnectionTrait;

/// Inserts an incident of the default project with the default taxonomy and the given chain head.
async fn insert_incident(
    conn: &impl ConnectionTrait,
    project_id: i64,
    person: i64,
    number: i64,
    text: (&str, &str),
    head: &ChainHead,
) -> incident::Model {
    let row = incident_row(conn, project_id, person, number, text, head).await;
    dispatch_store::repo::rows::insert(conn, row).await.unwrap()
}

/// An incident of the default project with the default taxonomy and the given chain head (its
/// id left at 0).
async fn incident_row(
    conn: &impl ConnectionTrait,
    project_id: i64,
    person: i64,
    number: i64,
    (title, description): (&str, &str),
    head: &ChainHead,
) -> incident::Model {
    let now = dispatch_core::now();
    incident::Model {
        project_id,
        number,
        name: format!("INC-{number}"),
        title: title.into(),
        description: description.into(),
        status: "active".into(),
        visibility: "open".into(),
        type_id: taxonomy::types::default(conn, project_id).await.unwrap().id,
        priority_id: taxonomy::priorities::default(conn, project_id)
            .await
            .unwrap()
            .id,
        severity_id: taxonomy::severities::default(conn, project_id)
            .await
            .unwrap()
            .id,
        commander_id: person,
        reporter_id: person,
        reported_at: now,
        created_at: now,
        updated_at: now,
        event_seq: head.seq,
        last_event_hash: head.hash.clone(),
        ..Default::default()
    }
}

#[tokio::test]
async fn migrating_and_seeding_twice_is_harmless_and_leaves_one_default_of_each() {
    let t = TestDb::new().await;
    let db = t.open().await;
    assert!(dispatch_store::seed::ensure_defaults(&db).await.unwrap());
    db.migrate().await.unwrap();
    assert!(
        !dispatch_store::seed::ensure_defaults(&db).await.unwrap(),
        "the second start seeds nothing"
    );
    let p = repo::project::default_project(db.conn()).await.unwrap();
    assert_eq!(p.key_prefix, "INC");
    let priorities = taxonomy::priorities::list(db.conn(), p.id).await.unwrap();
    let names: Vec<_> = priorities.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["Low", "Medium", "High"]);
    assert_eq!(priorities.iter().filter(|p| p.is_default).count(), 1);
    assert!(
        priorities[2].page_commander && priorities[2].tactical_report_reminder_hours == Some(2)
    );
    let severities = taxonomy::severities::list(db.conn(), p.id).await.unwrap();
    assert_eq!(severities.len(), 5);
    assert_eq!(
        taxonomy::severities::default(db.conn(), p.id)
            .await
            .unwrap()
            .name,
        "Undetermined"
    );
    assert_eq!(
        taxonomy::types::by_name(db.conn(), p.id, "DEFAULT")
            .await
            .unwrap()
            .unwrap()
            .slug,
        "default"
    );
}

#[tokio::test]
async fn incident_numbers_are_never_reused_by_concurrent_writers() {
    let t = TestDb::new().await;
    let db = t.open().await;
    dispatch_store::seed::ensure_defaults(&db).await.unwrap();
    let p = repo::project::default_project(db.conn()).await.unwrap();
    let mut tasks = Vec::new();
    for _ in 0..10 {
        let db = db.clone();
        tasks.push(tokio::spawn(async move {
            let txn = db.write().await.unwrap();
            let n = repo::project::next_incident_number(&*txn, p.id)
                .await
                .unwrap();
            txn.commit().await.unwrap();
            n
        }));
    }
    let mut numbers = Vec::new();
    for t in tasks {
        numbers.push(t.await.unwrap());
    }
    numbers.sort_unstable();
    assert_eq!(numbers, (1..=10).collect::<Vec<_>>());
}

#[tokio::test]
async fn a_stored_chain_verifies_after_the_round_trip_through_the_database() {
    let t = TestDb::new().await;
    let db = t.open().await;
    dispatch_store::seed::ensure_defaults(&db).await.unwrap();
    let conn = db.conn();
    let p = repo::project::default_project(conn).await.unwrap();
    let who: individual::Model = repo::individual::get_or_create(conn, "ann@example.com", None)
        .await
        .unwrap();
    let now = dispatch_core::now();
    let mut head = ChainHead::genesis("INC-1");
    // Nanoseconds in the input: the chain must hash what the database keeps (microseconds).
    let at = Utc.timestamp_opt(1_764_000_000, 123_456_789).unwrap();
    let events = (0..3)
        .map(|i| NewEvent {
            occurred_at: at,
            kind: "custom".into(),
            source: EventSource::Custom,
            actor: Some(who.email.clone()),
            transport: Transport::Api,
            description: format!("step {i} — ünïcödé"),
            details: serde_json::json!({"b": 1, "a": [i, "x"]}),
            pinned: false,
        })
        .collect();
    let mut rows = event::chain(0, &mut head, events, now);
    let inc = insert_incident(conn, p.id, who.id, 1, ("t", "d"), &head).await;
    for r in &mut rows {
        r.incident_id = inc.id;
    }
    event::insert(conn, rows).await.unwrap();
    let stored = event::list(conn, inc.id, &EventFilter::default())
        .await
        .unwrap();
    assert_eq!(stored.len(), 3);
    assert_eq!(stored[0].occurred_at.timestamp_subsec_micros(), 123_456);
    let v = event::verify("INC-1", &head, &stored);
    assert_eq!(v.first_broken_seq, None, "{v:?}");
    let v = event::verify("INC-2", &head, &stored);
    assert_eq!(
        v.first_broken_seq,
        Some(1),
        "the chain is bound to its incident's key"
    );
}

#[tokio::test]
async fn search_matches_word_prefixes_in_title_and_description() {
    let t = TestDb::new().await;
    let db = t.open().await;
    dispatch_store::seed::ensure_defaults(&db).await.unwrap();
    let conn = db.conn();
    let p = repo::project::default_project(conn).await.unwrap();
    let who = repo::individual::get_or_create(conn, "ann@example.com", None)
        .await
        .unwrap();
    for (n, title, description) in [
        (1, "Checkout latency", "card payments slow"),
        (2, "Login errors", "SSO provider down"),
    ] {
        insert_incident(
            conn,
            p.id,
            who.id,
            n,
            (title, description),
            &ChainHead::genesis(&format!("INC-{n}")),
        )
        .await;
    }
    let find = |q: &str| {
        let f = repo::incident::IncidentFilter {
            text: Some(q.into()),
            page: 1,
            per_page: 10,
            ..Default::default()
        };
        async move {
            repo::incident::list(conn, &f)
                .await
                .unwrap()
                .0
                .into_iter()
                .map(|r| r.name)
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(find("late").await, ["INC-1"]);
    assert_eq!(find("PAYMENTS card").await, ["INC-1"]);
    assert_eq!(find("sso").await, ["INC-2"]);
    assert!(
        find("checkout sso").await.is_empty(),
        "every term must match"
    );
    assert!(
        find("\"; DROP TABLE incidents; --").await.is_empty(),
        "operators and quotes are not syntax"
    );
    assert_eq!(find("errors").await, ["INC-2"], "the table is still there");
}

#[tokio::test]
async fn a_search_counts_every_match_on_every_page_and_past_the_last() {
    let t = TestDb::new().await;
    let db = t.open().await;
    dispatch_store::seed::ensure_defaults(&db).await.unwrap();
    let conn = db.conn();
    let p = repo::project::default_project(conn).await.unwrap();
    let who = repo::individual::get_or_create(conn, "ann@example.com", None)
        .await
        .unwrap();
    for n in 1..=5 {
        let title = match n % 2 {
            1 => "Checkout latency",
            _ => "Login errors",
        };
        let head = ChainHead::genesis(&format!("INC-{n}"));
        insert_incident(conn, p.id, who.id, n, (title, "details"), &head).await;
    }
    let page = |q: &str, page: u64| {
        let f = repo::incident::IncidentFilter {
            text: Some(q.into()),
            page,
            per_page: 2,
            ..Default::default()
        };
        async move {
            let (rows, total) = repo::incident::list_with_tags(conn, &f).await.unwrap();
            assert!(total.exact, "{total:?}");
            (
                rows.into_iter().map(|(r, _)| r.number).collect::<Vec<_>>(),
                total.count,
            )
        }
    };
    // Newest first (reported_at ties broken by id, descending): 5, 3, 1 match "checkout".
    assert_eq!(page("checkout", 1).await, (vec![5, 3], 3));
    assert_eq!(page("checkout", 2).await, (vec![1], 3));
    assert_eq!(
        page("checkout", 3).await,
        (vec![], 3),
        "past the last match"
    );
    assert_eq!(page("nothing", 1).await, (vec![], 0));
    assert_eq!(page("login", 1).await, (vec![4, 2], 2));
    // No terms (punctuation only): no text condition, every incident, counted apart.
    assert_eq!(page(" -- ", 1).await, (vec![5, 4], 5));

    // A count with a limit stops there and says so; the page is the same.
    let limited = |limit: u64| repo::incident::IncidentFilter {
        text: Some("checkout".into()),
        page: 1,
        per_page: 2,
        count_limit: Some(limit),
        ..Default::default()
    };
    let (rows, total) = repo::incident::list_with_tags(conn, &limited(2))
        .await
        .unwrap();
    assert_eq!(
        rows.iter().map(|(r, _)| r.number).collect::<Vec<_>>(),
        vec![5, 3]
    );
    assert_eq!(
        total,
        repo::incident::Total {
            count: 2,
            exact: false
        }
    );
    assert_eq!(total.to_string(), "2+");
    let total = repo::incident::count(conn, &limited(3)).await.unwrap();
    assert_eq!(total, repo::incident::Total::exact(3));
    // A list without text stops at its limit too.
    let all = |limit| repo::incident::IncidentFilter {
        count_limit: limit,
        ..Default::default()
    };
    assert_eq!(
        repo::incident::count(conn, &all(Some(4))).await.unwrap(),
        repo::incident::Total {
            count: 4,
            exact: false
        }
    );
    assert_eq!(
        repo::incident::count(conn, &all(Some(5))).await.unwrap(),
        repo::incident::Total::exact(5)
    );
    assert_eq!(
        repo::incident::count(conn, &all(None)).await.unwrap(),
        repo::incident::Total::exact(5)
    );
    assert_eq!(
        repo::incident::Total {
            count: 10_000,
            exact: false
        }
        .to_string(),
        "10,000+"
    );
}

#[tokio::test]
async fn a_claim_taken_over_by_another_worker_cannot_be_renewed_or_finished() {
    use dispatch_store::repo::job::{self, NewJob};
    let t = TestDb::new().await;
    let db = t.open().await;
    let now = dispatch_core::now();
    let new = |k: &str| NewJob {
        kind: k.into(),
        payload: serde_json::json!({}),
        run_at: now,
        idempotency_key: None,
        incident_id: None,
    };
    job::enqueue(db.conn(), vec![new("a"), new("b")])
        .await
        .unwrap();
    let first = job::claim(&db, "w1", 2, now, now - chrono::Duration::hours(1))
        .await
        .unwrap();
    assert_eq!(first.len(), 2);
    assert!(
        job::renew(db.conn(), &first[0], now).await.unwrap(),
        "a live claim renews"
    );
    // w1 is slow; its lease on the second job expires and w2 takes it over.
    let later = now + chrono::Duration::minutes(10);
    let second = job::claim(&db, "w2", 5, later, later - chrono::Duration::minutes(2))
        .await
        .unwrap();
    assert_eq!(
        second.iter().map(|j| j.kind.as_str()).collect::<Vec<_>>(),
        ["a", "b"],
        "both leases expired"
    );
    assert!(
        !job::renew(db.conn(), &first[1], later).await.unwrap(),
        "w1 lost the claim"
    );
    assert!(
        !job::finish(db.conn(), &first[1], Ok(())).await.unwrap(),
        "and cannot finish the job"
    );
    assert!(job::finish(db.conn(), &second[1], Ok(())).await.unwrap());
}

#[tokio::test]
async fn a_record_is_inserted_whole_and_saved_by_its_changed_columns_only() {
    use dispatch_store::model::individual::Model as Individual;
    use dispatch_store::repo::rows;
    let t = TestDb::new().await;
    let db = t.open().await;
    let conn = db.conn();
    let now = dispatch_core::now();
    let row = Individual {
        id: 987_654,
        email: "ada@example.com".into(),
        name: "Ada".into(),
        created_at: now,
        ..Default::default()
    };
    let stored = rows::insert(conn, row.clone()).await.unwrap();
    assert_ne!(stored.id, 987_654, "the database numbers the row");
    assert_eq!(stored.email, "ada@example.com");
    assert_eq!(
        repo::individual::get(conn, stored.id).await.unwrap(),
        stored
    );

    // Two writers read the same row; each changes one column. Both changes survive.
    let read = stored.clone();
    let renamed = Individual {
        name: "Ada L.".into(),
        ..read.clone()
    };
    let retitled = Individual {
        title: Some("SRE".into()),
        ..read.clone()
    };
    assert_eq!(rows::changed_columns(&read, &renamed), vec!["name"]);
    rows::update(conn, &read, renamed).await.unwrap();
    rows::update(conn, &read, retitled).await.unwrap();
    let now_stored = repo::individual::get(conn, stored.id).await.unwrap();
    assert_eq!(now_stored.name, "Ada L.");
    assert_eq!(now_stored.title.as_deref(), Some("SRE"));
    // Saving an unchanged record writes nothing and returns it.
    assert_eq!(
        rows::update(conn, &now_stored, now_stored.clone())
            .await
            .unwrap(),
        now_stored
    );
}

#[tokio::test]
async fn keyed_inserts_go_as_one_statement_on_postgres_and_land_whole_or_not_at_all() {
    use dispatch_store::model::{participant, participant_role};
    use dispatch_store::repo::project::IncidentKeys;
    use dispatch_store::repo::rows;
    use dispatch_store::{Backend, Batched};
    let t = TestDb::new().await;
    let db = t.open().await;
    dispatch_store::seed::ensure_defaults(&db).await.unwrap();
    let conn = db.conn();
    let postgres = db.backend() == Backend::Postgres;
    let p = repo::project::default_project(conn).await.unwrap();
    let ann = repo::individual::get_or_create(conn, "ann@example.com", None)
        .await
        .unwrap();
    let bob = repo::individual::get_or_create(conn, "bob@example.com", None)
        .await
        .unwrap();
    // The keys come from the tables' sequences with the number on PostgreSQL; SQLite's inserts
    // answer theirs, so this test picks some.
    let mut picked = 70_000;
    let mut take = |participants: usize| {
        let next = repo::project::next_incident(conn, p.id, participants);
        picked += 100;
        let mine = picked;
        async move {
            let next = next.await.unwrap();
            let keys = match &next.keys {
                Some(keys) => keys.clone(),
                None => IncidentKeys {
                    incident: mine,
                    participants: (1..=participants as i64).map(|i| mine + i).collect(),
                },
            };
            (next, keys)
        }
    };
    let (failing, failing_keys) = take(1).await;
    let (next, keys) = take(2).await;
    assert_eq!(
        next.keys.is_some(),
        postgres,
        "keys taken on PostgreSQL only"
    );
    assert_eq!(keys.participants.len(), 2);
    assert_ne!(keys.participants[0], keys.participants[1]);

    // A part that fails (a participant of nobody) fails the statement: nothing of it is kept.
    let head = ChainHead::genesis(&format!("INC-{}", failing.number));
    let row = incident::Model {
        id: failing_keys.incident,
        ..incident_row(conn, p.id, ann.id, failing.number, ("t", "d"), &head).await
    };
    let nobody = participant::Model {
        id: failing_keys.participants[0],
        incident_id: row.id,
        individual_id: 999_999,
        created_at: row.created_at,
        ..Default::default()
    };
    let batch = Batched::new(conn);
    repo::incident::insert_keyed(&batch, row.clone())
        .await
        .unwrap();
    let failed = match repo::participant::insert_keyed(&batch, vec![nobody]).await {
        Err(e) => e,
        Ok(()) => batch.flush().await.expect_err("a participant of nobody"),
    };
    assert!(!failed.to_string().is_empty());
    let kept = rows::find::<incident::Model>(conn, row.id).await.unwrap();
    assert_eq!(
        kept.is_some(),
        !postgres,
        "on PostgreSQL the incident went in the failed statement"
    );

    // Four tables' inserts: one statement on PostgreSQL, sent when flushed; each at once on
    // SQLite.
    let step = NewEvent {
        occurred_at: dispatch_core::now(),
        kind: "custom".into(),
        source: EventSource::Custom,
        actor: Some(ann.email.clone()),
        transport: Transport::Api,
        description: "declared".into(),
        details: serde_json::json!({}),
        pinned: false,
    };
    let mut head = ChainHead::genesis(&format!("INC-{}", next.number));
    let now = dispatch_core::now();
    let events = event::chain(keys.incident, &mut head, vec![step.clone(), step], now);
    let row = incident::Model {
        id: keys.incident,
        ..incident_row(conn, p.id, ann.id, next.number, ("t", "d"), &head).await
    };
    let people: Vec<participant::Model> = [&ann, &bob]
        .iter()
        .zip(&keys.participants)
        .map(|(who, id)| participant::Model {
            id: *id,
            incident_id: row.id,
            individual_id: who.id,
            created_at: row.created_at,
            ..Default::default()
        })
        .collect();
    let roles = people
        .iter()
        .map(|pp| participant_role::Model {
            participant_id: pp.id,
            incident_id: row.id,
            role: "reporter".into(),
            assumed_at: row.created_at,
            ..Default::default()
        })
        .collect();
    let before = db.statements_run();
    let batch = Batched::new(conn);
    repo::incident::insert_keyed(&batch, row.clone())
        .await
        .unwrap();
    event::insert(&batch, events).await.unwrap();
    repo::participant::insert_keyed(&batch, people.clone())
        .await
        .unwrap();
    repo::participant::insert_roles(&batch, roles)
        .await
        .unwrap();
    let held = db.statements_run() - before;
    batch.flush().await.unwrap();
    let sent = db.statements_run() - before;
    match postgres {
        true => assert_eq!((held, sent), (0, 1), "held, then one statement"),
        false => assert_eq!((held, sent), (4, 4), "each at once"),
    }
    assert_eq!(
        rows::find::<incident::Model>(conn, row.id).await.unwrap(),
        Some(row.clone())
    );
    let stored = event::list(conn, row.id, &EventFilter::default())
        .await
        .unwrap();
    assert_eq!(stored.len(), 2);
    assert_eq!(
        event::verify(&row.name, &head, &stored).first_broken_seq,
        None
    );
    let ids: Vec<i64> = repo::participant::list(conn, row.id)
        .await
        .unwrap()
        .iter()
        .map(|v| v.participant.id)
        .collect();
    assert_eq!(ids, people.iter().map(|pp| pp.id).collect::<Vec<_>>());
}
