//! The activities crate's tests, in one binary: webhooks against a real HTTP server on
//! loopback, every built-in activity, the retry policy and the adapters file.

mod activities {
    pub mod builtin;
    pub mod config;
    pub mod receiver;
    pub mod record;
    pub mod retry;
    pub mod webhook;
}
