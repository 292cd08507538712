//! Live updates of the incident and case pages: `GET /incidents/{key}/events` and
//! `GET /cases/{id}/events` are server-sent event streams. Every second the server renders the page's live parts again and sends the ones that
//! changed, each as an event named after its part (`room`, `timeline`, `resources`, …) whose data
//! is the part's HTML. Polling the database keeps this correct across several server processes
//! (a worker elsewhere may have provisioned a resource) at the cost of a few reads a second per
//! open page.
//!
//! Access is checked again on every tick, not only when the stream opens: the stream ends as
//! soon as its credential is revoked, its session ended or its account disabled, or its owner
//! may no longer see the incident (removed from it, or it was restricted). Two reads: the
//! credential with its user, and the incident (or case) under the caller's visibility.

use super::Caller;
use super::{cases, incident};
use crate::auth::Auth;
use crate::error::ApiResult;
use crate::extract::Path;
use crate::AppState;
use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use dispatch_core::permission::Action;
use dispatch_core::values::IncidentRef;
use futures_util::Stream;
use std::collections::{HashMap, VecDeque};
use std::convert::Infallible;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::time::{Duration, Instant};

/// How often the parts are checked.
const TICK: Duration = Duration::from_secs(1);
/// How long one stream lasts; the browser reconnects (and access is checked again).
const LIFETIME: Duration = Duration::from_secs(10 * 60);

/// What a stream watches.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Page {
    Incident,
    Case,
}

struct Watch {
    s: AppState,
    caller: Caller,
    page: Page,
    id: String,
    seen: HashMap<&'static str, u64>,
    pending: VecDeque<Event>,
    started: Instant,
    first: bool,
}

/// `GET /incidents/{key}/events`: the stream of the incident page's changed parts.
pub async fn events(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Sse<impl Stream<Item = Result<Event, Infallible>>>> {
    Ok(stream(s, caller, Page::Incident, id))
}

/// `GET /cases/{id}/events`: the stream of the case page's changed parts.
pub async fn case_events(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> ApiResult<Sse<impl Stream<Item = Result<Event, Infallible>>>> {
    Ok(stream(s, caller, Page::Case, id.to_string()))
}

fn stream(
    s: AppState,
    caller: Caller,
    page: Page,
    id: String,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let watch = Watch {
        s,
        caller,
        page,
        id,
        seen: HashMap::new(),
        pending: VecDeque::new(),
        started: Instant::now(),
        first: true,
    };
    let stream = futures_util::stream::unfold(watch, |mut w| async move {
        loop {
            if let Some(ev) = w.pending.pop_front() {
                return Some((Ok(ev), w));
            }
            if w.started.elapsed() > LIFETIME {
                return None;
            }
            if !w.first {
                tokio::time::sleep(TICK).await;
            }
            if !w.first && !still_allowed(&mut w).await {
                return None;
            }
            w.first = false;
            let live = match w.page {
                Page::Incident => incident::live(&w.s, &w.caller, &w.id).await,
                Page::Case => match w.id.parse() {
                    Ok(id) => cases::live(&w.s, &w.caller, id).await,
                    Err(_) => return None,
                },
            };
            let live = match live {
                Ok(l) => l,
                Err(e) => {
                    tracing::debug!(incident = %w.id, error = %e, "live stream ends");
                    return None;
                }
            };
            for (name, html) in live.parts {
                let mut h = DefaultHasher::new();
                html.hash(&mut h);
                let hash = h.finish();
                if w.seen.insert(name, hash) != Some(hash) {
                    w.pending.push_back(Event::default().event(name).data(html));
                }
            }
        }
    });
    Sse::new(stream).keep_alive(KeepAlive::default())
}

/// Whether the stream's caller may still see the page (the incident, for its page), as their credential stands now (the
/// caller is refreshed: a changed role counts from this tick on).
async fn still_allowed(w: &mut Watch) -> bool {
    let engine = &w.s.engine;
    let who = match engine.access().reauthenticate(&w.caller.auth.0).await {
        Ok(Some(who)) => who,
        Ok(None) => {
            tracing::debug!(incident = %w.id, "live stream ends: its credential is no longer live");
            return false;
        }
        Err(e) => {
            tracing::debug!(incident = %w.id, error = %e, "live stream ends");
            return false;
        }
    };
    let seen = match w.page {
        Page::Incident => {
            let r = IncidentRef::parse(&w.id);
            engine.access().require(&who, &r, Action::View).await
        }
        Page::Case => match w.id.parse() {
            Ok(id) => engine
                .access()
                .require_case(&who, dispatch_core::CaseId(id), Action::ViewCase)
                .await
                .map(drop),
            Err(_) => return false,
        },
    };
    if let Err(e) = seen {
        tracing::debug!(page = %w.id, error = %e, "live stream ends: the page is out of sight");
        return false;
    }
    w.caller.auth = Auth(who);
    true
}
