//! v6ctl types and renderers for rip (owned by the rip helper).
