//! IPv6 prefixes (`2001:db8::/64`), parsed from and shown in their usual notation.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::net::Ipv6Addr;
use std::str::FromStr;

/// An IPv6 prefix. The address is always stored masked to `len` bits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Ipv6Prefix {
    addr: Ipv6Addr,
    len: u8,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PrefixError {
    MissingLength,
    BadAddress(String),
    BadLength(String),
}

impl fmt::Display for PrefixError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PrefixError::MissingLength => {
                write!(f, "expected ADDRESS/LENGTH, e.g. 2001:db8:1::/64")
            }
            PrefixError::BadAddress(a) => write!(f, "`{a}` is not an IPv6 address"),
            PrefixError::BadLength(l) => write!(f, "`{l}` is not a prefix length (0..=128)"),
        }
    }
}

impl std::error::Error for PrefixError {}

/// Mask `addr` to its first `len` bits.
pub fn mask(addr: Ipv6Addr, len: u8) -> Ipv6Addr {
    let bits = u128::from(addr);
    let m = if len == 0 {
        0
    } else {
        u128::MAX << (128 - u32::from(len.min(128)))
    };
    Ipv6Addr::from(bits & m)
}

impl Ipv6Prefix {
    /// A prefix from an address and a length; host bits are cleared and the
    /// length is clamped to 128.
    pub fn new(addr: Ipv6Addr, len: u8) -> Self {
        let len = len.min(128);
        Ipv6Prefix {
            addr: mask(addr, len),
            len,
        }
    }

    pub fn addr(&self) -> Ipv6Addr {
        self.addr
    }

    #[allow(clippy::len_without_is_empty)] // a prefix length, not a collection size
    pub fn len(&self) -> u8 {
        self.len
    }

    /// `::/0`.
    pub fn is_default(&self) -> bool {
        self.len == 0
    }

    pub fn contains(&self, a: Ipv6Addr) -> bool {
        mask(a, self.len) == self.addr
    }

    /// True when `other` lies entirely inside `self` (or equals it).
    pub fn covers(&self, other: &Ipv6Prefix) -> bool {
        other.len >= self.len && self.contains(other.addr)
    }

    /// fe80::/10.
    pub fn is_link_local(&self) -> bool {
        self.len >= 10 && is_link_local(self.addr)
    }

    /// The `index`-th sub-prefix of length `new_len` (e.g. the 2nd /64 of a /56).
    /// None when `new_len` is shorter than `self` or `index` does not fit.
    pub fn subnet(&self, new_len: u8, index: u128) -> Option<Ipv6Prefix> {
        if new_len < self.len || new_len > 128 {
            return None;
        }
        let bits = u32::from(new_len - self.len);
        if bits < 128 && index >> bits != 0 {
            return None;
        }
        let shift = 128 - u32::from(new_len);
        let add = if shift >= 128 { 0 } else { index << shift };
        Some(Ipv6Prefix::new(
            Ipv6Addr::from(u128::from(self.addr) | add),
            new_len,
        ))
    }
}

/// fe80::/10.
pub fn is_link_local(a: Ipv6Addr) -> bool {
    (a.segments()[0] & 0xffc0) == 0xfe80
}

impl fmt::Display for Ipv6Prefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.len)
    }
}

impl FromStr for Ipv6Prefix {
    type Err = PrefixError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (a, l) = s.split_once('/').ok_or(PrefixError::MissingLength)?;
        let addr: Ipv6Addr = a
            .parse()
            .map_err(|_| PrefixError::BadAddress(a.to_string()))?;
        let len: u8 = l
            .parse()
            .map_err(|_| PrefixError::BadLength(l.to_string()))?;
        if len > 128 {
            return Err(PrefixError::BadLength(l.to_string()));
        }
        Ok(Ipv6Prefix::new(addr, len))
    }
}

impl Serialize for Ipv6Prefix {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Ipv6Prefix {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests;
