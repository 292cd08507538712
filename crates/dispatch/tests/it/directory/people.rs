//! Individuals: the people of the directory, identified by e-mail.

use super::{bad_fields, spawn_app};
use serde_json::{json, Value};

#[tokio::test]
async fn individuals_can_be_created_listed_searched_and_changed() {
    let app = spawn_app().await;
    let alice = app
        .created(
            "/individuals",
            json!({"email": " Alice@Example.com ", "name": "Alice Liddell", "title": "SRE",
                   "weblink": "https://example.com/alice"}),
        )
        .await;
    assert_eq!(alice["email"], "alice@example.com");
    assert_eq!(alice["title"], "SRE");
    let bob = app
        .created("/individuals", json!({"email": "bob@example.com"}))
        .await;
    assert_eq!(
        bob["name"], "bob",
        "the name defaults to the address's local part"
    );

    let (status, all) = app.get("/individuals").await;
    assert_eq!(status, 200);
    assert_eq!(all["total"], 3);
    let emails: Vec<&str> = all["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["email"].as_str().unwrap())
        .collect();
    assert_eq!(
        emails,
        ["admin@example.com", "alice@example.com", "bob@example.com"]
    );

    let (_, found) = app.get("/individuals?q=LIDDELL").await;
    assert_eq!(found["total"], 1, "search ignores case: {found}");
    assert_eq!(found["items"][0]["email"], "alice@example.com");
    let (_, none) = app.get("/individuals?q=%25").await;
    assert_eq!(
        none["total"], 0,
        "a % in the search is a character, not a wildcard"
    );

    let (_, page) = app.get("/individuals?per_page=1&page=2").await;
    assert_eq!(
        (
            page["total"].as_u64(),
            page["page"].as_u64(),
            page["per_page"].as_u64()
        ),
        (Some(3), Some(2), Some(1))
    );
    assert_eq!(page["items"].as_array().unwrap().len(), 1);
    assert_eq!(page["items"][0]["email"], "alice@example.com");

    let path = format!("/individuals/{}", alice["id"]);
    let (status, changed) = app
        .patch(&path, json!({"name": "Alice L.", "title": null}))
        .await;
    assert_eq!(status, 200, "{changed}");
    assert_eq!(changed["name"], "Alice L.");
    assert_eq!(changed["title"], Value::Null);
    assert_eq!(
        changed["weblink"], "https://example.com/alice",
        "absent fields are kept"
    );
    let (status, read) = app.get(&path).await;
    assert_eq!(status, 200);
    assert_eq!(read, changed);
}

#[tokio::test]
async fn an_email_that_already_exists_is_a_conflict() {
    let app = spawn_app().await;
    app.created("/individuals", json!({"email": "alice@example.com"}))
        .await;
    let (status, body) = app
        .post("/individuals", json!({"email": "ALICE@example.com"}))
        .await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["error"]["code"], "conflict");
    let bob = app
        .created("/individuals", json!({"email": "bob@example.com"}))
        .await;
    let path = format!("/individuals/{}", bob["id"]);
    let (status, _) = app
        .patch(&path, json!({"email": "alice@example.com"}))
        .await;
    assert_eq!(status, 409);
    assert_eq!(app.get(&path).await.1["email"], "bob@example.com");
}

#[tokio::test]
async fn bad_individual_input_is_refused_naming_each_field() {
    let app = spawn_app().await;
    let (status, body) = app
        .post(
            "/individuals",
            json!({"email": "not-an-email", "name": "  ", "weblink": "example.com"}),
        )
        .await;
    assert_eq!(bad_fields(status, &body), ["email", "name", "weblink"]);
    let (status, body) = app.post("/individuals", json!({"name": "Nobody"})).await;
    assert_eq!(bad_fields(status, &body), ["email"]);
    let (status, body) = app
        .patch("/individuals/1", json!({"email": null, "name": ""}))
        .await;
    assert_eq!(bad_fields(status, &body), ["email", "name"]);
    let (status, body) = app.get("/individuals?per_page=1000").await;
    assert_eq!(bad_fields(status, &body), ["per_page"]);
    let (status, body) = app.get("/individuals?page=0&per_page=abc").await;
    assert!(!bad_fields(status, &body).is_empty());
    assert_eq!(
        app.get("/individuals").await.1["total"],
        1,
        "nothing was written"
    );
}
