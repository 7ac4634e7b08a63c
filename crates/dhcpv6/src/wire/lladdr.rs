//! The Client Link-Layer Address option (RFC 6939 §4), which a relay
//! agent next to the client adds to its Relay-forward.

use super::{WireError, HWTYPE_ETHERNET};

/// OPTION_CLIENT_LINKLAYER_ADDR (79): link-layer type (IANA hardware
/// type) and address.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientLinkLayerAddr {
    pub hw_type: u16,
    pub addr: Vec<u8>,
}

impl ClientLinkLayerAddr {
    pub fn parse(data: &[u8]) -> Result<ClientLinkLayerAddr, WireError> {
        let [a, b, addr @ ..] = data else {
            return Err(WireError::BadOptionLength {
                code: super::code::CLIENT_LINKLAYER_ADDR,
                len: data.len(),
            });
        };
        Ok(ClientLinkLayerAddr {
            hw_type: u16::from_be_bytes([*a, *b]),
            addr: addr.to_vec(),
        })
    }

    pub fn emit(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.hw_type.to_be_bytes());
        out.extend_from_slice(&self.addr);
    }

    /// The Ethernet MAC address, when that is what it carries.
    pub fn mac(&self) -> Option<[u8; 6]> {
        if self.hw_type != HWTYPE_ETHERNET {
            return None;
        }
        <[u8; 6]>::try_from(self.addr.as_slice()).ok()
    }
}

#[cfg(test)]
mod tests;
