//! The webhook adapter: one signed HTTP POST per delivery.
//!
//! The request body is JSON `{kind, target, idempotency_key, payload, sent_at}` with headers
//! `Content-Type: application/json`, `X-Aijia-Idempotency-Key`, `X-Aijia-Timestamp` and
//! `X-Aijia-Signature` (the scheme is described in [`crate::signature`]). The answer decides
//! the outcome: 2xx is a [`Receipt`]; 5xx, 408, 429, a timeout or a network failure are
//! retryable; any other status is not (redirects are not followed: a 3xx means a wrong URL).

use std::error::Error as StdError;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use chrono::{SecondsFormat, Utc};
use http::header::{CONTENT_TYPE, RETRY_AFTER, USER_AGENT};
use http::{Request, StatusCode, Uri};
use http_body_util::{BodyExt, Full};
use hyper_rustls::{HttpsConnector, HttpsConnectorBuilder};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde_json::json;

use crate::delivery::{Adapter, Delivery, Receipt};
use crate::error::{ActivityError, codes};
use crate::signature::{IDEMPOTENCY_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, sign};

/// The timeout when none is configured.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
/// How much of a response is read; the rest is left unread.
const MAX_READ: usize = 64 * 1024;
/// How much of a response body a receipt or an error keeps.
const MAX_KEPT: usize = 2 * 1024;

/// Why a webhook adapter could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebhookSetupError {
    #[error("bad url {url:?}: {reason}")]
    BadUrl { url: String, reason: String },
    #[error("the secret is empty")]
    EmptySecret,
    #[error("the timeout must be more than 0")]
    ZeroTimeout,
    #[error("cannot set up TLS: {0}")]
    Tls(String),
}

/// POSTs each delivery, signed, to one URL. Cheap to clone; clones share a connection pool.
#[derive(Clone)]
pub struct WebhookAdapter {
    url: Uri,
    secret: Arc<[u8]>,
    timeout: Duration,
    client: Client<HttpsConnector<HttpConnector>, Full<Bytes>>,
}

impl fmt::Debug for WebhookAdapter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebhookAdapter")
            .field("url", &redacted(&self.url))
            .field("secret", &"<redacted>")
            .field("timeout", &self.timeout)
            .finish()
    }
}

impl WebhookAdapter {
    /// An adapter for an `http://` or `https://` URL (HTTPS through rustls with Mozilla's
    /// roots), signing with `secret`, giving up on a request after `timeout`.
    pub fn new(
        url: &str,
        secret: impl AsRef<[u8]>,
        timeout: Duration,
    ) -> Result<Self, WebhookSetupError> {
        let url = parse_url(url)?;
        let secret = secret.as_ref();
        if secret.is_empty() {
            return Err(WebhookSetupError::EmptySecret);
        }
        if timeout.is_zero() {
            return Err(WebhookSetupError::ZeroTimeout);
        }
        let connector = HttpsConnectorBuilder::new()
            .with_provider_and_webpki_roots(rustls::crypto::ring::default_provider())
            .map_err(|e| WebhookSetupError::Tls(e.to_string()))?
            .https_or_http()
            .enable_http1()
            .build();
        let client = Client::builder(TokioExecutor::new()).build(connector);
        Ok(WebhookAdapter {
            url,
            secret: Arc::from(secret),
            timeout,
            client,
        })
    }

    pub fn url(&self) -> &Uri {
        &self.url
    }

    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    fn request(&self, delivery: &Delivery) -> Result<Request<Full<Bytes>>, ActivityError> {
        let sent_at = Utc::now();
        let timestamp = sent_at.timestamp();
        let body = serde_json::to_vec(&json!({
            "kind": delivery.kind,
            "target": delivery.target,
            "idempotency_key": delivery.idempotency_key,
            "payload": delivery.payload,
            "sent_at": sent_at.to_rfc3339_opts(SecondsFormat::Millis, true),
        }))
        .map_err(|e| {
            ActivityError::non_retryable(codes::INTERNAL, format!("cannot encode: {e}"))
        })?;
        let signature = sign(&self.secret, timestamp, &body);
        Request::post(self.url.clone())
            .header(CONTENT_TYPE, "application/json")
            .header(USER_AGENT, concat!("aijia/", env!("CARGO_PKG_VERSION")))
            .header(IDEMPOTENCY_HEADER, delivery.idempotency_key.as_str())
            .header(TIMESTAMP_HEADER, timestamp.to_string())
            .header(SIGNATURE_HEADER, signature)
            .body(Full::new(Bytes::from(body)))
            .map_err(|e| {
                ActivityError::bad_input(format!(
                    "cannot build the request (is the idempotency key {:?} header-safe?): {e}",
                    delivery.idempotency_key
                ))
            })
    }
}

#[async_trait]
impl Adapter for WebhookAdapter {
    async fn deliver(&self, delivery: &Delivery) -> Result<Receipt, ActivityError> {
        let request = self.request(delivery)?;
        let exchange = async {
            let response = self.client.request(request).await.map_err(|e| {
                ActivityError::retryable(
                    codes::NETWORK,
                    format!("POST {} failed: {}", redacted(&self.url), chain(&e)),
                )
            })?;
            let status = response.status();
            let retry_after = response
                .headers()
                .get(RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok());
            let (bytes, complete) = read_capped(response.into_body()).await.map_err(|e| {
                ActivityError::retryable(
                    codes::NETWORK,
                    format!("reading the answer of {} failed: {e}", redacted(&self.url)),
                )
            })?;
            Ok::<_, ActivityError>((status, retry_after, bytes, complete))
        };
        let (status, retry_after, bytes, complete) =
            match tokio::time::timeout(self.timeout, exchange).await {
                Ok(result) => result?,
                Err(_) => {
                    return Err(ActivityError::retryable(
                        codes::TIMEOUT,
                        format!(
                            "POST {} got no answer within {:?}",
                            redacted(&self.url),
                            self.timeout
                        ),
                    )
                    .with_details(json!({ "target": delivery.target })));
                }
            };
        let body = kept_text(&bytes);
        if status.is_success() {
            let reply = complete
                .then(|| serde_json::from_slice(&bytes).ok())
                .flatten();
            return Ok(Receipt {
                adapter: "webhook".into(),
                target: delivery.target.clone(),
                recorded: false,
                status: Some(status.as_u16()),
                body: (!body.is_empty()).then_some(body),
                reply,
                delivery: None,
            });
        }
        Err(status_error(status, retry_after, &self.url, delivery, body))
    }
}

fn status_error(
    status: StatusCode,
    retry_after: Option<u64>,
    url: &Uri,
    delivery: &Delivery,
    body: String,
) -> ActivityError {
    let (retryable, code) = match status.as_u16() {
        429 => (true, codes::RATE_LIMITED),
        408 => (true, codes::TIMEOUT),
        500..=599 => (true, codes::HTTP_5XX),
        300..=399 => (false, codes::HTTP_3XX),
        _ => (false, codes::HTTP_4XX),
    };
    let message = format!("POST {} answered {status}", redacted(url));
    let mut details = json!({
        "status": status.as_u16(),
        "target": delivery.target,
        "body": body,
    });
    if let Some(secs) = retry_after {
        details["retry_after_secs"] = json!(secs);
    }
    let err = if retryable {
        ActivityError::retryable(code, message)
    } else {
        ActivityError::non_retryable(code, message)
    };
    err.with_details(details)
}

pub(crate) fn parse_url(url: &str) -> Result<Uri, WebhookSetupError> {
    let bad = |reason: &str| WebhookSetupError::BadUrl {
        url: url.to_owned(),
        reason: reason.to_owned(),
    };
    let uri: Uri = url.trim().parse().map_err(|e: http::uri::InvalidUri| {
        bad(&format!("not a URL ({e}); expected e.g. https://host/path"))
    })?;
    match uri.scheme_str() {
        Some("http" | "https") => {}
        Some(other) => return Err(bad(&format!("scheme {other:?} is not http or https"))),
        None => return Err(bad("it has no scheme; expected e.g. https://host/path")),
    }
    if uri.host().is_none_or(str::is_empty) {
        return Err(bad("it has no host"));
    }
    Ok(uri)
}

/// The URL without its query, which may hold a token.
fn redacted(url: &Uri) -> String {
    format!(
        "{}://{}{}",
        url.scheme_str().unwrap_or("http"),
        url.authority().map_or("", |a| a.as_str()),
        url.path()
    )
}

/// Read at most [`MAX_READ`] bytes; the flag says whether that was all of the body.
async fn read_capped(
    mut body: hyper::body::Incoming,
) -> Result<(Vec<u8>, bool), Box<dyn StdError + Send + Sync>> {
    let mut bytes = Vec::new();
    while let Some(frame) = body.frame().await {
        if let Ok(data) = frame?.into_data() {
            bytes.extend_from_slice(&data);
            if bytes.len() > MAX_READ {
                bytes.truncate(MAX_READ);
                return Ok((bytes, false));
            }
        }
    }
    Ok((bytes, true))
}

/// The first [`MAX_KEPT`] bytes as text, cut at a character boundary.
fn kept_text(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    if text.len() <= MAX_KEPT {
        return text.into_owned();
    }
    let mut end = MAX_KEPT;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}

/// An error with its sources, which is where hyper says what actually went wrong.
fn chain(err: &dyn StdError) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(e) = source {
        text.push_str(": ");
        text.push_str(&e.to_string());
        source = e.source();
    }
    text
}
