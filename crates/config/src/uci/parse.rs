//! OpenWrt's UCI file format, as libuci's file parser reads it
//! (`package`, `config TYPE ['NAME']`, `option KEY VALUE`, `list KEY VALUE`,
//! `#` comments), keeping the line and column of every section and option so
//! that a diagnostic can point at what the user wrote.
//!
//! Quoting follows libuci (`file.c`, parse_str): a word may be unquoted,
//! 'single-quoted' (no escapes) or "double-quoted" (a backslash takes the
//! next character as it is), and adjacent parts join (`'a'"b"c` is `abc`).
//! A backslash at the end of a line continues the word on the next line; a
//! quote left open at the end of a line is an error, as in libuci.

use crate::diag::{Diagnostic, Severity};
use std::path::{Path, PathBuf};

/// One word of a statement, with where it starts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Word {
    pub text: String,
    pub line: usize,
    pub col: usize,
    /// Characters it takes in the source line (for the underline).
    pub width: usize,
}

/// `option` (one value) or `list` (values in order).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    Single(String),
    List(Vec<String>),
}

impl Value {
    /// All values: one for an `option`, each item of a `list`.
    pub fn items(&self) -> Vec<&str> {
        match self {
            Value::Single(s) => vec![s.as_str()],
            Value::List(v) => v.iter().map(|s| s.as_str()).collect(),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UciOption {
    pub name: String,
    pub value: Value,
    /// Where the (last) `option`/`list` line for it is.
    pub line: usize,
    pub col: usize,
    pub width: usize,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Section {
    pub stype: String,
    /// None for an anonymous section (`config host`), addressed as `@host[N]`.
    pub name: Option<String>,
    pub line: usize,
    pub options: Vec<UciOption>,
}

impl Section {
    pub fn get(&self, name: &str) -> Option<&UciOption> {
        self.options.iter().find(|o| o.name == name)
    }
    /// The single value of an option (the last item of a list).
    pub fn str(&self, name: &str) -> Option<&str> {
        match &self.get(name)?.value {
            Value::Single(s) => Some(s),
            Value::List(v) => v.last().map(|s| s.as_str()),
        }
    }
    /// libuci-style name: `lan`, or `@host[2]` for the third anonymous host.
    pub fn label(&self, index_of_type: usize) -> String {
        match &self.name {
            Some(n) => n.clone(),
            None => format!("@{}[{index_of_type}]", self.stype),
        }
    }
}

/// A parsed UCI file (one "package").
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Package {
    pub file: PathBuf,
    pub src: String,
    pub sections: Vec<Section>,
}

impl Package {
    /// The config's name as UCI says it (`dhcp` for /etc/config/dhcp).
    pub fn config_name(&self) -> String {
        self.file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    }

    /// The sections of one type, with their index among that type.
    pub fn of_type<'a>(&'a self, stype: &'a str) -> impl Iterator<Item = (usize, &'a Section)> {
        self.sections
            .iter()
            .filter(move |s| s.stype == stype)
            .enumerate()
    }

    /// A diagnostic at a place in this file.
    pub fn diag(
        &self,
        sev: Severity,
        at: (usize, usize, usize),
        key: Option<String>,
        message: String,
        help: Option<String>,
    ) -> Diagnostic {
        Diagnostic {
            severity: sev,
            file: self.file.clone(),
            line: at.0,
            col: at.1,
            key,
            message,
            help,
            source_line: crate::diag::source_line(&self.src, at.0),
            width: at.2,
        }
    }
}

/// Parse a UCI file. Errors stop at the statement they are in; the rest of
/// the file is still read, so one run reports every broken line.
pub fn parse(src: &str, file: &Path) -> (Package, Vec<Diagnostic>) {
    let mut pkg = Package {
        file: file.to_path_buf(),
        src: src.to_string(),
        sections: Vec::new(),
    };
    let mut diags = Vec::new();
    let mut lx = Lexer::new(src);
    loop {
        match lx.statement() {
            Ok(None) => break,
            Ok(Some(words)) if words.is_empty() => {}
            Ok(Some(words)) => {
                if let Err(e) = apply(&mut pkg, &words) {
                    diags.push(pkg.diag(Severity::Error, e.at, None, e.message, e.help));
                }
            }
            Err(e) => diags.push(pkg.diag(Severity::Error, e.at, None, e.message, e.help)),
        }
    }
    (pkg, diags)
}

struct ParseError {
    at: (usize, usize, usize),
    message: String,
    help: Option<String>,
}

fn err(w: &Word, message: impl Into<String>, help: Option<&str>) -> ParseError {
    ParseError {
        at: (w.line, w.col, w.width),
        message: message.into(),
        help: help.map(str::to_string),
    }
}

/// libuci's name rule for options and named sections (uci_validate_name).
fn valid_name(s: &str) -> bool {
    !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn valid_type(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

fn apply(pkg: &mut Package, w: &[Word]) -> Result<(), ParseError> {
    let kw = &w[0];
    match kw.text.as_str() {
        "package" => expect_args(w, 1, 1, "package NAME").map(|_| ()),
        "config" => {
            expect_args(w, 1, 2, "config TYPE ['NAME']")?;
            section(pkg, &w[1], w.get(2))
        }
        "option" | "list" => {
            expect_args(w, 2, 2, "option NAME 'VALUE'")?;
            let Some(sec) = pkg.sections.last_mut() else {
                return Err(err(
                    kw,
                    format!("`{}` outside a section", kw.text),
                    Some("every option belongs to the `config TYPE 'NAME'` line above it"),
                ));
            };
            if !valid_name(&w[1].text) {
                return Err(err(
                    &w[1],
                    format!("invalid option name `{}`", w[1].text),
                    Some("letters, digits and `_` only"),
                ));
            }
            add_option(sec, &w[1], w[2].text.clone(), kw.text == "list");
            Ok(())
        }
        other => Err(err(
            kw,
            format!("unknown statement `{other}`"),
            Some("a UCI line starts with `config`, `option`, `list` or `package`"),
        )),
    }
}

fn expect_args(w: &[Word], min: usize, max: usize, usage: &str) -> Result<(), ParseError> {
    let n = w.len() - 1;
    if n < min {
        let last = &w[w.len() - 1];
        return Err(err(
            last,
            format!("`{}` needs more words", w[0].text),
            Some(&format!("write `{usage}`")),
        ));
    }
    if n > max {
        return Err(err(
            &w[max + 1],
            "too many words on this line",
            Some(&format!("write `{usage}`; quote a value that has spaces")),
        ));
    }
    Ok(())
}

fn section(pkg: &mut Package, stype: &Word, name: Option<&Word>) -> Result<(), ParseError> {
    if !valid_type(&stype.text) {
        return Err(err(
            stype,
            format!("invalid section type `{}`", stype.text),
            None,
        ));
    }
    let word = name;
    let name = name.map(|n| n.text.clone()).filter(|n| !n.is_empty());
    if let (Some(n), Some(w)) = (&name, word) {
        if !valid_name(n) {
            return Err(err(
                w,
                format!("invalid section name `{n}`"),
                Some("letters, digits and `_` only"),
            ));
        }
        // libuci merges a repeated named section into the first one.
        if let Some(i) = pkg
            .sections
            .iter()
            .position(|s| s.name.as_deref() == Some(n))
        {
            let s = pkg.sections.remove(i);
            pkg.sections.push(s);
            return Ok(());
        }
    }
    pkg.sections.push(Section {
        stype: stype.text.clone(),
        name,
        line: stype.line,
        options: Vec::new(),
    });
    Ok(())
}

/// `option` replaces; `list` appends (turning an earlier `option` into the
/// list's first item, as libuci does).
fn add_option(sec: &mut Section, name: &Word, value: String, list: bool) {
    let place = (name.line, name.col, name.width);
    match sec.options.iter_mut().find(|o| o.name == name.text) {
        Some(o) => {
            o.value = match (list, std::mem::replace(&mut o.value, Value::List(vec![]))) {
                (false, _) => Value::Single(value),
                (true, Value::Single(s)) => Value::List(vec![s, value]),
                (true, Value::List(mut v)) => {
                    v.push(value);
                    Value::List(v)
                }
            };
            (o.line, o.col, o.width) = place;
        }
        None => sec.options.push(UciOption {
            name: name.text.clone(),
            value: if list {
                Value::List(vec![value])
            } else {
                Value::Single(value)
            },
            line: place.0,
            col: place.1,
            width: place.2,
        }),
    }
}

/// Splits the text into statements (one per line, backslash continuations
/// joined) of words.
struct Lexer<'a> {
    chars: std::iter::Peekable<std::str::Chars<'a>>,
    line: usize,
    col: usize,
}

impl<'a> Lexer<'a> {
    fn new(src: &'a str) -> Self {
        Lexer {
            chars: src.chars().peekable(),
            line: 1,
            col: 1,
        }
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.chars.next()?;
        if c == '\n' {
            self.line += 1;
            self.col = 1;
        } else {
            self.col += 1;
        }
        Some(c)
    }

    /// The next line's words; None at the end of the text.
    fn statement(&mut self) -> Result<Option<Vec<Word>>, ParseError> {
        if self.chars.peek().is_none() {
            return Ok(None);
        }
        let mut words = Vec::new();
        loop {
            match self.chars.peek().copied() {
                None => return Ok(Some(words)),
                Some('\n') => {
                    self.bump();
                    return Ok(Some(words));
                }
                Some(c) if c.is_whitespace() => {
                    self.bump();
                }
                Some('#') => self.skip_line(),
                Some(_) => match self.word() {
                    Ok(w) => words.push(w),
                    Err(e) => {
                        self.skip_line();
                        return Err(e);
                    }
                },
            }
        }
    }

    fn skip_line(&mut self) {
        while self.chars.peek().is_some_and(|c| *c != '\n') {
            self.bump();
        }
    }

    fn word(&mut self) -> Result<Word, ParseError> {
        let (line, col) = (self.line, self.col);
        let mut text = String::new();
        while let Some(c) = self.chars.peek().copied() {
            match c {
                '\'' => self.quoted('\'', &mut text)?,
                '"' => self.quoted('"', &mut text)?,
                '\\' => self.escape(&mut text),
                c if c.is_whitespace() => break,
                c => {
                    text.push(c);
                    self.bump();
                }
            }
        }
        // Width on the first line only, for the underline.
        let width = if self.line == line { self.col - col } else { 1 };
        Ok(Word {
            text,
            line,
            col,
            width,
        })
    }

    /// A backslash: the next character as it is; at the end of a line, the
    /// word goes on on the next one.
    fn escape(&mut self, text: &mut String) {
        self.bump();
        match self.bump() {
            Some('\n') | None => {}
            Some(c) => text.push(c),
        }
    }

    fn quoted(&mut self, q: char, text: &mut String) -> Result<(), ParseError> {
        let (ql, qc) = (self.line, self.col);
        self.bump();
        loop {
            match self.chars.peek().copied() {
                Some(c) if c == q => {
                    self.bump();
                    return Ok(());
                }
                Some('\\') if q == '"' => self.escape(text),
                Some('\n') | None => {
                    let w = Word {
                        text: String::new(),
                        line: ql,
                        col: qc,
                        width: self.col.saturating_sub(qc).max(1),
                    };
                    return Err(err(
                        &w,
                        format!("unterminated {q}"),
                        Some(&format!("close the value with {q} on the same line")),
                    ));
                }
                Some(c) => {
                    text.push(c);
                    self.bump();
                }
            }
        }
    }
}

#[cfg(test)]
mod tests;
