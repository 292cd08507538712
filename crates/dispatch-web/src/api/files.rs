//! Files attached to an incident (the built-in storage): upload the raw body, list, download.

use crate::auth::Auth;
use crate::error::{ApiError, ApiResult};
use crate::extract::{Path, Query};
use crate::AppState;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use chrono::{DateTime, Utc};
use dispatch_core::values::IncidentRef;
use dispatch_engine::files::{FileMeta, MAX_FILE_BYTES};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// File routes; uploads may be up to [`MAX_FILE_BYTES`].
pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/incidents/{id}/files",
            get(list)
                .post(upload)
                .layer(DefaultBodyLimit::max(MAX_FILE_BYTES + 1)),
        )
        .route("/files/{id}", get(download))
}

/// A file (without its content).
#[derive(Serialize, ToSchema)]
pub struct FileOut {
    /// Id.
    pub id: i64,
    /// The incident's id.
    pub incident_id: i64,
    /// File name.
    pub name: String,
    /// MIME type.
    pub content_type: String,
    /// Bytes.
    pub size: i64,
    /// Who uploaded it.
    pub uploaded_by: Option<String>,
    /// When.
    pub created_at: DateTime<Utc>,
    /// Where to download it.
    pub link: String,
}

impl From<FileMeta> for FileOut {
    fn from(f: FileMeta) -> Self {
        Self {
            link: format!("/api/v1/files/{}", f.id),
            id: f.id,
            incident_id: f.incident_id,
            name: f.name,
            content_type: f.content_type,
            size: f.size,
            uploaded_by: f.uploaded_by,
            created_at: f.created_at,
        }
    }
}

/// The upload's name.
#[derive(Deserialize, IntoParams)]
pub struct UploadQuery {
    /// The file name.
    pub name: Option<String>,
}

/// Attaches the request body as a file (`?name=…`; the Content-Type is kept).
#[utoipa::path(post, path = "/api/v1/incidents/{id}/files", tag = "files", params(("id" = String, Path), UploadQuery),
    request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    responses((status = 201, body = FileOut), (status = 413, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn upload(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    Query(q): Query<UploadQuery>,
    headers: HeaderMap,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> ApiResult<(StatusCode, axum::Json<FileOut>)> {
    let body = body.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::PayloadTooLarge(MAX_FILE_BYTES)
        } else {
            ApiError::BadRequest(e.body_text())
        }
    })?;
    let name = q
        .name
        .ok_or_else(|| ApiError::field("name", "is required (?name=report.pdf)"))?;
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/octet-stream");
    let f = s
        .engine
        .files()
        .attach(
            auth.actor(),
            &IncidentRef::parse(&id),
            &name,
            content_type,
            body.to_vec(),
        )
        .await?;
    Ok((StatusCode::CREATED, axum::Json(f.into())))
}

/// The files of an incident.
#[utoipa::path(get, path = "/api/v1/incidents/{id}/files", tag = "files", params(("id" = String, Path)), responses((status = 200, body = Vec<FileOut>)))]
pub async fn list(
    State(s): State<AppState>,
    _auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<Vec<FileOut>>> {
    Ok(axum::Json(
        s.engine
            .files()
            .list(&IncidentRef::parse(&id))
            .await?
            .into_iter()
            .map(Into::into)
            .collect(),
    ))
}

/// Downloads a file.
#[utoipa::path(get, path = "/api/v1/files/{id}", tag = "files", params(("id" = i64, Path)), responses((status = 200, description = "The file's content")))]
pub async fn download(
    State(s): State<AppState>,
    _auth: Auth,
    Path(id): Path<i64>,
) -> ApiResult<Response> {
    let f = s.engine.files().get(dispatch_core::FileId(id)).await?;
    Ok(attachment(f))
}

/// A file as a download: its type, its name, never sniffed (the API's and the UI's).
pub fn attachment(f: dispatch_engine::data::model::file::Model) -> Response {
    let disposition = format!(
        "attachment; filename=\"{}\"",
        f.name.replace(['"', '\\'], "_")
    );
    (
        [
            (header::CONTENT_TYPE, f.content_type),
            (header::CONTENT_DISPOSITION, disposition),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_string()),
        ],
        f.data,
    )
        .into_response()
}
