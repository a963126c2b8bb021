//! The JSON error answers of the CA's HTTP API (Fulcio's gRPC-gateway shape `{code,
//! message}`), shared by the Fulcio v2 handlers and the CT log's read API.

use serde_json::json;

use crate::http::{Response, StatusCode};

/// 400 with gRPC code 3 (InvalidArgument).
pub(super) fn bad_request(message: impl Into<String>) -> Response {
    Response::json(StatusCode::BAD_REQUEST, &json!({"code": 3, "message": message.into()}))
}

/// 401 with gRPC code 16 (Unauthenticated).
pub(super) fn unauthenticated(message: impl Into<String>) -> Response {
    Response::json(StatusCode::UNAUTHORIZED, &json!({"code": 16, "message": message.into()}))
}

/// 500 with gRPC code 13 (Internal); the cause is logged, not sent.
pub(super) fn internal(error: impl std::fmt::Display) -> Response {
    tracing::error!(error = %error, "CA storage error");
    Response::json(
        StatusCode::INTERNAL_SERVER_ERROR,
        &json!({"code": 13, "message": "internal error"}),
    )
}
