//! A static-file web server on the stack's threaded API, and a small client.
//!
//! - `request`: parsing the request head, percent-decoding, mapping a target to a file
//!   under the docroot (path traversal refused), Content-Type by extension;
//! - `response`: status lines, heads and error bodies;
//! - `server`: `HttpServer` (listener thread, bounded queue, worker pool, counters);
//! - `client`: `HttpClient` (keep-alive, GET/HEAD) and `http_get`.

pub mod client;
pub mod request;
pub mod response;
pub mod server;

pub use client::{http_get, HttpClient, HttpResponse};
pub use server::{HttpConfig, HttpServer, HttpStats, HttpStatsSnapshot, STATUS_CODES};
