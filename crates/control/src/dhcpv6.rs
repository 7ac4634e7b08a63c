//! v6ctl types and renderers for dhcpv6 (owned by the dhcpv6 helper).
