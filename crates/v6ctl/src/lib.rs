//! v6ctl: talk to v6routerd over its control socket, birdc-style.
//!
//! A library so that v6routerd can also be v6ctl (a multi-call binary, as
//! busybox is: OpenWrt's package ships /usr/sbin/v6ctl as a symlink to
//! v6routerd, which saves a second copy of std, serde_json and v6control on
//! the router's flash). `src/main.rs` is the stand-alone v6ctl.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::process::ExitCode;
use std::time::Duration;
use v6control::{parse_command, render, Request, Response, HELP};

const DEFAULT_SOCKET: &str = "/run/v6router/v6routerd.sock";

/// v6ctl's whole command line: `args` are the arguments after the program
/// name.
pub fn main_with(args: impl IntoIterator<Item = String>) -> ExitCode {
    let mut socket = DEFAULT_SOCKET.to_string();
    let mut json = false;
    let mut words: Vec<String> = Vec::new();
    let mut args = args.into_iter();
    while let Some(a) = args.next() {
        match a.as_str() {
            "-s" | "--socket" => match args.next() {
                Some(s) => socket = s,
                None => return fail(2, "-s needs a socket path"),
            },
            "--json" | "-j" => json = true,
            "-h" | "--help" => {
                println!("usage: v6ctl [-s SOCKET] [--json] COMMAND\n{HELP}");
                return ExitCode::SUCCESS;
            }
            "-V" | "--version" => {
                println!("v6ctl {}", env!("CARGO_PKG_VERSION"));
                return ExitCode::SUCCESS;
            }
            _ => words.push(a),
        }
    }
    let refs: Vec<&str> = words.iter().map(|s| s.as_str()).collect();
    let req = match parse_command(&refs) {
        Ok(r) => r,
        Err(e) if refs.first().is_some_and(|w| "help".starts_with(w)) => {
            println!("{e}");
            return ExitCode::SUCCESS;
        }
        Err(e) => return fail(2, &format!("{e}\n(v6ctl help lists the commands)")),
    };
    let resp = match ask(&socket, &req) {
        Ok(r) => r,
        Err(e) => return fail(3, &e),
    };
    if json {
        // Pretty all through: the daemon sends `data` compact.
        let whole = serde_json::to_string(&resp)
            .ok()
            .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok());
        println!(
            "{}",
            whole
                .and_then(|v| serde_json::to_string_pretty(&v).ok())
                .unwrap_or_default()
        );
        return if resp.ok {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(1)
        };
    }
    if !resp.ok {
        let msg = resp.error.unwrap_or_else(|| "failed".into());
        eprint!("{msg}");
        if !msg.ends_with('\n') {
            eprintln!();
        }
        return ExitCode::from(1);
    }
    let data = match resp.value() {
        Ok(v) => v,
        Err(e) => return fail(1, &e),
    };
    match render(&req, &data) {
        Ok(text) => {
            print!("{text}");
            ExitCode::SUCCESS
        }
        Err(e) => fail(1, &e),
    }
}

fn fail(code: u8, msg: &str) -> ExitCode {
    eprintln!("v6ctl: {msg}");
    ExitCode::from(code)
}

fn ask(socket: &str, req: &Request) -> Result<Response, String> {
    let mut s = UnixStream::connect(socket).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound | std::io::ErrorKind::ConnectionRefused => {
            format!("v6routerd is not running (nothing answers on {socket}); start it, or pick its socket with -s PATH")
        }
        std::io::ErrorKind::PermissionDenied => format!("no permission to use {socket}: run as root or as the configured [control] group"),
        _ => format!("cannot connect to {socket}: {e}"),
    })?;
    let _ = s.set_read_timeout(Some(Duration::from_secs(10)));
    let mut line = serde_json::to_vec(req).map_err(|e| e.to_string())?;
    line.push(b'\n');
    s.write_all(&line)
        .map_err(|e| format!("cannot send to {socket}: {e}"))?;
    let mut answer = String::new();
    BufReader::new(&s)
        .read_line(&mut answer)
        .map_err(|e| format!("no answer from v6routerd: {e}"))?;
    if answer.is_empty() {
        return Err("v6routerd closed the connection without answering".into());
    }
    serde_json::from_str(&answer).map_err(|e| format!("unreadable answer from v6routerd: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_daemon_is_named_as_such() {
        let e = ask("/nonexistent/v6t.sock", &Request::ShowStatus).unwrap_err();
        assert!(e.contains("v6routerd is not running"), "{e}");
        assert!(e.contains("-s PATH"), "{e}");
    }
}
