//! The one error envelope of the API: every failure, including a body that is not JSON or a
//! query string that does not parse, answers `{"error": {"code", "message", "fields"?}}`.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use dispatch_core::{FieldError, ValidationError};
use dispatch_engine::Error as EngineError;
use serde::Serialize;

/// Everything an API call can fail with.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 401: no token, or not a live one.
    #[error("a valid API token is required (Authorization: Bearer <token>), or sign in")]
    Unauthorized,
    /// 401: a request that must be signed (Slack) is not, or not freshly.
    #[error("{0}")]
    BadSignature(String),
    /// 401: a sign-in failed. One answer for an unknown person, a wrong password and a disabled
    /// account, so that it tells nothing about which accounts exist.
    #[error("wrong e-mail or password")]
    BadCredentials,
    /// 403: the caller may not do this.
    #[error("{0}")]
    Forbidden(String),
    /// 404.
    #[error("{0} not found")]
    NotFound(String),
    /// 409: conflicts with the current state.
    #[error("{0}")]
    Conflict(String),
    /// 422: fields failed validation.
    #[error(transparent)]
    Validation(ValidationError),
    /// 400: the request could not be read (bad JSON, bad query string).
    #[error("{0}")]
    BadRequest(String),
    /// 405: the route exists but not with this method.
    #[error("this route does not accept that method")]
    MethodNotAllowed,
    /// 413: the body is larger than the route accepts (its limit in bytes).
    #[error("the body is too large (at most {})", dispatch_core::size::human(*.0))]
    PayloadTooLarge(usize),
    /// 415: the body is not JSON.
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// 502: a provider asked while answering failed (its message is shown).
    #[error("{0}")]
    BadGateway(String),
    /// 429: too many attempts (sign-in); try again after this many seconds.
    #[error("too many attempts; try again in {0} seconds")]
    TooManyRequests(u64),
    /// 500: logged, never described to the caller.
    #[error("internal error")]
    Internal(String),
}

/// The envelope's body.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// The error.
    pub error: ErrorDetail,
}

/// What went wrong.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    /// Stable machine-readable code, e.g. `validation_failed`, `not_found`.
    pub code: &'static str,
    /// A sentence for people.
    pub message: String,
    /// For validation failures: each offending field.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<FieldError>,
}

impl ApiError {
    /// The HTTP status of this error.
    pub fn status_code(&self) -> StatusCode {
        match self {
            ApiError::Unauthorized | ApiError::BadSignature(_) | ApiError::BadCredentials => {
                StatusCode::UNAUTHORIZED
            }
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::BadGateway(_) => StatusCode::BAD_GATEWAY,
            ApiError::TooManyRequests(_) => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn code(&self) -> &'static str {
        match self {
            ApiError::Unauthorized | ApiError::BadCredentials => "unauthorized",
            ApiError::BadSignature(_) => "bad_signature",
            ApiError::Forbidden(_) => "forbidden",
            ApiError::NotFound(_) => "not_found",
            ApiError::Conflict(_) => "conflict",
            ApiError::Validation(_) => "validation_failed",
            ApiError::BadRequest(_) => "bad_request",
            ApiError::UnsupportedMediaType(_) => "unsupported_media_type",
            ApiError::MethodNotAllowed => "method_not_allowed",
            ApiError::PayloadTooLarge(_) => "payload_too_large",
            ApiError::BadGateway(_) => "provider_failed",
            ApiError::TooManyRequests(_) => "too_many_requests",
            ApiError::Internal(_) => "internal",
        }
    }

    /// A validation error about one field.
    pub fn field(field: &str, message: impl Into<String>) -> Self {
        ApiError::Validation(ValidationError::field(field, message))
    }
}

impl From<EngineError> for ApiError {
    fn from(e: EngineError) -> Self {
        match e {
            EngineError::Validation(v) => ApiError::Validation(v),
            EngineError::NotFound(w) => ApiError::NotFound(w),
            EngineError::Conflict(m) => ApiError::Conflict(m),
            EngineError::Forbidden(m) => ApiError::Forbidden(m),
            EngineError::Store(s) => ApiError::Internal(s.to_string()),
            EngineError::Provider(p) => ApiError::BadGateway(p.to_string()),
        }
    }
}

impl From<dispatch_slack::transport::IntakeError> for ApiError {
    fn from(e: dispatch_slack::transport::IntakeError) -> Self {
        use dispatch_slack::transport::IntakeError;
        match e {
            IntakeError::BadSignature(m) => ApiError::BadSignature(m),
            IntakeError::BadRequest(m) => ApiError::BadRequest(m),
            IntakeError::Engine(e) => e.into(),
        }
    }
}

impl From<dispatch_teams::transport::IntakeError> for ApiError {
    fn from(e: dispatch_teams::transport::IntakeError) -> Self {
        use dispatch_teams::transport::IntakeError;
        match e {
            IntakeError::Unauthorized(m) => ApiError::BadSignature(m),
            IntakeError::BadRequest(m) => ApiError::BadRequest(m),
            IntakeError::Engine(e) => e.into(),
        }
    }
}

impl From<ValidationError> for ApiError {
    fn from(e: ValidationError) -> Self {
        ApiError::Validation(e)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status_code();
        let (message, fields) = match &self {
            ApiError::Validation(v) => (
                format!(
                    "{} field(s) failed validation: {}",
                    v.fields.len(),
                    v.fields
                        .iter()
                        .map(|f| f.field.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                v.fields.clone(),
            ),
            ApiError::Internal(detail) => {
                // Logged once here, where it is handled; the caller gets no internals.
                tracing::error!(error = %detail, "request failed");
                ("internal error; see the server log".to_string(), vec![])
            }
            other => (other.to_string(), vec![]),
        };
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code(),
                message,
                fields,
            },
        };
        let mut res = (status, axum::Json(body)).into_response();
        if let ApiError::TooManyRequests(secs) = self {
            res.headers_mut().insert(
                axum::http::header::RETRY_AFTER,
                axum::http::HeaderValue::from(secs),
            );
        }
        res
    }
}

/// Shorthand for handler results.
pub type ApiResult<T> = Result<T, ApiError>;
