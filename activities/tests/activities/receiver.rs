//! A webhook receiver for the tests: a real hyper HTTP/1.1 server on 127.0.0.1:0 that checks
//! each request's signature with `verify_signature`, as a partner's endpoint would, keeps
//! what it received and answers as the test tells it.

use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aijia_activities::{SignatureError, verify_signature};
use bytes::Bytes;
use chrono::Utc;
use http::{HeaderMap, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

pub const SECRET: &str = "test-secret-please-rotate";

/// One request as the receiver saw it.
#[derive(Debug, Clone)]
pub struct Received {
    pub headers: HeaderMap,
    pub body: Bytes,
    /// The receiver's own check of the signature headers against the body.
    pub verified: Result<(), SignatureError>,
}

impl Received {
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_else(|| panic!("no {name} header in {:?}", self.headers))
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("the webhook body is JSON")
    }
}

/// How the receiver answers.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub body: String,
    pub headers: Vec<(&'static str, String)>,
    /// Wait this long before answering.
    pub delay: Duration,
}

impl Reply {
    pub fn status(status: u16) -> Self {
        Reply {
            status,
            body: String::new(),
            headers: Vec::new(),
            delay: Duration::ZERO,
        }
    }

    pub fn json(status: u16, body: serde_json::Value) -> Self {
        Reply {
            body: body.to_string(),
            headers: vec![("content-type", "application/json".into())],
            ..Self::status(status)
        }
    }

    pub fn header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    pub fn after(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }
}

/// A running receiver; it stops with the test's runtime.
pub struct Receiver {
    pub url: String,
    received: Arc<Mutex<Vec<Received>>>,
}

impl Receiver {
    pub fn received(&self) -> Vec<Received> {
        self.received.lock().expect("receiver log").clone()
    }

    /// The only request received.
    pub fn single(&self) -> Received {
        let all = self.received();
        assert_eq!(all.len(), 1, "expected exactly one request, got {all:?}");
        all.into_iter().next().expect("one request")
    }
}

/// Start a receiver that answers every request with `reply`.
pub async fn start(reply: Reply) -> Receiver {
    start_with(move |_| reply.clone()).await
}

/// Start a receiver whose answer depends on the request.
pub async fn start_with(respond: impl Fn(&Received) -> Reply + Send + Sync + 'static) -> Receiver {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind a loopback port");
    let addr = listener.local_addr().expect("local address");
    let received = Arc::new(Mutex::new(Vec::new()));
    let respond = Arc::new(respond);
    let log = received.clone();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let log = log.clone();
            let respond = respond.clone();
            tokio::spawn(async move {
                let service = service_fn(move |request: Request<Incoming>| {
                    let log = log.clone();
                    let respond = respond.clone();
                    async move {
                        let (parts, body) = request.into_parts();
                        let body = body
                            .collect()
                            .await
                            .map(|b| b.to_bytes())
                            .unwrap_or_default();
                        let verified = check(&parts.headers, &body);
                        let received = Received {
                            headers: parts.headers,
                            body,
                            verified,
                        };
                        let reply = respond(&received);
                        log.lock().expect("receiver log").push(received);
                        tokio::time::sleep(reply.delay).await;
                        let mut response = Response::new(Full::new(Bytes::from(reply.body)));
                        *response.status_mut() =
                            StatusCode::from_u16(reply.status).expect("a valid status");
                        for (name, value) in reply.headers {
                            response
                                .headers_mut()
                                .insert(name, value.parse().expect("a valid header value"));
                        }
                        Ok::<_, Infallible>(response)
                    }
                });
                let _ = http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    Receiver {
        url: format!("http://{addr}/hooks/aijia"),
        received,
    }
}

/// What a real receiver does first: check the signature over the raw body.
fn check(headers: &HeaderMap, body: &[u8]) -> Result<(), SignatureError> {
    let get = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    verify_signature(
        SECRET.as_bytes(),
        &get("x-aijia-timestamp"),
        body,
        &get("x-aijia-signature"),
        Utc::now(),
        Duration::from_secs(300),
    )
}

/// A loopback URL where nothing listens.
pub async fn refused_url() -> String {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind a loopback port");
    let addr = listener.local_addr().expect("local address");
    drop(listener);
    format!("http://{addr}/hooks/aijia")
}
