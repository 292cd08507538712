//! The pages an incident's links open, so that every link a person clicks lands on a page and
//! never on the JSON API ([`dispatch_core::links`]): a document rendered with its edit form, the
//! incident's files with upload and download, its participant group, its room full screen (for
//! a phone), and a page (an on-call notification) with its Acknowledge button.

use super::{render, see_other, Caller, Chrome, Form};
use crate::error::{ApiError, ApiResult};
use crate::extract::Path;
use crate::AppState;
use askama::Template;
use axum::extract::{Multipart, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::{DateTime, Utc};
use dispatch_core::permission::Action;
use dispatch_core::values::IncidentRef;
use dispatch_core::{DocumentId, FileId, IncidentId, PageId};
use dispatch_engine::files::{FileMeta, MAX_FILE_BYTES};

/// The incident a page belongs to: its key and title, for the heading and the way back.
struct Owner {
    key: String,
    title: String,
}

async fn owner(s: &AppState, r: &IncidentRef) -> ApiResult<Owner> {
    let d = s.engine.incidents().get(r).await?;
    Ok(Owner {
        key: d.row.name,
        title: d.row.title,
    })
}

/// One document.
#[derive(Template)]
#[template(path = "attached/document.html")]
struct DocumentPage {
    chrome: Chrome,
    inc: Owner,
    doc: super::sections::Doc,
    can_edit: bool,
    form: Form,
}

/// `GET /documents/{id}`: a document rendered, with its edit form for those who may edit it.
pub async fn document(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> ApiResult<Response> {
    document_page(&s, &caller, id, Form::default()).await
}

async fn document_page(s: &AppState, caller: &Caller, id: i64, form: Form) -> ApiResult<Response> {
    let d = s.engine.documents().get(DocumentId(id)).await?;
    let r = IncidentRef::Id(IncidentId(d.incident_id));
    let access = s.engine.access().incident(&caller.auth.0, &r).await?;
    let inc = owner(s, &r).await?;
    let status = if form.failed() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let page = DocumentPage {
        chrome: caller.chrome(d.title.clone(), "incidents"),
        can_edit: access.allows(Action::EditDocument) && !d.read_only,
        doc: super::sections::Doc::from(d),
        inc,
        form,
    };
    Ok(render(status, &page))
}

/// `POST /documents/{id}`: saves a person's edit and shows the document again.
pub async fn edit_document(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    axum::Form(b): axum::Form<super::extra::DocumentForm>,
) -> ApiResult<Response> {
    let body = b.markdown();
    let d = s.engine.documents().get(DocumentId(id)).await?;
    let result = s
        .engine
        .documents()
        .edit(
            caller.auth.actor(),
            &IncidentRef::Id(IncidentId(d.incident_id)),
            DocumentId(id),
            &body,
        )
        .await;
    match result {
        Ok(_) => Ok(see_other(&format!("/documents/{id}"))),
        Err(e) => {
            let mut form = Form::with_values([("body", body)]);
            form.fail(e.into())?;
            document_page(&s, &caller, id, form).await
        }
    }
}

/// A file as the list shows it.
struct FileRow {
    id: i64,
    name: String,
    content_type: String,
    size: String,
    uploaded_by: String,
    created_at: DateTime<Utc>,
}

impl From<FileMeta> for FileRow {
    fn from(f: FileMeta) -> Self {
        Self {
            id: f.id,
            size: dispatch_core::size::human(usize::try_from(f.size).unwrap_or_default()),
            name: f.name,
            content_type: f.content_type,
            uploaded_by: f.uploaded_by.unwrap_or_default(),
            created_at: f.created_at,
        }
    }
}

/// The incident's files.
#[derive(Template)]
#[template(path = "attached/files.html")]
struct FilesPage {
    chrome: Chrome,
    inc: Owner,
    files: Vec<FileRow>,
    can_upload: bool,
    max: String,
    form: Form,
}

/// `GET /incidents/{key}/files`: the files, each to download, and an upload form.
pub async fn files(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    files_page(&s, &caller, &id, Form::default()).await
}

async fn files_page(s: &AppState, caller: &Caller, id: &str, form: Form) -> ApiResult<Response> {
    let r = IncidentRef::parse(id);
    let access = s.engine.access().incident(&caller.auth.0, &r).await?;
    let files = s.engine.files().list(&r).await?;
    let status = if form.failed() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let inc = owner(s, &r).await?;
    let page = FilesPage {
        chrome: caller.chrome(format!("{} files", inc.key), "incidents"),
        inc,
        files: files.into_iter().map(Into::into).collect(),
        can_upload: access.allows(Action::PostInRoom),
        max: dispatch_core::size::human(MAX_FILE_BYTES),
        form,
    };
    Ok(render(status, &page))
}

/// `POST /incidents/{key}/files` (multipart, field `file`): attaches the chosen file.
pub async fn upload(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    multipart: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> ApiResult<Response> {
    let mut form = Form::default();
    match read_file(multipart).await {
        Ok((name, content_type, data)) => {
            let attached = s
                .engine
                .files()
                .attach(
                    caller.auth.actor(),
                    &IncidentRef::parse(&id),
                    &name,
                    &content_type,
                    data,
                )
                .await;
            match attached {
                Ok(_) => return Ok(see_other(&format!("/incidents/{id}/files"))),
                Err(e) => form.fail(e.into())?,
            }
        }
        Err(e) => form.fail(e)?,
    }
    files_page(&s, &caller, &id, form).await
}

/// The `file` part of an upload: its name, type and bytes.
async fn read_file(
    multipart: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> Result<(String, String, Vec<u8>), ApiError> {
    let mut multipart = multipart.map_err(|e| ApiError::field("file", e.body_text()))?;
    while let Some(field) = multipart
        .next_field()
        .await
        .map_err(|e| ApiError::field("file", e.body_text()))?
    {
        if field.name() != Some("file") {
            continue;
        }
        let name = field.file_name().unwrap_or_default().to_string();
        let content_type = field
            .content_type()
            .unwrap_or("application/octet-stream")
            .to_string();
        let data = field.bytes().await.map_err(|e| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::PayloadTooLarge(MAX_FILE_BYTES)
            } else {
                ApiError::field("file", e.body_text())
            }
        })?;
        if name.is_empty() {
            return Err(ApiError::field("file", "choose a file to upload"));
        }
        return Ok((name, content_type, data.to_vec()));
    }
    Err(ApiError::field("file", "choose a file to upload"))
}

/// `GET /files/{id}`: downloads a file (as the API's download does).
pub async fn download(
    State(s): State<AppState>,
    _caller: Caller,
    Path(id): Path<i64>,
) -> ApiResult<Response> {
    let f = s.engine.files().get(FileId(id)).await?;
    Ok(crate::api::files::attachment(f))
}

/// The incident's participant groups.
#[derive(Template)]
#[template(path = "attached/group.html")]
struct GroupPage {
    chrome: Chrome,
    inc: Owner,
    /// Name, address and members of the responders' group (none while it is being made).
    group: Option<(String, String, Vec<String>)>,
}

/// `GET /incidents/{key}/group`: the responders' group (the built-in provider's) and its members.
pub async fn group(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let r = IncidentRef::parse(&id);
    let group = s
        .engine
        .integrations()
        .builtin_group(&r)
        .await?
        .map(|(g, members)| (g.name, g.email, members));
    let inc = owner(&s, &r).await?;
    let page = GroupPage {
        chrome: caller.chrome(format!("{} group", inc.key), "incidents"),
        inc,
        group,
    };
    Ok(render(StatusCode::OK, &page))
}

/// The room, full screen.
#[derive(Template)]
#[template(path = "attached/room.html")]
struct RoomPage {
    chrome: Chrome,
    inc: Owner,
    room_section: String,
}

/// `GET /incidents/{key}/room`: the room alone (the incident page shows it beside the rest),
/// live, with its message box.
pub async fn room(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    room_page(&s, &caller, &id, Form::default()).await
}

/// The room's page, with what was typed and its error after a failed post.
pub(super) async fn room_page(
    s: &AppState,
    caller: &Caller,
    id: &str,
    form: Form,
) -> ApiResult<Response> {
    let r = IncidentRef::parse(id);
    let inc = owner(s, &r).await?;
    let status = if form.failed() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let back = format!("/incidents/{}/room", inc.key);
    let page = RoomPage {
        chrome: caller.chrome(format!("{} room", inc.key), "incidents"),
        room_section: super::incident::room_section(s, caller, &r, form, Some(back)).await?,
        inc,
    };
    Ok(render(status, &page))
}

/// A page and what can be done with it.
#[derive(Template)]
#[template(path = "attached/page.html")]
struct PagePage {
    chrome: Chrome,
    page: dispatch_engine::data::model::page::Model,
    incident: Owner,
    can_ack: bool,
}

/// `GET /pages/{id}`: a page (who was paged, why, its status) with its Acknowledge button.
pub async fn page(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> ApiResult<Response> {
    let page = s.engine.oncall().page(PageId(id)).await?;
    let r = IncidentRef::Id(IncidentId(page.incident_id));
    let access = s.engine.access().incident(&caller.auth.0, &r).await?;
    let can_ack = page.status != "acknowledged" && access.allows(Action::AckPage);
    let incident = owner(&s, &r).await?;
    let view = PagePage {
        chrome: caller.chrome(format!("Page {id}"), "oncall"),
        page,
        incident,
        can_ack,
    };
    Ok(render(StatusCode::OK, &view))
}
