//! The control socket: JSON lines over a Unix stream socket, mode 0600 (or
//! 0660 for a configured group), never reachable over the network.

use crate::service::{first, Either};
use std::io;
use std::os::unix::fs::PermissionsExt;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::{mpsc, oneshot, Semaphore};
use tracing::{debug, warn};
use v6control::{Request, Response, MAX_REQUEST};

/// Most v6ctl clients served at once; more wait in the listen queue.
const MAX_CLIENTS: usize = 16;
/// A client that sends nothing for this long is dropped.
const IDLE: Duration = Duration::from_secs(10);

pub type ToSupervisor = mpsc::Sender<(Request, oneshot::Sender<Response>)>;

/// Bind the control socket; also answers the directory made for it, if
/// v6routerd made one (`[router] user` is then given it, so the socket can
/// be removed at exit).
pub fn bind(cfg: &v6config::Control) -> io::Result<(UnixListener, Option<std::path::PathBuf>)> {
    let path = &cfg.socket;
    if path.exists() {
        // A live daemon answers; a stale socket from a crash does not.
        if std::os::unix::net::UnixStream::connect(path).is_ok() {
            return Err(io::Error::new(
                io::ErrorKind::AddrInUse,
                "another v6routerd is running on this socket",
            ));
        }
        std::fs::remove_file(path)?;
    }
    let mut made = None;
    if let Some(dir) = path.parent() {
        if !dir.as_os_str().is_empty() && !dir.exists() {
            std::fs::create_dir_all(dir)?;
            made = Some(dir.to_path_buf());
        }
    }
    let l = UnixListener::bind(path)?;
    let mode = if cfg.group.is_some() { 0o660 } else { 0o600 };
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))?;
    if let Some(g) = &cfg.group {
        match group_id(g) {
            Some(gid) => {
                if let Err(e) = std::os::unix::fs::chown(path, None, Some(gid)) {
                    warn!("cannot give the control socket to group {g}: {e}");
                }
            }
            None => warn!("group {g} does not exist; the control socket stays root-only"),
        }
    }
    Ok((l, made))
}

fn group_id(name: &str) -> Option<u32> {
    let groups = std::fs::read_to_string("/etc/group").ok()?;
    groups.lines().find_map(|l| {
        let mut f = l.split(':');
        (f.next()? == name).then(|| f.nth(1)?.parse().ok())?
    })
}

pub async fn serve(listener: UnixListener, to_sup: ToSupervisor, bus: crate::events::Bus) {
    let slots = Arc::new(Semaphore::new(MAX_CLIENTS));
    loop {
        let Ok(permit) = slots.clone().acquire_owned().await else {
            return;
        };
        match listener.accept().await {
            Ok((stream, _)) => {
                let (tx, bus) = (to_sup.clone(), bus.clone());
                tokio::spawn(async move {
                    if let Err(e) = client(stream, tx, bus).await {
                        debug!("control client: {e}");
                    }
                    drop(permit);
                });
            }
            Err(e) => {
                warn!("control socket accept: {e}");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

async fn client(
    stream: UnixStream,
    to_sup: ToSupervisor,
    bus: crate::events::Bus,
) -> io::Result<()> {
    let (r, mut w) = stream.into_split();
    let mut r = BufReader::new(r);
    loop {
        let mut line = Vec::new();
        let n = match tokio::time::timeout(IDLE, read_line_bounded(&mut r, &mut line)).await {
            Ok(res) => res?,
            Err(_) => return Ok(()),
        };
        if n == 0 {
            return Ok(());
        }
        if line.len() <= MAX_REQUEST {
            if let Ok(Request::ShowLeases { filter, page: None }) = serde_json::from_slice(&line) {
                stream_leases(&mut w, &to_sup, filter).await?;
                continue;
            }
        }
        let resp = if line.len() > MAX_REQUEST {
            Response::error(format!("request longer than {MAX_REQUEST} bytes"))
        } else {
            match serde_json::from_slice::<Request>(&line) {
                Err(e) => Response::error(format!("bad request: {e}")),
                Ok(Request::Monitor { topic }) => return monitor(r, w, &bus, &topic).await,
                Ok(req) => ask(&to_sup, req).await,
            }
        };
        write_line(&mut w, &resp).await?;
    }
}

async fn ask(to_sup: &ToSupervisor, req: Request) -> Response {
    let (tx, rx) = oneshot::channel();
    if to_sup.send((req, tx)).await.is_err() {
        return Response::error("the daemon is stopping");
    }
    rx.await.unwrap_or_else(|_| Response::error("no answer"))
}

/// Leases asked for at once.
const LEASE_PAGE: u32 = 1000;

/// `show leases`, page by page (dhcpv6::LeasePage) onto the socket: the
/// same one line an answer always is, `{"version":..,"ok":true,"data":
/// {"leases":[...]}}`, but never whole in the daemon's memory (100,000
/// leases made a 25 MB string). An error after the first page ends the
/// list early (the line stays valid JSON) and is logged.
async fn stream_leases(
    w: &mut tokio::net::unix::OwnedWriteHalf,
    to_sup: &ToSupervisor,
    filter: v6control::dhcpv6::LeaseFilter,
) -> io::Result<()> {
    use v6control::dhcpv6::{LeasePage, Leases};
    let mut after = None;
    let (mut started, mut rows) = (false, 0usize);
    loop {
        let page = Some(LeasePage {
            after: after.take(),
            limit: LEASE_PAGE,
        });
        let resp = ask(
            to_sup,
            Request::ShowLeases {
                filter: filter.clone(),
                page,
            },
        )
        .await;
        let got = match resp.ok {
            true => serde_json::from_str::<Leases>(resp.data.get()).map_err(|e| e.to_string()),
            false => Err(resp.error.clone().unwrap_or_default()),
        };
        let leases = match got {
            Ok(l) => l,
            Err(_) if !started => return write_line(w, &resp).await,
            Err(e) => {
                warn!("show leases stopped early: {e}");
                break;
            }
        };
        let mut out = Vec::with_capacity(leases.leases.len() * 256);
        if !started {
            let head = format!(
                "{{\"version\":{},\"ok\":true,\"data\":{{\"leases\":[",
                v6control::API_VERSION
            );
            out.extend_from_slice(head.as_bytes());
            started = true;
        }
        for r in &leases.leases {
            if rows > 0 {
                out.push(b',');
            }
            serde_json::to_writer(&mut out, r).map_err(io::Error::other)?;
            rows += 1;
        }
        w.write_all(&out).await?;
        match leases.next {
            Some(n) => after = Some(n),
            None => break,
        }
    }
    w.write_all(b"]}}\n").await
}

/// `monitor`: the answer, then events until the client goes away or is
/// cut off for falling behind (events.rs).
async fn monitor(
    mut r: BufReader<tokio::net::unix::OwnedReadHalf>,
    mut w: tokio::net::unix::OwnedWriteHalf,
    bus: &crate::events::Bus,
    topic: &str,
) -> io::Result<()> {
    let mut rx = bus.subscribe();
    write_line(&mut w, &Response::ok(format!("monitoring {topic}\n"))).await?;
    loop {
        // The client left (or wrote more): free its slot now, not at the
        // next event.
        let line = match first(crate::events::next_line(&mut rx, topic), r.fill_buf()).await {
            Either::A(l) => l,
            Either::B(_) => return Ok(()),
        };
        write_line(&mut w, &line).await?;
        if matches!(line, v6control::monitor::StreamLine::End(_)) {
            return Ok(());
        }
    }
}

async fn write_line(
    w: &mut tokio::net::unix::OwnedWriteHalf,
    what: &impl serde::Serialize,
) -> io::Result<()> {
    let mut out = serde_json::to_vec(what).unwrap_or_else(|_| b"{\"ok\":false}".to_vec());
    out.push(b'\n');
    w.write_all(&out).await
}

/// Read one line, but never buffer more than MAX_REQUEST + 1 bytes of it: a
/// longer line is consumed and reported as too long.
async fn read_line_bounded<R: AsyncBufReadExt + Unpin>(
    r: &mut R,
    out: &mut Vec<u8>,
) -> io::Result<usize> {
    let mut total = 0;
    loop {
        let buf = r.fill_buf().await?;
        if buf.is_empty() {
            return Ok(total);
        }
        let (chunk, done) = match buf.iter().position(|b| *b == b'\n') {
            Some(i) => (&buf[..i], Some(i + 1)),
            None => (buf, None),
        };
        if out.len() <= MAX_REQUEST {
            out.extend_from_slice(&chunk[..chunk.len().min(MAX_REQUEST + 1 - out.len())]);
        }
        let used = done.unwrap_or(buf.len());
        total += used;
        r.consume(used);
        if done.is_some() {
            return Ok(total);
        }
    }
}
