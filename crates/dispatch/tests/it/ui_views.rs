//! Saved views of the incidents list: a person saves the filters they applied under a name, finds
//! them on the list page, opens and deletes them; a bad name or bad filters are refused beside the
//! form with nothing saved; nobody sees or deletes someone else's views. Filters and paging
//! beyond their bounds answer 422 with the field named, on the list, its CSV and saved views.

use crate::common::pages::{error_beside, signed_in};
use crate::common::{spawn_app, urlencode};
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

#[tokio::test]
async fn the_list_its_csv_and_saved_views_refuse_a_filter_beyond_the_bounds_naming_the_position() {
    let app = spawn_app().await;
    app.declare("Checkout down").await;
    let mia = signed_in(&app, "mia@example.com", "member").await;
    let deep = format!("{}status = active{}", "(".repeat(3000), ")".repeat(3000));
    for filter in [
        deep.clone(),
        "(".repeat(3000),
        vec!["all"; 990].join(" or "),
    ] {
        let query = format!("filter={}", urlencode(&filter));
        let p = mia.get(&app, &format!("/incidents?{query}")).await;
        assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
        let e = error_beside(&p.html, "f-filter").expect("an error beside the filter");
        assert!(e.starts_with("at position "), "{e}");
        let csv = mia.get(&app, &format!("/incidents.csv?{query}")).await;
        assert_eq!(csv.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(csv.html.contains("filter: at position "), "{}", csv.html);
        let p = mia
            .post(&app, "/views", &[("name", "Deep"), ("query", &query)])
            .await;
        assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
        let e = error_beside(&p.html, "v-query").expect("an error beside the view's filters");
        assert!(e.contains("(filter: at position "), "{e}");
    }
    // The server lives on, and a filter at the bounds works.
    let at_bound = format!("{}status = active{}", "(".repeat(32), ")".repeat(32));
    let p = mia
        .get(&app, &format!("/incidents?filter={}", urlencode(&at_bound)))
        .await;
    assert_eq!(p.status, StatusCode::OK);
    assert!(p.html.contains("Checkout down"));
    app.run_pending_jobs().await;
}

#[tokio::test]
async fn paging_out_of_range_on_the_list_is_a_422_naming_the_parameter() {
    let app = spawn_app().await;
    app.declare("Checkout down").await;
    let mia = signed_in(&app, "mia@example.com", "member").await;
    for (query, field) in [
        ("page=9223372036854775807", "page"),
        ("page=0", "page"),
        ("page=-1", "page"),
        ("per_page=9223372036854775807", "per_page"),
        ("per_page=0", "per_page"),
        ("per_page=-20", "per_page"),
    ] {
        let p = mia.get(&app, &format!("/incidents?{query}")).await;
        assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY, "{query}");
        let e = error_beside(&p.html, &format!("f-{field}")).expect(query);
        assert!(e.starts_with(&format!("{field}: must be between")), "{e}");
        // The export has no pages: it ignores them.
        let csv = mia.get(&app, &format!("/incidents.csv?{query}")).await;
        assert_eq!(csv.status, StatusCode::OK, "{query}");
    }
    for query in ["page=two", "per_page=x", "page=99999999999999999999"] {
        let p = mia.get(&app, &format!("/incidents?{query}")).await;
        assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY, "{query}");
        let field = query.split('=').next().unwrap();
        assert!(
            p.html.contains(&format!("{field}: ")),
            "{query}: {}",
            p.html
        );
    }
    let admin = signed_in(&app, "root@example.com", "admin").await;
    for query in ["page=9223372036854775807", "page=-3", "page=x"] {
        let p = admin
            .get(&app, &format!("/settings/individuals?{query}"))
            .await;
        assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY, "{query}");
        assert!(p.html.contains("page: "), "{query}: {}", p.html);
    }
    assert_eq!(
        mia.get(&app, "/incidents?page=2").await.status,
        StatusCode::OK
    );
    app.run_pending_jobs().await;
}
