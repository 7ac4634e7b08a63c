//! The Client FQDN option (RFC 4704 §4): flags and a domain name, full
//! or partial, in DNS wire format.

use super::{emit_domain_name, read_name, WireError};

/// RFC 4704 §4.1 flag bits.
pub mod flag {
    /// S: the server should do the AAAA (forward) update.
    pub const S: u8 = 0x01;
    /// O: the server overrode the client's S.
    pub const O: u8 = 0x02;
    /// N: no DNS updates by the server.
    pub const N: u8 = 0x04;
}

/// OPTION_CLIENT_FQDN (39).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientFqdn {
    pub flags: u8,
    /// Labels joined by dots, no trailing dot; empty when the client asks
    /// the server to choose (§4.2).
    pub name: String,
    /// Ended with the root label (a fully qualified name) rather than
    /// being a partial name (§4.2).
    pub fully_qualified: bool,
}

impl ClientFqdn {
    /// The option body: one flags octet, then the name (§4). The name must
    /// fill the rest exactly.
    pub fn parse(data: &[u8]) -> Result<ClientFqdn, WireError> {
        let (&flags, name) = data.split_first().ok_or(WireError::BadDomainName)?;
        let (name, rest, fully_qualified) = read_name(name)?;
        if !rest.is_empty() {
            return Err(WireError::BadDomainName);
        }
        Ok(ClientFqdn {
            flags,
            name,
            fully_qualified,
        })
    }

    pub fn emit(&self, out: &mut Vec<u8>) {
        out.push(self.flags);
        if self.name.is_empty() {
            // The root alone is a (fully qualified) empty name; nothing at
            // all is the partial one (§4.2). Found by the dhcpv6_wire fuzzer.
            if self.fully_qualified {
                out.push(0);
            }
            return;
        }
        emit_domain_name(&self.name, out);
        if !self.fully_qualified {
            out.pop(); // a partial name goes without the root label (§4.2)
        }
    }

    /// The first label when it is a host name (RFC 1123 §2.1: letters,
    /// digits and hyphens, not at either end), as odhcpd records it: names
    /// are served under the router's own local domain, and a label that
    /// could carry a tab or a newline never reaches a hosts file.
    pub fn host_label(&self) -> Option<&str> {
        v6common::hostname::host_label(&self.name)
    }
}

/// The flags of a server that does no DNS updates itself (RFC 4704 §4.1):
/// N set, hence S clear ("if the N bit is 1, the S bit MUST be 0"), and O
/// set when that S differs from the client's ("a server MUST set this bit
/// to 1 if the S bit in its reply to the client does not match the S bit
/// received from the client").
pub fn no_update_flags(client: u8) -> u8 {
    let overridden = if client & flag::S != 0 { flag::O } else { 0 };
    flag::N | overridden
}

#[cfg(test)]
mod tests;
