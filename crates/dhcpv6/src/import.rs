//! Leases from other servers, so that a migration keeps them: ISC dhcpd's
//! `dhcpd6.leases` (dhcpd.leases(5)) and Kea's memfile `kea-leases6.csv`.
//!
//! Both files are append-only logs: a later entry for the same address or
//! prefix replaces an earlier one. Only leases still bound and not yet
//! expired at `now` are returned; the rest are counted in [`Imported`].

use crate::lease::{Lease, LeaseKind, LeaseState};
use crate::wire::Duid;
use std::collections::BTreeMap;
use std::net::Ipv6Addr;
use std::sync::Arc;
use v6common::Ipv6Prefix;

/// What an import found.
#[derive(Debug, Default)]
pub struct Imported {
    /// Bound, unexpired leases, in address order. `link` is empty: the
    /// caller decides which link each belongs to.
    pub leases: Vec<Lease>,
    /// Entries in a state other than bound (free, released, expired, ...).
    pub not_bound: usize,
    /// Bound but already past their valid lifetime.
    pub expired: usize,
    /// Entries that could not be read (reason, line).
    pub skipped: Vec<(String, usize)>,
    /// The old server's DUID (ISC's `server-duid`), to keep answering the
    /// clients' Renews, which name it.
    pub server_duid: Option<Duid>,
}

fn finish(latest: BTreeMap<(LeaseKind, Ipv6Prefix), Option<Lease>>, now: u64, imp: &mut Imported) {
    for l in latest.into_values() {
        match l {
            None => imp.not_bound += 1,
            Some(l) if l.valid != u32::MAX && l.expires() <= now => imp.expired += 1,
            Some(l) => imp.leases.push(l),
        }
    }
}

// ---------------------------------------------------------------- ISC

/// Tokens of dhcpd.leases: words, quoted strings (with octal and
/// backslash escapes, kept as bytes), `{`, `}`, `;`. `#` starts a comment.
#[derive(Debug, PartialEq)]
enum Tok {
    Word(String),
    Str(Vec<u8>),
    Open,
    Close,
    Semi,
}

fn tokenize(text: &str) -> Result<Vec<(Tok, usize)>, (String, usize)> {
    let b = text.as_bytes();
    let mut out = vec![];
    let mut i = 0;
    let mut line = 1;
    while i < b.len() {
        let c = b[i];
        match c {
            b'\n' => {
                line += 1;
                i += 1;
            }
            b' ' | b'\t' | b'\r' => i += 1,
            b'#' => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            b'{' => {
                out.push((Tok::Open, line));
                i += 1;
            }
            b'}' => {
                out.push((Tok::Close, line));
                i += 1;
            }
            b';' => {
                out.push((Tok::Semi, line));
                i += 1;
            }
            b'"' => {
                let start = line;
                let mut s = vec![];
                i += 1;
                loop {
                    let Some(&c) = b.get(i) else {
                        return Err(("unterminated string".into(), start));
                    };
                    i += 1;
                    match c {
                        b'"' => break,
                        b'\\' => {
                            let Some(&e) = b.get(i) else {
                                return Err(("unterminated string".into(), start));
                            };
                            if (b'0'..=b'7').contains(&e) {
                                // Up to three octal digits (dhcpd writes exactly three).
                                let mut v: u32 = 0;
                                let mut n = 0;
                                while n < 3 && b.get(i).is_some_and(|d| (b'0'..=b'7').contains(d)) {
                                    v = v * 8 + u32::from(b[i] - b'0');
                                    i += 1;
                                    n += 1;
                                }
                                s.push(
                                    u8::try_from(v)
                                        .map_err(|_| ("bad octal escape".to_string(), line))?,
                                );
                            } else {
                                s.push(match e {
                                    b'n' => b'\n',
                                    b't' => b'\t',
                                    b'r' => b'\r',
                                    other => other,
                                });
                                i += 1;
                            }
                        }
                        b'\n' => {
                            line += 1;
                            s.push(c);
                        }
                        _ => s.push(c),
                    }
                }
                out.push((Tok::Str(s), start));
            }
            _ => {
                let start = i;
                while i < b.len() && !b" \t\r\n{};\"#".contains(&b[i]) {
                    i += 1;
                }
                out.push((Tok::Word(text[start..i].to_string()), line));
            }
        }
    }
    Ok(out)
}

/// Unix seconds from a dhcpd date: `W YYYY/MM/DD HH:MM:SS` (UTC, the
/// default) or `epoch N` (db-time-format local); `never` is None.
fn isc_date(words: &[&str]) -> Option<Option<u64>> {
    match words {
        ["never"] => Some(None),
        ["epoch", n, ..] => n.parse().ok().map(Some),
        [_weekday, date, time, ..] => {
            let d: Vec<i64> = date
                .split('/')
                .map(|x| x.parse().ok())
                .collect::<Option<_>>()?;
            let t: Vec<i64> = time
                .split(':')
                .map(|x| x.parse().ok())
                .collect::<Option<_>>()?;
            let ([y, mo, da], [h, mi, s]) = (d.as_slice(), t.as_slice()) else {
                return None;
            };
            if !(1..=12).contains(mo) || !(1..=31).contains(da) || *h > 23 || *mi > 59 || *s > 60 {
                return None;
            }
            let days = days_from_civil(*y, *mo, *da);
            u64::try_from(days * 86400 + h * 3600 + mi * 60 + s)
                .ok()
                .map(Some)
        }
        _ => None,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// One `name ... ;` statement or `name ... { ... }` block.
#[derive(Debug, Default)]
struct Stmt {
    words: Vec<String>,
    arg: Option<Vec<u8>>,
    body: Option<Vec<Stmt>>,
    line: usize,
}

fn parse_block(
    toks: &[(Tok, usize)],
    pos: &mut usize,
    nested: bool,
) -> Result<Vec<Stmt>, (String, usize)> {
    let mut out = vec![];
    let mut cur = Stmt::default();
    while let Some((t, line)) = toks.get(*pos) {
        *pos += 1;
        if cur.words.is_empty() && cur.arg.is_none() {
            cur.line = *line;
        }
        match t {
            Tok::Word(w) => cur.words.push(w.clone()),
            Tok::Str(s) => cur.arg = Some(s.clone()),
            Tok::Semi => {
                if !cur.words.is_empty() || cur.arg.is_some() {
                    out.push(std::mem::take(&mut cur));
                }
            }
            Tok::Open => {
                cur.body = Some(parse_block(toks, pos, true)?);
                out.push(std::mem::take(&mut cur));
            }
            Tok::Close if nested => return Ok(out),
            Tok::Close => return Err(("unbalanced `}`".into(), *line)),
        }
    }
    if nested {
        return Err(("unterminated block".into(), cur.line));
    }
    Ok(out)
}

/// Parse ISC dhcpd's `dhcpd6.leases` (dhcpd.leases(5)): `ia-na` and `ia-pd`
/// blocks whose quoted identifier is the 4-byte IAID followed by the
/// client's DUID, holding `iaaddr` / `iaprefix` blocks with `binding state`,
/// `preferred-life`, `max-life` and `ends`, and the IA's `cltt`. dhcpd
/// writes the IAID in the byte order of the host it runs on (it copies its
/// `u32` into the key) and, since 4.3, names it in `authoring-byte-order`;
/// `iaid_le` is the byte order assumed when the file does not say.
pub fn parse_isc(text: &str, now: u64, iaid_le: bool) -> Imported {
    let mut imp = Imported::default();
    let stmts = match tokenize(text).and_then(|toks| parse_block(&toks, &mut 0, false)) {
        Ok(s) => s,
        Err(e) => {
            imp.skipped.push(e);
            return imp;
        }
    };
    let top = |name: &'static str| {
        stmts
            .iter()
            .filter(move |s| s.words.first().is_some_and(|w| w == name))
    };
    // dhcpd 4.3 and later say which byte order wrote the file.
    let iaid_le = top("authoring-byte-order")
        .next()
        .and_then(|s| match s.words.get(1).map(String::as_str) {
            Some("little-endian") => Some(true),
            Some("big-endian") => Some(false),
            _ => None,
        })
        .unwrap_or(iaid_le);
    imp.server_duid = top("server-duid")
        .next_back()
        .and_then(|s| Duid::from_bytes(s.arg.as_deref()?).ok());
    let mut latest = BTreeMap::new();
    for st in &stmts {
        let kind = match st.words.first().map(String::as_str) {
            Some("ia-na") => LeaseKind::Address,
            Some("ia-pd") => LeaseKind::Prefix,
            // ia-ta (temporary addresses are not served), server-duid, authoring-byte-order, ...
            _ => continue,
        };
        let (ia, body) = match isc_ia(st, kind, iaid_le) {
            Ok(x) => x,
            Err(e) => {
                imp.skipped.push((e.into(), st.line));
                continue;
            }
        };
        let want = match kind {
            LeaseKind::Address => "iaaddr",
            LeaseKind::Prefix => "iaprefix",
        };
        for inner in body {
            if inner.words.first().map(String::as_str) != Some(want) {
                continue;
            }
            match isc_binding(&ia, want, inner) {
                Ok((prefix, lease)) => {
                    latest.insert((kind, prefix), lease);
                }
                Err(e) => imp.skipped.push((e, inner.line)),
            }
        }
    }
    finish(latest, now, &mut imp);
    imp
}

/// What an `ia-na`/`ia-pd` block says of all its bindings.
struct IscIa {
    kind: LeaseKind,
    duid: Duid,
    iaid: u32,
    /// The IA's `cltt`, if given.
    cltt: Option<u64>,
}

/// An IA block's identity (its quoted identifier: IAID, then DUID) and
/// `cltt`, and its body.
fn isc_ia(st: &Stmt, kind: LeaseKind, iaid_le: bool) -> Result<(IscIa, &[Stmt]), &'static str> {
    let (Some(id), Some(body)) = (&st.arg, &st.body) else {
        return Err("IA without identifier or body");
    };
    let Some((iaid_b, duid_b)) = id.split_first_chunk::<4>() else {
        return Err("IA identifier shorter than an IAID");
    };
    let Ok(duid) = Duid::from_bytes(duid_b) else {
        return Err("IA identifier holds no valid DUID");
    };
    let iaid = if iaid_le {
        u32::from_le_bytes(*iaid_b)
    } else {
        u32::from_be_bytes(*iaid_b)
    };
    let cltt = body
        .iter()
        .find(|s| s.words.first().is_some_and(|w| w == "cltt"))
        .and_then(|s| isc_date(&s.words[1..].iter().map(String::as_str).collect::<Vec<_>>()))
        .flatten();
    let ia = IscIa {
        kind,
        duid,
        iaid,
        cltt,
    };
    Ok((ia, body))
}

/// One `iaaddr`/`iaprefix` block (`want` names which): its prefix, and
/// the lease if its binding state is active (None: a later state that
/// ends an earlier binding of the same prefix).
fn isc_binding(
    ia: &IscIa,
    want: &str,
    inner: &Stmt,
) -> Result<(Ipv6Prefix, Option<Lease>), String> {
    let (Some(what), Some(b)) = (inner.words.get(1), &inner.body) else {
        return Err(format!("{want} without address or body"));
    };
    let prefix = match ia.kind {
        LeaseKind::Address => what
            .parse::<Ipv6Addr>()
            .ok()
            .map(|a| Ipv6Prefix::new(a, 128)),
        LeaseKind::Prefix => what.parse::<Ipv6Prefix>().ok(),
    };
    let Some(prefix) = prefix else {
        return Err(format!("bad {want} `{what}`"));
    };
    let field = |name: &str| -> Option<Vec<&str>> {
        b.iter()
            .find(|s| s.words.first().is_some_and(|w| w == name))
            .map(|s| s.words[1..].iter().map(String::as_str).collect())
    };
    let state = field("binding").map(|w| w.join(" "));
    let num = |name: &str| field(name).and_then(|w| w.first()?.parse::<u32>().ok());
    let ends = field("ends").and_then(|w| isc_date(&w));
    let (Some(preferred), Some(valid)) = (num("preferred-life"), num("max-life")) else {
        return Err(format!("{what}: no preferred-life / max-life"));
    };
    // The binding started at cltt; without it, `ends` minus max-life.
    let start = match (ia.cltt, ends) {
        (Some(c), _) => c,
        (None, Some(Some(e))) => e.saturating_sub(u64::from(valid)),
        _ => return Err(format!("{what}: neither cltt nor ends")),
    };
    let bound = state.as_deref() == Some("state active");
    let lease = bound.then(|| Lease {
        kind: ia.kind,
        prefix,
        duid: ia.duid.clone(),
        iaid: ia.iaid,
        link: Arc::from(""),
        cltt: start,
        preferred: preferred.min(valid),
        valid,
        state: LeaseState::Bound,
        is_static: false,
        via: None,
        name: None,
        reconfigure: None,
    });
    Ok((prefix, lease))
}

// ---------------------------------------------------------------- Kea

/// Parse Kea's memfile `kea-leases6.csv`: a header line naming the columns
/// (`address,duid,valid_lifetime,expire,subnet_id,pref_lifetime,lease_type,
/// iaid,prefix_len,...,state,...`); `lease_type` 0 is IA_NA, 2 IA_PD (1,
/// IA_TA, is skipped); `expire` is cltt + valid_lifetime; `state` 0 is
/// default (bound), 1 declined, 2 expired-reclaimed.
pub fn parse_kea_csv(text: &str, now: u64) -> Imported {
    let mut imp = Imported::default();
    let mut lines = text.lines().enumerate();
    let Some((_, header)) = lines.next() else {
        return imp;
    };
    let cols: Vec<&str> = header.split(',').map(str::trim).collect();
    let col = |name: &str| cols.iter().position(|c| *c == name);
    let (
        Some(c_addr),
        Some(c_duid),
        Some(c_valid),
        Some(c_expire),
        Some(c_pref),
        Some(c_type),
        Some(c_iaid),
        Some(c_plen),
    ) = (
        col("address"),
        col("duid"),
        col("valid_lifetime"),
        col("expire"),
        col("pref_lifetime"),
        col("lease_type"),
        col("iaid"),
        col("prefix_len"),
    )
    else {
        imp.skipped.push(("not a Kea lease6 CSV header".into(), 1));
        return imp;
    };
    let c_state = col("state");
    let c_host = col("hostname");
    let mut latest = BTreeMap::new();
    for (i, line) in lines {
        let line_no = i + 1;
        if line.trim().is_empty() {
            continue;
        }
        let f: Vec<&str> = line.split(',').collect();
        let get = |c: usize| f.get(c).map(|s| s.trim()).unwrap_or("");
        let kind = match get(c_type) {
            "0" => LeaseKind::Address,
            "2" => LeaseKind::Prefix,
            "1" => continue,
            t => {
                imp.skipped
                    .push((format!("unknown lease_type `{t}`"), line_no));
                continue;
            }
        };
        let parsed = (|| {
            let addr: Ipv6Addr = get(c_addr).parse().ok()?;
            let plen: u8 = match kind {
                LeaseKind::Address => 128,
                LeaseKind::Prefix => get(c_plen).parse().ok().filter(|l| *l <= 128)?,
            };
            let duid = Duid::from_hex(get(c_duid))?;
            let valid: u32 = get(c_valid).parse().ok()?;
            let expire: u64 = get(c_expire).parse().ok()?;
            let preferred: u32 = get(c_pref).parse().ok()?;
            let iaid: u32 = get(c_iaid).parse().ok()?;
            let state: u32 = c_state.map_or(Some(0), |c| get(c).parse().ok())?;
            Some((
                Ipv6Prefix::new(addr, plen),
                duid,
                valid,
                expire,
                preferred,
                iaid,
                state,
            ))
        })();
        let Some((prefix, duid, valid, expire, preferred, iaid, state)) = parsed else {
            imp.skipped.push(("unreadable lease row".into(), line_no));
            continue;
        };
        // A deleted lease is written again with valid_lifetime 0.
        let lease = (state == 0 && valid > 0).then(|| Lease {
            kind,
            prefix,
            duid,
            iaid,
            link: Arc::from(""),
            cltt: if valid == u32::MAX {
                expire
            } else {
                expire.saturating_sub(u64::from(valid))
            },
            preferred: preferred.min(valid),
            valid,
            state: LeaseState::Bound,
            is_static: false,
            via: None,
            // What Kea recorded from the Client FQDN, as our leases keep it.
            name: c_host
                .and_then(|c| v6common::hostname::host_label(get(c)))
                .map(Arc::from),
            reconfigure: None,
        });
        latest.insert((kind, prefix), lease);
    }
    finish(latest, now, &mut imp);
    imp
}

#[cfg(test)]
mod tests;
