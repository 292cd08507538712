//! Saved views of the incidents list: a person saves the filters they applied under a name, finds
//! them on the list page, opens and deletes them; a bad name or bad filters are refused beside the
//! form with nothing saved; nobody sees or deletes someone else's views.

mod common;

use common::pages::{error_beside, signed_in};
use common::spawn_app;
use reqwest::StatusCode;

#[tokio::test]
async fn a_person_saves_opens_and_deletes_their_own_views() {
    let app = spawn_app().await;
    let mia = signed_in(&app, "mia@example.com", "member").await;
    let bob = signed_in(&app, "bob@example.com", "member").await;
    let query = "status=active&filter=priority+%3D+high";

    let p = mia
        .post(&app, "/views", &[("name", "Hot ones"), ("query", query)])
        .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.html);
    assert_eq!(
        p.location.as_deref(),
        Some(format!("/incidents?{query}").as_str())
    );
    let list = mia.get(&app, "/incidents").await;
    // Askama escapes the `&` of the address (`&#38;`); a browser reads it back as `&`.
    let link = format!(
        r#"<a href="/incidents?{}">Hot ones</a>"#,
        query.replace('&', "&#38;")
    );
    assert!(list.html.contains(&link), "{}", list.html);

    // The same name again replaces the view's filters.
    let p = mia
        .post(
            &app,
            "/views",
            &[("name", "Hot ones"), ("query", "status=stable")],
        )
        .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER);
    let list = mia.get(&app, "/incidents").await;
    assert!(list
        .html
        .contains(r#"<a href="/incidents?status=stable">Hot ones</a>"#));
    assert_eq!(list.html.matches(">Hot ones</a>").count(), 1);

    // Mistakes: beside the form, nothing saved.
    let p = mia
        .post(&app, "/views", &[("name", " "), ("query", query)])
        .await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(error_beside(&p.html, "v-name").is_some(), "{}", p.html);
    let p = mia
        .post(
            &app,
            "/views",
            &[("name", "Broken"), ("query", "filter=priority+%3D%3D")],
        )
        .await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(error_beside(&p.html, "v-query").is_some(), "{}", p.html);
    assert!(!p.html.contains(">Broken</a>"));

    // Bob sees none of Mia's views and cannot delete them.
    let theirs = bob.get(&app, "/incidents").await;
    assert!(!theirs.html.contains("Hot ones"), "{}", theirs.html);
    let id = list
        .html
        .split(r#"action="/views/"#)
        .nth(1)
        .and_then(|s| s.split('/').next())
        .unwrap()
        .to_string();
    let p = bob.post(&app, &format!("/views/{id}/delete"), &[]).await;
    assert_eq!(p.status, StatusCode::NOT_FOUND);
    assert!(mia
        .get(&app, "/incidents")
        .await
        .html
        .contains(">Hot ones</a>"));

    let p = mia.post(&app, &format!("/views/{id}/delete"), &[]).await;
    assert_eq!(p.status, StatusCode::SEE_OTHER);
    assert!(!mia
        .get(&app, "/incidents")
        .await
        .html
        .contains(">Hot ones</a>"));
}
