//! The harness's end-of-test job check names what it finds, and holds a test to what it says.

use crate::common::{spawn_app, TestApp};

/// The message of the panic `app`'s end-of-test check raises, if it raises one.
fn check_of(app: TestApp) -> Option<String> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || drop(app)))
        .err()
        .map(|p| {
            p.downcast_ref::<String>()
                .cloned()
                .unwrap_or_else(|| "a panic without a message".into())
        })
}

#[tokio::test]
async fn jobs_left_queued_fail_the_test_naming_their_kind_unless_it_allows_them() {
    let app = spawn_app().await;
    app.declare("Left behind").await;
    let message = check_of(app).expect("the check fails");
    assert!(message.contains("jobs left queued or running"), "{message}");
    assert!(message.contains("provision (queued"), "{message}");

    let app = spawn_app().await;
    app.declare("Left behind").await;
    app.allow_pending_jobs("the test runs no worker");
    assert_eq!(check_of(app), None);

    let app = spawn_app().await;
    app.declare("Run to the end").await;
    assert!(app.run_pending_jobs().await > 0);
    assert_eq!(check_of(app), None, "a drained queue passes");
}

#[tokio::test]
async fn a_test_that_expects_a_failed_job_fails_when_none_failed() {
    let app = TestApp::builder()
        .expect_failed_jobs("nothing fails here")
        .spawn()
        .await;
    let message = check_of(app).expect("the check fails");
    assert!(
        message.contains("no job failed, though the test expects one to: nothing fails here"),
        "{message}"
    );
}
