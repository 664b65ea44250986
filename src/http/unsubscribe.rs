//! `/email/unsubscribe`: one-click unsubscribe from notification mails (RFC 8058), no
//! sign-in. `POST` with the body `List-Unsubscribe=One-Click` (what mail clients send for
//! `List-Unsubscribe-Post`) unsubscribes; `GET` only shows a page whose button POSTs
//! (link scanners that follow URLs change nothing). The signed query is checked by
//! [`crate::domain::unsubscribe`]: a bad or tampered one answers 400 and changes nothing.

use axum::{
    Json,
    body::Bytes,
    extract::{RawQuery, State},
    http::StatusCode,
    response::{Html, IntoResponse, Response},
};
use serde_json::json;

use crate::{
    domain::unsubscribe::{self, Unsubscriber},
    error::AppError,
};

/// The one body a one-click POST carries.
const ONE_CLICK: (&str, &str) = ("List-Unsubscribe", "One-Click");

/// The error as JSON, with its stable code.
fn refused(status: StatusCode, error: &AppError) -> Response {
    let code = error.code();
    let body = json!({"error": {"code": code.as_str(), "message": error.client_message()}});
    (status, Json(body)).into_response()
}

fn failed(error: AppError) -> Response {
    let status = match &error {
        AppError::BadUserInput { .. } => StatusCode::BAD_REQUEST,
        AppError::ServiceUnavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        _ => {
            tracing::error!(?error, "unsubscribe failed");
            StatusCode::INTERNAL_SERVER_ERROR
        }
    };
    refused(status, &error)
}

fn bad_body() -> Response {
    let error = AppError::BadUserInput {
        message: "The body must be List-Unsubscribe=One-Click.".into(),
        field_errors: Vec::new(),
    };
    refused(StatusCode::BAD_REQUEST, &error)
}

/// `POST /email/unsubscribe?<signed>` with `List-Unsubscribe=One-Click`: unsubscribes.
pub async fn post(
    State(unsubscriber): State<Unsubscriber>,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> Response {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(&body).unwrap_or_default();
    if !pairs
        .iter()
        .any(|(k, v)| (k.as_str(), v.as_str()) == ONE_CLICK)
    {
        return bad_body();
    }
    let query = query.unwrap_or_default();
    match unsubscribe::unsubscribe(&unsubscriber.pool, &unsubscriber.keys, &query).await {
        Ok(()) => (
            StatusCode::OK,
            [(
                axum::http::header::CONTENT_TYPE,
                "text/plain; charset=utf-8",
            )],
            "You are unsubscribed: Conduit will not mail you these notifications any more.\n",
        )
            .into_response(),
        Err(error) => failed(error),
    }
}

/// `GET /email/unsubscribe?<signed>`: a page with a button that POSTs (nothing changes
/// until it is pressed).
pub async fn page(State(unsubscriber): State<Unsubscriber>, RawQuery(query): RawQuery) -> Response {
    let query = query.unwrap_or_default();
    if let Err(error) = unsubscribe::verify(&unsubscriber.keys, &query) {
        return failed(error);
    }
    // The query was just parsed and checked: it holds only URL-safe characters and `&`.
    let action = format!(
        "{}?{}",
        unsubscribe::PATH,
        query.replace('&', "&amp;").replace('"', "%22")
    );
    Html(format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>Unsubscribe</title></head>\
         <body style=\"font-family:sans-serif\"><h1>Unsubscribe from Conduit mails</h1>\
         <form method=\"post\" action=\"{action}\">\
         <input type=\"hidden\" name=\"{}\" value=\"{}\">\
         <button type=\"submit\">Unsubscribe</button></form></body></html>",
        ONE_CLICK.0, ONE_CLICK.1
    ))
    .into_response()
}
