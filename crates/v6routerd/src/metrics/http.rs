//! `[metrics] listen`: the smallest HTTP/1.x server Prometheus can scrape.
//! One path, `GET /metrics`; every other request gets 404 (or 405 for
//! another method), a request head over 4 KiB or slower than 5 s is
//! dropped, and at most 4 scrapes run at once (more wait in the listen
//! queue). Each answer closes its connection (`Connection: close`), so
//! there is no keep-alive state to bound.

use crate::control::ToSupervisor;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{oneshot, Semaphore};
use tracing::{debug, warn};
use v6control::Request;

const MAX_HEAD: usize = 4096;
const MAX_SCRAPES: usize = 4;
const HEAD_TIMEOUT: Duration = Duration::from_secs(5);

/// What a request head asks for.
#[derive(Debug, PartialEq, Eq)]
pub enum Asked {
    Metrics,
    NotFound,
    WrongMethod,
    Malformed,
}

/// Read the request line (RFC 9112 §3: `method SP target SP version`). The
/// headers are not needed: the answer does not depend on them.
pub fn parse_head(head: &[u8]) -> Asked {
    let Some(line) = head.split(|b| *b == b'\n').next() else {
        return Asked::Malformed;
    };
    let line = String::from_utf8_lossy(line);
    let mut w = line.trim_end_matches('\r').split(' ');
    let (Some(method), Some(target), Some(version), None) =
        (w.next(), w.next(), w.next(), w.next())
    else {
        return Asked::Malformed;
    };
    if !version.starts_with("HTTP/1.") {
        return Asked::Malformed;
    }
    // The query string (Prometheus sends none; a browser may) does not matter.
    let path = target.split('?').next().unwrap_or(target);
    match (method, path) {
        ("GET" | "HEAD", "/metrics") => Asked::Metrics,
        ("GET" | "HEAD", _) => Asked::NotFound,
        _ => Asked::WrongMethod,
    }
}

/// Serve until the daemon stops.
pub async fn serve(listener: TcpListener, to_supervisor: ToSupervisor) {
    let slots = Arc::new(Semaphore::new(MAX_SCRAPES));
    loop {
        let Ok(permit) = slots.clone().acquire_owned().await else {
            return;
        };
        let (stream, peer) = match listener.accept().await {
            Ok(s) => s,
            Err(e) => {
                warn!("metrics: accept failed: {e}");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let tx = to_supervisor.clone();
        tokio::spawn(async move {
            if let Err(e) = answer(stream, tx).await {
                debug!("metrics: {peer}: {e}");
            }
            drop(permit);
        });
    }
}

async fn answer(mut s: TcpStream, tx: ToSupervisor) -> std::io::Result<()> {
    let head = match tokio::time::timeout(HEAD_TIMEOUT, read_head(&mut s)).await {
        Ok(r) => r?,
        Err(_) => return Ok(()),
    };
    let is_head = head.starts_with(b"HEAD ");
    let (status, body) = match parse_head(&head) {
        Asked::Metrics => ("200 OK", scrape(&tx).await),
        Asked::NotFound => ("404 Not Found", "only /metrics is served\n".to_string()),
        Asked::WrongMethod => ("405 Method Not Allowed", "GET /metrics\n".to_string()),
        Asked::Malformed => ("400 Bad Request", String::new()),
    };
    let reply = format!(
        "HTTP/1.1 {status}\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    s.write_all(reply.as_bytes()).await?;
    if !is_head {
        s.write_all(body.as_bytes()).await?;
    }
    s.shutdown().await
}

/// The request head, up to the blank line; cut off at MAX_HEAD.
async fn read_head(s: &mut TcpStream) -> std::io::Result<Vec<u8>> {
    let mut head = Vec::with_capacity(512);
    let mut buf = [0u8; 512];
    while head.len() < MAX_HEAD && !head.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = s.read(&mut buf).await?;
        if n == 0 {
            break;
        }
        head.extend_from_slice(&buf[..n]);
    }
    Ok(head)
}

async fn scrape(tx: &ToSupervisor) -> String {
    let (reply, rx) = oneshot::channel();
    if tx.send((Request::ShowMetrics, reply)).await.is_err() {
        return String::new();
    }
    match rx.await {
        Ok(r) => serde_json::from_str::<String>(r.data.get()).unwrap_or_default(),
        Err(_) => String::new(),
    }
}

#[cfg(test)]
mod tests;
