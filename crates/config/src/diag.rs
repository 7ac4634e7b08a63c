//! Diagnostics that name the file, line, column and key, with a suggestion
//! where one fits, in the style of rustc's messages.

use std::fmt;
use std::path::{Path, PathBuf};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Severity {
    Error,
    Warning,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    pub severity: Severity,
    pub file: PathBuf,
    /// 1-based; 0 when the problem has no place in the file.
    pub line: usize,
    /// 1-based.
    pub col: usize,
    /// Dotted key path, e.g. `interface[1].ra.managed`.
    pub key: Option<String>,
    pub message: String,
    pub help: Option<String>,
    /// The source line, for the excerpt.
    pub source_line: Option<String>,
    /// Width of the underline.
    pub width: usize,
}

impl Diagnostic {
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sev = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        match &self.key {
            Some(k) => writeln!(f, "{sev}: {} (key `{k}`)", self.message)?,
            None => writeln!(f, "{sev}: {}", self.message)?,
        }
        if self.line > 0 {
            writeln!(
                f,
                "  --> {}:{}:{}",
                self.file.display(),
                self.line,
                self.col
            )?;
            if let Some(src) = &self.source_line {
                let n = self.line.to_string();
                let pad = " ".repeat(n.len());
                writeln!(f, "{pad} |")?;
                writeln!(f, "{n} | {src}")?;
                let under = "^".repeat(self.width.max(1));
                writeln!(
                    f,
                    "{pad} | {}{under}",
                    " ".repeat(self.col.saturating_sub(1))
                )?;
            }
        } else {
            writeln!(f, "  --> {}", self.file.display())?;
        }
        if let Some(h) = &self.help {
            writeln!(f, "  = help: {h}")?;
        }
        Ok(())
    }
}

/// A list of diagnostics, displayed one after the other.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl Diagnostics {
    pub fn has_errors(&self) -> bool {
        self.0.iter().any(|d| d.is_error())
    }
    pub fn errors(&self) -> impl Iterator<Item = &Diagnostic> {
        self.0.iter().filter(|d| d.is_error())
    }
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for d in &self.0 {
            write!(f, "{d}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Diagnostics {}

/// 1-based line and column of a byte offset.
pub fn line_col(src: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(src.len());
    let before = &src[..floor_char_boundary(src, offset)];
    let line = before.matches('\n').count() + 1;
    let col = before
        .rsplit('\n')
        .next()
        .map(|l| l.chars().count())
        .unwrap_or(0)
        + 1;
    (line, col)
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

pub fn source_line(src: &str, line: usize) -> Option<String> {
    src.lines().nth(line.checked_sub(1)?).map(|l| l.to_string())
}

/// A place in the file for a key path, found by scanning the TOML text.
pub struct Locator<'a> {
    src: &'a str,
    /// (line, col, width, canonical path) for every header and key seen.
    entries: Vec<(usize, usize, usize, String)>,
}

impl<'a> Locator<'a> {
    pub fn new(src: &'a str) -> Self {
        let mut entries = Vec::new();
        let mut table = String::new();
        // Array-of-tables counters, keyed by their canonical parent + name.
        let mut counts: std::collections::HashMap<String, usize> = Default::default();
        for (i, raw) in src.lines().enumerate() {
            let line = i + 1;
            let t = raw.trim_start();
            let indent = raw.len() - t.len();
            if t.starts_with('#') || t.is_empty() {
                continue;
            }
            if let Some(rest) = t.strip_prefix("[[") {
                let name = rest.split("]]").next().unwrap_or("").trim();
                // The array itself is not indexed, only its ancestors.
                let canon = match name.rsplit_once('.') {
                    Some((parent, last)) => join(
                        &canonical_header(parent, &counts),
                        last.trim().trim_matches('"'),
                    ),
                    None => name.trim_matches('"').to_string(),
                };
                let n = counts.entry(canon.clone()).or_insert(0);
                let path = format!("{canon}[{n}]");
                *n += 1;
                entries.push((line, indent + 1, t.len(), path.clone()));
                table = path;
            } else if let Some(rest) = t.strip_prefix('[') {
                let name = rest.split(']').next().unwrap_or("").trim();
                let path = canonical_header(name, &counts);
                entries.push((line, indent + 1, t.len(), path.clone()));
                table = path;
            } else if let Some((k, v)) = t.split_once('=') {
                let key = k.trim().trim_matches('"');
                let path = join(&table, key);
                entries.push((line, indent + 1, key.len(), path.clone()));
                // Inline table: `assign = { from = "wan", subnet = 1 }`.
                if let Some(inner) = v.trim_start().strip_prefix('{') {
                    let base = raw.len() - inner.len();
                    for part in split_top(inner.trim_end().trim_end_matches('}')) {
                        if let Some((ik, _)) = part.1.split_once('=') {
                            let ikey = ik.trim();
                            let off = base + part.0 + (ik.len() - ik.trim_start().len());
                            entries.push((line, off + 1, ikey.len(), join(&path, ikey)));
                        }
                    }
                }
            }
        }
        Locator { src, entries }
    }

    /// Where `path` (e.g. `interface[1].ra.max_interval`) is written; falls back
    /// to its nearest written ancestor.
    pub fn find(&self, path: &str) -> Option<(usize, usize, usize)> {
        let mut p = path.to_string();
        loop {
            if let Some(e) = self.entries.iter().find(|e| e.3 == p) {
                return Some((e.0, e.1, e.2));
            }
            let cut = p.rfind(['.', '['])?;
            p.truncate(cut);
            if p.is_empty() {
                return None;
            }
        }
    }

    /// The canonical path of the innermost entry written at or before `line`.
    pub fn path_at(&self, line: usize, col: usize) -> Option<String> {
        self.entries
            .iter()
            .filter(|e| e.0 < line || (e.0 == line && e.1 <= col))
            .max_by_key(|e| (e.0, e.1))
            .map(|e| e.3.clone())
    }

    /// A diagnostic placed at `path`.
    pub fn diag(
        &self,
        file: &Path,
        sev: Severity,
        path: &str,
        message: String,
        help: Option<String>,
    ) -> Diagnostic {
        let (line, col, width) = self.find(path).unwrap_or((0, 0, 0));
        Diagnostic {
            severity: sev,
            file: file.to_path_buf(),
            line,
            col,
            key: Some(path.to_string()),
            message,
            help,
            source_line: source_line(self.src, line),
            width,
        }
    }
}

fn join(table: &str, key: &str) -> String {
    if table.is_empty() {
        key.to_string()
    } else {
        format!("{table}.{key}")
    }
}

/// `interface.ra.prefix` -> `interface[N].ra.prefix` with N the current index of
/// each array-of-tables ancestor.
fn canonical_header(name: &str, counts: &std::collections::HashMap<String, usize>) -> String {
    let mut out = String::new();
    for seg in name.split('.') {
        let seg = seg.trim().trim_matches('"');
        out = join(&out, seg);
        if let Some(n) = counts.get(&out) {
            out = format!("{out}[{}]", n.saturating_sub(1));
        }
    }
    out
}

/// Split an inline table body on top-level commas; yields (byte offset, part).
fn split_top(s: &str) -> Vec<(usize, &str)> {
    let mut parts = Vec::new();
    let (mut depth, mut start, mut in_str) = (0i32, 0usize, false);
    for (i, c) in s.char_indices() {
        match c {
            '"' => in_str = !in_str,
            '[' | '{' if !in_str => depth += 1,
            ']' | '}' if !in_str => depth -= 1,
            ',' if !in_str && depth == 0 => {
                parts.push((start, &s[start..i]));
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push((start, &s[start..]));
    parts
}

/// Options from other tools that users bring, mapped to our keys.
const ALIASES: &[(&str, &str)] = &[
    ("advmanagedflag", "managed"),
    ("managedflag", "managed"),
    ("advotherconfigflag", "other_config"),
    ("otherconfigflag", "other_config"),
    ("advlinkmtu", "mtu"),
    ("maxrtradvinterval", "max_interval"),
    ("minrtradvinterval", "min_interval"),
    ("advdefaultlifetime", "router_lifetime"),
    ("advdefaultpreference", "router_preference"),
    ("advcurhoplimit", "hop_limit"),
    ("advreachabletime", "reachable_time"),
    ("advretranstimer", "retrans_timer"),
    ("advsourcelladdress", "source_lladdr"),
    ("advonlink", "on_link"),
    ("advautonomous", "autonomous"),
    ("advvalidlifetime", "valid_lifetime"),
    ("advpreferredlifetime", "preferred_lifetime"),
    ("rdnss", "dns"),
    ("dnssl", "search"),
    ("range6", "pool"),
    ("fixedaddress6", "address"),
];

fn norm(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// The candidate a misspelt, mis-cased or radvd-style `key` most likely meant.
pub fn suggest<'c>(key: &str, candidates: &[&'c str]) -> Option<&'c str> {
    let nk = norm(key);
    if let Some((_, to)) = ALIASES.iter().find(|(from, _)| *from == nk) {
        if let Some(c) = candidates.iter().find(|c| *c == to) {
            return Some(c);
        }
    }
    let mut best: Option<(usize, &str)> = None;
    for c in candidates {
        let nc = norm(c);
        let d = if nc == nk {
            0
        } else if nk.contains(&nc) && nc.len() >= 4 {
            1
        } else {
            levenshtein(&nk, &nc)
        };
        let limit = (nc.len().max(nk.len()) / 3).max(1);
        if d <= limit && best.is_none_or(|(bd, _)| d < bd) {
            best = Some((d, c));
        }
    }
    best.map(|(_, c)| c)
}

#[cfg(test)]
mod tests;
