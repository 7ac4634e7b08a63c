//! The generated v6router.toml: tables of keys, each key with a comment
//! naming the UCI file and line it came from, so what `v6routerd check` says
//! about the generated file leads back to what the user wrote.

use std::fmt::Write;

/// `key = value  # origin`; `value` is already TOML.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    pub key: String,
    pub value: String,
    pub origin: String,
}

pub fn entry(key: &str, value: String, origin: &str) -> Entry {
    Entry {
        key: key.to_string(),
        value,
        origin: origin.to_string(),
    }
}

/// A TOML basic string (TOML 1.0 §String: `\\`, `\"` and control
/// characters escaped).
pub fn s(v: &str) -> String {
    let mut out = String::with_capacity(v.len() + 2);
    out.push('"');
    for c in v.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04X}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

pub fn arr(v: &[String]) -> String {
    let items: Vec<String> = v.iter().map(|x| s(x)).collect();
    format!("[{}]", items.join(", "))
}

/// One LAN or WAN device and what runs on it.
#[derive(Clone, Debug, Default)]
pub struct Iface {
    pub name: String,
    pub origin: String,
    pub assign: Option<Entry>,
    /// `relay = { from = ... }` (odhcpd's relay modes).
    pub relay: Option<Entry>,
    /// Named by another interface's `relay.from`: listed even with
    /// nothing to run itself.
    pub listed: bool,
    pub uplink: Option<Vec<Entry>>,
    pub ra: Option<Vec<Entry>>,
    pub ra_prefixes: Vec<Vec<Entry>>,
    pub dhcpv6: Option<Vec<Entry>>,
    /// `[[interface.dhcpv6.host]]` tables (odhcpd's `config host`).
    pub hosts: Vec<Vec<Entry>>,
}

#[derive(Clone, Debug, Default)]
pub struct Doc {
    /// netifd's logical interfaces the result depends on (for procd's
    /// interface triggers), in the order first seen.
    pub netifd: Vec<String>,
    pub router: Vec<Entry>,
    pub control: Vec<Entry>,
    pub log: Vec<Entry>,
    pub ifaces: Vec<Iface>,
    /// odhcpd's lease file and trigger.
    pub dhcpv6_state: Vec<Entry>,
    pub tunnels: Vec<Vec<Entry>>,
}

impl Doc {
    /// The table for device `name`, made on first use.
    pub fn iface(&mut self, name: &str, origin: &str) -> &mut Iface {
        let i = match self.ifaces.iter().position(|i| i.name == name) {
            Some(i) => i,
            None => {
                self.ifaces.push(Iface {
                    name: name.to_string(),
                    origin: origin.to_string(),
                    ..Iface::default()
                });
                self.ifaces.len() - 1
            }
        };
        &mut self.ifaces[i]
    }

    pub fn uses(&mut self, logical: &str) {
        if !self.netifd.iter().any(|n| n == logical) {
            self.netifd.push(logical.to_string());
        }
    }

    pub fn render(&self, header: &str) -> String {
        let mut out = String::new();
        for l in header.lines() {
            let _ = writeln!(out, "# {l}");
        }
        // Read by the init script: procd_add_reload_interface_trigger each.
        let _ = writeln!(out, "# netifd interfaces: {}", self.netifd.join(" "));
        table(&mut out, "[router]", "", &self.router);
        table(&mut out, "[control]", "", &self.control);
        table(&mut out, "[log]", "", &self.log);
        for i in self.ifaces.iter().filter(|i| i.is_used()) {
            i.render(&mut out);
        }
        table(&mut out, "[dhcpv6_state]", "", &self.dhcpv6_state);
        for t in &self.tunnels {
            table(&mut out, "[[tunnel]]", "", t);
        }
        out
    }
}

impl Iface {
    /// A device that ended up with nothing to run is left out.
    fn is_used(&self) -> bool {
        self.listed
            || self.assign.is_some()
            || self.relay.is_some()
            || self.uplink.is_some()
            || self.ra.is_some()
            || self.dhcpv6.is_some()
    }

    fn render(&self, out: &mut String) {
        let mut top = vec![entry("name", s(&self.name), &self.origin)];
        top.extend(self.assign.clone());
        top.extend(self.relay.clone());
        table(out, "[[interface]]", "", &top);
        if let Some(u) = &self.uplink {
            table(
                out,
                "[interface.uplink]",
                "DHCPv6-PD client, as odhcp6c for netifd's proto dhcpv6",
                u,
            );
        }
        if let Some(ra) = &self.ra {
            table(out, "[interface.ra]", "odhcpd: option ra 'server'", ra);
            for p in &self.ra_prefixes {
                table(out, "[[interface.ra.prefix]]", "", p);
            }
        }
        if let Some(d) = &self.dhcpv6 {
            table(
                out,
                "[interface.dhcpv6]",
                "odhcpd: option dhcpv6 'server'",
                d,
            );
            for h in &self.hosts {
                table(out, "[[interface.dhcpv6.host]]", "odhcpd: config host", h);
            }
        }
    }
}

fn table(out: &mut String, header: &str, note: &str, entries: &[Entry]) {
    if entries.is_empty() && !header.starts_with("[[") && !header.contains("interface.") {
        return;
    }
    out.push('\n');
    if note.is_empty() {
        out.push_str(header);
    } else {
        let _ = write!(out, "{header:<28}# {note}");
    }
    out.push('\n');
    // Comments line up, except behind a very long value.
    let width = entries
        .iter()
        .map(|e| e.key.len() + e.value.len() + 3)
        .filter(|w| *w <= 60)
        .max()
        .unwrap_or(0);
    for e in entries {
        let kv = format!("{} = {}", e.key, e.value);
        if e.origin.is_empty() {
            let _ = writeln!(out, "{kv}");
        } else {
            let _ = writeln!(out, "{kv:<width$}  # {}", e.origin);
        }
    }
}
