//! The v6ctl protocol: requests and responses as JSON lines over a Unix
//! socket, and the text renderers (birdc's style) shared by daemon and CLI.
//!
//! Protocol-specific status types and renderers live in the per-protocol
//! modules; this file holds the envelope, the core views (status,
//! interfaces) and the command-line grammar.

pub mod dhcpv6;
pub mod monitor;
pub mod ra;
pub mod rip;
pub mod table;
pub mod tunnel;
pub mod uplink;

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::Value;

/// Largest request line the daemon accepts (bytes).
pub const MAX_REQUEST: usize = 16 * 1024;

/// The version of the request/answer format (docs/control-api.md). It goes
/// up when a change would make an older v6ctl misread an answer; fields
/// that are only added do not change it: both sides ignore fields they do
/// not know, and a missing one takes its default.
pub const API_VERSION: u32 = 1;

/// One request, one JSON object per line: `{"cmd":"show_status"}`.
/// Unknown fields are ignored (a newer v6ctl may send more); an unknown
/// `cmd` is an error that names it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "cmd", rename_all = "snake_case")]
pub enum Request {
    ShowStatus,
    ShowInterfaces,
    Reload,
    ShowRa {
        #[serde(default)]
        iface: Option<String>,
    },
    /// Leases, all or those the filter's fields select (all must match).
    ShowLeases {
        #[serde(flatten)]
        filter: dhcpv6::LeaseFilter,
        /// One page of the answer (the control socket asks page by page
        /// and streams the pages: dhcpv6.rs `LeasePage`); None: all.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        page: Option<dhcpv6::LeasePage>,
    },
    ShowDhcpv6,
    ShowRoute {
        /// `for ADDR|PREFIX`
        #[serde(default)]
        target: Option<String>,
        /// `protocol NAME`
        #[serde(default)]
        protocol: Option<String>,
        /// `count`: only how many routes and networks match.
        #[serde(default, skip_serializing_if = "is_false")]
        count: bool,
        /// `all`: every attribute (v6ctl's rendering; the rows are the same).
        #[serde(default, skip_serializing_if = "is_false")]
        all: bool,
    },
    ShowRipNeighbors,
    ShowRipInterfaces,
    ShowProtocols,
    ShowTunnels,
    ShowUplink,
    UplinkRenew,
    UplinkRelease,
    /// Prometheus' text exposition of every service's counters.
    ShowMetrics,
    /// The daemon's memory as the kernel counts it.
    ShowMemory,
    /// Validate a configuration file (default: the running one) as
    /// `v6routerd check` would, without loading it.
    ConfigureCheck {
        #[serde(default)]
        file: Option<String>,
    },
    /// Stop a protocol until `enable` (kept across reloads).
    Disable {
        protocol: String,
    },
    Enable {
        protocol: String,
    },
    /// Stop and start a protocol (its state is kept where it has files).
    Restart {
        protocol: String,
    },
    /// Stream events (monitor.rs) after the answer, until the client
    /// closes: `topic` is one of `monitor::TOPICS`.
    Monitor {
        #[serde(default = "all_topics")]
        topic: String,
    },
}

fn all_topics() -> String {
    "all".into()
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// Which part of the daemon answers a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Service {
    Core,
    Ra,
    Dhcpv6,
    Ripng,
    Tunnel,
    Uplink,
}

impl Request {
    pub fn service(&self) -> Service {
        use Request::*;
        match self {
            // `show route` is assembled by the supervisor from the kernel's
            // routes and what each protocol contributes (BIRD's rt-show).
            ShowStatus
            | ShowInterfaces
            | Reload
            | ShowProtocols
            | ShowRoute { .. }
            | ShowMetrics
            | ShowMemory
            | ConfigureCheck { .. }
            | Disable { .. }
            | Enable { .. }
            | Restart { .. }
            | Monitor { .. } => Service::Core,
            ShowRa { .. } => Service::Ra,
            ShowLeases { .. } | ShowDhcpv6 => Service::Dhcpv6,
            ShowRipNeighbors | ShowRipInterfaces => Service::Ripng,
            ShowTunnels => Service::Tunnel,
            ShowUplink | UplinkRenew | UplinkRelease => Service::Uplink,
        }
    }
}

/// The answer. `data` is JSON text made once, straight from the service's
/// typed answer: a `serde_json::Value` tree of 30,000 leases cost the
/// daemon about 45 MB at its peak (`tests/bench/soak.sh`), the text is the
/// size of what goes on the socket.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Response {
    /// API_VERSION of the daemon that answered (0: a daemon older than
    /// the field).
    #[serde(default)]
    pub version: u32,
    pub ok: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(default = "null_data")]
    pub data: Box<RawValue>,
}

fn null_data() -> Box<RawValue> {
    RawValue::NULL.to_owned()
}

impl PartialEq for Response {
    fn eq(&self, o: &Self) -> bool {
        self.version == o.version
            && self.ok == o.ok
            && self.error == o.error
            && self.data.get() == o.data.get()
    }
}

impl Response {
    pub fn ok(data: impl Serialize) -> Response {
        match serde_json::value::to_raw_value(&data) {
            Ok(data) => Response {
                version: API_VERSION,
                ok: true,
                error: None,
                data,
            },
            Err(e) => Response::error(format!("cannot encode the answer: {e}")),
        }
    }
    pub fn error(msg: impl Into<String>) -> Response {
        Response {
            version: API_VERSION,
            ok: false,
            error: Some(msg.into()),
            data: null_data(),
        }
    }
    /// The data as a JSON value (v6ctl's renderers read it so).
    pub fn value(&self) -> Result<Value, String> {
        serde_json::from_str(self.data.get()).map_err(|e| format!("unexpected answer: {e}"))
    }
}

/// `v6ctl show status`, birdc's `show status`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Status {
    pub version: String,
    pub pid: u32,
    pub config_file: String,
    /// Seconds since the daemon started.
    pub uptime: u64,
    /// Seconds since the configuration was last (re)loaded.
    pub since_reconfig: u64,
    pub reloads: u64,
    pub last_reload_error: Option<String>,
    pub forwarding: bool,
    pub interfaces_configured: usize,
    pub interfaces_present: usize,
    pub services: Vec<ServiceState>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ServiceState {
    pub name: String,
    /// "up", "down" (not configured) or an error text.
    pub state: String,
    pub info: String,
}

/// `v6ctl show interfaces`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct InterfaceInfo {
    pub name: String,
    pub index: Option<u32>,
    pub present: bool,
    pub admin_up: bool,
    pub running: bool,
    pub mtu: u32,
    pub lladdr: Option<String>,
    pub kind: Option<String>,
    /// What the configuration does here: ra, dhcpv6, ripng, uplink, tunnel.
    pub roles: Vec<String>,
    pub addrs: Vec<AddrInfo>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct AddrInfo {
    /// ADDRESS/LENGTH
    pub addr: String,
    pub scope: String,
    pub preferred_lft: Option<u32>,
    pub valid_lft: Option<u32>,
    pub flags: Vec<String>,
}

/// Reload answer.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ReloadResult {
    pub changed: bool,
    pub warnings: Vec<String>,
}

/// The answer to `show protocols` (BIRD's table).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ProtocolInfo {
    pub name: String,
    pub proto: String,
    pub table: String,
    pub state: String,
    /// As birdc prints it (`22:08:32.546` today, else the date): the
    /// daemon fills it from `since_ms` when asked, so "today" is today.
    pub since: String,
    pub info: String,
    /// When `state` last changed, ms since the Unix epoch (BIRD's Since).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since_ms: Option<u64>,
}

/// Parse v6ctl's words into a request. Every keyword may be shortened to a
/// unique prefix, as in birdc (`sh int`, `sh ro for 2001:db8::1`).
pub fn parse_command(words: &[&str]) -> Result<Request, String> {
    let w = Words(words);
    let protocol = |r: fn(String) -> Request| -> Result<Request, String> {
        let p = w.get(1).ok_or("which protocol? (see show protocols)")?;
        w.done(2, r(p.to_string()))
    };
    match w.pick(
        0,
        &[
            "show",
            "reload",
            "uplink",
            "help",
            "configure",
            "enable",
            "disable",
            "restart",
            "monitor",
        ],
    )? {
        "reload" => w.done(1, Request::Reload),
        // birdc's `configure` re-reads the file; `configure check` only validates.
        "configure" => match w.get(1) {
            None => Ok(Request::Reload),
            Some(_) => {
                w.pick(1, &["check"])?;
                let file = w.get(2).map(str::to_string);
                w.done(
                    if file.is_some() { 3 } else { 2 },
                    Request::ConfigureCheck { file },
                )
            }
        },
        "enable" => protocol(|protocol| Request::Enable { protocol }),
        "disable" => protocol(|protocol| Request::Disable { protocol }),
        "restart" => protocol(|protocol| Request::Restart { protocol }),
        "help" => Err(HELP.to_string()),
        "monitor" => match w.get(1) {
            None => Ok(Request::Monitor {
                topic: all_topics(),
            }),
            Some(_) => {
                let topic = w.pick(1, monitor::TOPICS)?.to_string();
                w.done(2, Request::Monitor { topic })
            }
        },
        "uplink" => match w.pick(1, &["renew", "release"])? {
            "renew" => w.done(2, Request::UplinkRenew),
            _ => w.done(2, Request::UplinkRelease),
        },
        _ => parse_show(w),
    }
}

/// The words of a command, with birdc's prefix matching.
#[derive(Clone, Copy)]
struct Words<'a>(&'a [&'a str]);

impl<'a> Words<'a> {
    fn get(self, i: usize) -> Option<&'a str> {
        self.0.get(i).copied()
    }

    /// Word `i` as one of `choices`, given whole or as a unique prefix.
    fn pick(self, i: usize, choices: &[&'static str]) -> Result<&'static str, String> {
        let word = self.get(i).ok_or_else(|| {
            format!(
                "incomplete command; expected one of: {}",
                choices.join(", ")
            )
        })?;
        if let Some(exact) = choices.iter().copied().find(|c| *c == word) {
            return Ok(exact);
        }
        let hits: Vec<_> = choices
            .iter()
            .copied()
            .filter(|c| c.starts_with(word))
            .collect();
        match hits.as_slice() {
            [one] => Ok(one),
            [] => Err(format!(
                "unknown command `{}`; expected one of: {}",
                self.0[..=i].join(" "),
                choices.join(", ")
            )),
            many => Err(format!("`{word}` is ambiguous: {}", many.join(", "))),
        }
    }

    /// `r`, if nothing follows word `i - 1`.
    fn done(self, i: usize, r: Request) -> Result<Request, String> {
        match self.get(i) {
            None => Ok(r),
            Some(x) => Err(format!(
                "unexpected `{x}` after `{}`",
                self.0[..i].join(" ")
            )),
        }
    }
}

/// `show …`.
fn parse_show(w: Words<'_>) -> Result<Request, String> {
    match w.pick(
        1,
        &[
            "status",
            "interfaces",
            "ra",
            "leases",
            "dhcpv6",
            "route",
            "rip",
            "protocols",
            "tunnels",
            "uplink",
            "metrics",
            "memory",
        ],
    )? {
        "status" => w.done(2, Request::ShowStatus),
        "interfaces" => w.done(2, Request::ShowInterfaces),
        "ra" => match w.get(2) {
            Some(i) => w.done(
                3,
                Request::ShowRa {
                    iface: Some(i.to_string()),
                },
            ),
            None => Ok(Request::ShowRa { iface: None }),
        },
        "leases" => parse_show_leases(w),
        "dhcpv6" => w.done(2, Request::ShowDhcpv6),
        "rip" => match w.pick(2, &["neighbors", "interfaces"])? {
            "neighbors" => w.done(3, Request::ShowRipNeighbors),
            _ => w.done(3, Request::ShowRipInterfaces),
        },
        "protocols" => w.done(2, Request::ShowProtocols),
        "tunnels" => w.done(2, Request::ShowTunnels),
        "uplink" => w.done(2, Request::ShowUplink),
        "metrics" => w.done(2, Request::ShowMetrics),
        "memory" => w.done(2, Request::ShowMemory),
        _ => parse_show_route(w),
    }
}

/// `show leases [interface I] [duid D] [address A] [name N]`.
fn parse_show_leases(w: Words<'_>) -> Result<Request, String> {
    let mut filter = dhcpv6::LeaseFilter::default();
    let mut i = 2;
    while w.get(i).is_some() {
        let key = w.pick(i, &["interface", "duid", "address", "name"])?;
        let value = w
            .get(i + 1)
            .ok_or_else(|| format!("`{key}` needs a value"))?
            .to_string();
        let slot = match key {
            "interface" => &mut filter.interface,
            "duid" => &mut filter.duid,
            "address" => &mut filter.address,
            _ => &mut filter.name,
        };
        *slot = Some(value);
        i += 2;
    }
    Ok(Request::ShowLeases { filter, page: None })
}

/// `show route [for A] [protocol P] [count] [all]`, as birdc.
fn parse_show_route(w: Words<'_>) -> Result<Request, String> {
    let (mut target, mut protocol, mut count, mut all) = (None, None, false, false);
    let mut i = 2;
    while w.get(i).is_some() {
        match w.pick(i, &["for", "protocol", "count", "all"])? {
            "count" => count = true,
            "all" => all = true,
            "for" => {
                let t = w.get(i + 1).ok_or("`for` needs an address or prefix")?;
                target = Some(t.to_string());
                i += 1;
            }
            _ => {
                let p = w.get(i + 1).ok_or("`protocol` needs a name")?;
                protocol = Some(p.to_string());
                i += 1;
            }
        }
        i += 1;
    }
    Ok(Request::ShowRoute {
        target,
        protocol,
        count,
        all,
    })
}

pub const HELP: &str = "\
commands:
  show status                      daemon version, uptime, configuration
  show interfaces                  links, their state and addresses
  show ra [IFACE]                  router advertisements per interface
  show leases [interface X] [duid D] [address A] [name N]
                                   DHCPv6 leases (addresses and prefixes)
  show dhcpv6                      DHCPv6 counters and drops
  show route [for ADDR|PREFIX] [protocol NAME] [all]   (all: every attribute)
  show rip neighbors | show rip interfaces
  show protocols
  show tunnels
  show uplink                      the prefix delegated by the ISP
  show metrics                     every counter, in Prometheus' text format
  show memory                      the daemon's memory
  show route ... count             how many routes and networks match
  configure                        re-read the configuration file (= reload)
  configure check [FILE]           validate FILE (default: the running one)
  enable | disable | restart PROTOCOL   (names as in show protocols)
  monitor [leases|prefixes|routes|all]   events as they happen (--json: JSON lines)
  uplink renew | uplink release
  reload                           re-read the configuration file
Keywords may be shortened (sh int). Options: -s SOCKET, --json.";

/// Render an answer as text, birdc-style.
pub fn render(req: &Request, data: &Value) -> Result<String, String> {
    fn de<T: serde::de::DeserializeOwned>(v: &Value) -> Result<T, String> {
        serde_json::from_value(v.clone())
            .map_err(|e| format!("unexpected answer from the daemon: {e}"))
    }
    Ok(match req {
        Request::ShowStatus => render_status(&de(data)?),
        Request::ShowInterfaces => render_interfaces(&de::<Vec<InterfaceInfo>>(data)?),
        Request::Reload => {
            let r: ReloadResult = de(data)?;
            let mut s = String::new();
            for w in &r.warnings {
                s.push_str(w);
            }
            s.push_str(if r.changed {
                "Reconfigured\n"
            } else {
                "Reconfigured (no change)\n"
            });
            s
        }
        Request::ShowProtocols => render_protocols(&local_times(de(data)?)),
        Request::ShowRa { .. } => ra::render(data)?,
        Request::ShowLeases { .. } => dhcpv6::render_leases(data)?,
        Request::ShowDhcpv6 => dhcpv6::render_stats(data)?,
        Request::ShowRoute { count: true, .. } => rip::render_route_count(&de(data)?),
        Request::ShowRoute { all: true, .. } => rip::render_routes_all(data)?,
        Request::ShowRoute { .. } => rip::render_routes(data)?,
        Request::ShowMemory => render_memory(&de(data)?),
        Request::ShowRipNeighbors => rip::render_neighbors(data)?,
        Request::ShowRipInterfaces => rip::render_interfaces(data)?,
        Request::ShowTunnels => tunnel::render(data)?,
        Request::ShowUplink => uplink::render(data)?,
        Request::UplinkRenew | Request::UplinkRelease => {
            format!("{}\n", data.as_str().unwrap_or("done"))
        }
        Request::ShowMetrics
        | Request::ConfigureCheck { .. }
        | Request::Disable { .. }
        | Request::Enable { .. }
        | Request::Restart { .. }
        | Request::Monitor { .. } => data.as_str().unwrap_or_default().to_string(),
    })
}

/// birdc prints Since in local time: from `since_ms` where the daemon
/// sent it (an older daemon's text is kept).
fn local_times(mut list: Vec<ProtocolInfo>) -> Vec<ProtocolInfo> {
    let now = rip::now_ms();
    for p in &mut list {
        if let Some(ms) = p.since_ms {
            p.since = rip::local_since(ms, now);
        }
    }
    list
}

/// The answer to `show memory`, from /proc/self/status (bytes).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemoryInfo {
    /// VmRSS: resident now.
    pub resident: u64,
    /// VmHWM: the most ever resident.
    pub peak_resident: u64,
    /// VmData: heap and other private data mapped.
    pub data: u64,
    /// VmSwap.
    #[serde(default)]
    pub swapped: u64,
}

pub fn render_memory(m: &MemoryInfo) -> String {
    let kib = |b: u64| format!("{:>8} kB", b / 1024);
    format!(
        "v6routerd memory usage
Resident:      {}
Peak resident: {}
Data (heap):   {}
Swapped:       {}
",
        kib(m.resident),
        kib(m.peak_resident),
        kib(m.data),
        kib(m.swapped)
    )
}

pub fn render_status(s: &Status) -> String {
    let mut o = format!("v6routerd {}\n", s.version);
    o.push_str(&format!("Process id is {}\n", s.pid));
    o.push_str(&format!("Configuration file is {}\n", s.config_file));
    o.push_str(&format!("Up for {}\n", table::duration(s.uptime)));
    o.push_str(&format!(
        "Last reconfiguration {} ago ({} reloads)\n",
        table::duration(s.since_reconfig),
        s.reloads
    ));
    if let Some(e) = &s.last_reload_error {
        o.push_str(&format!("Last reload was rejected:\n{e}"));
        if !e.ends_with('\n') {
            o.push('\n');
        }
    }
    o.push_str(&format!(
        "IPv6 forwarding is {}\n",
        if s.forwarding { "on" } else { "off" }
    ));
    o.push_str(&format!(
        "Interfaces: {} configured, {} present\n",
        s.interfaces_configured, s.interfaces_present
    ));
    let rows = s
        .services
        .iter()
        .map(|x| vec![x.name.clone(), x.state.clone(), x.info.clone()])
        .collect();
    o.push_str(&table::table(&["Service", "State", "Info"], rows));
    o.push_str("Daemon is up and running\n");
    o
}

/// birdc's `show interfaces` layout: a line per link, then indented details.
pub fn render_interfaces(list: &[InterfaceInfo]) -> String {
    let mut o = String::new();
    for i in list {
        if !i.present {
            o.push_str(&format!(
                "{} absent (configured: {})\n",
                i.name,
                i.roles.join(", ")
            ));
            continue;
        }
        let state = if i.admin_up && i.running {
            "up"
        } else {
            "down"
        };
        o.push_str(&format!(
            "{} {} (index={})\n",
            i.name,
            state,
            i.index.unwrap_or(0)
        ));
        let mut flags = vec![if i.admin_up { "AdminUp" } else { "AdminDown" }.to_string()];
        flags.push(if i.running { "LinkUp" } else { "LinkDown" }.to_string());
        if let Some(k) = &i.kind {
            flags.push(format!("Kind={k}"));
        }
        flags.push(format!("MTU={}", i.mtu));
        if let Some(l) = &i.lladdr {
            flags.push(format!("LLAddr={l}"));
        }
        if !i.roles.is_empty() {
            flags.push(format!("Roles={}", i.roles.join(",")));
        }
        o.push_str(&format!("\t{}\n", flags.join(" ")));
        for a in &i.addrs {
            let mut d = vec![a.scope.clone()];
            d.extend(a.flags.iter().cloned());
            if let (Some(p), Some(v)) = (a.preferred_lft, a.valid_lft) {
                d.push(format!("preferred {}s valid {}s", p, v));
            }
            o.push_str(&format!("\t{} ({})\n", a.addr, d.join(", ")));
        }
    }
    o
}

/// birdc's fixed columns (see `rip::render_protocols`).
pub fn render_protocols(list: &[ProtocolInfo]) -> String {
    rip::render_protocols(list)
}

#[cfg(test)]
mod tests;
