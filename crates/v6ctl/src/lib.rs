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
                println!("usage: v6ctl [-s SOCKET] [--json] [COMMAND]\n(no COMMAND: a v6ctl> prompt, or commands read line by line from stdin)\n{HELP}");
                return ExitCode::SUCCESS;
            }
            "-V" | "--version" => {
                println!("v6ctl {}", env!("CARGO_PKG_VERSION"));
                return ExitCode::SUCCESS;
            }
            _ => words.push(a),
        }
    }
    if words.is_empty() {
        return session(&socket, json);
    }
    let refs: Vec<&str> = words.iter().map(|s| s.as_str()).collect();
    run_one(&socket, json, &refs)
}

/// One command: parse, ask, print. Exit codes: 2 bad command, 3 no
/// daemon, 1 the daemon said no.
fn run_one(socket: &str, json: bool, refs: &[&str]) -> ExitCode {
    let req = match parse_command(refs) {
        Ok(r) => r,
        Err(e) if refs.first().is_some_and(|w| "help".starts_with(w)) => {
            println!("{e}");
            return ExitCode::SUCCESS;
        }
        Err(e) => return fail(2, &format!("{e}\n(v6ctl help lists the commands)")),
    };
    if let Request::Monitor { .. } = req {
        return match monitor(socket, json, &req) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => fail(1, &e),
        };
    }
    let resp = match ask(socket, &req) {
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

/// What one line of a session asks for.
#[derive(Debug, PartialEq, Eq)]
enum Line<'a> {
    Nothing,
    Quit,
    Help,
    Command(Vec<&'a str>),
}

/// birdc's session grammar: `quit`/`exit` end it, `?`/`help` list the
/// commands, `#` starts a comment, anything else is a command.
fn session_line(line: &str) -> Line<'_> {
    let words: Vec<&str> = line
        .split('#')
        .next()
        .unwrap_or_default()
        .split_whitespace()
        .collect();
    match words.as_slice() {
        [] => Line::Nothing,
        ["quit" | "exit" | "q"] => Line::Quit,
        ["?" | "help"] => Line::Help,
        _ => Line::Command(words),
    }
}

/// v6ctl without a command, as birdc: a `v6ctl> ` prompt on a terminal,
/// else commands read line by line (`printf 'show route count\n' | v6ctl`),
/// each answered in turn. Line editing is the terminal's own canonical
/// mode (backspace, ^U, ^W): a line-editing crate would cost the router's
/// flash more than the rest of v6ctl. Exits with the last failure's code.
fn session(socket: &str, json: bool) -> ExitCode {
    use std::io::IsTerminal;
    let tty = std::io::stdin().is_terminal();
    if tty {
        println!(
            "v6ctl {} ready; ? lists the commands, quit ends.",
            env!("CARGO_PKG_VERSION")
        );
    }
    let mut status = ExitCode::SUCCESS;
    let mut input = std::io::stdin().lock();
    loop {
        if tty {
            print!("v6ctl> ");
            let _ = std::io::stdout().flush();
        }
        let mut line = String::new();
        match input.read_line(&mut line) {
            Ok(0) | Err(_) => break,
            Ok(_) => {}
        }
        match session_line(&line) {
            Line::Nothing => {}
            Line::Quit => break,
            Line::Help => println!("{HELP}"),
            Line::Command(words) => {
                if run_one(socket, json, &words) != ExitCode::SUCCESS {
                    status = ExitCode::from(1);
                }
            }
        }
        let _ = std::io::stdout().flush();
    }
    if tty {
        println!();
    }
    status
}

fn fail(code: u8, msg: &str) -> ExitCode {
    eprintln!("v6ctl: {msg}");
    ExitCode::from(code)
}

/// `monitor`: the answer line, then one event per line until the daemon
/// ends the stream (with a reason) or the connection closes. With `json`
/// each event is printed as the JSON line it came as.
fn monitor(socket: &str, json: bool, req: &Request) -> Result<(), String> {
    use v6control::monitor::{event_text, StreamLine};
    let s = connect(socket)?;
    send(&s, socket, req)?;
    let mut lines = BufReader::new(&s).lines();
    let first = lines
        .next()
        .ok_or("v6routerd closed the connection without answering")?;
    let resp: Response = first
        .map_err(|e| e.to_string())
        .and_then(|l| serde_json::from_str(&l).map_err(|e| e.to_string()))
        .map_err(|e| format!("unreadable answer from v6routerd: {e}"))?;
    if !resp.ok {
        return Err(resp.error.unwrap_or_else(|| "failed".into()));
    }
    let mut out = std::io::stdout();
    for line in lines {
        let line = line.map_err(|e| format!("the stream broke: {e}"))?;
        match serde_json::from_str::<StreamLine>(&line) {
            Ok(StreamLine::Event(e)) => {
                let text = if json {
                    serde_json::to_string(&e)
                        .map(|t| t + "\n")
                        .unwrap_or_default()
                } else {
                    event_text(&e)
                };
                if out
                    .write_all(text.as_bytes())
                    .and_then(|_| out.flush())
                    .is_err()
                {
                    return Ok(());
                }
            }
            Ok(StreamLine::End(why)) => return Err(why),
            // A newer daemon's kind of line: skip it.
            Err(_) => {}
        }
    }
    Err("v6routerd closed the stream".into())
}

fn ask(socket: &str, req: &Request) -> Result<Response, String> {
    let s = connect(socket)?;
    // (A monitor waits for events as long as they take: no timeout there.)
    let _ = s.set_read_timeout(Some(Duration::from_secs(10)));
    send(&s, socket, req)?;
    let mut answer = String::new();
    BufReader::new(&s)
        .read_line(&mut answer)
        .map_err(|e| format!("no answer from v6routerd: {e}"))?;
    if answer.is_empty() {
        return Err("v6routerd closed the connection without answering".into());
    }
    serde_json::from_str(&answer).map_err(|e| format!("unreadable answer from v6routerd: {e}"))
}

fn send(mut s: &UnixStream, socket: &str, req: &Request) -> Result<(), String> {
    let mut line = serde_json::to_vec(req).map_err(|e| e.to_string())?;
    line.push(b'\n');
    s.write_all(&line)
        .map_err(|e| format!("cannot send to {socket}: {e}"))
}

fn connect(socket: &str) -> Result<UnixStream, String> {
    let s = UnixStream::connect(socket).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound | std::io::ErrorKind::ConnectionRefused => {
            format!("v6routerd is not running (nothing answers on {socket}); start it, or pick its socket with -s PATH")
        }
        std::io::ErrorKind::PermissionDenied => format!("no permission to use {socket}: run as root or as the configured [control] group"),
        _ => format!("cannot connect to {socket}: {e}"),
    })?;
    Ok(s)
}

#[cfg(test)]
mod tests;
