//! HTTP answers in the protocol's shapes, for the Worker and the objects alike: JSON bodies
//! that are never cached, the one error shape (`crate::api::HttpError`), and `429`s that say when
//! to come back.

use crate::api::HttpError;
use worker::{Headers, Response};

/// `429 rate_limited` saying `why`, with `Retry-After` (seconds).
pub(super) fn too_many(wait_ms: u64, why: &str) -> Result<Response, HttpError> {
    let error = HttpError::new(429, "rate_limited", why);
    let response = json_response(429, &error.body())?;
    response
        .headers()
        .set(
            "Retry-After",
            &crate::creation::retry_after_secs(wait_ms).to_string(),
        )
        .map_err(internal)?;
    Ok(response)
}

/// A runtime failure: the detail goes to the log, the client gets a generic message.
pub(super) fn internal(error: worker::Error) -> HttpError {
    worker::console_error!(
        r#"{{"level":"warn","event":"internal_error","error":{}}}"#,
        super::json_string(&error.to_string())
    );
    HttpError::new(500, "internal", "internal error; please try again")
}

pub(super) fn error_response(error: &HttpError) -> worker::Result<Response> {
    json_response(error.status, &error.body()).or_else(|e| Response::error(e.message, 500))
}

pub(super) fn json_response(status: u16, body: &str) -> Result<Response, HttpError> {
    let headers = Headers::new();
    headers
        .set("Content-Type", "application/json; charset=utf-8")
        .map_err(internal)?;
    headers.set("Cache-Control", "no-store").map_err(internal)?;
    Ok(Response::ok(body)
        .map_err(internal)?
        .with_status(status)
        .with_headers(headers))
}

/// An HTTP error from a room object, in the one error shape.
pub(super) fn json_error(
    status: u16,
    code: &'static str,
    message: &str,
) -> worker::Result<Response> {
    let error = HttpError::new(status, code, message);
    json_response(status, &error.body()).map_err(|e| worker::Error::RustError(e.message))
}

pub(super) fn json_ok(body: &str) -> worker::Result<Response> {
    json_status(200, body)
}

pub(super) fn json_status(status: u16, body: &str) -> worker::Result<Response> {
    json_response(status, body).map_err(|e| worker::Error::RustError(e.message))
}
