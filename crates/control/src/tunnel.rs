//! v6ctl types and renderers for tunnel (owned by the tunnel helper).
